/**
 * Whether to start a rollout execution for an image: one rollout per image, one rollout at a time. Shared by
 * the EventBridge trigger (src/steps/start-rollout.ts) and the CLI, so both refuse the same way.
 *
 * The execution name is derived from the image id, which makes a second delivery of the same image harmless:
 * Step Functions Standard keeps execution names unique per state machine (for 90 days after an execution
 * closes), and StartExecution with the same name and input while it runs returns the same execution.
 */

const EXECUTION_NAME_PREFIX = 'rollout-';

/** The execution name (and rollout id) for an image: `rollout-ami-0123456789abcdef0`. */
export function rolloutExecutionName(imageId: string): string {
  return `${EXECUTION_NAME_PREFIX}${imageId}`;
}

/** The execution input the state machine's Preflight reads: deterministic, so a repeated start is idempotent. */
export function rolloutExecutionInput(imageId: string): { rolloutId: string; imageId: string } {
  return { rolloutId: rolloutExecutionName(imageId), imageId };
}

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** An execution that still runs (or waits to be redriven): it may yet change the fleet. */
export const isRunningExecution = (status: string | undefined): boolean =>
  status === 'RUNNING' || status === 'PENDING_REDRIVE';

export interface ExecutionFacts {
  readonly executionArn: string;
  readonly name: string;
  readonly status: ExecutionStatus | string;
  readonly startDate?: Date;
}

export interface StartFacts {
  readonly imageId: string;
  /** The image's own execution, when the state machine has one (any status). */
  readonly imageExecution?: ExecutionFacts;
  /** Every RUNNING execution of the state machine. */
  readonly running: readonly ExecutionFacts[];
}

export type StartDecision =
  /** No rollout for this image yet and none running: start `rollout-<imageId>`. */
  | { readonly kind: 'start'; readonly executionName: string }
  /** This image's rollout is running already (a repeated delivery): nothing to do. */
  | { readonly kind: 'already-running'; readonly executionArn: string; readonly message: string }
  /** This image was rolled out (or attempted) before: never start it again automatically. */
  | {
      readonly kind: 'already-attempted';
      readonly executionArn: string;
      readonly status: string;
      readonly message: string;
    }
  /** Another image's rollout is running: refused, nothing changes. */
  | { readonly kind: 'refused'; readonly runningExecutionArn: string; readonly message: string };

/** Decides what a start request for `imageId` does, from the state machine's executions. */
export function decideStart(facts: StartFacts): StartDecision {
  const executionName = rolloutExecutionName(facts.imageId);
  const own = facts.imageExecution;
  if (own && own.status === 'RUNNING') {
    return {
      kind: 'already-running',
      executionArn: own.executionArn,
      message: `the rollout of ${facts.imageId} is already running (${own.executionArn}); nothing started`,
    };
  }
  if (own) {
    return {
      kind: 'already-attempted',
      executionArn: own.executionArn,
      status: own.status,
      message: `${facts.imageId} was already rolled out or attempted (${own.executionArn} ended ${own.status}); nothing started. Roll out a new image, or redrive that execution by hand`,
    };
  }
  const other = facts.running.find((e) => e.name !== executionName);
  if (other) {
    const since = other.startDate ? ` since ${other.startDate.toISOString()}` : '';
    return {
      kind: 'refused',
      runningExecutionArn: other.executionArn,
      message: `refused to roll out ${facts.imageId}: rollout ${other.name} is running${since} (${other.executionArn}); one rollout at a time. Wait for it to finish (or stop it), then start ${facts.imageId} again`,
    };
  }
  return { kind: 'start', executionName };
}
