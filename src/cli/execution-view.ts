import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { executionArnFor } from '../adapters/sfn.ts';
import { isRunningExecution, rolloutExecutionName } from '../core/start-decision.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Ledger } from '../adapters/ledger.ts';
import { renderGroups } from '../execution/fleet-render.ts';
import { followExecution, historySince } from '../execution/follow.ts';
import {
  childExecutionArns,
  historyStats,
  largestPayload,
  type ExecutionHistory,
  type HistoryStats,
  type LargestPayload,
} from '../execution/history-stats.ts';
import { readLedgerSnapshot } from '../execution/ledger-snapshot.ts';
import { LiveBlock } from '../execution/live.ts';
import {
  formatDuration,
  type GroupProgress,
  type ProgressView,
  type WaveProgress,
} from '../execution/progress.ts';
import { RolloutWatch } from '../execution/rollout-watch.ts';
import { rolloutResult, type RolloutResult } from '../execution/outcome.ts';
import { explainAwsError, type AwsTarget } from './aws.ts';
import type { Output } from './usage.ts';

/**
 * A rollout execution as `status`, `start --watch` and `history` show it, read through the Step Functions API:
 * the same view for a rollout on AWS and one on the local account.
 */

/** Where a rollout is: still going, or how it ended. STOPPED is an execution someone stopped. */
export type RolloutState = RolloutResult | 'RUNNING' | 'STOPPED';

/** The execution ARN for what the user typed: an ARN, an AMI id (its rollout), or an execution name. */
export function executionArnOf(stateMachineArn: string, given: string): string {
  if (given.startsWith('arn:')) return given;
  const name = /^ami-[0-9a-f]{8,17}$/.test(given) ? rolloutExecutionName(given) : given;
  return executionArnFor(stateMachineArn, name);
}

export function rolloutState(
  described: Pick<DescribeExecutionCommandOutput, 'status' | 'error'>,
): RolloutState {
  if (isRunningExecution(described.status)) return 'RUNNING';
  if (described.status === 'ABORTED') return 'STOPPED';
  return rolloutResult(described);
}

/** Exit codes, as `rehearse`: 0 succeeded (or still running), 3 rolled back, 1 anything else. */
export function exitCodeFor(state: RolloutState): number {
  return state === 'SUCCEEDED' || state === 'RUNNING' ? 0 : state === 'ROLLED_BACK' ? 3 : 1;
}

/** The image a rollout execution rolls out, from its input (`{ rolloutId, imageId }`). */
export function imageOf(input: string | undefined): string | undefined {
  if (!input) return undefined;
  try {
    const parsed = JSON.parse(input) as { imageId?: unknown };
    return typeof parsed.imageId === 'string' ? parsed.imageId : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds the execution ran (so far, when it runs: up to `now`). */
export function durationSeconds(
  described: Pick<DescribeExecutionCommandOutput, 'startDate' | 'stopDate'>,
  now: Date = new Date(),
): number | undefined {
  if (!described.startDate) return undefined;
  return ((described.stopDate ?? now).getTime() - described.startDate.getTime()) / 1000;
}

export async function describeRollout(
  sfn: SFNClient,
  target: AwsTarget,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    throw await explainAwsError(error, sfn, target, 'DescribeExecution', executionArn);
  }
}

/**
 * The `--json` document of `status` (and of `start --watch --json`). `status` is how the rollout stands, as in
 * `rehearse --json` and `history --json`; times are ISO 8601 strings, and durations say their unit.
 */
export interface RolloutStatus {
  readonly executionArn: string;
  readonly name: string;
  readonly imageId?: string;
  readonly status: RolloutState;
  /** The Step Functions execution status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED. */
  readonly executionStatus: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly durationSeconds?: number;
  readonly error?: string;
  readonly cause?: string;
  /** The state the execution is in (or was in last). */
  readonly step?: string;
  /** Where the groups were read: the rollout's ledger, or (an execution from before it) the execution's history. */
  readonly source: 'ledger' | 'history';
  /** The waves, from the ledger. */
  readonly waves?: readonly WaveProgress[];
  /** Every group: its wave, status, refresh id and status, times (and rollback), from the ledger when it has them. */
  readonly groups: readonly GroupProgress[];
  /** The rollout's first failure, from the ledger. */
  readonly failure?: ProgressView['failure'];
  /** History events per execution (the rollout's, each batch's, the groups'); `status --json` only. */
  readonly historyEvents?: HistoryStats;
  /** The largest input or output in any of the rollout's histories; `status --json` only. */
  readonly largestPayload?: LargestPayload;
}

export function rolloutStatus(
  described: DescribeExecutionCommandOutput,
  progress: { readonly view: ProgressView; readonly fromLedger?: boolean },
  sizes?: { readonly historyEvents: HistoryStats; readonly largestPayload?: LargestPayload },
): RolloutStatus {
  const imageId = imageOf(described.input);
  const view = progress.view;
  // On the local account time is virtual: the last event's time is "now" for a running execution.
  const seconds = durationSeconds(described, view.now ?? new Date());
  return {
    executionArn: described.executionArn ?? '',
    name: described.name ?? '',
    ...(imageId ? { imageId } : {}),
    status: rolloutState(described),
    executionStatus: described.status ?? 'UNKNOWN',
    ...(described.startDate ? { startDate: described.startDate.toISOString() } : {}),
    ...(described.stopDate ? { stopDate: described.stopDate.toISOString() } : {}),
    ...(seconds !== undefined ? { durationSeconds: seconds } : {}),
    ...(described.error ? { error: described.error } : {}),
    ...(described.cause ? { cause: described.cause } : {}),
    ...(view.step ? { step: view.step } : {}),
    source: progress.fromLedger ? 'ledger' : 'history',
    ...(view.waves ? { waves: view.waves } : {}),
    groups: view.groups,
    ...(view.failure ? { failure: view.failure } : {}),
    ...(sizes ? { historyEvents: sizes.historyEvents } : {}),
    ...(sizes?.largestPayload ? { largestPayload: sizes.largestPayload } : {}),
  };
}

/** The rollout id of an execution: its input's `rolloutId` (the execution name, `rollout-<AMI id>`). */
export function rolloutIdOf(described: Pick<DescribeExecutionCommandOutput, 'input' | 'name'>): string {
  try {
    const parsed = JSON.parse(described.input ?? '') as { rolloutId?: unknown };
    if (typeof parsed.rolloutId === 'string') return parsed.rolloutId;
  } catch {
    // Not JSON: fall back to the name.
  }
  return described.name ?? '';
}

/**
 * The ledger table: `--ledger-table`, else AMI_ROLLOUT_LEDGER_TABLE, else `<state machine name>-ledger` (the
 * name `deployToLocalAccount` gives it, and the stack's table name).
 */
export function ledgerTableName(
  stateMachineArn: string,
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return flag ?? env['AMI_ROLLOUT_LEDGER_TABLE'] ?? `${stateMachineArn.split(':').at(-1)}-ledger`;
}

/**
 * The rollout ledger where the state machine is: a DynamoDB client with the Step Functions client's endpoint,
 * region and credentials (resolved once, as the AWS CLI resolves them).
 */
export async function ledgerFor(
  sfn: SFNClient,
  target: AwsTarget,
  stateMachineArn: string,
  flag?: string,
): Promise<Ledger> {
  const client = new DynamoDBClient({
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    region: await sfn.config.region(),
    credentials: sfn.config.credentials,
  });
  return new Ledger(client, ledgerTableName(stateMachineArn, flag));
}

/**
 * The ledger's records of a rollout, or undefined when it has none: no such rollout in it (an execution from
 * before the ledger), or no such table (a stack from before it). Other errors (access denied) are explained.
 */
async function readLedger(
  ledger: Ledger | undefined,
  rolloutId: string,
  sfn: SFNClient,
  target: AwsTarget,
): Promise<Awaited<ReturnType<typeof readLedgerSnapshot>>> {
  if (!ledger) return undefined;
  try {
    return await readLedgerSnapshot(ledger, rolloutId);
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw await explainAwsError(error, sfn, target, 'Query', ledger.tableName);
  }
}

/** The whole history so far and the ledger now, applied to a fresh watch (for a one-off `status`). */
export async function progressSoFar(
  sfn: SFNClient,
  target: AwsTarget,
  executionArn: string,
  ledger?: { readonly ledger: Ledger; readonly rolloutId: string },
): Promise<RolloutWatch> {
  const watch = new RolloutWatch([], nowFor(target));
  try {
    watch.applyEvents(await historySince(sfn, executionArn, 0));
  } catch (error) {
    throw await explainAwsError(error, sfn, target, 'GetExecutionHistory', executionArn);
  }
  const snapshot = await readLedger(ledger?.ledger, ledger?.rolloutId ?? '', sfn, target);
  if (snapshot) watch.applySnapshot(snapshot);
  return watch;
}

/** On AWS a bake counts down on the real clock; on a local account (virtual time), from the last record. */
const nowFor = (target: AwsTarget) => (target.endpoint ? {} : { now: () => new Date() });

/**
 * Every execution of a rollout, with its history: the rollout's, then each batch its history started, then each
 * group execution a batch started (found from their `startExecution` Task events, the same on AWS and on a
 * local account). One GetExecutionHistory per execution: for `status --json`.
 */
export async function rolloutExecutions(
  sfn: SFNClient,
  target: AwsTarget,
  executionArn: string,
): Promise<ExecutionHistory[]> {
  const read = async (arn: string) => {
    try {
      return await historySince(sfn, arn, 0);
    } catch (error) {
      throw await explainAwsError(error, sfn, target, 'GetExecutionHistory', arn);
    }
  };
  const parent = await read(executionArn);
  const found: ExecutionHistory[] = [{ executionArn, kind: 'parent', events: parent }];
  const batches = childExecutionArns(parent);
  const groups: string[] = [];
  for (const arn of batches) {
    const events = await read(arn);
    found.push({ executionArn: arn, kind: 'batch', events });
    groups.push(...childExecutionArns(events));
  }
  // A few at a time: a rollout of 2,000 groups has 2,000 of them.
  for (let i = 0; i < groups.length; i += 10) {
    const slice = groups.slice(i, i + 10);
    const histories = await Promise.all(slice.map(read));
    slice.forEach((arn, k) => found.push({ executionArn: arn, kind: 'group', events: histories[k]! }));
  }
  return found;
}

/** The history sizes of a rollout's executions (for `--json`). */
export async function rolloutSizes(
  sfn: SFNClient,
  target: AwsTarget,
  executionArn: string,
): Promise<{ historyEvents: HistoryStats; largestPayload?: LargestPayload }> {
  const executions = await rolloutExecutions(sfn, target, executionArn);
  const largest = largestPayload(executions);
  return { historyEvents: historyStats(executions), ...(largest ? { largestPayload: largest } : {}) };
}

/**
 * Follows the execution to its end, reading the ledger at each poll: progress lines as they happen (plain
 * output), or the live block redrawn in place (a terminal), or nothing (`quiet`, for --json). Resolves to the
 * final description.
 */
export async function watchRollout(
  sfn: SFNClient,
  target: AwsTarget,
  executionArn: string,
  output: Output,
  options: {
    readonly quiet?: boolean;
    readonly pollMs: number;
    /** The ledger to read (and the rollout's id in it). Default: the stack's, found by ledgerFor. */
    readonly ledger?: { readonly ledger: Ledger; readonly rolloutId: string };
    readonly verbose?: boolean;
  },
): Promise<{ described: DescribeExecutionCommandOutput; progress: RolloutWatch }> {
  const progress = new RolloutWatch([], { ...nowFor(target), verbose: options.verbose ?? false });
  const live = !options.quiet && output.terminal ? new LiveBlock(output.terminal) : undefined;
  const show = (lines: string[]) => {
    if (options.quiet || live?.draw(progress.view)) return;
    for (const line of lines) output.out(line);
  };
  let ledger = options.ledger;
  if (!ledger) {
    const described = await describeRollout(sfn, target, executionArn);
    const stateMachineArn = described.stateMachineArn ?? '';
    ledger = { ledger: await ledgerFor(sfn, target, stateMachineArn), rolloutId: rolloutIdOf(described) };
  }
  const reading = ledger;
  try {
    const described = await followExecution(sfn, executionArn, {
      pollMs: options.pollMs,
      onEvents: (events) => show(progress.applyEvents(events)),
      onPoll: async () => {
        const snapshot = await readLedger(reading.ledger, reading.rolloutId, sfn, target);
        if (snapshot) show(progress.applySnapshot(snapshot));
      },
    });
    return { described, progress };
  } catch (error) {
    throw await explainAwsError(error, sfn, target, 'GetExecutionHistory', executionArn);
  }
}

/** `Rollout rollout-ami-... of ami-...: ROLLED_BACK after 42m 10s (RolloutRolledBack: ...)`. */
export function headline(status: RolloutStatus): string {
  const image = status.imageId ? ` of ${status.imageId}` : '';
  const took = status.durationSeconds !== undefined ? formatDuration(status.durationSeconds) : '?';
  const verdict =
    status.status === 'RUNNING'
      ? `RUNNING for ${took}${status.step ? `, now in ${status.step}` : ''}`
      : `${status.status} after ${took}`;
  const why = status.status !== 'SUCCEEDED' && status.error ? ` (${status.error})` : '';
  return `Rollout ${status.name}${image}: ${verdict}${why}`;
}

/** The headline, the execution, when it started, and one line per group. */
export function printStatus(output: Output, status: RolloutStatus, withGroups = true): void {
  output.out(headline(status));
  output.out(`  execution ${status.executionArn}`);
  if (status.startDate)
    output.out(`  started ${status.startDate}${status.stopDate ? `, ended ${status.stopDate}` : ''}`);
  if (status.cause && status.status !== 'SUCCEEDED')
    output.out(`  cause: ${status.cause.split('\n')[0]!.slice(0, 300)}`);
  if (status.failure?.alarm)
    output.out(
      `  gate alarm ${status.failure.alarm} fired (wave ${status.failure.wave}, ${status.failure.at}): ${status.failure.reason}`,
    );
  else if (status.failure)
    output.out(
      `  failed at group ${status.failure.group ?? '?'} (wave ${status.failure.wave}): ${status.failure.reason}`,
    );
  if (withGroups && status.groups.length > 0)
    for (const line of renderGroups({
      groups: [...status.groups],
      ...(status.waves ? { waves: status.waves } : {}),
      rollingBack: false,
    }))
      output.out(line);
}
