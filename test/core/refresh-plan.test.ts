import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import {
  decideExistingRefresh,
  healthyPercentages,
  nextGroup,
  refreshPreferencesRequest,
  rollbackRefreshPreferencesRequest,
} from '../../src/core/refresh-plan.ts';
import type { Rollout } from '../../src/core/rollout.ts';

const rollout: Rollout = {
  rolloutId: 'r1',
  imageId: 'ami-00000000000000002',
  rollbackTargetImageId: 'ami-00000000000000001',
  templates: [{ launchTemplateId: 'lt-0000000000000a001', previousVersion: 1, newVersion: 2 }],
  groups: [
    {
      autoScalingGroupName: 'web',
      launchTemplateId: 'lt-0000000000000a001',
      previousLaunchTemplateVersion: '$Default',
    },
    {
      autoScalingGroupName: 'api',
      launchTemplateId: 'lt-0000000000000a001',
      previousLaunchTemplateVersion: '1',
    },
  ],
  groupIndex: 0,
  done: false,
  refreshes: [],
};

describe('nextGroup', () => {
  it('refreshes the group at the index to the numbered new version', () => {
    expect(nextGroup(rollout)).toMatchObject({ kind: 'refresh', groupIndex: 0, launchTemplateVersion: 2 });
    expect(nextGroup({ ...rollout, groupIndex: 1 })).toMatchObject({
      kind: 'refresh',
      group: { autoScalingGroupName: 'api' },
    });
  });

  it('is done past the last group', () => {
    expect(nextGroup({ ...rollout, groupIndex: 2 })).toEqual({ kind: 'done' });
  });

  it('refuses when the update step has not recorded a new version', () => {
    const [template] = rollout.templates;
    expect(nextGroup({ ...rollout, templates: [{ ...template!, newVersion: undefined }] }).kind).toBe(
      'invalid',
    );
  });
});

describe('decideExistingRefresh', () => {
  const desired = { launchTemplateId: 'lt-0000000000000a001', version: 2 };
  const ours = {
    instanceRefreshId: 'a',
    launchTemplateId: 'lt-0000000000000a001',
    launchTemplateVersion: '2',
  };

  it('starts when the group has no refresh', () => {
    expect(decideExistingRefresh([], desired)).toEqual({ kind: 'start' });
  });

  it('adopts a running refresh to the same numbered version (a retry after a lost response)', () => {
    expect(decideExistingRefresh([{ ...ours, status: 'InProgress' }], desired).kind).toBe('adopt');
  });

  it('adopts a refresh to the same version that already succeeded', () => {
    expect(decideExistingRefresh([{ ...ours, status: 'Successful' }], desired).kind).toBe('adopt');
  });

  it('starts afresh after its own failed refresh (a redrive)', () => {
    expect(decideExistingRefresh([{ ...ours, status: 'Failed' }], desired).kind).toBe('start');
  });

  it("reports a conflict for someone else's running refresh", () => {
    expect(
      decideExistingRefresh([{ ...ours, launchTemplateVersion: '$Latest', status: 'Pending' }], desired).kind,
    ).toBe('conflict');
  });

  it('ignores finished refreshes of other versions', () => {
    expect(
      decideExistingRefresh([{ ...ours, launchTemplateVersion: '1', status: 'Successful' }], desired).kind,
    ).toBe('start');
  });
});

describe('refreshPreferencesRequest', () => {
  const config = (refreshPreferences: object) =>
    parseConfig({
      amiParameterName: '/p',
      launchTemplateIds: ['lt-0000000000000a001'],
      autoScalingGroupNames: ['web'],
      trustedImageOwners: ['self'],
      notificationTopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      refreshPreferences,
    }).refreshPreferences;

  it('defaults to 90% healthy, skip matching and auto rollback for a group of more than 2', () => {
    expect(refreshPreferencesRequest(config({}), { desiredCapacity: 3 })).toEqual({
      MinHealthyPercentage: 90,
      SkipMatching: true,
      AutoRollback: true,
    });
  });

  it('refreshes a group of 2 or fewer launch-before-terminate when neither percentage is set', () => {
    for (const desiredCapacity of [0, 1, 2]) {
      expect(refreshPreferencesRequest(config({}), { desiredCapacity })).toEqual({
        MinHealthyPercentage: 100,
        MaxHealthyPercentage: 200,
        SkipMatching: true,
        AutoRollback: true,
      });
    }
  });

  it('treats a group whose capacity is unknown as a larger one', () => {
    expect(healthyPercentages(config({}), {})).toEqual({ MinHealthyPercentage: 90 });
  });

  it.each([
    [{ minHealthyPercentage: 50 }, { MinHealthyPercentage: 50 }],
    [{ minHealthyPercentage: 0 }, { MinHealthyPercentage: 0 }],
    // Auto Scaling needs Min with Max: the default Min goes with it.
    [{ maxHealthyPercentage: 150 }, { MinHealthyPercentage: 90, MaxHealthyPercentage: 150 }],
    [
      { minHealthyPercentage: 100, maxHealthyPercentage: 110 },
      { MinHealthyPercentage: 100, MaxHealthyPercentage: 110 },
    ],
  ])('uses an explicit %j as written, whatever the size of the group', (prefs, expected) => {
    for (const desiredCapacity of [1, 2, 10]) {
      expect(healthyPercentages(config(prefs), { desiredCapacity })).toEqual(expected);
    }
  });

  it('gives the rollback refresh the same percentages and warm-up, skip matching, no auto rollback', () => {
    const prefs = config({ instanceWarmupSeconds: 30, checkpointPercentages: [50, 100], alarmNames: ['a'] });
    expect(rollbackRefreshPreferencesRequest(prefs, { desiredCapacity: 2 })).toEqual({
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
      InstanceWarmup: 30,
      SkipMatching: true,
      AutoRollback: false,
    });
    expect(
      rollbackRefreshPreferencesRequest(config({ minHealthyPercentage: 75 }), { desiredCapacity: 2 }),
    ).toEqual({ MinHealthyPercentage: 75, SkipMatching: true, AutoRollback: false });
    expect(rollbackRefreshPreferencesRequest(config({}), { desiredCapacity: 8 })).toEqual({
      MinHealthyPercentage: 90,
      SkipMatching: true,
      AutoRollback: false,
    });
  });

  it('passes every configured preference in the API names', () => {
    expect(
      refreshPreferencesRequest(
        config({
          minHealthyPercentage: 50,
          maxHealthyPercentage: 150,
          instanceWarmupSeconds: 30,
          skipMatching: false,
          autoRollback: false,
          checkpointPercentages: [25, 100],
          checkpointDelaySeconds: 60,
          bakeTimeSeconds: 600,
          alarmNames: ['high-5xx'],
        }),
        { desiredCapacity: 2 },
      ),
    ).toEqual({
      MinHealthyPercentage: 50,
      MaxHealthyPercentage: 150,
      InstanceWarmup: 30,
      SkipMatching: false,
      AutoRollback: false,
      CheckpointPercentages: [25, 100],
      CheckpointDelay: 60,
      BakeTime: 600,
      AlarmSpecification: { Alarms: ['high-5xx'] },
    });
  });
});
