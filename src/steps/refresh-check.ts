import {
  cancelRefresh,
  describeGroupInstances,
  describeRefreshes,
  latestFailedActivityMessage,
} from '../adapters/autoscaling.ts';
import {
  checkInstancesOnTarget,
  isNativeRollbackStatus,
  offTargetReason,
  refreshOutcome,
  refreshTimedOut,
} from '../core/refresh-status.ts';
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
  let statusReason = timedOut
    ? `${what === 'rollback-refresh' ? 'rollback refresh ' : ''}still ${found.status} after refreshTimeoutMinutes (${config.refreshTimeoutMinutes} min), ${cancelled === 'left-running' ? 'left to finish' : 'cancelled'}${found.statusReason ? `: ${found.statusReason}` : ''}`
    : (found.rollbackReason ?? found.statusReason);
  let instancesLeftBehind: number | undefined;
  if (outcome === 'SUCCEEDED') {
    // Successful is not enough: every serving instance must run the version this refresh targeted.
    const left = await instancesNotOnTarget(deps, current, what);
    if (left) {
      instancesLeftBehind = left.count;
      statusReason = left.reason;
      // Forward, the group is not done: it fails and rolls back like any other failure. Back, the rollback goes
      // on to the other groups (stopping would leave whole groups on the new image for one straggler); the
      // notification reports the group as not fully rolled back.
      if (what === 'instance-refresh') outcome = 'FAILED';
      log.warn(`${what}-instances-left-behind`, {
        instanceRefreshId,
        count: left.count,
        reason: left.reason,
      });
    }
  } else if (outcome === 'FAILED' && !timedOut) {
    statusReason = await withFailedActivity(deps, current, startedAt, statusReason, log);
  }
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
    ...(instancesLeftBehind !== undefined ? { instancesLeftBehind } : {}),
    instanceRefreshId,
    status: found.status,
    outcome,
    percentageComplete: refresh.percentageComplete,
    instancesToUpdate: refresh.instancesToUpdate,
    ...(statusReason ? { statusReason } : {}),
  });
  return refresh;
}

/** The instances of the group that do not run the refresh's target version, if any, and the reason to record. */
async function instancesNotOnTarget(
  deps: StepDependencies<'autoscaling'>,
  current: RefreshRecord,
  what: string,
): Promise<{ count: number; reason: string } | undefined> {
  const { autoScalingGroupName, launchTemplateId, launchTemplateVersion } = current;
  const instances = await describeGroupInstances(deps.autoscaling, autoScalingGroupName);
  const target = { launchTemplateId, launchTemplateVersion };
  const kind = what === 'rollback-refresh' ? 'rollback refresh' : 'instance refresh';
  if (!instances) {
    return {
      count: 0,
      reason: `${kind} Successful, but group ${autoScalingGroupName} no longer exists: its instances cannot be shown to run ${launchTemplateId} version ${launchTemplateVersion}`,
    };
  }
  const check = checkInstancesOnTarget(instances, target);
  if (check.kind === 'all-on-target') return undefined;
  return {
    count: check.offTarget.length,
    reason: offTargetReason(autoScalingGroupName, target, check, kind),
  };
}

/**
 * Adds what EC2 answered to the refresh's last failed launch (the scaling activity's StatusMessage) to the
 * reason, when the reason does not already say it. Best effort: the reason only gets clearer, and a failed
 * lookup must not keep the rollout from rolling back, so an error is logged and the reason kept as it is.
 */
async function withFailedActivity(
  deps: StepDependencies<'autoscaling'>,
  current: RefreshRecord,
  startedAt: Date | undefined,
  statusReason: string | undefined,
  log: Logger,
): Promise<string | undefined> {
  try {
    const message = await latestFailedActivityMessage(
      deps.autoscaling,
      current.autoScalingGroupName,
      startedAt,
    );
    if (!message || statusReason?.includes(message)) return statusReason;
    return `${statusReason ? `${statusReason} ` : ''}Last failed scaling activity: ${message}`;
  } catch (error) {
    log.warn('scaling-activities-unreadable', {
      instanceRefreshId: current.instanceRefreshId,
      error: error instanceof Error ? error.message : String(error),
    });
    return statusReason;
  }
}
