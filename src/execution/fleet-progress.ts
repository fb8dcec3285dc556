import type {
  LedgerGroup,
  LedgerRolloutItem,
  LedgerWave,
  RollbackStatus,
  GroupStatus,
} from '../core/ledger-records.ts';
import type { GroupProgress, ProgressView, WaveProgress } from './progress.ts';

/**
 * The progress of a rollout read from its ledger: every group's state is there (the parent execution's history
 * only says which batch runs). Pure: the same ledger records give the same view, on the local account or on AWS.
 * The parent's history still gives what only it knows (the step it is in, how it ended): pass its view.
 */

/** What the ledger holds of one rollout, as `Ledger.getRollout`, `listWaves` and `listGroups` return it. */
export interface LedgerSnapshot {
  readonly rollout: LedgerRolloutItem;
  readonly waves: readonly LedgerWave[];
  readonly groups: readonly LedgerGroup[];
}

export interface FleetProgressOptions {
  /** The view rebuilt from the parent execution's history (its step, start and end). Default: none. */
  readonly parent?: Pick<ProgressView, 'step' | 'startedAt' | 'now' | 'ended' | 'rollingBack'>;
  /** The time the view is for (bakes count from it). Default: the latest time the ledger or the parent knows. */
  readonly now?: Date;
}

/** Forward status and rollback sub-record -> the phase a person reads. */
function phaseOf(group: LedgerGroup, ended: boolean): GroupProgress['phase'] {
  const rollback = group.rollback?.status;
  if (rollback && rollback !== 'PENDING') return rollbackPhase[rollback];
  const forward: Record<GroupStatus, GroupProgress['phase']> = {
    PENDING: ended ? 'untouched' : 'waiting',
    STARTING: 'refreshing',
    REFRESHING: 'refreshing',
    SUCCEEDED: 'done',
    FAILED: 'failed',
    SKIPPED: 'skipped',
  };
  return forward[group.status];
}

const rollbackPhase: Record<Exclude<RollbackStatus, 'PENDING'>, GroupProgress['phase']> = {
  ROLLING_BACK: 'rolling-back',
  ROLLED_BACK: 'rolled-back',
  INCOMPLETE: 'rollback-incomplete',
  FAILED: 'rollback-failed',
};

const seconds = (from: string | undefined, to: string | undefined): number | undefined =>
  from !== undefined && to !== undefined ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined;

function groupProgress(group: LedgerGroup, waveName: string | undefined, ended: boolean): GroupProgress {
  const phase = phaseOf(group, ended);
  const back = group.rollback;
  const goingBack = back !== undefined && back.status !== 'PENDING';
  const refresh = goingBack ? back.refresh : group.refresh;
  const startedAt = goingBack ? back.refresh?.startedAt : (group.startedAt ?? group.refresh?.startedAt);
  // The phase shown ends when its refresh did: the rollback's (its own record) once one ran.
  const endedAt =
    phase === 'refreshing' || phase === 'rolling-back' || phase === 'waiting'
      ? undefined
      : goingBack
        ? back.endedAt
        : group.endedAt;
  const duration = seconds(startedAt, endedAt);
  const percentage = refresh?.percentageComplete ?? (phase === 'done' ? 100 : 0);
  return {
    name: group.autoScalingGroupName,
    index: group.index,
    ...(waveName !== undefined ? { wave: waveName } : {}),
    phase,
    status: group.status,
    ...(group.refresh ? { refreshId: group.refresh.instanceRefreshId } : {}),
    ...(refresh?.status !== undefined ? { refreshStatus: refresh.status } : {}),
    percentage,
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(endedAt !== undefined ? { endedAt } : {}),
    ...(duration !== undefined ? { durationSeconds: duration } : {}),
    ...(group.refresh?.statusReason ? { statusReason: group.refresh.statusReason } : {}),
    ...(goingBack
      ? {
          forward: {
            ...((group.startedAt ?? group.refresh?.startedAt) !== undefined
              ? { startedAt: (group.startedAt ?? group.refresh?.startedAt)! }
              : {}),
            ...(group.endedAt !== undefined ? { endedAt: group.endedAt } : {}),
          },
        }
      : {}),
    ...(back
      ? {
          rollback: {
            status: back.status,
            ...(back.refresh ? { refreshId: back.refresh.instanceRefreshId } : {}),
            ...(back.refresh?.status !== undefined ? { refreshStatus: back.refresh.status } : {}),
            ...(back.refresh?.startedAt !== undefined ? { startedAt: back.refresh.startedAt } : {}),
            ...(back.endedAt !== undefined ? { endedAt: back.endedAt } : {}),
            ...(back.refresh?.statusReason ? { statusReason: back.refresh.statusReason } : {}),
          },
        }
      : {}),
  };
}

/** The latest time any record names: "now" for a view of a local account's virtual time. */
function latestTime(snapshot: LedgerSnapshot): number | undefined {
  let latest: number | undefined;
  const see = (iso: string | undefined) => {
    if (iso === undefined) return;
    const t = Date.parse(iso);
    if (!Number.isNaN(t) && (latest === undefined || t > latest)) latest = t;
  };
  see(snapshot.rollout.createdAt);
  see(snapshot.rollout.endedAt);
  see(snapshot.rollout.failure?.at);
  for (const w of snapshot.waves) see(w.endedAt);
  for (const g of snapshot.groups) {
    see(g.startedAt);
    see(g.endedAt);
    see(g.checkedAt);
    see(g.refresh?.startedAt);
    see(g.rollback?.refresh?.startedAt);
    see(g.rollback?.endedAt);
  }
  return latest;
}

function waveProgress(
  wave: LedgerWave,
  groups: readonly GroupProgress[],
  next: { readonly started: boolean } | undefined,
  now: number | undefined,
  ended: boolean,
): WaveProgress {
  const count = (...phases: GroupProgress['phase'][]) =>
    groups.filter((g) => phases.includes(g.phase)).length;
  const counts = {
    done: count('done'),
    refreshing: count('refreshing'),
    failed: count('failed'),
    skipped: count('skipped'),
    pending: count('waiting', 'untouched'),
    rollingBack: count('rolling-back'),
    rolledBack: count('rolled-back', 'rollback-incomplete'),
    rollbackFailed: count('rollback-failed'),
  };
  let state: WaveProgress['state'];
  let bakeLeftSeconds: number | undefined;
  if (counts.rollingBack > 0 || counts.rollbackFailed > 0) state = 'rolling-back';
  else if (counts.rolledBack > 0 && counts.refreshing === 0 && groups.every((g) => !isTouchedForward(g)))
    state = 'rolled-back';
  else if (counts.failed > 0) state = 'failed';
  else if (counts.done === groups.length && groups.length > 0) {
    state = 'done';
    if (!ended && next && !next.started && wave.bakeMinutes > 0 && wave.endedAt && now !== undefined) {
      const left = (Date.parse(wave.endedAt) + wave.bakeMinutes * 60_000 - now) / 1000;
      if (left > 0) {
        state = 'baking';
        bakeLeftSeconds = Math.ceil(left);
      }
    }
  } else if (counts.pending + counts.skipped === groups.length) state = 'waiting';
  else if (counts.refreshing > 0 || counts.pending > 0) state = 'running';
  else state = 'done';
  return {
    index: wave.index,
    name: wave.name,
    total: groups.length,
    maxParallel: wave.maxParallel,
    bakeMinutes: wave.bakeMinutes,
    ...counts,
    state,
    ...(bakeLeftSeconds !== undefined ? { bakeLeftSeconds } : {}),
    ...(wave.endedAt ? { endedAt: wave.endedAt } : {}),
  };
}

/** A group that still runs, or ran, the new image (not rolled back): done, refreshing or failed. */
const isTouchedForward = (g: GroupProgress) =>
  g.phase === 'done' || g.phase === 'refreshing' || g.phase === 'failed';

/** The progress view of a rollout from its ledger records (and, when given, its parent execution's view). */
export function fleetProgress(snapshot: LedgerSnapshot, options: FleetProgressOptions = {}): ProgressView {
  const { rollout } = snapshot;
  const parent = options.parent;
  const ended = parent?.ended !== undefined || rollout.phase === 'ended' || rollout.outcome !== undefined;
  const waves = [...snapshot.waves].sort((a, b) => a.index - b.index);
  const waveName = new Map(waves.map((w) => [w.index, w.name]));
  const groups = [...snapshot.groups]
    .sort((a, b) => a.index - b.index)
    .map((g) => groupProgress(g, waveName.get(g.wave), ended));
  const latest = latestTime(snapshot);
  const nowMs =
    options.now?.getTime() ??
    Math.max(latest ?? Number.NEGATIVE_INFINITY, parent?.now?.getTime() ?? Number.NEGATIVE_INFINITY);
  const now = Number.isFinite(nowMs) ? nowMs : undefined;
  const byWave = new Map<number, GroupProgress[]>();
  snapshot.groups.forEach((g) => {
    const list = byWave.get(g.wave) ?? [];
    byWave.set(g.wave, list);
  });
  const ordered = [...snapshot.groups].sort((a, b) => a.index - b.index);
  ordered.forEach((g, i) => byWave.get(g.wave)!.push(groups[i]!));
  const waveViews = waves.map((wave, i) => {
    const nextWave = waves[i + 1];
    const next = nextWave
      ? {
          started: (byWave.get(nextWave.index) ?? []).some(
            (g) => g.phase !== 'waiting' && g.phase !== 'untouched',
          ),
        }
      : undefined;
    return waveProgress(wave, byWave.get(wave.index) ?? [], next, now, ended);
  });
  const ending: ProgressView['ended'] | undefined =
    parent?.ended ??
    (rollout.outcome === undefined ? undefined : rollout.outcome === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');
  const startedAt = parent?.startedAt ?? new Date(rollout.createdAt);
  return {
    rolloutId: rollout.rolloutId,
    imageId: rollout.imageId,
    startedAt,
    ...(now !== undefined ? { now: new Date(now) } : {}),
    ...(parent?.step !== undefined ? { step: parent.step } : {}),
    groups,
    waves: waveViews,
    rollingBack:
      (parent?.rollingBack ?? false) || rollout.phase === 'rollback' || rollout.rollbackOrder !== undefined,
    ...(ending !== undefined ? { ended: ending } : {}),
    ...gateView(rollout, waves, now, ending !== undefined),
    ...(rollout.failure
      ? {
          failure: {
            ...(rollout.failure.autoScalingGroupName !== undefined
              ? { group: rollout.failure.autoScalingGroupName }
              : {}),
            ...(rollout.failure.alarm ? { alarm: rollout.failure.alarm.name } : {}),
            wave: waveName.get(rollout.failure.wave) ?? String(rollout.failure.wave),
            reason: rollout.failure.reason,
            at: rollout.failure.at,
          },
        }
      : {}),
  };
}

/** The gate's alarms as last read, and what is left of the watch window once every wave is done. */
function gateView(
  rollout: LedgerRolloutItem,
  waves: readonly LedgerWave[],
  now: number | undefined,
  ended: boolean,
): Pick<ProgressView, 'gate'> {
  const plan = rollout.gate;
  const check = rollout.gateCheck;
  if (!plan && !check) return {};
  let watchLeftSeconds: number | undefined;
  const last = [...waves].sort((a, b) => a.index - b.index).at(-1);
  if (plan && last?.endedAt && now !== undefined && !ended && !rollout.failure) {
    const minutes = Math.max(plan.watchMinutes, last.bakeMinutes);
    const left = Math.ceil((Date.parse(last.endedAt) + minutes * 60_000 - now) / 1000);
    if (minutes > 0 && left > 0 && rollout.forwardCursor >= rollout.groupCount) watchLeftSeconds = left;
  }
  return {
    gate: {
      ...(check ? { checkedAt: check.at } : {}),
      alarms: (check?.alarms ?? []).map((a) => ({ name: a.name, state: a.state })),
      ...(watchLeftSeconds !== undefined ? { watchLeftSeconds } : {}),
    },
  };
}
