import {
  fitLive,
  formatDuration,
  gateLine,
  formatOffset,
  phaseText,
  renderLive,
  type GroupProgress,
  type ProgressView,
  type TerminalSize,
  type WaveProgress,
  MIN_LIVE_SIZE,
  ROLLBACK_BANNER,
} from './progress.ts';

/**
 * Rendering a rollout of any size. A small fleet (SMALL_FLEET groups or fewer) keeps one bar per group, as
 * before waves. A larger one shows the waves (consecutive waves in the same state folded into one line), then
 * every failure, then the groups in flight with their percentage: a 2,000-group rollout is a screenful, never
 * 2,000 bars.
 */

/** Up to this many groups, the live block and `status` keep one bar per group. */
export const SMALL_FLEET = 20;

/** A bar per group: a small fleet, or a view without waves (an execution from before the ledger: at most 150). */
const isSmall = (view: ProgressView) => view.waves === undefined || view.groups.length <= SMALL_FLEET;

const inFlight = (g: GroupProgress) => g.phase === 'refreshing' || g.phase === 'rolling-back';
const isFailure = (g: GroupProgress) =>
  g.phase === 'failed' || g.phase === 'rollback-failed' || g.phase === 'rollback-incomplete';

/** `1203 done, 50 refreshing, 1 failed, 746 pending`: the nonzero counts, in a fixed order. */
function counts(parts: readonly (readonly [number, string])[]): string {
  const shown = parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`);
  return shown.length > 0 ? shown.join(', ') : 'nothing yet';
}

const waveCounts = (w: Omit<WaveProgress, 'index' | 'name' | 'state' | 'maxParallel' | 'bakeMinutes'>) =>
  counts([
    [w.done, 'done'],
    [w.refreshing, 'refreshing'],
    [w.failed, 'failed'],
    [w.skipped, 'skipped'],
    [w.pending, 'pending'],
    [w.rollingBack, 'rolling back'],
    [w.rolledBack, 'rolled back'],
    [w.rollbackFailed, 'rollback failed'],
  ]);

function waveState(w: WaveProgress): string {
  if (w.state === 'baking' && w.bakeLeftSeconds !== undefined)
    return `baking, ${formatDuration(w.bakeLeftSeconds)} of ${w.bakeMinutes}m left`;
  return w.state;
}

/** Consecutive waves in the same quiet state (waiting, done, rolled back) as one line; the others one each. */
function waveLines(waves: readonly WaveProgress[]): { line: string; waves: WaveProgress[] }[] {
  const quiet = (w: WaveProgress) => w.state === 'waiting' || w.state === 'done' || w.state === 'rolled-back';
  const runs: WaveProgress[][] = [];
  for (const w of waves) {
    const last = runs.at(-1);
    if (last && quiet(w) && quiet(last[0]!) && last[0]!.state === w.state) last.push(w);
    else runs.push([w]);
  }
  const nameWidth = Math.min(24, Math.max(4, ...runs.map((r) => (r.length === 1 ? r[0]!.name.length : 0))));
  return runs.map((run) => {
    const first = run[0]!;
    if (run.length === 1) {
      const w = first;
      const parallel = w.maxParallel > 1 ? `, ${w.maxParallel} at once` : '';
      return {
        line: `  wave ${w.name.padEnd(nameWidth)}  ${w.total} group${w.total === 1 ? '' : 's'}${parallel}: ${waveCounts(w)}  ${waveState(w)}`,
        waves: run,
      };
    }
    const sum = (key: keyof WaveProgress) => run.reduce((n, w) => n + (w[key] as number), 0);
    const total = sum('total');
    const summed = {
      total,
      done: sum('done'),
      refreshing: sum('refreshing'),
      failed: sum('failed'),
      skipped: sum('skipped'),
      pending: sum('pending'),
      rollingBack: sum('rollingBack'),
      rolledBack: sum('rolledBack'),
      rollbackFailed: sum('rollbackFailed'),
    };
    return {
      line: `  waves ${first.name} … ${run.at(-1)!.name} (${run.length} waves, ${total} groups): ${waveCounts(summed)}  ${first.state}`,
      waves: run,
    };
  });
}

function groupLine(g: GroupProgress, barWidth: number): string {
  const filled = Math.round((g.percentage / 100) * barWidth);
  const bar = `${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}`;
  const wave = g.wave !== undefined ? `  wave ${g.wave}` : '';
  return `  ${g.name} [${bar}] ${String(g.percentage).padStart(3)}%  ${g.phase}${g.refreshStatus ? ` (${g.refreshStatus})` : ''}${wave}`;
}

function failureLine(g: GroupProgress): string {
  const where = g.wave !== undefined ? ` (wave ${g.wave})` : '';
  if (g.phase === 'failed')
    return `  FAILED ${g.name}${where}: refresh ${g.refreshStatus ?? 'not started'}${g.statusReason ? `: ${g.statusReason}` : ''}`;
  const back = g.rollback;
  const what = g.phase === 'rollback-failed' ? 'ROLLBACK FAILED' : 'ROLLBACK INCOMPLETE';
  return `  ${what} ${g.name}${where}: rollback refresh ${back?.refreshStatus ?? '?'}${back?.statusReason ? `: ${back.statusReason}` : ''}`;
}

function header(view: ProgressView): string {
  const elapsed =
    view.startedAt && view.now
      ? `  ${formatOffset((view.now.getTime() - view.startedAt.getTime()) / 1000)}`
      : '';
  return `step: ${view.step ?? 'starting'}${elapsed}${view.rollingBack ? '   ROLLING BACK' : ''}`;
}

/** The fleet's totals in a line: `2000 groups in 5 waves: 1203 done, 50 refreshing, ...`. */
export function totalsLine(view: ProgressView): string {
  const n = (...phases: GroupProgress['phase'][]) =>
    view.groups.filter((g) => phases.includes(g.phase)).length;
  const waves = view.waves?.length ?? 0;
  return `${view.groups.length} groups${waves > 0 ? ` in ${waves} wave${waves === 1 ? '' : 's'}` : ''}: ${counts(
    [
      [n('done'), 'done'],
      [n('refreshing'), 'refreshing'],
      [n('failed'), 'failed'],
      [n('skipped'), 'skipped'],
      [n('waiting'), 'pending'],
      [n('untouched'), 'untouched'],
      [n('rolling-back'), 'rolling back'],
      [n('rolled-back'), 'rolled back'],
      [n('rollback-incomplete'), 'rollback incomplete'],
      [n('rollback-failed'), 'rollback failed'],
    ],
  )}`;
}

/** `lines`, cut to `room` lines: when they do not fit, the last one kept says how many are left out. */
function cut(lines: readonly string[], room: number, more: (hidden: number) => string): string[] {
  if (lines.length <= room) return [...lines];
  if (room <= 0) return [];
  return [...lines.slice(0, room - 1), more(lines.length - (room - 1))];
}

/**
 * The block of a rollout too large for a bar per group, in at most `maxLines` lines (unbounded: everything).
 * Order: the step, the totals, the waves, every failure, the groups in flight. When lines must go, each part
 * keeps at least one line (or its count), then the waves get room first, then failures, then groups in flight.
 */
export function renderFleet(
  view: ProgressView,
  maxLines = Number.POSITIVE_INFINITY,
  barWidth = 16,
): string[] {
  const gate = gateLine(view);
  const lines = [header(view), ...(gate ? [gate] : []), totalsLine(view)];
  const waves = waveLines(view.waves ?? []).map((w) => w.line);
  const failures = view.groups.filter(isFailure).map(failureLine);
  const flying = view.groups.filter(inFlight).map((g) => groupLine(g, barWidth));
  let room = maxLines - lines.length;
  if (room <= 0) return lines.slice(0, Math.max(1, maxLines));
  const parts = [waves, failures, flying];
  const share = [0, 0, 0];
  // At least one line each (in this order), then waves, failures, groups in flight as far as room goes.
  for (let i = 0; i < 3 && room > 0; i++) {
    share[i] = Math.min(parts[i]!.length, 1);
    room -= share[i]!;
  }
  for (let i = 0; i < 3 && room > 0; i++) {
    const more = Math.min(parts[i]!.length - share[i]!, room);
    share[i]! += more;
    room -= more;
  }
  lines.push(
    ...cut(waves, share[0]!, (n) => `  ... ${n} more wave lines`),
    ...cut(failures, share[1]!, (n) => `  ... ${n} more failures (status --json lists every group)`),
    ...cut(flying, share[2]!, (n) => `  ... ${n} more groups in flight`),
  );
  return lines;
}

/**
 * The live block cut to the terminal, or undefined when the terminal is too small for one: a bar per group for
 * a small fleet (fitLive), the waves, failures and groups in flight for a larger one. Either way it keeps one
 * row free and cuts lines one column short of the width, so redrawing it in place never scrolls.
 */
export function fitView(view: ProgressView, size: TerminalSize): string[] | undefined {
  if (isSmall(view)) return fitLive(view, size);
  if (size.columns < MIN_LIVE_SIZE.columns || size.rows < MIN_LIVE_SIZE.rows) return undefined;
  const barWidth = Math.max(8, Math.min(24, size.columns - 60));
  return renderFleet(view, size.rows - 1, barWidth).map((line) =>
    line.length < size.columns ? line : `${line.slice(0, size.columns - 2)}…`,
  );
}

/** The groups of a finished or running rollout for `status` and the rehearsal's summary, bounded for a large one. */
export function renderGroups(view: ProgressView): string[] {
  if (isSmall(view)) return renderLive(view).slice(1);
  return renderFleet(view).slice(1);
}

export interface ChangeOptions {
  /** A line for every group's refresh status change, whatever the fleet's size. Default: only a small fleet. */
  readonly verbose?: boolean;
}

/**
 * The plain lines (for a log, not a terminal) that say what changed from `before` to `after`: a wave started,
 * finished, baked or failed; a group failed; the rollback started; a group's rollback failed; every tenth of
 * the fleet done. A small fleet (or `verbose`) also gets a line per group refresh status, as before waves.
 * Pure, so any two snapshots give the same lines.
 */
export function changeLines(
  before: ProgressView | undefined,
  after: ProgressView,
  options: ChangeOptions = {},
): string[] {
  const clock =
    after.startedAt && after.now
      ? formatOffset((after.now.getTime() - after.startedAt.getTime()) / 1000)
      : formatOffset(0);
  const out: string[] = [];
  const say = (text: string) => out.push(`${clock}  ${text}`);
  if (after.failure?.alarm && !before?.failure?.alarm)
    say(`GATE: alarm ${after.failure.alarm} fired (wave ${after.failure.wave}): ${after.failure.reason}`);
  const watchLeft = after.gate?.watchLeftSeconds;
  if (watchLeft !== undefined && before?.gate?.watchLeftSeconds === undefined)
    say(`every wave done; watching the gate for ${formatDuration(watchLeft)} before declaring success`);
  if (after.rollingBack && !before?.rollingBack) say(ROLLBACK_BANNER);
  const earlier = new Map((before?.waves ?? []).map((w) => [w.index, w]));
  for (const w of after.waves ?? []) {
    const was = earlier.get(w.index);
    if (was?.state === w.state) continue;
    // A wave of one group says nothing its group's lines do not (a seed-shaped rollout has only those).
    if (w.total === 1) continue;
    const from = was?.state ?? 'waiting';
    if (w.state === 'running' && from === 'waiting')
      say(`wave ${w.name} started: ${w.total} groups, ${w.maxParallel} at once`);
    else if (w.state === 'baking' && from !== 'baking')
      say(`wave ${w.name} done (${w.done} groups); baking ${w.bakeMinutes}m before the next wave`);
    else if (w.state === 'done' && from !== 'done' && from !== 'baking')
      say(`wave ${w.name} done (${w.done} groups)`);
    else if (w.state === 'failed' && from !== 'failed')
      say(`wave ${w.name} FAILED: ${waveCounts(w)}; no new starts`);
    else if (w.state === 'rolling-back' && from !== 'rolling-back')
      say(`wave ${w.name} rolling back: ${w.rollingBack + w.rolledBack} of ${w.total} groups`);
    else if (w.state === 'rolled-back' && from !== 'rolled-back')
      say(`wave ${w.name} rolled back (${w.rolledBack} groups)`);
  }
  const old = new Map((before?.groups ?? []).map((g) => [g.name, g]));
  const perGroup = options.verbose || isSmall(after);
  for (const g of after.groups) {
    const was = old.get(g.name);
    if (was?.phase === g.phase && was.refreshStatus === g.refreshStatus && was.percentage === g.percentage)
      continue;
    if (isFailure(g) && was?.phase !== g.phase) say(failureLine(g).trim());
    else if (g.phase === 'skipped' && was?.phase !== 'skipped' && perGroup) say(`${g.name}: ${phaseText(g)}`);
    else if (perGroup && g.phase !== 'waiting' && g.phase !== 'untouched' && g.phase !== 'skipped') {
      const back = g.phase === 'rolling-back' || g.phase === 'rolled-back';
      say(
        `${g.name}: ${back ? 'rollback refresh' : 'refresh'} ${g.refreshStatus ?? 'Pending'} ${g.percentage}%`,
      );
    }
  }
  if (!perGroup) {
    // Every tenth of the fleet done (or put back): a heartbeat for a long log, ten lines per rollout.
    const tenth = (v: ProgressView | undefined, phases: GroupProgress['phase'][]) =>
      v ? Math.floor((v.groups.filter((g) => phases.includes(g.phase)).length * 10) / v.groups.length) : 0;
    const forward = tenth(after, ['done']);
    if (!after.rollingBack && forward > tenth(before, ['done'])) say(totalsLine(after));
    const back = tenth(after, ['rolled-back', 'rollback-incomplete']);
    if (after.rollingBack && back > tenth(before, ['rolled-back', 'rollback-incomplete']))
      say(totalsLine(after));
  }
  return out;
}
