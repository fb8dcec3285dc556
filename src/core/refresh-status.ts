import type { RefreshOutcome } from './rollout.ts';

/** The ten statuses DescribeInstanceRefreshes reports. */
export const instanceRefreshStatuses = [
  'Pending',
  'InProgress',
  'Successful',
  'Failed',
  'Cancelling',
  'Cancelled',
  'RollbackInProgress',
  'RollbackFailed',
  'RollbackSuccessful',
  'Baking',
] as const;
export type InstanceRefreshStatus = (typeof instanceRefreshStatuses)[number];

/**
 * What a refresh status means for the rollout. Only `Successful` moves on. `Cancelled` is a failure: the
 * refresh stopped half-way, and a loop that waits for Successful/Failed would poll it forever. A native
 * rollback that succeeded is still a failed rollout (the group is back on the old image, the new one is bad).
 * `Baking` (watching alarms after the last replacement), `Cancelling` and `RollbackInProgress` have not
 * settled yet, so they are polled again. A status AWS adds later is treated as still in progress, and
 * bounded by the refresh timeout, rather than guessed as success.
 */
export function refreshOutcome(status: string): RefreshOutcome {
  switch (status as InstanceRefreshStatus) {
    case 'Successful':
      return 'SUCCEEDED';
    case 'Failed':
    case 'Cancelled':
    case 'RollbackFailed':
    case 'RollbackSuccessful':
      return 'FAILED';
    case 'Pending':
    case 'InProgress':
    case 'Baking':
    case 'Cancelling':
    case 'RollbackInProgress':
      return 'IN_PROGRESS';
    default:
      return 'IN_PROGRESS';
  }
}

/** True while a refresh still holds the group (a new StartInstanceRefresh would be refused). */
export function isActiveRefreshStatus(status: string): boolean {
  return refreshOutcome(status) === 'IN_PROGRESS';
}

/** True when Auto Scaling itself is rolling, or has rolled, the group back. */
export function isNativeRollbackStatus(status: string): boolean {
  return status === 'RollbackInProgress' || status === 'RollbackSuccessful' || status === 'RollbackFailed';
}

/** True when a refresh that started at `startedAt` has run longer than `timeoutMinutes` at `now`. */
export function refreshTimedOut(startedAt: Date, now: Date, timeoutMinutes: number): boolean {
  return now.getTime() - startedAt.getTime() > timeoutMinutes * 60_000;
}
