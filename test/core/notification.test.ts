import { describe, expect, it } from 'vitest';
import { composeNotification } from '../../src/core/notification.ts';
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
      previousLaunchTemplateVersion: '$Default',
    },
  ],
  groupIndex: 1,
  done: false,
  refresh: {
    groupIndex: 1,
    autoScalingGroupName: 'api',
    instanceRefreshId: 'refresh-1',
    launchTemplateId: 'lt-0000000000000a001',
    launchTemplateVersion: 2,
    status: 'RollbackSuccessful',
    outcome: 'FAILED',
    percentageComplete: 0,
    statusReason: 'Health checks failed',
    nativeRollback: true,
  },
  refreshes: [
    {
      groupIndex: 0,
      autoScalingGroupName: 'web',
      instanceRefreshId: 'refresh-0',
      launchTemplateId: 'lt-0000000000000a001',
      launchTemplateVersion: 2,
      outcome: 'SUCCEEDED',
    },
  ],
  rollback: {
    rollbackTargetImageId: 'ami-00000000000000001',
    templates: [{ launchTemplateId: 'lt-0000000000000a001', action: 'restored-default', defaultVersion: 1 }],
    parameter: 'restored',
  },
};

describe('composeNotification', () => {
  const notification = composeNotification({
    outcome: 'ROLLED_BACK',
    rolloutId: 'r1',
    imageId: rollout.imageId,
    rollout,
    error: {
      Error: 'RefreshFailed',
      Cause: JSON.stringify({ errorMessage: 'group api: RollbackSuccessful' }),
    },
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:ami-rollout:r1',
    region: 'us-east-1',
  });

  it('names the image, the outcome and the failing group in the subject', () => {
    expect(notification.subject).toBe('[ami-rollout] ami-00000000000000002 FAILED and was rolled back (api)');
  });

  it('tells a person what failed, what was rolled back and where to look', () => {
    expect(notification.message).toContain('Failing group: api (instance refresh refresh-1)');
    expect(notification.message).toContain('Health checks failed');
    expect(notification.message).toContain('Auto Scaling rolled this group back');
    expect(notification.message).toContain('group api: RollbackSuccessful');
    expect(notification.message).toContain('lt-0000000000000a001: restored-default (default version 1)');
    expect(notification.message).toContain(
      'Instances already replaced in web still run ami-00000000000000002',
    );
    expect(notification.message).toContain(
      'aws autoscaling describe-instance-refreshes --region us-east-1 --auto-scaling-group-name api',
    );
    expect(notification.message).toContain('executions/details/arn:aws:states');
  });

  it('carries structured attributes for machines', () => {
    expect(notification.attributes).toEqual({
      outcome: 'ROLLED_BACK',
      rolloutId: 'r1',
      imageId: 'ami-00000000000000002',
      rollbackTargetImageId: 'ami-00000000000000001',
      autoScalingGroupName: 'api',
      instanceRefreshId: 'refresh-1',
      refreshStatus: 'RollbackSuccessful',
      errorName: 'RefreshFailed',
      failureCause: 'instances-unhealthy',
    });
  });

  it('names the cause in plain words on the line after the headline', () => {
    expect(notification.message.split('\n').slice(0, 2)).toEqual([
      'The rollout r1 of image ami-00000000000000002 FAILED and was rolled back.',
      'Cause (group api): instances unhealthy: Health checks failed',
    ]);
  });

  it('says the rollback is incomplete when a rollback refresh left instances on the new version', () => {
    const leftBehind =
      'rollback refresh Successful, but group web has 1 of 4 InService instances not on lt-0000000000000a001 version 1: i-1 (lt-0000000000000a001 version 2)';
    const incomplete = composeNotification({
      outcome: 'ROLLED_BACK',
      rolloutId: 'r1',
      imageId: rollout.imageId,
      rollout: {
        ...rollout,
        fleetRollback: {
          groups: [
            {
              autoScalingGroupName: 'web',
              launchTemplateId: 'lt-0000000000000a001',
              launchTemplateVersion: 1,
              reason: 'refreshed onto the new image',
            },
          ],
          index: 1,
          done: true,
          refreshes: [
            {
              groupIndex: 0,
              autoScalingGroupName: 'web',
              instanceRefreshId: 'refresh-back-0',
              launchTemplateId: 'lt-0000000000000a001',
              launchTemplateVersion: 1,
              status: 'Successful',
              outcome: 'SUCCEEDED',
              statusReason: leftBehind,
            },
          ],
        },
      },
      region: 'us-east-1',
    });
    expect(incomplete.subject).toBe(
      '[ami-rollout] ami-00000000000000002 FAILED and the ROLLBACK is INCOMPLETE: action needed (api)',
    );
    expect(incomplete.message.split('\n')[2]).toBe(`Rollback incomplete: ${leftBehind}`);
  });

  it('keeps the subject within the SNS limit of 100 printable ASCII characters', () => {
    const long = composeNotification({
      outcome: 'FAILED',
      rolloutId: 'r',
      imageId: `ami-${'0'.repeat(17)}`,
      rollout: { ...rollout, refresh: { ...rollout.refresh!, autoScalingGroupName: 'g'.repeat(200) } },
      region: 'us-east-1',
    });
    expect(long.subject.length).toBeLessThanOrEqual(100);
    expect(long.subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('reports a failure before any change without a rollout record', () => {
    const early = composeNotification({
      outcome: 'FAILED',
      rolloutId: 'r2',
      imageId: 'ami-00000000000000009',
      error: { Error: 'ImageNotFoundError', Cause: 'image ami-00000000000000009 does not exist' },
      region: 'us-east-1',
    });
    expect(early.subject).toBe('[ami-rollout] ami-00000000000000009 FAILED, nothing was changed');
    expect(early.message).toContain('Error: ImageNotFoundError');
    expect(early.message).toContain('image ami-00000000000000009 does not exist');
  });
});

describe('composeNotification for a large fleet', () => {
  it('names at most 10 groups in a line, and says how many more', () => {
    const names = Array.from({ length: 300 }, (_, i) => `g-${String(i).padStart(3, '0')}`);
    const { message } = composeNotification({
      outcome: 'ROLLED_BACK',
      rolloutId: 'r1',
      imageId: rollout.imageId,
      rollout: {
        ...rollout,
        groups: names.map((autoScalingGroupName) => ({ ...rollout.groups[0]!, autoScalingGroupName })),
        refreshes: names.slice(0, 120).map((autoScalingGroupName, groupIndex) => ({
          ...rollout.refreshes[0]!,
          groupIndex,
          autoScalingGroupName,
        })),
      },
      region: 'us-east-1',
    });
    const lines = message.split('\n');
    expect(lines.find((l) => l.startsWith('Groups, in rollout order: '))).toBe(
      `Groups, in rollout order: ${names.slice(0, 10).join(', ')} and 290 more (300 in all)`,
    );
    expect(lines.find((l) => l.startsWith('Groups refreshed onto the new image: '))).toBe(
      `Groups refreshed onto the new image: ${names.slice(0, 10).join(', ')} and 110 more (120 in all)`,
    );
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(400);
  });
});
