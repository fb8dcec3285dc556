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

interface StoredPoint {
  readonly timestampMs: number;
  readonly values: StatisticSet;
  readonly unit: string;
}

interface Series extends MetricIdentity {
  /** Sorted by timestamp; equal timestamps keep the order they were published in. */
  readonly points: StoredPoint[];
}

/** Data older than this is dropped: one-minute data is kept for 15 days (GetMetricStatistics, "retains"). */
const RETENTION_MS = 15 * 24 * 3600 * 1000;

const dimensionsKey = (dimensions: readonly Dimension[]): string =>
  [...dimensions]
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

/** The account's metric datapoints, by metric. */
export class MetricStore {
  private readonly series = new Map<string, Series>();

  constructor(private readonly now: () => number) {}

  put(datum: PublishedDatum): void {
    const key = metricKey(datum);
    let series = this.series.get(key);
    if (!series) {
      series = {
        namespace: datum.namespace,
        metricName: datum.metricName,
        dimensions: datum.dimensions.map((d) => ({ name: d.name, value: d.value })),
        points: [],
      };
      this.series.set(key, series);
    }
    // Standard-resolution data is stored at one-minute granularity, high-resolution data at one second.
    const granularityMs = datum.storageResolution === 1 ? 1000 : 60_000;
    const point: StoredPoint = {
      timestampMs: Math.floor(datum.timestampMs / granularityMs) * granularityMs,
      values: datum.values,
      unit: datum.unit ?? 'None',
    };
    const points = series.points;
    let index = points.length;
    while (index > 0 && points[index - 1]!.timestampMs > point.timestampMs) index--;
    points.splice(index, 0, point);
    const cutoff = this.now() - RETENTION_MS;
    let expired = 0;
    while (expired < points.length && points[expired]!.timestampMs < cutoff) expired++;
    if (expired > 0) points.splice(0, expired);
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
    const buckets = new Map<string, PeriodAggregate>();
    const points = series.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]!.timestampMs < startMs) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < points.length && points[i]!.timestampMs < endMs; i++) {
      const point = points[i]!;
      if (unit !== undefined && point.unit !== unit) continue;
      const bucketStart = startMs + Math.floor((point.timestampMs - startMs) / periodMs) * periodMs;
      const key = `${bucketStart}/${point.unit}`;
      const existing = buckets.get(key);
      buckets.set(key, {
        startMs: bucketStart,
        values: existing ? merge(existing.values, point.values) : point.values,
        unit: point.unit,
      });
    }
    return [...buckets.values()].sort((a, b) => a.startMs - b.startMs);
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
  /** The datapoints for [periodStartMs, periodStartMs + 60 s); their timestamps are periodStartMs. */
  sample(periodStartMs: number): readonly PublishedDatum[];
}

/** Which InService instances serve errors. Default: none; the account plugs in the `appFailure` fault. */
export type ApplicationFailurePredicate = (groupName: string, imageId: string) => boolean;

/** The namespace and metric of the fleet's application error metric. */
export const APP_ERRORS_METRIC = { namespace: 'App', metricName: 'Errors' } as const;

/**
 * The fleet's application, as its agents would report it: for every Auto Scaling group, `App` `Errors`
 * (dimension AutoScalingGroupName, unit Count) is the number of the group's InService instances whose
 * application fails, once a minute. With nothing failing it is 0, so an alarm on it stays OK; a fault that
 * breaks an image's application moves it for the groups running that image.
 */
export function fleetApplicationMetrics(
  account: LocalAccount,
  failing: ApplicationFailurePredicate = () => false,
): MetricSource {
  return {
    sample(periodStartMs) {
      const data: PublishedDatum[] = [];
      for (const group of account.state.autoScalingGroups.values()) {
        let errors = 0;
        for (const id of group.instanceIds) {
          const instance = account.state.instances.get(id);
          if (
            instance?.lifecycleState === 'InService' &&
            failing(group.autoScalingGroupName, instance.imageId)
          )
            errors++;
        }
        data.push({
          ...APP_ERRORS_METRIC,
          dimensions: [{ name: 'AutoScalingGroupName', value: group.autoScalingGroupName }],
          timestampMs: periodStartMs,
          values: { sampleCount: 1, sum: errors, minimum: errors, maximum: errors },
          unit: 'Count',
        });
      }
      return data;
    },
  };
}
