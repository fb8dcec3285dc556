/**
 * Health gates: fleet-wide CloudWatch alarms watched while groups refresh, while a wave bakes and through the
 * watch window after the last wave. Pure: what an alarm's state means, and when a bake or watch window ends.
 * The steps (check-gate.ts, check-refresh-status.ts) describe the alarms and act on these decisions.
 */

/** What an alarm in INSUFFICIENT_DATA means (config `gate.insufficientData`). */
export type InsufficientDataPolicy = 'ignore' | 'wait' | 'fail';

/** The gate as Preflight wrote it into the ledger. */
export interface GatePlan {
  /** The fleet-wide alarms (each wave's own are on its ledger record). */
  readonly alarmNames: readonly string[];
  /** Whether any wave has alarms of its own (then refresh checks read the gate even with no fleet-wide one). */
  readonly waveAlarms?: boolean;
  readonly watchMinutes: number;
  readonly insufficientData: InsufficientDataPolicy;
}

/** One alarm as DescribeAlarms gave it. */
export interface AlarmReading {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
  /** StateUpdatedTimestamp, ISO 8601. */
  readonly since?: string;
}

/** Which alarms there are, and which of those asked for are gone. */
export interface GateReading {
  readonly alarms: readonly AlarmReading[];
  readonly missing: readonly string[];
}

export type GateVerdict =
  | { readonly kind: 'pass' }
  /** Not failed, but the window may not end yet: alarms without data under the `wait` policy. */
  | { readonly kind: 'no-data'; readonly alarms: readonly string[] }
  | { readonly kind: 'fired'; readonly alarm: AlarmReading; readonly reason: string };

/**
 * What the gate's alarms say now. An alarm asked for that no longer exists fails the gate (a deleted alarm must
 * not turn into an endless wait or a silent pass); ALARM fails it; INSUFFICIENT_DATA as the policy says.
 */
export function judgeGate(reading: GateReading, policy: InsufficientDataPolicy): GateVerdict {
  if (reading.missing.length > 0) {
    const name = reading.missing[0]!;
    return {
      kind: 'fired',
      alarm: { name, state: 'INSUFFICIENT_DATA', reason: 'the alarm no longer exists' },
      reason: `gate alarm ${reading.missing.join(', ')} no longer exists (deleted during the rollout): the gate cannot be judged, so the rollout stops`,
    };
  }
  const firing = reading.alarms.find((a) => a.state === 'ALARM');
  if (firing) {
    return {
      kind: 'fired',
      alarm: firing,
      reason: `gate alarm ${firing.name} is in ALARM${firing.since ? ` since ${firing.since}` : ''}: ${firing.reason ?? 'no reason given'}`,
    };
  }
  const noData = reading.alarms.filter((a) => a.state === 'INSUFFICIENT_DATA');
  if (noData.length > 0 && policy === 'fail') {
    const alarm = noData[0]!;
    return {
      kind: 'fired',
      alarm,
      reason: `gate alarm ${alarm.name} is in INSUFFICIENT_DATA and gate.insufficientData is "fail": ${alarm.reason ?? 'no reason given'}`,
    };
  }
  if (noData.length > 0 && policy === 'wait') return { kind: 'no-data', alarms: noData.map((a) => a.name) };
  return { kind: 'pass' };
}

/** A wave as the gate needs it (a ledger wave). */
export interface GateWave {
  readonly index: number;
  readonly name: string;
  readonly firstGroup: number;
  readonly groupCount: number;
  readonly bakeMinutes: number;
  readonly alarmNames?: readonly string[];
  readonly endedAt?: string;
}

/** The window a batch starting at `cursor` waits out first: the bake of the wave before, or the watch window. */
export interface GateWindow {
  readonly kind: 'none' | 'bake' | 'watch';
  /** The wave that bakes (the one before the batch), or the last wave for the watch. */
  readonly wave?: GateWave;
  /** When the window ends, ms since the epoch (undefined: nothing to wait for). */
  readonly endsAt?: number;
  readonly minutes: number;
  /** The alarms to watch in it: the gate's and the baking wave's own. */
  readonly alarmNames: readonly string[];
}

/**
 * The window before the forward batch that starts at `cursor`: after a wave, its bake; after the last wave (the
 * cursor past every group), the watch window, which replaces the last wave's bake when longer (the rollout is
 * watched for the longer of the two before it is declared a success).
 */
export function gateWindow(
  waves: readonly GateWave[],
  cursor: number,
  gate: GatePlan,
  now: number,
): GateWindow {
  const ordered = [...waves].sort((a, b) => a.index - b.index);
  const last = ordered.at(-1);
  const total = last ? last.firstGroup + last.groupCount : 0;
  const alarmsOf = (wave: GateWave | undefined) => [
    ...new Set([...gate.alarmNames, ...(wave?.alarmNames ?? [])]),
  ];
  if (cursor >= total) {
    const minutes = Math.max(gate.watchMinutes, last?.bakeMinutes ?? 0);
    const from = last?.endedAt ? Date.parse(last.endedAt) : now;
    return {
      kind: minutes > 0 ? 'watch' : 'none',
      ...(last ? { wave: last } : {}),
      ...(minutes > 0 ? { endsAt: from + minutes * 60_000 } : {}),
      minutes,
      alarmNames: alarmsOf(last),
    };
  }
  const at = ordered.findIndex((w) => cursor >= w.firstGroup && cursor < w.firstGroup + w.groupCount);
  const before = at > 0 && cursor === ordered[at]!.firstGroup ? ordered[at - 1] : undefined;
  if (!before || before.bakeMinutes <= 0) {
    return { kind: 'none', minutes: 0, alarmNames: alarmsOf(before) };
  }
  const from = before.endedAt ? Date.parse(before.endedAt) : now;
  return {
    kind: 'bake',
    wave: before,
    endsAt: from + before.bakeMinutes * 60_000,
    minutes: before.bakeMinutes,
    alarmNames: alarmsOf(before),
  };
}

/** The alarms watched while the groups of `wave` refresh: the gate's and the wave's own. */
export function refreshAlarms(gate: GatePlan, wave: Pick<GateWave, 'alarmNames'> | undefined): string[] {
  return [...new Set([...gate.alarmNames, ...(wave?.alarmNames ?? [])])];
}

export type GateStep =
  | { readonly next: 'pass' }
  | { readonly next: 'wait'; readonly waitSeconds: number }
  | { readonly next: 'fired'; readonly reason: string; readonly alarm: AlarmReading };

/**
 * One check of a window: fired, or wait (until the window ends, at most one poll interval at a time), or pass.
 * Under the `wait` policy a window does not end while a gate alarm has no data, for at most `noDataGraceMinutes`
 * past its end; then the gate fails, naming the alarm (a wait that never ends is not a gate).
 * The interval between checks grows for a long window so that a batch execution stays far below Step
 * Functions' 25,000 events: at most MAX_GATE_CHECKS checks in any window.
 */
export function stepGate(
  window: GateWindow,
  verdict: GateVerdict,
  now: number,
  pollIntervalSeconds: number,
  noDataGraceMinutes: number,
): GateStep {
  if (verdict.kind === 'fired') return { next: 'fired', reason: verdict.reason, alarm: verdict.alarm };
  const interval = Math.max(
    pollIntervalSeconds,
    Math.ceil(((window.minutes + noDataGraceMinutes) * 60) / MAX_GATE_CHECKS),
  );
  if (window.endsAt !== undefined && now < window.endsAt) {
    return {
      next: 'wait',
      waitSeconds: Math.max(1, Math.min(interval, Math.ceil((window.endsAt - now) / 1000))),
    };
  }
  if (verdict.kind === 'no-data' && window.kind !== 'none') {
    const end = window.endsAt ?? now;
    if (now < end + noDataGraceMinutes * 60_000) return { next: 'wait', waitSeconds: interval };
    const name = verdict.alarms[0]!;
    return {
      next: 'fired',
      alarm: { name, state: 'INSUFFICIENT_DATA' },
      reason: `gate alarm ${verdict.alarms.join(', ')} still had no data ${noDataGraceMinutes} minutes after the ${window.kind} ended (gate.insufficientData "wait"): the image cannot be judged healthy`,
    };
  }
  return { next: 'pass' };
}

/** Most checks one bake or watch window takes: 1,000 checks of 9 events each (Task, Choice, Wait) leave a batch room for its 500 groups under 25,000 events. */
export const MAX_GATE_CHECKS = 1000;
