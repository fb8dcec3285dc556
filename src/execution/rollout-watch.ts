import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { changeLines, type ChangeOptions } from './fleet-render.ts';
import { fleetProgress, type LedgerSnapshot } from './fleet-progress.ts';
import { ROLLBACK_BANNER, RolloutProgress, type ProgressView } from './progress.ts';

/**
 * What `status --watch`, `start --watch` and `rehearse` follow: the parent execution's history (its step, how it
 * ended) and, when the rollout has one, its ledger (every group and wave). Feed it both as they come; it keeps
 * the view and says which plain lines are worth printing. An execution with no ledger record (one from before
 * the ledger) is followed from its history alone, as before.
 */
export class RolloutWatch {
  /** The parent's history, as RolloutProgress rebuilds it (every group, for an execution before the ledger). */
  readonly history: RolloutProgress;
  private snapshot?: LedgerSnapshot;
  private shown?: ProgressView;

  constructor(
    groupNames: readonly string[] = [],
    private readonly options: ChangeOptions & { readonly now?: () => Date | undefined } = {},
  ) {
    this.history = new RolloutProgress(groupNames);
  }

  /** The view now: from the ledger when there is one, else from the history. */
  get view(): ProgressView {
    if (!this.snapshot) return this.history.view;
    const now = this.options.now?.();
    return fleetProgress(this.snapshot, { parent: this.history.view, ...(now ? { now } : {}) });
  }

  /** True once a ledger snapshot was given. */
  get fromLedger(): boolean {
    return this.snapshot !== undefined;
  }

  /** New parent history events; the lines worth printing for them. */
  applyEvents(events: readonly HistoryEvent[]): string[] {
    const lines = this.history.apply(events);
    if (!this.snapshot) return lines;
    // The ledger's view says when the rollback starts (once); the parent's own lines say the rest.
    const own = lines.filter((line) => !line.endsWith(ROLLBACK_BANNER));
    return [...own, ...this.changes()];
  }

  /** A new read of the ledger; the lines worth printing for what changed since the last one. */
  applySnapshot(snapshot: LedgerSnapshot): string[] {
    this.snapshot = snapshot;
    return this.changes();
  }

  private changes(): string[] {
    const view = this.view;
    const lines = changeLines(this.shown, view, this.options);
    this.shown = view;
    return lines;
  }
}
