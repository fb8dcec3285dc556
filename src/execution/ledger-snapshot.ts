import type { Ledger } from '../adapters/ledger.ts';
import type { LedgerSnapshot } from './fleet-progress.ts';
import { getRollout, listGroups, listWaves } from '../adapters/ledger.ts';

/**
 * One read of a rollout's ledger records (the rollout item, its waves and groups), or undefined when the ledger
 * has no such rollout (an execution from before the ledger, or one Preflight refused before writing its plan).
 */
export async function readLedgerSnapshot(
  ledger: Ledger,
  rolloutId: string,
): Promise<LedgerSnapshot | undefined> {
  const rollout = await getRollout(ledger, rolloutId);
  if (!rollout) return undefined;
  const [waves, groups] = await Promise.all([listWaves(ledger, rolloutId), listGroups(ledger, rolloutId)]);
  return { rollout, waves, groups };
}
