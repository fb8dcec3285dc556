import { isRolledBack } from '../core/ledger-records.ts';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { classifyFailureCause } from '../core/failure-cause.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  globalRefresh,
  groupResult,
  ledgerOf,
  parseGroupEvent,
  readGroup,
  rollbackViewOf,
  type GroupResult,
} from './ledger-steps.ts';
import { InvalidEventError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { checkRefresh } from './refresh-check.ts';
import { fleetRollbackEventSchema, type FleetRollbackRollout } from './trigger-rollback-refresh.ts';
import { putGroup } from '../adapters/ledger.ts';

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

/**
 * The step as the group machine runs it: one check of the group's rollback refresh, written to its item:
 * ROLLED_BACK, FAILED, or still ROLLING_BACK.
 * Event: `{ group: { rolloutId, phase, groupIndex } }`. Result: `{ ..., outcome }`.
 */
export function createCheckRollbackRefreshStep(
  deps: StepDependencies<'autoscaling' | 'dynamodb'>,
): (event: unknown) => Promise<GroupResult> {
  const inner = createCheckRollbackRefresh(deps);
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rolloutId, groupIndex } = parseGroupEvent(event, 'check_rollback_refresh');
    const ledger = ledgerOf(deps);
    const { group, view } = await readGroup(ledger, rolloutId, groupIndex);
    const result = (outcome: GroupResult['outcome']) => groupResult(group, 'rollback', rolloutId, outcome);
    const rollback = group.rollback;
    if (isRolledBack(rollback?.status)) return result('SUCCEEDED');
    if (rollback?.status === 'FAILED') return result('FAILED');
    const after = await inner({ rollout: rollbackViewOf(view, group) });
    const checked = after.fleetRollback.refresh;
    if (!checked || !rollback)
      throw new InvalidEventError(`check_rollback_refresh: group ${groupIndex} has no rollback refresh`);
    const refresh = globalRefresh(checked, group);
    const outcome = refresh.outcome ?? 'IN_PROGRESS';
    const status =
      outcome === 'FAILED'
        ? 'FAILED'
        : outcome === 'SUCCEEDED'
          ? // Successful, but instances left on another version (refresh-check.ts): the notification says so.
            classifyFailureCause(refresh.statusReason ? { statusReason: refresh.statusReason } : {}).kind ===
            'instances-left-behind'
            ? 'INCOMPLETE'
            : 'ROLLED_BACK'
          : 'ROLLING_BACK';
    const checkedAt = now().toISOString();
    await putGroup(ledger, rolloutId, {
      ...group,
      checkedAt,
      rollback: {
        ...rollback,
        status,
        refresh,
        ...(status === 'ROLLING_BACK' ? {} : { endedAt: checkedAt }),
      },
    });
    return result(outcome);
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<GroupResult> =>
  runInLambda(
    createCheckRollbackRefreshStep,
    { autoscaling: AutoScalingClient, dynamodb: DynamoDBClient },
    event,
  );
