import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { readFleetFile } from '../../src/local-account/index.ts';
import { rehearse, type Rehearsal } from '../../src/rehearsal/rehearse.ts';

const run = async (
  faults: Parameters<typeof rehearse>[0]['faults'] = [],
  groupsOn = '$Default',
): Promise<Rehearsal> => {
  const fleet = await readFleetFile('examples/fleet.json');
  return rehearse({
    config: await loadConfig('examples/rollout.config.json'),
    fleet: {
      ...fleet,
      autoScalingGroups: fleet.autoScalingGroups.map((g) => ({ ...g, launchTemplateVersion: groupsOn })),
    },
    imageId: 'ami-0a1b2c3d4e5f60002',
    faults,
  });
};

/** The version setting of each group, and how many instances each group launched in all. */
const groupSettings = (rehearsal: Rehearsal) =>
  Object.fromEntries(
    [...rehearsal.account.state.autoScalingGroups.values()].map((g) => [
      g.autoScalingGroupName,
      g.launchTemplate.version,
    ]),
  );

describe('what a rollout leaves on the groups', () => {
  it('gives every group its $Default setting back after a successful rollout', async () => {
    const rehearsal = await run();
    expect(rehearsal.report.status).toBe('SUCCEEDED');
    expect(groupSettings(rehearsal)).toEqual({ web: '$Default', api: '$Default', worker: '$Default' });
    // $Default now resolves to the new version the instances run: restoring the setting replaced nothing.
    const launchedAfterEnd = [...rehearsal.account.state.instances.values()].filter(
      (i) => i.launchTime.getTime() >= rehearsal.account.now().getTime() && i.lifecycleState !== 'Terminated',
    );
    expect(launchedAfterEnd).toEqual([]);
  });

  it('gives every group it pinned its $Default setting back after a rollback', async () => {
    const rehearsal = await run([
      { kind: 'unhealthyInstances', imageId: 'ami-0a1b2c3d4e5f60002', group: 'api' },
    ]);
    expect(rehearsal.report.status).toBe('ROLLED_BACK');
    expect(groupSettings(rehearsal)).toEqual({ web: '$Default', api: '$Default', worker: '$Default' });
    const templates = rehearsal.account.state.launchTemplates;
    expect([...templates.values()].map((t) => t.defaultVersion)).toEqual([1, 1]);
  });

  it('keeps a $Latest group on its safe number after a rollback: $Latest still names the bad version', async () => {
    const rehearsal = await run(
      [{ kind: 'unhealthyInstances', imageId: 'ami-0a1b2c3d4e5f60002', group: 'api' }],
      '$Latest',
    );
    expect(rehearsal.report.status).toBe('ROLLED_BACK');
    const template = rehearsal.account.state.launchTemplates.get('lt-0a1b2c3d4e5f60001')!;
    expect(template.versions.get(template.latestVersion)!.data.ImageId).toBe('ami-0a1b2c3d4e5f60002');
    // Every group was pinned to version 1 before the templates moved. web was refreshed forward and back, api
    // rolled back by Auto Scaling, worker never reached: all stay on 1, so a new instance launches the old image.
    // (Given $Latest back, worker would launch the new image on its next scale-out.)
    expect(groupSettings(rehearsal)).toEqual({ web: '1', api: '1', worker: '1' });
  });

  it('gives a $Latest group its setting back after a successful rollout: $Latest is the new version', async () => {
    const rehearsal = await run([], '$Latest');
    expect(rehearsal.report.status).toBe('SUCCEEDED');
    expect(groupSettings(rehearsal)).toEqual({ web: '$Latest', api: '$Latest', worker: '$Latest' });
  });
});
