/**
 * CloudWatch metrics in the local account: the datapoints `PutMetricData` and the fleet's metric sources write,
 * and their aggregation into periods for alarms, `GetMetricStatistics` and `GetMetricData`.
 *
 * Sources: the CloudWatch API reference (PutMetricData, GetMetricStatistics, MetricDatum, StatisticSet) and the
 * user guide's "CloudWatch concepts" (metrics are identified by namespace, name and dimensions; each distinct
 * combination of dimensions is a separate metric; standard-resolution data has one-minute granularity).
 */
import type { LocalAccount } from '../account.ts';

export interface Dimension {
  readonly name: string;
  readonly value: string;
}

/** A metric: namespace, name and dimensions (in any order; CloudWatch does not care about their order). */
export interface MetricIdentity {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

/** What one or more raw values add up to: the shape of MetricDatum.StatisticValues. */
export interface StatisticSet {
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
}

/** One datum as published: a statistic set at a time, with its unit. */
export interface PublishedDatum extends MetricIdentity {
  readonly timestampMs: number;
  readonly values: StatisticSet;
  /** Default: None. */
  readonly unit?: string;
  /** 1 (high resolution) or 60 (standard, the default). */
  readonly storageResolution?: 1 | 60;
}

export type Statistic = 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum';

export const STATISTICS: readonly Statistic[] = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];

/** A period's aggregate: the statistic set of every datum whose timestamp falls in [startMs, startMs + period). */
export interface PeriodAggregate {
  readonly startMs: number;
  readonly values: StatisticSet;
  readonly unit: string;
}

/**
 * Stored datapoints, as runs: `repeat` datapoints with the same values and unit, one a minute from
 * `timestampMs` on. A fleet source publishes the same 0 for every group every minute, so a long rehearsal with
 * alarms would otherwise keep one object per group per minute. Only standard-resolution datapoints whose values
 * are whole numbers join a run (sums of whole numbers are exact, so a run aggregates to exactly what its
 * datapoints one by one would); every other datapoint is a run of 1.
 */
interface StoredRun {
  timestampMs: number;
  repeat: number;
  readonly values: StatisticSet;
  readonly unit: string;
}

interface Series extends MetricIdentity {
  /**
   * Sorted by timestamp, runs never overlapping: read one datapoint at a time, the runs are the datapoints in
   * timestamp order, equal timestamps in the order they were published.
   */
  readonly points: StoredRun[];
}

/** Data older than this is dropped: one-minute data is kept for 15 days (GetMetricStatistics, "retains"). */
const RETENTION_MS = 15 * 24 * 3600 * 1000;

const MINUTE_MS = 60_000;

const dimensionsKey = (dimensions: readonly Dimension[]): string =>
  dimensions.length === 1
    ? `${dimensions[0]!.name}\u0000${dimensions[0]!.value}`
    : [...dimensions]
        .map((d) => `${d.name}\u0000${d.value}`)
        .sort()
        .join('\u0001');

export const metricKey = (metric: MetricIdentity): string =>
  `${metric.namespace}\u0002${metric.metricName}\u0002${dimensionsKey(metric.dimensions)}`;

export const statisticValue = (values: StatisticSet, statistic: Statistic): number => {
  switch (statistic) {
    case 'SampleCount':
      return values.sampleCount;
    case 'Sum':
      return values.sum;
    case 'Minimum':
      return values.minimum;
    case 'Maximum':
      return values.maximum;
    case 'Average':
      return values.sum / values.sampleCount;
  }
};

const merge = (a: StatisticSet, b: StatisticSet): StatisticSet => ({
  sampleCount: a.sampleCount + b.sampleCount,
  sum: a.sum + b.sum,
  minimum: Math.min(a.minimum, b.minimum),
  maximum: Math.max(a.maximum, b.maximum),
});

const wholeValues = (v: StatisticSet): boolean =>
  Number.isSafeInteger(v.sampleCount) &&
  Number.isSafeInteger(v.sum) &&
  Number.isSafeInteger(v.minimum) &&
  Number.isSafeInteger(v.maximum);

const sameValues = (a: StatisticSet, b: StatisticSet): boolean =>
  a === b ||
  (a.sampleCount === b.sampleCount && a.sum === b.sum && a.minimum === b.minimum && a.maximum === b.maximum);

/** The timestamp of a run's last datapoint. */
const lastOf = (run: StoredRun): number => run.timestampMs + (run.repeat - 1) * MINUTE_MS;

/** The account's metric datapoints, by metric. */
export class MetricStore {
  private readonly series = new Map<string, Series>();

  constructor(private readonly now: () => number) {}

  put(datum: PublishedDatum): void {
    this.putValues(
      metricKey(datum),
      datum,
      datum.timestampMs,
      datum.values,
      datum.unit ?? 'None',
      datum.storageResolution === 1 ? 1 : 60,
    );
  }

  /**
   * Stores one datapoint of `metric`, whose `metricKey` is `key`: `put` without a datum object, for a source
   * that publishes for every group every minute.
   */
  putValues(
    key: string,
    metric: MetricIdentity,
    datumTimestampMs: number,
    values: StatisticSet,
    unit: string,
    storageResolution: 1 | 60 = 60,
  ): void {
    let series = this.series.get(key);
    if (!series) {
      series = {
        namespace: metric.namespace,
        metricName: metric.metricName,
        dimensions: metric.dimensions.map((d) => ({ name: d.name, value: d.value })),
        points: [],
      };
      this.series.set(key, series);
    }
    // Standard-resolution data is stored at one-minute granularity, high-resolution data at one second.
    const granularityMs = storageResolution === 1 ? 1000 : MINUTE_MS;
    const timestampMs = Math.floor(datumTimestampMs / granularityMs) * granularityMs;
    const joins = granularityMs === MINUTE_MS && wholeValues(values);
    const points = series.points;
    let index = points.length;
    while (index > 0 && points[index - 1]!.timestampMs > timestampMs) index--;
    const before = points[index - 1];
    if (before && lastOf(before) > timestampMs) {
      // Inside a run: split it, so the new datapoint sits after the run's datapoints at or before its time.
      const kept = Math.floor((timestampMs - before.timestampMs) / MINUTE_MS) + 1;
      const rest: StoredRun = {
        timestampMs: before.timestampMs + kept * MINUTE_MS,
        repeat: before.repeat - kept,
        values: before.values,
        unit: before.unit,
      };
      before.repeat = kept;
      points.splice(index, 0, rest);
    } else if (
      joins &&
      before &&
      index === points.length &&
      before.unit === unit &&
      lastOf(before) + MINUTE_MS === timestampMs &&
      sameValues(before.values, values)
    ) {
      before.repeat++;
      this.expire(points);
      return;
    }
    points.splice(index, 0, { timestampMs, repeat: 1, values, unit });
    this.expire(points);
  }

  /** Drops the datapoints older than the retention period. */
  private expire(points: StoredRun[]): void {
    const cutoff = this.now() - RETENTION_MS;
    let expired = 0;
    while (expired < points.length && lastOf(points[expired]!) < cutoff) expired++;
    if (expired > 0) points.splice(0, expired);
    const first = points[0];
    if (first && first.timestampMs < cutoff) {
      const drop = Math.ceil((cutoff - first.timestampMs) / MINUTE_MS);
      first.timestampMs += drop * MINUTE_MS;
      first.repeat -= drop;
    }
  }

  /** Every metric that has data, for ListMetrics-style lookups. */
  metrics(): MetricIdentity[] {
    return [...this.series.values()].filter((s) => s.points.length > 0);
  }

  /**
   * Aggregates the metric's data in [startMs, endMs) into periods of `periodSeconds` aligned to `startMs`, one
   * aggregate per period (and per unit when `unit` is not given, as GetMetricStatistics answers), oldest first.
   * Periods with no data are left out.
   */
  aggregate(
    metric: MetricIdentity,
    startMs: number,
    endMs: number,
    periodSeconds: number,
    unit?: string,
  ): PeriodAggregate[] {
    const series = this.series.get(metricKey(metric));
    if (!series) return [];
    const periodMs = periodSeconds * 1000;
    // Per unit, per period start; `created` keeps the aggregates in the order they were first made.
    const buckets = new Map<string, Map<number, { startMs: number; values: StatisticSet; unit: string }>>();
    const created: { startMs: number; values: StatisticSet; unit: string }[] = [];
    const points = series.points;
    // The first run whose last datapoint is in range (runs do not overlap, so their last datapoints are sorted).
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lastOf(points[mid]!) < startMs) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < points.length && points[i]!.timestampMs < endMs; i++) {
      const run = points[i]!;
      if (unit !== undefined && run.unit !== unit) continue;
      // The run's datapoints one by one, as if each were stored alone.
      const first = run.timestampMs < startMs ? Math.ceil((startMs - run.timestampMs) / MINUTE_MS) : 0;
      for (let k = first; k < run.repeat; k++) {
        const timestampMs = run.timestampMs + k * MINUTE_MS;
        if (timestampMs >= endMs) break;
        const bucketStart = startMs + Math.floor((timestampMs - startMs) / periodMs) * periodMs;
        let ofUnit = buckets.get(run.unit);
        if (!ofUnit) buckets.set(run.unit, (ofUnit = new Map()));
        const existing = ofUnit.get(bucketStart);
        if (existing) existing.values = merge(existing.values, run.values);
        else {
          const aggregate = { startMs: bucketStart, values: run.values, unit: run.unit };
          ofUnit.set(bucketStart, aggregate);
          created.push(aggregate);
        }
      }
    }
    return created.sort((a, b) => a.startMs - b.startMs);
  }

  /** Like `aggregate`, with every unit folded into one aggregate per period (how an alarm without Unit reads). */
  aggregateAllUnits(
    metric: MetricIdentity,
    startMs: number,
    endMs: number,
    periodSeconds: number,
    unit?: string,
  ): Map<number, StatisticSet> {
    const byPeriod = new Map<number, StatisticSet>();
    for (const aggregate of this.aggregate(metric, startMs, endMs, periodSeconds, unit)) {
      const existing = byPeriod.get(aggregate.startMs);
      byPeriod.set(aggregate.startMs, existing ? merge(existing, aggregate.values) : aggregate.values);
    }
    return byPeriod;
  }
}

/**
 * Something in the account that publishes metrics on its own, as an AWS service or an agent on the instances
 * would: asked once a minute of virtual time for the datapoints of the minute that just ended.
 */
export interface MetricSource {
  /** Stores the datapoints for [periodStartMs, periodStartMs + 60 s) in `store`; their timestamps are periodStartMs. */
  sample(periodStartMs: number, store: MetricStore): void;
}

/** Which InService instances serve errors. Default: none; the account plugs in the `appFailure` fault. */
export type ApplicationFailurePredicate = (groupName: string, imageId: string) => boolean;

/** The namespace and metric of the fleet's application error metric. */
export const APP_ERRORS_METRIC = { namespace: 'App', metricName: 'Errors' } as const;

/**
 * The fleet's application, as its agents would report it: for every Auto Scaling group, `App` `Errors`
 * (dimension AutoScalingGroupName, unit Count) is the number of the group's InService instances whose
 * application fails, once a minute, and the fleet's total with no dimensions. With nothing failing it is 0, so an alarm on it stays OK; a fault that
 * breaks an image's application moves it for the groups running that image.
 */
export function fleetApplicationMetrics(
  account: LocalAccount,
  failing: ApplicationFailurePredicate = () => false,
): MetricSource {
  // Each group's metric identity and key, and the statistic set of each error count, made once: a sample a
  // minute for every group is the fleet's steady cost while alarms exist.
  const identities = new Map<string, { readonly metric: MetricIdentity; readonly key: string }>();
  const sets: StatisticSet[] = [];
  const setOf = (errors: number): StatisticSet =>
    (sets[errors] ??= Object.freeze({ sampleCount: 1, sum: errors, minimum: errors, maximum: errors }));
  const fleetMetric = { ...APP_ERRORS_METRIC, dimensions: [] };
  const fleetKey = metricKey(fleetMetric);
  return {
    sample(periodStartMs, store) {
      let total = 0;
      for (const group of account.state.autoScalingGroups.values()) {
        const name = group.autoScalingGroupName;
        let identity = identities.get(name);
        if (!identity) {
          const metric = {
            ...APP_ERRORS_METRIC,
            dimensions: [{ name: 'AutoScalingGroupName', value: name }],
          };
          identity = { metric, key: metricKey(metric) };
          identities.set(name, identity);
        }
        let errors = 0;
        for (const id of group.instanceIds) {
          const instance = account.state.instances.get(id);
          if (instance?.lifecycleState === 'InService' && failing(name, instance.imageId)) errors++;
        }
        store.putValues(identity.key, identity.metric, periodStartMs, setOf(errors), 'Count');
        total += errors;
      }
      // The fleet's total too, with no dimensions, as agents that also publish the metric without dimensions report it (not checked against the CloudWatch agent's documentation): what a fleet-wide alarm (a health gate) watches.
      store.putValues(fleetKey, fleetMetric, periodStartMs, setOf(total), 'Count');
    },
  };
}
