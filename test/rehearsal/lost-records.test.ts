import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { readFleetFile } from '../../src/local-account/index.ts';
import { rehearse, type Rehearsal } from '../../src/rehearsal/rehearse.ts';

const newImage = 'ami-0a1b2c3d4e5f60002';
const previousImage = 'ami-0a1b2c3d4e5f60001';

/** Images every InService instance of a group runs. */
const imagesOf = (rehearsal: Rehearsal, group: string) =>
  [...rehearsal.account.state.instances.values()]
    .filter((i) => i.autoScalingGroupName === group && i.lifecycleState === 'InService')
    .map((i) => i.imageId);

describe('a trigger that starts a refresh and then fails before it can return (its Lambda crashed)', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await rehearse({
      config: await loadConfig('examples/rollout.config.json'),
      fleet: await readFleetFile('examples/fleet.json'),
      imageId: newImage,
      // The real trigger runs (the refresh on api starts), then the invocation fails as a crashed Lambda does (not retried).
      wrapStep: (step, handler) =>
        step !== 'TriggerInstanceRefresh'
          ? handler
          : async (event) => {
              const result = (await handler(event)) as { refresh?: { autoScalingGroupName?: string } };
              if (result.refresh?.autoScalingGroupName === 'api') {
                throw Object.assign(new Error('Task timed out after 60.00 seconds'), {
                  name: 'Sandbox.Timedout',
                });
              }
              return result;
            },
    });
  });

  it('rolls back, and finds the refresh the record lost', () => {
    expect(rehearsal.report.status).toBe('ROLLED_BACK');
    const discovered = rehearsal.history.find(
      (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'TriggerRollbackRefresh',
    );
    const plan = (
      JSON.parse(discovered?.stateExitedEventDetails?.output ?? '{}') as {
        rollout?: { fleetRollback?: { groups: { autoScalingGroupName: string }[] } };
      }
    ).rollout?.fleetRollback;
    // Newest first: api, whose refresh the record lost, goes back before web.
    expect(plan?.groups.map((g) => g.autoScalingGroupName)).toEqual(['api', 'web']);
  });

  it('leaves no instance of any group on the new image', () => {
    for (const group of ['web', 'api', 'worker']) {
      expect(imagesOf(rehearsal, group).length, group).toBeGreaterThan(0);
      expect(new Set(imagesOf(rehearsal, group)), group).toEqual(new Set([previousImage]));
    }
  });
});
