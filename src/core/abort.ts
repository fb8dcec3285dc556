import type { LedgerRolloutItem } from './ledger-records.ts';

/**
 * What `ami-rollout abort` may do to a rollout, from its execution's status and its ledger record. Pure. An
 * abort records the rollout's failure (as a failed group or a firing gate does): no refresh starts after it,
 * the refreshes in flight finish, and the rollout rolls back everything it touched, then ends ROLLED_BACK.
 */
export type AbortDecision =
  | { readonly kind: 'abort' }
  /** Already aborted (a second abort): nothing to do, and nothing wrong. */
  | { readonly kind: 'already-aborted'; readonly reason: string }
  | { readonly kind: 'refuse'; readonly reason: string };

export function decideAbort(
  executionStatus: string,
  item: LedgerRolloutItem | undefined,
  executionArn: string,
): AbortDecision {
  if (executionStatus !== 'RUNNING') {
    return {
      kind: 'refuse',
      reason: `the rollout ${executionArn} has ended (${executionStatus}): nothing runs to abort; to put the fleet back as it was before it, use \`ami-rollout rollback ${executionArn}\``,
    };
  }
  if (!item) {
    return {
      kind: 'refuse',
      reason: `the rollout ${executionArn} has no ledger record yet (Preflight is still running, or it predates the ledger): try again in a minute, or stop it with \`aws stepfunctions stop-execution\` (which restores nothing)`,
    };
  }
  if (item.failure?.abort) return { kind: 'already-aborted', reason: item.failure.abort.reason };
  if (item.phase === 'rollback' || item.rollbackOrder !== undefined) {
    return {
      kind: 'refuse',
      reason: `the rollout ${executionArn} is already rolling back (${item.failure?.reason ?? 'it failed'}): an abort would stop the rollback half-way, so it is refused; follow it with \`ami-rollout status --watch\``,
    };
  }
  if (item.failure) {
    return {
      kind: 'refuse',
      reason: `the rollout ${executionArn} has already failed (${item.failure.reason}) and will roll back as soon as its refreshes in flight finish: nothing to abort; follow it with \`ami-rollout status --watch\``,
    };
  }
  return { kind: 'abort' };
}
