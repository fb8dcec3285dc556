/**
 * How one metric alarm evaluation decides the alarm's state, as a pure function of the datapoints in its
 * evaluation range. The engine (cloudwatch-alarms.ts) gathers the datapoints and applies the result.
 *
 * Source: CloudWatch user guide, "Configuring how CloudWatch alarms treat missing data", section "How alarm
 * state is evaluated when data is missing" and "Avoiding premature transitions to alarm state"
 * (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html), whose two example
 * tables test/local-account/cloudwatch.test.ts replays row by row:
 * - the range holds more periods than EvaluationPeriods (N); with at least N real datapoints the N most recent
 *   real ones are evaluated and TreatMissingData is not used;
 * - with fewer, missing datapoints are filled in as TreatMissingData says, as few as needed to make N, and every
 *   real datapoint in the range counts;
 * - `missing`: all missing -> INSUFFICIENT_DATA; `ignore`: all missing -> the state is kept;
 * - ALARM when at least DatapointsToAlarm (M) of the evaluated datapoints breach, else OK;
 * - premature ALARM: with `missing`, when every real datapoint in the range breaches and the oldest breaching one
 *   among the N most recent periods is at least M periods old, the alarm goes to ALARM with fewer than M
 *   breaching datapoints; `ignore` keeps its state in that case (the tables' "Retain current state").
 * The texts of StateReason follow what CloudWatch writes in alarm history and notifications (for example
 * "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (10/10/23 06:40:00)] was greater than or equal to the
 * threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."); AWS does not document them.
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export const STATE_VALUES: readonly AlarmStateValue[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

/** The static-threshold operators (the anomaly-band ones need anomaly detection, which is not modelled). */
export type ComparisonOperator =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

export const TREAT_MISSING_DATA: readonly TreatMissingData[] = [
  'breaching',
  'notBreaching',
  'ignore',
  'missing',
];

/** One period of the evaluation range: its start and the statistic's value, or undefined when data is missing. */
export interface RangePeriod {
  readonly startMs: number;
  readonly value: number | undefined;
  readonly sampleCount?: number;
}

export interface EvaluationInput {
  /** The evaluation range, oldest period first, most recent last. */
  readonly range: readonly RangePeriod[];
  readonly evaluationPeriods: number;
  /** Default: evaluationPeriods. */
  readonly datapointsToAlarm?: number;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  /** Default: missing. */
  readonly treatMissingData?: TreatMissingData;
  readonly current: AlarmStateValue;
  readonly statistic: string;
  readonly periodSeconds: number;
  readonly nowMs: number;
}

export type Evaluation =
  | { readonly kind: 'retain' }
  | {
      readonly kind: 'state';
      readonly state: AlarmStateValue;
      readonly reason: string;
      readonly reasonData: string;
    };

/** How many periods an alarm's evaluation range spans: the user guide's example retrieves 5 for N = 3. */
export const evaluationRangePeriods = (evaluationPeriods: number): number => evaluationPeriods + 2;

export function breaches(value: number, operator: ComparisonOperator, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

const PHRASES: Record<ComparisonOperator, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

/** Numbers as CloudWatch (Java) prints them in reasons: 1.0, 0.25, 537.0. */
export const formatNumber = (value: number): string =>
  Number.isInteger(value) && Math.abs(value) < 1e7 ? value.toFixed(1) : String(value);

const two = (n: number): string => String(n).padStart(2, '0');

/** A datapoint's period start as reasons show it: dd/MM/yy HH:mm:ss, UTC. */
export function formatReasonDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCFullYear() % 100)} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
  );
}

/** Timestamps inside StateReasonData: 2024-02-16T10:08:02.127+0000. */
export const formatReasonDataDate = (ms: number): string => new Date(ms).toISOString().replace('Z', '+0000');

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const wasWere = (n: number): string => (n === 1 ? 'was' : 'were');

interface RealPoint {
  readonly startMs: number;
  readonly value: number;
  readonly sampleCount?: number;
  /** 1 for the most recent period of the range, 2 for the one before, ... */
  readonly age: number;
  readonly breaching: boolean;
}

/** Decides the alarm's state from its evaluation range. */
export function evaluateAlarm(input: EvaluationInput): Evaluation {
  const n = input.evaluationPeriods;
  const m = input.datapointsToAlarm ?? n;
  const treat = input.treatMissingData ?? 'missing';
  const { range } = input;
  const real: RealPoint[] = [];
  for (let i = range.length - 1; i >= 0; i--) {
    const period = range[i]!;
    if (period.value === undefined) continue;
    real.push({
      startMs: period.startMs,
      value: period.value,
      ...(period.sampleCount !== undefined ? { sampleCount: period.sampleCount } : {}),
      age: range.length - i,
      breaching: breaches(period.value, input.comparisonOperator, input.threshold),
    });
  }
  // The reason and its data are written out only when read: an alarm that keeps its state records neither, and
  // the account evaluates every alarm every minute.
  const state = (
    next: AlarmStateValue,
    reason: () => string,
    evaluated: readonly RealPoint[],
  ): Evaluation => ({
    kind: 'state',
    state: next,
    get reason() {
      return reason();
    },
    get reasonData() {
      return reasonData(input, evaluated);
    },
  });

  if (real.length >= n) {
    const evaluated = real.slice(0, n);
    const breaching = evaluated.filter((p) => p.breaching);
    const next: AlarmStateValue = breaching.length >= m ? 'ALARM' : 'OK';
    return state(next, () => crossedReason(input, evaluated, next, m), evaluated);
  }
  if (real.length === 0) {
    const periods = `no datapoints were received for ${plural(n, 'period')}`;
    switch (treat) {
      case 'ignore':
        return { kind: 'retain' };
      case 'missing':
        return state(
          'INSUFFICIENT_DATA',
          () => `Insufficient Data: ${plural(n, 'datapoint')} ${wasWere(n)} unknown.`,
          [],
        );
      case 'breaching':
        return state(
          'ALARM',
          () =>
            `Threshold Crossed: ${periods} and ${plural(n, 'missing datapoint')} ${wasWere(n)} treated as [Breaching].`,
          [],
        );
      case 'notBreaching':
        return state(
          'OK',
          () =>
            `Threshold Crossed: ${periods} and ${plural(n, 'missing datapoint')} ${wasWere(n)} treated as [NonBreaching].`,
          [],
        );
    }
  }
  const fills = n - real.length;
  const breachingReal = real.filter((p) => p.breaching).length;
  if (treat === 'breaching' || treat === 'notBreaching') {
    const count = breachingReal + (treat === 'breaching' ? fills : 0);
    const next: AlarmStateValue = count >= m ? 'ALARM' : 'OK';
    const filled = `${plural(fills, 'missing datapoint')} ${wasWere(fills)} treated as [${treat === 'breaching' ? 'Breaching' : 'NonBreaching'}]`;
    return state(next, () => `${pointsClause(input, real, next)} and ${filled}.`, real);
  }
  if (breachingReal >= m) return state('ALARM', () => crossedReason(input, real, 'ALARM', m), real);
  const oldestRecentBreach = real.filter((p) => p.breaching && p.age <= n).at(-1);
  const premature =
    breachingReal === real.length && oldestRecentBreach !== undefined && oldestRecentBreach.age >= m;
  if (premature) {
    if (treat === 'ignore') return { kind: 'retain' };
    return state('ALARM', () => crossedReason(input, real, 'ALARM', m), real);
  }
  return state('OK', () => crossedReason(input, real, 'OK', m), real);
}

/** "Threshold Crossed: 2 out of the last 3 datapoints [...] were greater than ... (minimum 2 datapoints for ...)." */
function crossedReason(
  input: EvaluationInput,
  evaluated: readonly RealPoint[],
  next: AlarmStateValue,
  m: number,
): string {
  const n = input.evaluationPeriods;
  const counted = evaluated.filter((p) => p.breaching === (next === 'ALARM'));
  const minimum = next === 'ALARM' ? m : n - m + 1;
  const phrase = `${next === 'ALARM' ? '' : 'not '}${PHRASES[input.comparisonOperator]}`;
  return (
    `Threshold Crossed: ${counted.length} out of the last ${n} datapoints [${list(counted)}] ` +
    `${wasWere(counted.length)} ${phrase} the threshold (${formatNumber(input.threshold)}) ` +
    `(minimum ${plural(minimum, 'datapoint')} for ${input.current} -> ${next} transition).`
  );
}

/** "Threshold Crossed: 1 datapoint [0.0 (20/04/26 18:45:00)] was less than the threshold (1.0)". */
function pointsClause(input: EvaluationInput, real: readonly RealPoint[], next: AlarmStateValue): string {
  const counted = real.filter((p) => p.breaching === (next === 'ALARM'));
  const shown = counted.length > 0 ? counted : real;
  const breaching = shown[0]!.breaching;
  const phrase = `${breaching ? '' : 'not '}${PHRASES[input.comparisonOperator]}`;
  return (
    `Threshold Crossed: ${plural(shown.length, 'datapoint')} [${list(shown)}] ${wasWere(shown.length)} ${phrase} ` +
    `the threshold (${formatNumber(input.threshold)})`
  );
}

const list = (points: readonly RealPoint[]): string =>
  points.map((p) => `${formatNumber(p.value)} (${formatReasonDate(p.startMs)})`).join(', ');

function reasonData(input: EvaluationInput, evaluated: readonly RealPoint[]): string {
  const oldest = evaluated.at(-1);
  return JSON.stringify({
    version: '1.0',
    queryDate: formatReasonDataDate(input.nowMs),
    ...(oldest ? { startDate: formatReasonDataDate(oldest.startMs) } : {}),
    statistic: input.statistic,
    period: input.periodSeconds,
    recentDatapoints: [...evaluated].reverse().map((p) => p.value),
    threshold: input.threshold,
    ...(evaluated.length > 0
      ? {
          evaluatedDatapoints: evaluated.map((p) => ({
            timestamp: formatReasonDataDate(p.startMs),
            ...(p.sampleCount !== undefined ? { sampleCount: p.sampleCount } : {}),
            value: p.value,
          })),
        }
      : {}),
  });
}
