import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { getGroup, Ledger, putGroup } from '../../src/adapters/ledger.ts';
import { inProcessClientConfig, type LocalAccount } from '../../src/local-account/index.ts';
import { rehearse, type Rehearsal } from '../../src/rehearsal/rehearse.ts';
import { config, fleet, inServiceImages, NEW_IMAGE, PREVIOUS_IMAGE } from './example-fleet.ts';

/**
 * A trigger whose Lambda starts the refresh on api and then dies before it can write what it started to the
 * ledger (a timeout, a crash): the ledger still says STARTING, with no refresh. `times` says how many of its
 * invocations on api die so; Step Functions retries Sandbox.Timedout (definition.ts), so the next one runs.
 */
function crashingTrigger(times: number) {
  let account: LocalAccount | undefined;
  let crashes = 0;
  const wrapStep = (step: string, handler: (event: unknown) => Promise<unknown>) =>
    step !== 'TriggerInstanceRefresh'
      ? handler
      : async (event: unknown) => {
          const result = (await handler(event)) as {
            rolloutId: string;
            groupIndex: number;
            autoScalingGroupName: string;
          };
          if (result.autoScalingGroupName !== 'api' || crashes >= times) return result;
          crashes++;
          // Put back the record as it was before the refresh started: the write the crash lost.
          const ledger = new Ledger(
            new DynamoDBClient(inProcessClientConfig(account!)),
            'ami-rollout-ledger',
          );
          const group = await getGroup(ledger, result.rolloutId, result.groupIndex);
          const { refresh: _lost, startedAt: _lostToo, ...before } = group!;
          await putGroup(ledger, result.rolloutId, { ...before, status: 'STARTING' });
          throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'Sandbox.Timedout' });
        };
  return {
    prepare: (a: LocalAccount) => {
      account = a;
    },
    wrapStep,
    crashes: () => crashes,
  };
}

describe('a trigger that starts a refresh and dies before it records it, once (Step Functions retries it)', () => {
  let rehearsal: Rehearsal;
  let crashes: () => number;
  beforeAll(async () => {
    const trigger = crashingTrigger(1);
    crashes = trigger.crashes;
    rehearsal = await rehearse({ config, fleet, imageId: NEW_IMAGE, ...trigger });
  });

  it('adopts the refresh it had started instead of starting a second one, and the rollout succeeds', () => {
    expect(crashes()).toBe(1);
    expect(rehearsal.report.status).toBe('SUCCEEDED');
    expect(rehearsal.account.state.instanceRefreshes.get('api')?.length).toBe(1);
    const api = rehearsal.ledger?.groups.find((g) => g.autoScalingGroupName === 'api');
    expect(api?.status).toBe('SUCCEEDED');
    expect(api?.refresh?.instanceRefreshId).toBe(
      rehearsal.account.state.instanceRefreshes.get('api')?.[0]?.instanceRefreshId,
    );
  });

  it('leaves every group on the new image', () => {
    for (const [group, images] of Object.entries(inServiceImages(rehearsal.account)))
      expect(Object.keys(images), group).toEqual([NEW_IMAGE]);
  });
});

describe('a trigger that starts a refresh and dies before it records it, every time (its retries run out)', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await rehearse({ config, fleet, imageId: NEW_IMAGE, ...crashingTrigger(Infinity) });
  });

  it('rolls back, and the rollback finds the refresh the record lost', () => {
    expect(rehearsal.report.status).toBe('ROLLED_BACK');
    const groups = rehearsal.ledger?.groups ?? [];
    const api = groups.find((g) => g.autoScalingGroupName === 'api');
    // The trigger never recorded api's refresh (STARTING: "a refresh may have begun"); the rollback looked for
    // it, found it on the group, and recorded it as found before refreshing api back.
    const [forward, back] = rehearsal.account.state.instanceRefreshes.get('api') ?? [];
    expect(api?.status).toBe('STARTING');
    expect(api?.refresh).toMatchObject({ instanceRefreshId: forward?.instanceRefreshId, adopted: true });
    expect(api?.rollback?.refresh?.instanceRefreshId).toBe(back?.instanceRefreshId);
    expect(api?.rollback?.status).toBe('ROLLED_BACK');
    const web = groups.find((g) => g.autoScalingGroupName === 'web');
    expect(web?.rollback?.status).toBe('ROLLED_BACK');
    // Newest first: api, whose refresh the record lost, goes back before web.
    expect(Date.parse(api!.rollback!.refresh!.startedAt!)).toBeLessThan(
      Date.parse(web!.rollback!.refresh!.startedAt!),
    );
    expect(rehearsal.account.state.instanceRefreshes.get('worker') ?? []).toEqual([]);
  });

  it('leaves no instance of any group on the new image', () => {
    for (const [group, images] of Object.entries(inServiceImages(rehearsal.account)))
      expect(Object.keys(images), group).toEqual([PREVIOUS_IMAGE]);
  });
});
