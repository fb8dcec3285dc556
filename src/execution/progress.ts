import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { GroupStatus, RollbackStatus } from '../core/ledger-records.ts';

/**
 * What a person watching a rollout wants to see: from the ledger (fleet-progress.ts) for a rollout that has
 * one, else rebuilt from the execution's history events (RolloutProgress, for executions before the ledger).
 */
export interface GroupProgress {
  readonly name: string;
  /** The group's place in the rollout (ledger order). */
  readonly index?: number;
  /** The name of the wave the group belongs to. */
  readonly wave?: string;
  /**
   * `waiting` until the rollout reaches the group; `untouched` when it ended without reaching it; `skipped`
   * when its turn came after the rollout had failed (no refresh started).
   */
  phase:
    | 'waiting'
    | 'untouched'
    | 'skipped'
    | 'refreshing'
    | 'done'
    | 'failed'
    | 'rolling-back'
    | 'rolled-back'
    | 'rollback-incomplete'
    | 'rollback-failed';
  /** The ledger's status of the group (forward). */
  readonly status?: GroupStatus;
  /** The id of the group's forward instance refresh. */
  readonly refreshId?: string;
  /** The status of the group's current instance refresh, as Auto Scaling gives it (InProgress, Successful, ...). */
  refreshStatus?: string;
  percentage: number;
  /** When the group's current phase began (its refresh, or its rollback refresh), ISO 8601. */
  startedAt?: string;
  /** When that phase ended, ISO 8601. */
  endedAt?: string;
  /** How long that phase took. */
  durationSeconds?: number;
  /** Why the forward refresh failed, as Auto Scaling (or the done check) said. */
  readonly statusReason?: string;
  /** The forward refresh's times, once the group is going back (`startedAt`/`endedAt` are then the rollback's). */
  readonly forward?: { readonly startedAt?: string; readonly endedAt?: string };
  /** The group's refresh back, once the fleet rollback planned it. */
  readonly rollback?: {
    readonly status: RollbackStatus;
    readonly refreshId?: string;
    readonly refreshStatus?: string;
    readonly startedAt?: string;
    readonly endedAt?: string;
    readonly statusReason?: string;
  };
}

/** One wave of the rollout: its groups counted by phase, and what it does now. */
export interface WaveProgress {
  readonly index: number;
  readonly name: string;
  readonly total: number;
  readonly maxParallel: number;
  readonly bakeMinutes: number;
  readonly done: number;
  readonly refreshing: number;
  readonly failed: number;
  readonly skipped: number;
  /** Not reached yet (or never, once the rollout ended). */
  readonly pending: number;
  readonly rollingBack: number;
  readonly rolledBack: number;
  readonly rollbackFailed: number;
  readonly state: 'waiting' | 'running' | 'baking' | 'done' | 'failed' | 'rolling-back' | 'rolled-back';
  /** While the wave bakes: seconds until the next wave may start. */
  readonly bakeLeftSeconds?: number;
  readonly endedAt?: string;
}

export interface ProgressView {
  rolloutId?: string;
  imageId?: string;
  startedAt?: Date;
  now?: Date;
  step?: string;
  readonly groups: GroupProgress[];
  /** The waves, when the view comes from the ledger. */
  readonly waves?: readonly WaveProgress[];
  rollingBack: boolean;
  ended?: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  /** The rollout's first failure, as the ledger records it. */
  readonly failure?: {
    /** The group whose refresh failed; absent when the health gate fired. */
    readonly group?: string;
    /** The gate alarm that fired. */
    readonly alarm?: string;
    readonly wave: string;
    readonly reason: string;
    readonly at: string;
  };
  /** The health gate: each alarm's state at its last check, and the watch window after the last wave. */
  readonly gate?: {
    readonly checkedAt?: string;
    readonly alarms: readonly { readonly name: string; readonly state: string }[];
    /** While the rollout watches after its last wave: seconds left. */
    readonly watchLeftSeconds?: number;
  };
}

interface RefreshOutput {
  autoScalingGroupName?: string;
  status?: string;
  outcome?: string;
  percentageComplete?: number;
  nativeRollback?: boolean;
}

interface RolloutOutput {
  groups?: { autoScalingGroupName: string }[];
  refresh?: RefreshOutput;
  fleetRollback?: { refresh?: RefreshOutput; done?: boolean };
  done?: boolean;
}

/** The line that says the rollback started. */
export const ROLLBACK_BANNER =
  'ROLLBACK: the new image failed; putting templates, parameter and instances back';

/** One line that changed, for plain (non-terminal) output. */
export type ProgressLine = string;

/**
 * Applies history events to the view and returns the plain-text lines worth printing for them. Pure: the same
 * events give the same view and lines, on the local account or on AWS.
 */
export class RolloutProgress {
  readonly view: ProgressView = { groups: [], rollingBack: false };
  private start?: number;

  constructor(groupNames: readonly string[] = []) {
    for (const name of groupNames) this.view.groups.push({ name, phase: 'waiting', percentage: 0 });
  }

  apply(events: readonly HistoryEvent[]): ProgressLine[] {
    const lines: ProgressLine[] = [];
    for (const event of events) {
      const at = event.timestamp ? event.timestamp.getTime() : undefined;
      if (at !== undefined) {
        this.start ??= at;
        this.view.startedAt ??= new Date(at);
        this.view.now = new Date(at);
      }
      const clock = formatOffset(((at ?? this.start ?? 0) - (this.start ?? 0)) / 1000);
      switch (event.type) {
        case 'TaskStateEntered': {
          const step = event.stateEnteredEventDetails?.name ?? '?';
          this.view.step = step;
          if (step === 'RollbackAmi' && !this.view.rollingBack) {
            this.view.rollingBack = true;
            lines.push(`${clock}  ${ROLLBACK_BANNER}`);
          }
          if (!step.startsWith('Check') && !step.startsWith('Trigger')) lines.push(`${clock}  ${step}`);
          break;
        }
        case 'TaskStateExited':
          lines.push(
            ...this.taskOutput(
              event.stateExitedEventDetails?.name,
              event.stateExitedEventDetails?.output,
              clock,
              at,
            ),
          );
          break;
        case 'ExecutionSucceeded':
          this.end('SUCCEEDED');
          break;
        case 'ExecutionFailed':
          this.end('FAILED');
          lines.push(`${clock}  execution failed: ${event.executionFailedEventDetails?.error ?? ''}`);
          break;
        case 'ExecutionAborted':
          this.end('ABORTED');
          lines.push(`${clock}  execution stopped`);
          break;
        case 'ExecutionTimedOut':
          this.end('TIMED_OUT');
          break;
        default:
          break;
      }
    }
    return lines;
  }

  private end(how: NonNullable<ProgressView['ended']>): void {
    this.view.ended = how;
    for (const group of this.view.groups) if (group.phase === 'waiting') group.phase = 'untouched';
  }

  private taskOutput(
    step: string | undefined,
    output: string | undefined,
    clock: string,
    at: number | undefined,
  ): ProgressLine[] {
    if (!output) return [];
    let rollout: RolloutOutput;
    try {
      // A state's output is the whole execution state; the steps keep the rollout record at $.rollout.
      const state = JSON.parse(output) as { rollout?: RolloutOutput };
      rollout = state.rollout ?? (state as RolloutOutput);
    } catch {
      return [];
    }
    if (step === 'Preflight') {
      // An execution from before the ledger lists its groups here; today's carries only their count.
      for (const g of Array.isArray(rollout.groups) ? rollout.groups : []) this.group(g.autoScalingGroupName);
      return [];
    }
    const rollback = step === 'TriggerRollbackRefresh' || step === 'CheckRollbackRefresh';
    // A trigger that found every group done starts nothing: its record is the last group's, already shown.
    if (step === 'TriggerInstanceRefresh' && rollout.done) return [];
    if (step === 'TriggerRollbackRefresh' && rollout.fleetRollback?.done) return [];
    const refresh = rollback ? rollout.fleetRollback?.refresh : rollout.refresh;
    if (!refresh?.autoScalingGroupName || !(step?.startsWith('Trigger') || step?.startsWith('Check')))
      return [];
    const group = this.group(refresh.autoScalingGroupName);
    const before = `${group.phase} ${group.refreshStatus ?? ''} ${group.percentage}`;
    const starting = step.startsWith('Trigger');
    if (
      starting &&
      (group.phase === 'waiting' || group.phase === 'done' || group.phase === 'failed') &&
      at !== undefined
    ) {
      group.startedAt = new Date(at).toISOString();
      delete group.endedAt;
      delete group.durationSeconds;
    }
    if (refresh.status !== undefined) group.refreshStatus = refresh.status;
    else delete group.refreshStatus;
    group.percentage = refresh.percentageComplete ?? (starting ? 0 : group.percentage);
    if (refresh.outcome === 'SUCCEEDED') group.phase = rollback ? 'rolled-back' : 'done';
    else if (refresh.outcome === 'FAILED') group.phase = 'failed';
    else group.phase = rollback ? 'rolling-back' : 'refreshing';
    if (
      (group.phase === 'done' || group.phase === 'failed' || group.phase === 'rolled-back') &&
      at !== undefined
    ) {
      group.endedAt = new Date(at).toISOString();
      if (group.startedAt !== undefined) group.durationSeconds = (at - Date.parse(group.startedAt)) / 1000;
    }
    if (before === `${group.phase} ${group.refreshStatus ?? ''} ${group.percentage}`) return [];
    const what = rollback ? 'rollback refresh' : 'refresh';
    return [
      `${clock}  ${group.name}: ${what} ${group.refreshStatus ?? 'Pending'} ${group.percentage}%${refresh.nativeRollback ? ' (Auto Scaling rolled it back itself)' : ''}`,
    ];
  }

  private group(name: string): GroupProgress {
    let group = this.view.groups.find((g) => g.name === name);
    if (!group) {
      group = { name, phase: 'waiting', percentage: 0 };
      this.view.groups.push(group);
    }
    return group;
  }
}

/** `+01:02:03`: virtual time since the execution started. */
export function formatOffset(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `+${hh}:${mm}:${ss}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(s % 60).padStart(2, '0')}s`;
}

/**
 * The health gate in a line, when the rollout has one: each gate alarm's state at its last check, and what is
 * left of the watch window after the last wave (`gate: errors OK, latency ALARM; watching, 20m left`).
 */
export function gateLine(view: ProgressView): string | undefined {
  const gate = view.gate;
  if (!gate || (gate.alarms.length === 0 && gate.watchLeftSeconds === undefined)) return undefined;
  const alarms = gate.alarms.map((a) => `${a.name} ${a.state}`).join(', ');
  const watch =
    gate.watchLeftSeconds !== undefined ? `watching, ${formatDuration(gate.watchLeftSeconds)} left` : '';
  return `gate: ${[alarms, watch].filter(Boolean).join('; ')}`;
}

/** The live block for a terminal: the current step and one bar per group (default: every group). */
export function renderLive(
  view: ProgressView,
  width = 24,
  groups: readonly GroupProgress[] = view.groups,
): string[] {
  const elapsed =
    view.startedAt && view.now
      ? `  ${formatOffset((view.now.getTime() - view.startedAt.getTime()) / 1000)}`
      : '';
  const lines = [`step: ${view.step ?? 'starting'}${elapsed}${view.rollingBack ? '   ROLLING BACK' : ''}`];
  const gate = gateLine(view);
  if (gate) lines.push(gate);
  const nameWidth = Math.max(8, ...groups.map((g) => g.name.length));
  // The wave of each group, when the rollout has more than one group in a wave (else the wave is the group).
  const wave = (g: GroupProgress) =>
    g.wave !== undefined && (view.waves ?? []).some((w) => w.total > 1) ? `  wave ${g.wave}` : '';
  for (const g of groups) {
    const filled = Math.round((g.percentage / 100) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const took = g.durationSeconds !== undefined ? `  ${formatDuration(g.durationSeconds)}` : '';
    lines.push(
      `  ${g.name.padEnd(nameWidth)} [${bar}] ${String(g.percentage).padStart(3)}%  ${phaseText(g)}${g.refreshStatus ? ` (${g.refreshStatus})` : ''}${took}${wave(g)}`,
    );
  }
  return lines;
}

/** A group's phase in words: `not reached (untouched)`, `skipped (the rollout had failed)`, or the phase. */
export function phaseText(g: Pick<GroupProgress, 'phase'>): string {
  if (g.phase === 'untouched') return 'not reached (untouched)';
  if (g.phase === 'skipped') return 'skipped (the rollout had failed)';
  return g.phase;
}

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/** The smallest terminal a live block is drawn on; on a smaller one, progress is printed as lines. */
export const MIN_LIVE_SIZE: TerminalSize = { columns: 20, rows: 3 };

/** Groups moving come first in a summarized block, then groups that failed, then the rest. */
const isMoving = (g: GroupProgress) => g.phase === 'refreshing' || g.phase === 'rolling-back';
const tier = (g: GroupProgress) => (isMoving(g) ? 0 : g.phase === 'failed' ? 1 : 2);

/**
 * The live block cut to fit a terminal of `size`, or undefined when it is too small for one. A block that
 * scrolled off the screen, or whose lines wrapped, could not be redrawn in place: it keeps one row free (so
 * writing it never scrolls), shows the groups that matter most when they do not all fit, with a line counting
 * the others by phase, and cuts lines one column short of the width. The groups that matter most: those
 * moving, those that failed, then those nearest the group the rollout is at.
 */
export function fitLive(view: ProgressView, size: TerminalSize): string[] | undefined {
  if (size.columns < MIN_LIVE_SIZE.columns || size.rows < MIN_LIVE_SIZE.rows) return undefined;
  const maxLines = size.rows - 1;
  const barWidth = Math.max(8, Math.min(24, size.columns - 56));
  let shown: readonly GroupProgress[] = view.groups;
  let summary: string | undefined;
  if (1 + view.groups.length > maxLines) {
    const slots = maxLines - 2;
    // Around the group the rollout is at: the moving one, else the last one it reached.
    const reached = view.groups.findLastIndex((g) => g.phase !== 'waiting' && g.phase !== 'untouched');
    const moving = view.groups.findIndex(isMoving);
    const anchor = moving >= 0 ? moving : Math.max(0, reached);
    const kept = new Set(
      view.groups
        .map((group, index) => ({ group, index }))
        .sort(
          (a, b) =>
            tier(a.group) - tier(b.group) ||
            Math.abs(a.index - anchor) - Math.abs(b.index - anchor) ||
            a.index - b.index,
        )
        .slice(0, slots)
        .map(({ group }) => group),
    );
    shown = view.groups.filter((g) => kept.has(g));
    const hidden = new Map<string, number>();
    for (const g of view.groups) if (!kept.has(g)) hidden.set(g.phase, (hidden.get(g.phase) ?? 0) + 1);
    const counts = [...hidden].map(([phase, n]) => `${n} ${phase}`).join(', ');
    summary = `  ... ${view.groups.length - kept.size} more groups: ${counts}`;
  }
  const lines = renderLive(view, barWidth, shown);
  if (summary) lines.push(summary);
  return lines.map((line) => (line.length < size.columns ? line : `${line.slice(0, size.columns - 2)}…`));
}
