import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  globalRefresh,
  groupResult,
  ledgerOf,
  parseGroupEvent,
  readGroup,
  type GroupResult,
} from './ledger-steps.ts';
import { rolloutEventSchema, type Rollout } from '../core/rollout.ts';
import { InvalidEventError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { checkRefresh } from './refresh-check.ts';
import { putGroup, recordFailure } from '../adapters/ledger.ts';

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

/**
 * The step as the group machine runs it: one check of the group's refresh, its outcome written to the group's
 * item. A FAILED refresh also records the rollout's failure (the first one wins), which stops new starts.
 * Event: `{ group: { rolloutId, phase, groupIndex } }`. Result: `{ ..., outcome }`.
 */
export function createCheckRefreshStatusStep(
  deps: StepDependencies<'autoscaling' | 'dynamodb'>,
): (event: unknown) => Promise<GroupResult> {
  const inner = createCheckRefreshStatus(deps);
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rolloutId, groupIndex } = parseGroupEvent(event, 'check_refresh_status');
    const ledger = ledgerOf(deps);
    const { group, view } = await readGroup(ledger, rolloutId, groupIndex);
    const result = (outcome: GroupResult['outcome']) => groupResult(group, 'forward', rolloutId, outcome);
    if (group.status === 'SUCCEEDED' || group.status === 'FAILED' || group.status === 'SKIPPED')
      return result(group.status);
    const current = view.refreshes[0];
    if (!current) {
      throw new InvalidEventError(
        `check_refresh_status: group ${group.autoScalingGroupName} has no refresh in the ledger; run trigger_instance_refresh first`,
      );
    }
    const after = await inner({ rollout: { ...view, refresh: current } });
    const refresh = globalRefresh(after.refresh ?? current, group);
    const outcome = refresh.outcome ?? 'IN_PROGRESS';
    const status = outcome === 'SUCCEEDED' ? 'SUCCEEDED' : outcome === 'FAILED' ? 'FAILED' : 'REFRESHING';
    const checkedAt = now().toISOString();
    const endedAt = status === 'REFRESHING' ? {} : { endedAt: checkedAt };
    await putGroup(ledger, rolloutId, { ...group, status, refresh, checkedAt, ...endedAt });
    if (status === 'FAILED') {
      await recordFailure(ledger, rolloutId, {
        autoScalingGroupName: group.autoScalingGroupName,
        index: group.index,
        wave: group.wave,
        reason: refresh.statusReason ?? `instance refresh ${refresh.status ?? 'failed'}`,
        at: now().toISOString(),
      });
    }
    return result(outcome);
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<GroupResult> =>
  runInLambda(
    createCheckRefreshStatusStep,
    { autoscaling: AutoScalingClient, dynamodb: DynamoDBClient },
    event,
  );
