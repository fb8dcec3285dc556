import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { InvalidEventError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { checkRefresh } from './refresh-check.ts';
import { fleetRollbackEventSchema, type FleetRollbackRollout } from './trigger-rollback-refresh.ts';

/**
 * Check rollback refresh: reads the rollback refresh in `rollout.fleetRollback.refresh` and maps its status the
 * same way the forward check does. On SUCCEEDED the rollback moves to the next group; FAILED (or a refresh past
 * refreshTimeoutMinutes, which is cancelled) ends the rollback as failed, which the state machine reports loudly.
 * Event: `{ rollout }`. Result: the rollout with `fleetRollback.refresh` updated.
 */
export function createCheckRollbackRefresh(
  deps: StepDependencies<'autoscaling'>,
): (event: unknown) => Promise<FleetRollbackRollout> {
  return async (event) => {
    const { rollout } = parseEvent(fleetRollbackEventSchema, event, 'check_rollback_refresh');
    const plan = rollout.fleetRollback;
    const current = plan?.refresh;
    if (!plan || !current) {
      throw new InvalidEventError(
        'check_rollback_refresh: the rollout has no rollback refresh to check; run trigger_rollback_refresh first',
      );
    }
    const { autoScalingGroupName } = current;
    const log = stepLogger(deps, 'check_rollback_refresh', {
      rolloutId: rollout.rolloutId,
      imageId: rollout.imageId,
      autoScalingGroupName,
    });
    const refresh = await checkRefresh(deps, current, log, 'rollback-refresh');
    return {
      ...rollout,
      fleetRollback: {
        ...plan,
        refresh,
        refreshes: plan.refreshes.map((r) => (r.groupIndex === refresh.groupIndex ? refresh : r)),
        // Derived from the refresh, so checking twice cannot skip a group.
        index: refresh.outcome === 'SUCCEEDED' ? refresh.groupIndex + 1 : plan.index,
      },
    };
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<FleetRollbackRollout> =>
  runInLambda(createCheckRollbackRefresh, { autoscaling: AutoScalingClient }, event);
