import { describe, expect, it } from 'vitest';
import {
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
