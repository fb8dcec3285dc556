import { describe, expect, it } from 'vitest';
import {
  checkInstancesOnTarget,
  offTargetReason,
  instanceRefreshStatuses,
  isActiveRefreshStatus,
  isNativeRollbackStatus,
  refreshOutcome,
  refreshTimedOut,
} from '../../src/core/refresh-status.ts';

describe('refreshOutcome', () => {
  it.each([
    ['Pending', 'IN_PROGRESS'],
    ['InProgress', 'IN_PROGRESS'],
    ['Baking', 'IN_PROGRESS'],
    ['Cancelling', 'IN_PROGRESS'],
    ['RollbackInProgress', 'IN_PROGRESS'],
    ['Successful', 'SUCCEEDED'],
    ['Failed', 'FAILED'],
    ['Cancelled', 'FAILED'],
    ['RollbackFailed', 'FAILED'],
    ['RollbackSuccessful', 'FAILED'],
  ] as const)('maps %s to %s', (status, outcome) => {
    expect(refreshOutcome(status)).toBe(outcome);
  });

  it('covers all ten statuses Auto Scaling reports', () => {
    expect(instanceRefreshStatuses).toHaveLength(10);
    for (const status of instanceRefreshStatuses)
      expect(['IN_PROGRESS', 'SUCCEEDED', 'FAILED']).toContain(refreshOutcome(status));
  });

  it('treats Cancelled as a failed rollout, not something to keep polling', () => {
    expect(refreshOutcome('Cancelled')).toBe('FAILED');
  });

  it('treats a successful native rollback as a failed rollout', () => {
    expect(refreshOutcome('RollbackSuccessful')).toBe('FAILED');
  });

  it('keeps polling a status it does not know rather than guessing success', () => {
    expect(refreshOutcome('SomethingNew')).toBe('IN_PROGRESS');
  });
});

describe('isActiveRefreshStatus', () => {
  it('is true only for statuses that still hold the group', () => {
    expect(instanceRefreshStatuses.filter(isActiveRefreshStatus)).toEqual([
      'Pending',
      'InProgress',
      'Cancelling',
      'RollbackInProgress',
      'Baking',
    ]);
  });
});

describe('isNativeRollbackStatus', () => {
  it('recognises the three Rollback* statuses', () => {
    expect(instanceRefreshStatuses.filter(isNativeRollbackStatus)).toEqual([
      'RollbackInProgress',
      'RollbackFailed',
      'RollbackSuccessful',
    ]);
  });
});

describe('refreshTimedOut', () => {
  const start = new Date('2026-01-01T00:00:00Z');
  it('is false up to the timeout and true past it', () => {
    expect(refreshTimedOut(start, new Date('2026-01-01T01:00:00Z'), 60)).toBe(false);
    expect(refreshTimedOut(start, new Date('2026-01-01T01:00:01Z'), 60)).toBe(true);
  });
});

describe('checkInstancesOnTarget', () => {
  const target = { launchTemplateId: 'lt-1', launchTemplateVersion: 3 };
  const on = (
    instanceId: string,
    lifecycleState = 'InService',
    version = '3',
    launchTemplateId = 'lt-1',
  ) => ({
    instanceId,
    lifecycleState,
    launchTemplate: { launchTemplateId, launchTemplateName: 'web', version },
  });

  it('passes a group whose serving instances all run the target id and numbered version', () => {
    expect(checkInstancesOnTarget([on('i-1'), on('i-2', 'Pending')], target)).toEqual({
      kind: 'all-on-target',
      checked: 2,
    });
  });

  it('fails instances on another version, another template (a mixed instances override) or none at all', () => {
    const check = checkInstancesOnTarget(
      [
        on('i-1'),
        on('i-2', 'InService', '2'),
        on('i-3', 'InService', '$Default'),
        on('i-4', 'InService', '3', 'lt-2'),
        { instanceId: 'i-5', lifecycleState: 'InService', launchConfigurationName: 'old-lc' },
      ],
      target,
    );
    expect(check).toEqual({
      kind: 'off-target',
      checked: 5,
      offTarget: [
        { instanceId: 'i-2', runs: 'lt-1 version 2' },
        { instanceId: 'i-3', runs: 'lt-1 version $Default' },
        { instanceId: 'i-4', runs: 'lt-2 version 3' },
        { instanceId: 'i-5', runs: 'launch configuration old-lc' },
      ],
    });
  });

  it('leaves out Standby, Terminating and Detaching instances: they serve nothing', () => {
    expect(
      checkInstancesOnTarget(
        [on('i-1'), on('i-2', 'Standby', '2'), on('i-3', 'Terminating', '2'), on('i-4', 'Detaching', '2')],
        target,
      ),
    ).toEqual({ kind: 'all-on-target', checked: 1 });
  });

  it('names the group, the count and the first five instances in the reason', () => {
    const instances = Array.from({ length: 8 }, (_, i) => on(`i-${i}`, 'InService', i < 7 ? '2' : '3'));
    const check = checkInstancesOnTarget(instances, target);
    if (check.kind !== 'off-target') throw new Error('expected off-target');
    expect(offTargetReason('web', target, check, 'instance refresh')).toBe(
      'instance refresh Successful, but group web has 7 of 8 InService instances not on lt-1 version 3: ' +
        'i-0 (lt-1 version 2), i-1 (lt-1 version 2), i-2 (lt-1 version 2), i-3 (lt-1 version 2), ' +
        'i-4 (lt-1 version 2), and 2 more',
    );
  });
});
