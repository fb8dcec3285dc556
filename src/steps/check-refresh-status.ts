import { cancelRefresh, describeRefreshes } from '../adapters/autoscaling.ts';
import { isNativeRollbackStatus, refreshOutcome, refreshTimedOut } from '../core/refresh-status.ts';
import { rolloutEventSchema, type RefreshRecord, type Rollout } from '../core/rollout.ts';
import { InstanceRefreshNotFoundError, InvalidEventError } from '../errors.ts';
import { lambdaDependencies, parseEvent, stepLogger, type StepDependencies } from './dependencies.ts';

/**
 * Check refresh status: reads the refresh in `rollout.refresh` and maps its status to an outcome the state
 * machine's Choice reads at `$.rollout.refresh.outcome`: IN_PROGRESS (wait and poll again), SUCCEEDED (the
 * rollout moves `groupIndex` to the next group), FAILED (roll back). A refresh running past
 * `refreshTimeoutMinutes` is FAILED with `timedOut: true`.
 * Event: `{ rollout }`. Result: the rollout with `refresh` updated (status, percentage, instances to update,
 * reason, whether Auto Scaling rolled back natively).
 */
export function createCheckRefreshStatus(deps: StepDependencies): (event: unknown) => Promise<Rollout> {
  const { config, autoscaling } = deps;
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rollout } = parseEvent(rolloutEventSchema, event, 'check_refresh_status');
    const current = rollout.refresh;
    if (!current)
      throw new InvalidEventError(
        'check_refresh_status: the rollout has no refresh to check; run trigger_instance_refresh first',
      );
    const { autoScalingGroupName, instanceRefreshId } = current;
    const log = stepLogger(deps, 'check_refresh_status', {
      rolloutId: rollout.rolloutId,
      imageId: rollout.imageId,
      autoScalingGroupName,
    });

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
    if (timedOut) {
      outcome = 'FAILED';
      // A refresh past its time is stopped here, so it stops replacing instances even if the rollback fails.
      // Cancelling an already-stopping refresh is a no-op, so a retried check is harmless.
      const cancelled = await cancelRefresh(autoscaling, autoScalingGroupName);
      log.warn('instance-refresh-timed-out', { instanceRefreshId, status: found.status, cancelled });
    }
    const statusReason = timedOut
      ? `still ${found.status} after refreshTimeoutMinutes (${config.refreshTimeoutMinutes} min), cancelled${found.statusReason ? `: ${found.statusReason}` : ''}`
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
    log.info('instance-refresh-checked', {
      instanceRefreshId,
      status: found.status,
      outcome,
      percentageComplete: refresh.percentageComplete,
      instancesToUpdate: refresh.instancesToUpdate,
      ...(statusReason ? { statusReason } : {}),
    });
    return {
      ...rollout,
      refresh,
      refreshes: rollout.refreshes.map((r) => (r.groupIndex === refresh.groupIndex ? refresh : r)),
      // Derived from the refresh, not incremented, so checking twice cannot skip a group.
      groupIndex: outcome === 'SUCCEEDED' ? refresh.groupIndex + 1 : rollout.groupIndex,
    };
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<Rollout> =>
  createCheckRefreshStatus(lambdaDependencies())(event);
