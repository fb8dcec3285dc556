import {
  isRolledBack,
  type LedgerGroup,
  type LedgerRolloutItem,
  type NewestRollout,
} from './ledger-records.ts';
import { isRunningExecution } from './start-decision.ts';

/**
 * What `ami-rollout rollback` may do to a rollout that stopped or ended: run its rollback again, from the ledger,
 * in a rollback-only execution of the same state machine. Pure; the CLI decides with it before starting the
 * execution (for a clear refusal), and that execution's Preflight decides again (the authoritative check, under
 * the pipeline's lock).
 */

export interface RollbackFacts {
  /** The rollout's ledger record (absent: none). */
  readonly item: LedgerRolloutItem | undefined;
  /** The status of the rollout's own execution: RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT, or GONE. */
  readonly executionStatus: string;
  /** The status of the last rollback-only execution of it (when the record names one). */
  readonly rollbackRunStatus?: string;
  /** The newest rollout that wrote a plan to the ledger (absent in a ledger from before that record). */
  readonly newest: NewestRollout | undefined;
  /** Inside the rollback execution: its own ARN, so a retried Preflight finds the run it recorded. */
  readonly own?: string;
}

export type RollbackDecision =
  /** Roll it back; `after` is how the rollout had ended (or STOPPED), for the record and the notification. */
  | { readonly kind: 'rollback'; readonly after: string }
  /** This very execution recorded the run already (a retried Preflight): go on. */
  | { readonly kind: 'resume' }
  /** It is rolled back already, completely: nothing to do (and nothing wrong). */
  | { readonly kind: 'already-rolled-back'; readonly reason: string }
  | { readonly kind: 'refuse'; readonly reason: string };

export function decideRollback(facts: RollbackFacts): RollbackDecision {
  const { item, executionStatus, newest } = facts;
  if (!item) {
    return {
      kind: 'refuse',
      reason:
        'the ledger has no record of this rollout: its Preflight refused it before writing a plan (then nothing was changed), or it predates the ledger (roll it back by hand)',
    };
  }
  const arn = item.executionArn;
  if (facts.own !== undefined && item.rollbackRun?.executionArn === facts.own) return { kind: 'resume' };
  if (isRunningExecution(executionStatus)) {
    return {
      kind: 'refuse',
      reason:
        item.phase === 'rollback' || item.rollbackOrder !== undefined
          ? `the rollout ${arn} is running and already rolling back: follow it with \`ami-rollout status --watch\``
          : `the rollout ${arn} is still running: to stop it and roll it back, use \`ami-rollout abort ${arn}\``,
    };
  }
  if (item.rollbackRun && isRunningExecution(facts.rollbackRunStatus)) {
    return {
      kind: 'refuse',
      reason: `a rollback of ${item.rolloutId} is already running (${item.rollbackRun.executionArn}, asked at ${item.rollbackRun.requestedAt}): follow it with \`ami-rollout status ${item.rollbackRun.executionArn} --watch\``,
    };
  }
  if (newest && newest.rolloutId !== item.rolloutId) {
    return {
      kind: 'refuse',
      reason: `a newer rollout has run since: ${newest.rolloutId} (image ${newest.imageId}, started ${newest.createdAt}, ${newest.executionArn}); rolling ${item.rolloutId} back now would undo it too. Roll back the newest first (\`ami-rollout rollback ${newest.executionArn}\`), or roll out the image you want`,
    };
  }
  if (item.outcome === 'FAILED') {
    return {
      kind: 'refuse',
      reason: `the rollout ${item.rolloutId} failed before it changed anything (${item.failure?.reason ?? 'its Preflight refused it'}): there is nothing to roll back`,
    };
  }
  if (item.outcome === 'ROLLED_BACK') {
    return {
      kind: 'already-rolled-back',
      reason: `the rollout ${item.rolloutId} was rolled back already${item.endedAt ? ` (it ended ROLLED_BACK at ${item.endedAt})` : ''}`,
    };
  }
  const after = item.outcome ?? (executionStatus === 'ABORTED' ? 'STOPPED' : executionStatus);
  return { kind: 'rollback', after };
}

/**
 * The checks only the rollback execution can make, on what AWS holds now: `{param}` must still hold this
 * rollout's image or its rollback target (anything else was put there by someone else since), and the rollback
 * image must still be there to launch. Undefined: go on; else the refusal, and which.
 */
export function refuseChangedAccount(facts: {
  readonly item: Pick<LedgerRolloutItem, 'rolloutId' | 'imageId' | 'rollbackTargetImageId'>;
  readonly parameterName: string;
  readonly parameterValue: string | undefined;
  /** The rollback image's state (`available`, ...), or undefined when it is gone. */
  readonly rollbackImageState: string | undefined;
}): { readonly kind: 'parameter-moved' | 'image-gone'; readonly reason: string } | undefined {
  const { item, parameterName, parameterValue, rollbackImageState } = facts;
  if (
    parameterValue !== undefined &&
    parameterValue !== item.imageId &&
    parameterValue !== item.rollbackTargetImageId
  ) {
    return {
      kind: 'parameter-moved',
      reason: `${parameterName} holds ${parameterValue}, which is neither ${item.rolloutId}'s image (${item.imageId}) nor its rollback image (${item.rollbackTargetImageId}): something else changed it since, so a rollback could undo that too; roll out the image you want instead`,
    };
  }
  if (rollbackImageState !== 'available') {
    return {
      kind: 'image-gone',
      reason: `the rollback image ${item.rollbackTargetImageId} is ${rollbackImageState ?? 'gone (deregistered, or no longer shared with this account)'}: instances could not launch from it; roll out an image you have instead`,
    };
  }
  return undefined;
}

/**
 * Where a rollback run starts again: groups whose rollback refresh failed go back to PENDING (tried again, the
 * cause presumably fixed); the cursor goes to the first planned group not yet back. Before any rollback was
 * planned (a rollout that succeeded, or stopped before it failed), the first rollback batch plans it.
 */
export function rollbackRestart(
  item: Pick<LedgerRolloutItem, 'rollbackOrder'>,
  groups: readonly LedgerGroup[],
): { readonly retried: LedgerGroup[]; readonly rollbackCursor: number } {
  const order = item.rollbackOrder;
  if (!order) return { retried: [], rollbackCursor: 0 };
  const byIndex = new Map(groups.map((g) => [g.index, g]));
  const retried: LedgerGroup[] = [];
  for (const index of order) {
    const group = byIndex.get(index);
    if (group?.rollback?.status !== 'FAILED') continue;
    const { refresh: _failed, endedAt: _ended, ...rest } = group.rollback;
    retried.push({ ...group, rollback: { ...rest, status: 'PENDING' } });
  }
  const first = order.findIndex((index) => !isRolledBack(byIndex.get(index)?.rollback?.status));
  return { retried, rollbackCursor: first < 0 ? order.length : first };
}

/**
 * The rollback-only execution's name: within Step Functions' 80 characters, unique to the second, and without
 * the `:` a rollout id may hold (execution names may not).
 */
export function rollbackExecutionName(rolloutId: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '');
  const id = rolloutId.replace(/:/g, '-').slice(0, 80 - '-rollback-'.length - stamp.length);
  return `${id}-rollback-${stamp}`;
}
