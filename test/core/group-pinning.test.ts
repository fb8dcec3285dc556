import { describe, expect, it } from 'vitest';
import { groupsToRestore, pinAtTurn, planGroupPin, planGroupRestore } from '../../src/core/group-pinning.ts';
import { planFleetRollback } from '../../src/core/fleet-rollback.ts';
import type { GroupRecord, TemplateRecord } from '../../src/core/rollout.ts';
import { rolloutVersionDescription } from '../../src/core/template-plan.ts';

const ROLLOUT = 'rollout-1';
const NEW_IMAGE = 'ami-00000000000000002';
const OLD_IMAGE = 'ami-00000000000000001';
const template: TemplateRecord = {
  launchTemplateId: 'lt-0000000000000a001',
  previousVersion: 3,
  previousImageId: OLD_IMAGE,
};
const group = (setting: string, extra: Partial<GroupRecord> = {}): GroupRecord => ({
  autoScalingGroupName: 'web',
  launchTemplateId: template.launchTemplateId,
  previousLaunchTemplateVersion: setting,
  ...extra,
});
const pin = (input: Partial<Parameters<typeof planGroupPin>[0]>) =>
  planGroupPin({
    rolloutId: ROLLOUT,
    imageId: NEW_IMAGE,
    group: group('$Default'),
    template,
    current: { setting: '$Default' },
    resolved: { versionNumber: 3, imageId: OLD_IMAGE },
    ...input,
  });

describe('planGroupPin', () => {
  it('pins a $Default group to the number $Default resolves to now', () => {
    expect(pin({})).toMatchObject({ kind: 'pin', from: '$Default', version: 3 });
  });

  it('pins a $Latest group to the latest version, even when it is newer than the default', () => {
    expect(
      pin({
        group: group('$Latest'),
        current: { setting: '$Latest' },
        resolved: { versionNumber: 5, imageId: OLD_IMAGE },
      }),
    ).toMatchObject({ kind: 'pin', from: '$Latest', version: 5 });
  });

  it('leaves a group on a number alone', () => {
    expect(pin({ group: group('2'), current: { setting: '2' } })).toEqual({ kind: 'numbered' });
  });

  it('records, without a call, a group an earlier attempt already pinned', () => {
    expect(pin({ current: { setting: '3' } })).toEqual({ kind: 'already-pinned', version: 3 });
  });

  it("pins to the template's old default, not the new version, when an earlier attempt already moved the default", () => {
    // The first attempt's response was lost after the default moved; the group still follows $Default somehow.
    const decision = pin({
      resolved: {
        versionNumber: 4,
        imageId: NEW_IMAGE,
        description: rolloutVersionDescription(ROLLOUT, NEW_IMAGE),
      },
    });
    expect(decision).toMatchObject({ kind: 'pin', version: 3 });
  });

  it('knows the new version by the number the record holds, too', () => {
    expect(
      pin({
        template: { ...template, newVersion: 4, changed: true },
        resolved: { versionNumber: 4, imageId: NEW_IMAGE },
      }),
    ).toMatchObject({ kind: 'pin', version: 3 });
  });

  it('pins to a version already on the image that this rollout did not create (an unchanged template)', () => {
    expect(
      pin({
        template: { ...template, newVersion: 3, changed: false },
        resolved: { versionNumber: 3, imageId: NEW_IMAGE, description: 'made by hand' },
      }),
    ).toMatchObject({ kind: 'pin', version: 3 });
  });

  it('puts back the recorded pin of a group found following its template again', () => {
    expect(
      pin({
        group: group('$Default', { pinnedVersion: 3 }),
        resolved: { versionNumber: 4, imageId: NEW_IMAGE },
      }),
    ).toMatchObject({ kind: 'pin', version: 3 });
  });

  it('refuses a mixed instances policy group, naming it and the fix', () => {
    const decision = pin({ current: { setting: '$Default', mixedInstancesPolicy: true } });
    expect(decision).toMatchObject({ kind: 'refuse', problem: 'unpinnable' });
    expect(decision.kind === 'refuse' && decision.reason).toMatch(
      /group web launches through a mixed instances policy.*Set the policy's launch template version to a number/,
    );
  });

  it('refuses a group that has gone', () => {
    expect(pin({ current: undefined })).toMatchObject({
      kind: 'refuse',
      problem: 'gone',
      reason: expect.stringContaining('group web no longer exists') as string,
    });
  });

  it('refuses when the setting resolves to no version', () => {
    expect(pin({ resolved: undefined })).toMatchObject({ kind: 'refuse', problem: 'unpinnable' });
  });
});

describe('pinAtTurn', () => {
  it('accepts a group on a number', () => {
    expect(pinAtTurn(group('$Default', { pinnedVersion: 3 }), template, '3')).toEqual({ kind: 'ok' });
  });

  it('pins a group found on $Default again, to its recorded pin', () => {
    expect(pinAtTurn(group('$Default', { pinnedVersion: 5 }), template, '$Default')).toEqual({
      kind: 'repin',
      from: '$Default',
      version: 5,
    });
  });

  it("falls back to the template's old default for a record without a pin", () => {
    expect(pinAtTurn(group('$Latest'), template, '$Latest')).toMatchObject({ kind: 'repin', version: 3 });
  });
});

describe('groupsToRestore', () => {
  it('names every group that followed its template before the rollout, pinned or not', () => {
    const groups = [
      group('$Default', { autoScalingGroupName: 'a', pinnedVersion: 3 }),
      group('$Latest', { autoScalingGroupName: 'b' }),
      group('7', { autoScalingGroupName: 'c' }),
    ];
    expect(groupsToRestore(groups).map((g) => g.autoScalingGroupName)).toEqual(['a', 'b']);
  });
});

describe('planGroupRestore', () => {
  const restore = (
    currentSetting: string | undefined,
    resolvedVersion: number | undefined,
    own = '$Default',
  ) => planGroupRestore({ group: group(own), currentSetting, resolvedVersion });

  it('gives the setting back when it resolves to the version the group is on', () => {
    expect(restore('4', 4)).toEqual({ kind: 'restore', from: '4', to: '$Default' });
  });

  it('keeps the number when the setting names another version (a $Latest after a rollback)', () => {
    expect(restore('3', 4, '$Latest')).toMatchObject({
      kind: 'keep',
      pinned: '3',
      reason: expect.stringContaining('$Latest names version 4, not the version 3') as string,
    });
  });

  it('skips a group already on its own setting, one that has gone, and one someone set to the other keyword', () => {
    expect(restore('$Default', 4)).toMatchObject({ kind: 'skip' });
    expect(restore(undefined, 4)).toMatchObject({ kind: 'skip' });
    expect(restore('$Latest', 4)).toMatchObject({ kind: 'skip' });
  });
});

describe('planFleetRollback with pins', () => {
  it('refreshes a pinned group back to the number it was pinned to, not the template default', () => {
    const plan = planFleetRollback({
      templates: [{ ...template, newVersion: 6 }],
      groups: [group('$Latest', { pinnedVersion: 5 })],
      refreshes: [
        {
          groupIndex: 0,
          autoScalingGroupName: 'web',
          instanceRefreshId: 'r-1',
          launchTemplateId: template.launchTemplateId,
          launchTemplateVersion: 6,
          outcome: 'SUCCEEDED',
        },
      ],
    });
    expect(plan).toMatchObject({ kind: 'plan', fleetRollback: { groups: [{ launchTemplateVersion: 5 }] } });
  });
});
