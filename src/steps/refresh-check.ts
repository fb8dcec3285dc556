import { cancelRefresh, describeRefreshes } from '../adapters/autoscaling.ts';
import { isNativeRollbackStatus, refreshOutcome, refreshTimedOut } from '../core/refresh-status.ts';
import type { RefreshRecord } from '../core/rollout.ts';
import { InstanceRefreshNotFoundError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { StepDependencies } from './dependencies.ts';

/**
 * One status check of a refresh this rollout started, forward or back: reads it, maps its status to an outcome,
 * and fails (and cancels) a refresh running past refreshTimeoutMinutes, so it stops replacing instances whatever
 * happens next. Cancelling a refresh already stopping is a no-op, so a retried check is harmless.
 */
export async function checkRefresh(
  deps: StepDependencies<'autoscaling'>,
  current: RefreshRecord,
  log: Logger,
  what: string,
): Promise<RefreshRecord> {
  const { config, autoscaling } = deps;
  const now = deps.now ?? (() => new Date());
  const { autoScalingGroupName, instanceRefreshId } = current;
  const [found] = await describeRefreshes(autoscaling, autoScalingGroupName, [instanceRefreshId]);
  if (!found || found.instanceRefreshId !== instanceRefreshId) {
    throw new InstanceRefreshNotFoundError(
      `group ${autoScalingGroupName} has no instance refresh ${instanceRefreshId}`,
    );
  }
  let outcome = refreshOutcome(found.status);
  const startedAt = found.startTime ?? (current.startedAt ? new Date(current.startedAt) : undefined);
  const timedOut =
    outcome === 'IN_PROGRESS' &&
    startedAt !== undefined &&
    refreshTimedOut(startedAt, now(), config.refreshTimeoutMinutes);
  let cancelled: 'cancelled' | 'none-active' | 'left-running' | undefined;
  if (timedOut) {
    outcome = 'FAILED';
    // Auto Scaling's own rollback, or a cancel under way, is left to finish: cancelling it would stop the very
    // thing that puts the group back. The fleet rollback waits for it (RefreshInProgressError retries).
    cancelled =
      found.status === 'RollbackInProgress' || found.status === 'Cancelling'
        ? 'left-running'
        : await cancelRefresh(autoscaling, autoScalingGroupName);
    log.warn(`${what}-timed-out`, { instanceRefreshId, status: found.status, cancelled });
  }
  const statusReason = timedOut
    ? `${what === 'rollback-refresh' ? 'rollback refresh ' : ''}still ${found.status} after refreshTimeoutMinutes (${config.refreshTimeoutMinutes} min), ${cancelled === 'left-running' ? 'left to finish' : 'cancelled'}${found.statusReason ? `: ${found.statusReason}` : ''}`
    : (found.rollbackReason ?? found.statusReason);
  const refresh: RefreshRecord = {
    ...current,
    ...(startedAt ? { startedAt: startedAt.toISOString() } : {}),
    status: found.status,
    outcome,
    percentageComplete: found.percentageComplete ?? 0,
    instancesToUpdate: found.instancesToUpdate ?? 0,
    ...(statusReason ? { statusReason } : {}),
    nativeRollback: isNativeRollbackStatus(found.status) || found.rollbackReason !== undefined,
    ...(timedOut ? { timedOut: true } : {}),
  };
  log.info(`${what}-checked`, {
    instanceRefreshId,
    status: found.status,
    outcome,
    percentageComplete: refresh.percentageComplete,
    instancesToUpdate: refresh.instancesToUpdate,
    ...(statusReason ? { statusReason } : {}),
  });
  return refresh;
}
