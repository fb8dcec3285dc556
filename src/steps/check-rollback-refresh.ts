import { describeRefreshes } from '../adapters/autoscaling.ts';
import { refreshOutcome, refreshTimedOut } from '../core/refresh-status.ts';
import type { RefreshRecord } from '../core/rollout.ts';
import { InstanceRefreshNotFoundError, InvalidEventError } from '../errors.ts';
import { lambdaDependencies, parseEvent, stepLogger, type StepDependencies } from './dependencies.ts';
import { fleetRollbackEventSchema, type FleetRollbackRollout } from './trigger-rollback-refresh.ts';

/**
 * Check rollback refresh: reads the rollback refresh in `rollout.fleetRollback.refresh` and maps its status the
 * same way the forward check does. On SUCCEEDED the rollback moves to the next group; FAILED (or a refresh past
 * refreshTimeoutMinutes) ends the rollback as failed, which the state machine reports loudly.
 * Event: `{ rollout }`. Result: the rollout with `fleetRollback.refresh` updated.
 */
export function createCheckRollbackRefresh(
  deps: StepDependencies,
): (event: unknown) => Promise<FleetRollbackRollout> {
  const { config, autoscaling } = deps;
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rollout } = parseEvent(fleetRollbackEventSchema, event, 'check_rollback_refresh');
    const plan = rollout.fleetRollback;
    const current = plan?.refresh;
    if (!plan || !current) {
      throw new InvalidEventError(
        'check_rollback_refresh: the rollout has no rollback refresh to check; run trigger_rollback_refresh first',
      );
    }
    const { autoScalingGroupName, instanceRefreshId } = current;
    const log = stepLogger(deps, 'check_rollback_refresh', {
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
    if (timedOut) outcome = 'FAILED';
    const statusReason = timedOut
      ? `rollback refresh still ${found.status} after refreshTimeoutMinutes (${config.refreshTimeoutMinutes} min)`
      : found.statusReason;
    const refresh: RefreshRecord = {
      ...current,
      status: found.status,
      outcome,
      percentageComplete: found.percentageComplete ?? 0,
      instancesToUpdate: found.instancesToUpdate ?? 0,
      ...(statusReason ? { statusReason } : {}),
      ...(timedOut ? { timedOut: true } : {}),
    };
    log.info('rollback-refresh-checked', {
      instanceRefreshId,
      status: found.status,
      outcome,
      percentageComplete: refresh.percentageComplete,
    });
    return {
      ...rollout,
      fleetRollback: {
        ...plan,
        refresh,
        refreshes: plan.refreshes.map((r) => (r.groupIndex === refresh.groupIndex ? refresh : r)),
        // Derived from the refresh, so checking twice cannot skip a group.
        index: outcome === 'SUCCEEDED' ? refresh.groupIndex + 1 : plan.index,
      },
    };
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<FleetRollbackRollout> =>
  createCheckRollbackRefresh(lambdaDependencies())(event);
