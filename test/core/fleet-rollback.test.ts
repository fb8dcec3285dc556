import { describe, expect, it } from 'vitest';
import { groupsToInspect, planFleetRollback } from '../../src/core/fleet-rollback.ts';
import type { RefreshRecord, Rollout } from '../../src/core/rollout.ts';

const templates: Rollout['templates'] = [
  { launchTemplateId: 'lt-0a1b2c3d4e5f60001', previousVersion: 1, newVersion: 2 },
  { launchTemplateId: 'lt-0a1b2c3d4e5f60002', previousVersion: 4, newVersion: 5 },
];
const groups: Rollout['groups'] = [
  {
    autoScalingGroupName: 'web',
    launchTemplateId: 'lt-0a1b2c3d4e5f60001',
    previousLaunchTemplateVersion: '$Default',
  },
  {
    autoScalingGroupName: 'api',
    launchTemplateId: 'lt-0a1b2c3d4e5f60002',
    previousLaunchTemplateVersion: '3',
  },
  {
    autoScalingGroupName: 'worker',
    launchTemplateId: 'lt-0a1b2c3d4e5f60002',
    previousLaunchTemplateVersion: '$Default',
  },
];
const refresh = (groupIndex: number, status: string, outcome: RefreshRecord['outcome']): RefreshRecord => ({
  groupIndex,
  autoScalingGroupName: groups[groupIndex]!.autoScalingGroupName,
  instanceRefreshId: `r-${groupIndex}`,
  launchTemplateId: groups[groupIndex]!.launchTemplateId,
  launchTemplateVersion: templates.find((t) => t.launchTemplateId === groups[groupIndex]!.launchTemplateId)!
    .newVersion!,
  status,
  outcome,
});

describe('planFleetRollback', () => {
  it('puts the newest group back first, each to the numbered version its instances ran before', () => {
    const planned = planFleetRollback({
      templates,
      groups,
      refreshes: [refresh(0, 'Successful', 'SUCCEEDED'), refresh(1, 'Failed', 'FAILED')],
    });
    expect(planned.kind === 'plan' && planned.fleetRollback.groups).toEqual([
      expect.objectContaining({ autoScalingGroupName: 'api', launchTemplateVersion: 3 }),
      expect.objectContaining({ autoScalingGroupName: 'web', launchTemplateVersion: 1 }),
    ]);
  });

  it('leaves alone a group Auto Scaling already rolled back, and one never reached', () => {
    const planned = planFleetRollback({
      templates,
      groups,
      refreshes: [refresh(0, 'Successful', 'SUCCEEDED'), refresh(1, 'RollbackSuccessful', 'FAILED')],
    });
    expect(
      planned.kind === 'plan' && planned.fleetRollback.groups.map((g) => g.autoScalingGroupName),
    ).toEqual(['web']);
  });

  it('includes a refresh found on a group but lost from the record', () => {
    const planned = planFleetRollback(
      { templates, groups, refreshes: [refresh(0, 'Successful', 'SUCCEEDED')] },
      [{ ...refresh(1, 'InProgress', undefined), adopted: true }],
    );
    expect(
      planned.kind === 'plan' && planned.fleetRollback.groups.map((g) => g.autoScalingGroupName),
    ).toEqual(['api', 'web']);
  });

  it('is done at once when no group was refreshed', () => {
    const planned = planFleetRollback({ templates, groups, refreshes: [] });
    expect(planned).toMatchObject({ kind: 'plan', fleetRollback: { groups: [], done: true } });
  });
});

describe('groupsToInspect', () => {
  it('names the groups the trigger reached that have no refresh record', () => {
    expect(
      groupsToInspect({ groups, groupIndex: 1, refreshes: [refresh(0, 'Successful', 'SUCCEEDED')] }),
    ).toEqual([{ name: 'api', index: 1 }]);
  });
});
