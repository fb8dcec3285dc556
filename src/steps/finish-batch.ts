import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { gateWindow } from '../core/gate.ts';
import type { LedgerGroup } from '../core/ledger-records.ts';
import { NO_GATE } from './check-gate.ts';
import { LedgerError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { restoreGroupVersions } from './group-versions.ts';
import { failureRecord, ledgerOf, readRollout } from './ledger-steps.ts';
import { listWaves, moveCursor, putWave } from '../adapters/ledger.ts';

export const finishBatchEventSchema = z.object({
  rolloutId: z.string().min(1),
  phase: z.enum(['forward', 'rollback']),
  from: z.number().int().min(0),
  to: z.number().int().min(0),
});

export interface FinishBatchResult {
  readonly next: 'more' | 'done' | 'failed';
  /** The failed group's refresh record, or the gate alarm that fired (what the notification shows), or null. */
  readonly failure: Record<string, unknown> | null;
  /** The error the rollout records: a group's refresh failed, or the health gate fired; null when none. */
  readonly error:
    'InstanceRefreshFailed' | 'GateAlarmFired' | 'RolloutAborted' | 'RollbackRefreshFailed' | null;
}

/**
 * Finish batch: the last state of a batch execution. Reads the batch's groups from the ledger and moves the
 * rollout on: `failed` when a group failed (forward: its refresh; back: its rollback refresh), else the cursor
 * moves past the batch (a conditional write: a second run finds it moved) and the answer is `more` or, after the
 * last batch, `done`, when every group that was pinned gets its own launch template setting back. A wave whose
 * last group this batch finished gets its end time, from which the next wave's bake counts.
 * Event: `{ rolloutId, phase, from, to }`. Result: `{ next, failure }`.
 */
export function createFinishBatch(
  deps: StepDependencies<'autoscaling' | 'ec2' | 'dynamodb'>,
): (event: unknown) => Promise<FinishBatchResult> {
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rolloutId, phase, from, to } = parseEvent(finishBatchEventSchema, event, 'finish_batch');
    const ledger = ledgerOf(deps);
    const { item, groups, view } = await readRollout(ledger, rolloutId);
    const log = stepLogger(deps, 'finish_batch', { rolloutId, imageId: item.imageId });
    const byIndex = new Map(groups.map((g) => [g.index, g]));
    if (phase === 'forward') {
      if (item.failure?.abort) {
        const { abort, reason, at } = item.failure;
        log.warn('rollout-aborted', { reason: abort.reason, ...(abort.by ? { by: abort.by } : {}) });
        return {
          next: 'failed',
          failure: { abortedBy: abort.by ?? 'an operator', at, statusReason: reason },
          error: 'RolloutAborted',
        };
      }
      if (item.failure?.alarm) {
        const { alarm, reason, wave, at } = item.failure;
        const waveName = (await listWaves(ledger, rolloutId)).find((w) => w.index === wave)?.name;
        log.warn('gate-fired', { alarm: alarm.name, reason });
        return {
          next: 'failed',
          failure: {
            alarmName: alarm.name,
            alarmState: alarm.state,
            during: alarm.during,
            wave,
            ...(waveName !== undefined ? { waveName } : {}),
            at,
            statusReason: reason,
          },
          error: 'GateAlarmFired',
        };
      }
      if (item.failure) {
        const failed = item.failure.index === undefined ? undefined : byIndex.get(item.failure.index);
        log.warn('wave-failed', { group: item.failure.autoScalingGroupName, reason: item.failure.reason });
        return {
          next: 'failed',
          failure: failureRecord(failed, item.failure.reason),
          error: 'InstanceRefreshFailed',
        };
      }
      const batch = groups.filter((g) => g.index >= from && g.index < to);
      const unfinished = batch.filter((g) => g.status !== 'SUCCEEDED');
      if (unfinished.length > 0) {
        throw new LedgerError(
          `finish_batch: ${unfinished.length} group(s) of the batch did not succeed and the rollout records no failure: ${describe(unfinished)}`,
        );
      }
      if (to > from && (await moveCursor(ledger, rolloutId, 'forwardCursor', from, to))) {
        await markWavesEnded(ledger, rolloutId, from, to, now());
      }
      if (to < item.groupCount && to > from) return { next: 'more', failure: null, error: null };
      // The last wave is done: the watch window (its own batch, with no groups) comes before success.
      const waves = await listWaves(ledger, rolloutId);
      if (to > from && gateWindow(waves, to, item.gate ?? NO_GATE, now().getTime()).kind === 'watch') {
        log.info('watch-window', {
          minutes: Math.max(item.gate?.watchMinutes ?? 0, waves.at(-1)?.bakeMinutes ?? 0),
        });
        return { next: 'more', failure: null, error: null };
      }
      await restoreGroupVersions(deps, view.groups, log);
      log.info('all-groups-refreshed', { groups: item.groupCount });
      return { next: 'done', failure: null, error: null };
    }
    const order = item.rollbackOrder ?? [];
    const batch = order.slice(from, to).flatMap((index) => byIndex.get(index) ?? []);
    const failed = batch.find((g) => g.rollback?.status === 'FAILED');
    if (failed) {
      const refresh = failed.rollback?.refresh;
      return {
        next: 'failed',
        failure: refresh ? { ...refresh } : failureRecord(failed, 'rollback refresh failed'),
        error: 'RollbackRefreshFailed',
      };
    }
    const unfinished = batch.filter(
      (g) => g.rollback?.status !== 'ROLLED_BACK' && g.rollback?.status !== 'INCOMPLETE',
    );
    if (unfinished.length > 0) {
      throw new LedgerError(
        `finish_batch: ${unfinished.length} group(s) not rolled back: ${describe(unfinished)}`,
      );
    }
    if (to > from) await moveCursor(ledger, rolloutId, 'rollbackCursor', from, to);
    if (to < order.length && to > from) return { next: 'more', failure: null, error: null };
    // Every pinned group, refreshed or not: the templates are back, so $Default names what they run again.
    await restoreGroupVersions(deps, view.groups, log);
    log.info('fleet-rolled-back', { groups: order.length });
    return { next: 'done', failure: null, error: null };
  };
}

const describe = (groups: readonly LedgerGroup[]) =>
  groups
    .slice(0, 10)
    .map((g) => `${g.autoScalingGroupName} (${g.rollback?.status ?? g.status})`)
    .join(', ') + (groups.length > 10 ? ', ...' : '');

/** Waves whose every group lies before `cursor` have ended now (the first time only). */
async function markWavesEnded(
  ledger: ReturnType<typeof ledgerOf>,
  rolloutId: string,
  from: number,
  cursor: number,
  at: Date,
): Promise<void> {
  for (const wave of await listWaves(ledger, rolloutId)) {
    const end = wave.firstGroup + wave.groupCount;
    if (wave.endedAt || end > cursor || end <= from) continue;
    await putWave(ledger, rolloutId, { ...wave, endedAt: at.toISOString() });
  }
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<FinishBatchResult> =>
  runInLambda(
    createFinishBatch,
    { autoscaling: AutoScalingClient, ec2: EC2Client, dynamodb: DynamoDBClient },
    event,
  );
