import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { executionArnFor } from '../adapters/sfn.ts';
import { rolloutExecutionName } from '../core/start-decision.ts';
import { followExecution, historySince } from '../execution/follow.ts';
import { LiveBlock } from '../execution/live.ts';
import { RolloutProgress, formatDuration, renderLive, type GroupProgress } from '../execution/progress.ts';
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
  if (described.status === 'RUNNING' || described.status === 'PENDING_REDRIVE') return 'RUNNING';
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
  readonly groups: readonly GroupProgress[];
}

export function rolloutStatus(
  described: DescribeExecutionCommandOutput,
  progress: RolloutProgress,
): RolloutStatus {
  const imageId = imageOf(described.input);
  // On the local account time is virtual: the last event's time is "now" for a running execution.
  const seconds = durationSeconds(described, progress.view.now ?? new Date());
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
    ...(progress.view.step ? { step: progress.view.step } : {}),
    groups: progress.view.groups,
  };
}

/** The whole history so far, applied to a fresh progress view (for a one-off `status`). */
export async function progressSoFar(
  sfn: SFNClient,
  target: AwsTarget,
  executionArn: string,
): Promise<RolloutProgress> {
  const progress = new RolloutProgress();
  try {
    progress.apply(await historySince(sfn, executionArn, 0));
  } catch (error) {
    throw await explainAwsError(error, sfn, target, 'GetExecutionHistory', executionArn);
  }
  return progress;
}

/**
 * Follows the execution to its end: progress lines as they happen (plain output), or the live block redrawn
 * in place (a terminal), or nothing (`quiet`, for --json). Resolves to the final description.
 */
export async function watchRollout(
  sfn: SFNClient,
  target: AwsTarget,
  executionArn: string,
  output: Output,
  options: { readonly quiet?: boolean; readonly pollMs: number },
): Promise<{ described: DescribeExecutionCommandOutput; progress: RolloutProgress }> {
  const progress = new RolloutProgress();
  const live = !options.quiet && output.terminal ? new LiveBlock(output.terminal) : undefined;
  try {
    const described = await followExecution(sfn, executionArn, {
      pollMs: options.pollMs,
      onEvents: (events) => {
        const lines = progress.apply(events);
        if (options.quiet || live?.draw(progress.view)) return;
        for (const line of lines) output.out(line);
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
  if (withGroups && status.groups.length > 0)
    for (const line of renderLive({ groups: [...status.groups], rollingBack: false }).slice(1))
      output.out(line);
}
