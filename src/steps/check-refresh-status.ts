import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { rolloutEventSchema, type Rollout } from '../core/rollout.ts';
import { InvalidEventError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { checkRefresh } from './refresh-check.ts';

/**
 * Check refresh status: reads the refresh in `rollout.refresh` and maps its status to an outcome the state
 * machine's Choice reads at `$.rollout.refresh.outcome`: IN_PROGRESS (wait and poll again), SUCCEEDED (the
 * rollout moves `groupIndex` to the next group), FAILED (roll back). A refresh running past
 * `refreshTimeoutMinutes` is FAILED with `timedOut: true`, and cancelled (see refresh-check.ts).
 * Event: `{ rollout }`. Result: the rollout with `refresh` updated (status, percentage, instances to update,
 * reason, whether Auto Scaling rolled back natively).
 */
export function createCheckRefreshStatus(
  deps: StepDependencies<'autoscaling'>,
): (event: unknown) => Promise<Rollout> {
  return async (event) => {
    const { rollout } = parseEvent(rolloutEventSchema, event, 'check_refresh_status');
    const current = rollout.refresh;
    if (!current)
      throw new InvalidEventError(
        'check_refresh_status: the rollout has no refresh to check; run trigger_instance_refresh first',
      );
    const { autoScalingGroupName } = current;
    const log = stepLogger(deps, 'check_refresh_status', {
      rolloutId: rollout.rolloutId,
      imageId: rollout.imageId,
      autoScalingGroupName,
    });

    const refresh = await checkRefresh(deps, current, log, 'instance-refresh');
    return {
      ...rollout,
      refresh,
      refreshes: rollout.refreshes.map((r) => (r.groupIndex === refresh.groupIndex ? refresh : r)),
      // Derived from the refresh, not incremented, so checking twice cannot skip a group.
      groupIndex: refresh.outcome === 'SUCCEEDED' ? refresh.groupIndex + 1 : rollout.groupIndex,
    };
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<Rollout> =>
  runInLambda(createCheckRefreshStatus, { autoscaling: AutoScalingClient }, event);
