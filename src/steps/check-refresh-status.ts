import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
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
import { claimGateCheck, listWaves, putGroup, recordFailure } from '../adapters/ledger.ts';
import { judgeGate, refreshAlarms } from '../core/gate.ts';
import type { LedgerRolloutItem } from '../core/ledger-records.ts';
import { NO_GATE, readGate, recordGateFailure } from './check-gate.ts';

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
  deps: StepDependencies<'autoscaling' | 'cloudwatch' | 'dynamodb'>,
): (event: unknown) => Promise<GroupResult> {
  const inner = createCheckRefreshStatus(deps);
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rolloutId, groupIndex } = parseGroupEvent(event, 'check_refresh_status');
    const ledger = ledgerOf(deps);
    const { item, group, view } = await readGroup(ledger, rolloutId, groupIndex);
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
    } else if (status === 'REFRESHING' && !item.failure) {
      await watchGateWhileRefreshing(deps, ledger, item, group.wave, now());
    }
    return result(outcome);
  };
}

/**
 * While groups refresh, the health gate is watched too: at most one check per poll interval for the whole fleet
 * (the first refresh check to claim it reads the alarms, in one DescribeAlarms call: the gate's and its wave's
 * own), however many groups poll. ALARM (or a gate alarm deleted, or no data under `fail`) records the rollout's
 * failure: no group starts after it, the refreshes in flight finish, and the fleet is rolled back. No data is
 * not a failure here, under `wait` or `ignore`: only a bake or watch window waits for data.
 */
async function watchGateWhileRefreshing(
  deps: StepDependencies<'cloudwatch' | 'dynamodb'>,
  ledger: ReturnType<typeof ledgerOf>,
  item: LedgerRolloutItem,
  waveIndex: number,
  at: Date,
): Promise<void> {
  const gate = item.gate ?? NO_GATE;
  if (gate.alarmNames.length === 0 && !gate.waveAlarms) return;
  const notBefore = new Date(at.getTime() - deps.config.pollIntervalSeconds * 1000 + 1000).toISOString();
  // The wave's own alarms are on its record: read only when this check is the one to watch the gate.
  if (!(await claimGateCheck(ledger, item.rolloutId, at.toISOString(), notBefore))) return;
  const wave = (await listWaves(ledger, item.rolloutId)).find((w) => w.index === waveIndex);
  const names = refreshAlarms(gate, wave);
  if (names.length === 0) return;
  const reading = await readGate(deps, ledger, item.rolloutId, names, at);
  const verdict = judgeGate(reading, gate.insufficientData === 'fail' ? 'fail' : 'ignore');
  if (verdict.kind !== 'fired') return;
  await recordGateFailure(
    ledger,
    item,
    {
      wave: waveIndex,
      reason: `${verdict.reason} (while wave ${wave?.name ?? waveIndex} refreshed)`,
      alarm: { ...verdict.alarm, during: 'refresh' },
    },
    at,
  );
  stepLogger(deps, 'check_refresh_status', { rolloutId: item.rolloutId, imageId: item.imageId }).warn(
    'gate-fired',
    { alarm: verdict.alarm.name, reason: verdict.reason },
  );
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<GroupResult> =>
  runInLambda(
    createCheckRefreshStatusStep,
    { autoscaling: AutoScalingClient, cloudwatch: CloudWatchClient, dynamodb: DynamoDBClient },
    event,
  );
