import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { readAlarms } from '../adapters/cloudwatch.ts';
import { getRollout, listWaves, recordFailure, updateRollout, type Ledger } from '../adapters/ledger.ts';
import {
  gateWindow,
  judgeGate,
  stepGate,
  type GatePlan,
  type GateReading,
  type GateWindow,
} from '../core/gate.ts';
import type { LedgerRolloutItem } from '../core/ledger-records.ts';
import { InvalidEventError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { assertLockHeld, ledgerOf } from './ledger-steps.ts';

export const checkGateEventSchema = z.object({
  rolloutId: z.string().min(1),
  phase: z.enum(['forward', 'rollback']),
  /** The cursor the batch starts at (`$.plan.from`). */
  from: z.number().int().min(0),
});

export interface CheckGateResult {
  /** `wait`: check again after `waitSeconds`; `pass`: the batch's groups may start; `fired`: the rollout failed. */
  readonly next: 'pass' | 'wait' | 'fired';
  readonly waitSeconds: number;
  /** The window being waited out, for `status`: a wave's bake, or the watch window after the last wave. */
  readonly window: { readonly kind: GateWindow['kind']; readonly wave?: string; readonly endsAt?: string };
}

/** A gate for rollouts planned before gates: no alarms, no watch window. */
export const NO_GATE: GatePlan = { alarmNames: [], watchMinutes: 0, insufficientData: 'wait' };

/** Reads `names` and records the reading on the rollout item (what `status` shows of each gate alarm). */
export async function readGate(
  deps: StepDependencies<'cloudwatch' | 'dynamodb'>,
  ledger: Ledger,
  rolloutId: string,
  names: readonly string[],
  at: Date,
): Promise<GateReading> {
  const reading = await readAlarms(deps.cloudwatch, names);
  await updateRollout(ledger, rolloutId, {
    gateClaimedAt: at.toISOString(),
    gateCheck: { at: at.toISOString(), alarms: reading.alarms },
  });
  return reading;
}

/** Records the gate's firing as the rollout's failure (the first failure wins; a second run changes nothing). */
export async function recordGateFailure(
  ledger: Ledger,
  item: LedgerRolloutItem,
  failure: {
    readonly wave: number;
    readonly reason: string;
    readonly alarm: NonNullable<NonNullable<LedgerRolloutItem['failure']>['alarm']>;
  },
  at: Date,
): Promise<void> {
  await recordFailure(ledger, item.rolloutId, { ...failure, at: at.toISOString() });
}

/**
 * Check gate: the first state of a forward batch, and the loop that waits out the bake of the wave before it
 * (or, after the last wave, the watch window). Each check reads the gate's alarms (the fleet-wide ones and the
 * baking wave's own: one DescribeAlarms call) and records them in the ledger. ALARM (or a gate alarm deleted)
 * records the rollout's failure and answers `fired`; until the window ends the answer is `wait`, at most one
 * poll interval at a time. A rollback batch passes at once: the gate only ever stops a rollout going forward.
 * Event: `{ rolloutId, phase, from }`. Result: `{ next, waitSeconds, window }`.
 */
export function createCheckGate(
  deps: StepDependencies<'cloudwatch' | 'dynamodb'>,
): (event: unknown) => Promise<CheckGateResult> {
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rolloutId, phase, from } = parseEvent(checkGateEventSchema, event, 'check_gate');
    if (phase === 'rollback') return { next: 'pass', waitSeconds: 0, window: { kind: 'none' } };
    const ledger = ledgerOf(deps);
    const item = await getRollout(ledger, rolloutId);
    if (!item) {
      throw new InvalidEventError(
        `check_gate: rollout ${rolloutId} is not in the ledger ${ledger.tableName}; Preflight writes it`,
      );
    }
    await assertLockHeld(ledger, item);
    const gate = item.gate ?? NO_GATE;
    const waves = await listWaves(ledger, rolloutId);
    const at = now();
    const window = gateWindow(waves, from, gate, at.getTime());
    const shown = {
      kind: window.kind,
      ...(window.wave ? { wave: window.wave.name } : {}),
      ...(window.endsAt !== undefined ? { endsAt: new Date(window.endsAt).toISOString() } : {}),
    };
    if (item.failure) return { next: 'fired', waitSeconds: 0, window: shown };
    const reading =
      window.alarmNames.length > 0
        ? await readGate(deps, ledger, rolloutId, window.alarmNames, at)
        : { alarms: [], missing: [] };
    const step = stepGate(
      window,
      judgeGate(reading, gate.insufficientData),
      at.getTime(),
      deps.config.pollIntervalSeconds,
      deps.config.refreshTimeoutMinutes,
    );
    const log = stepLogger(deps, 'check_gate', { rolloutId, imageId: item.imageId });
    if (step.next === 'fired') {
      await recordGateFailure(
        ledger,
        item,
        {
          wave: window.wave?.index ?? 0,
          reason: `${step.reason} (during the ${window.kind === 'watch' ? 'watch window after the last wave' : `bake after wave ${window.wave?.name ?? '?'}`})`,
          alarm: { ...step.alarm, during: window.kind === 'watch' ? 'watch' : 'bake' },
        },
        at,
      );
      log.warn('gate-fired', { alarm: step.alarm.name, reason: step.reason, window: shown });
      return { next: 'fired', waitSeconds: 0, window: shown };
    }
    if (step.next === 'wait') {
      log.info('gate-waiting', { window: shown, waitSeconds: step.waitSeconds });
      return { next: 'wait', waitSeconds: step.waitSeconds, window: shown };
    }
    if (window.kind !== 'none') log.info('gate-passed', { window: shown });
    return { next: 'pass', waitSeconds: 0, window: shown };
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<CheckGateResult> =>
  runInLambda(createCheckGate, { cloudwatch: CloudWatchClient, dynamodb: DynamoDBClient }, event);
