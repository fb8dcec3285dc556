/**
 * The metric store keeps identical minute datapoints as runs (services/cloudwatch-metrics.ts). Read against a
 * plain list of every datapoint, aggregated one by one in timestamp order, it must give the same periods, the
 * same statistic sets and the same retention, whatever order, resolution and values the datapoints come in.
 */
import { describe, expect, it } from 'vitest';
import {
  MetricStore,
  type PublishedDatum,
  type StatisticSet,
} from '../../src/local-account/services/cloudwatch-metrics.ts';

const MINUTE = 60_000;
const RETENTION = 15 * 24 * 3600 * 1000;
const metric = { namespace: 'App', metricName: 'Errors', dimensions: [{ name: 'G', value: 'web' }] };

/** The store as it was before runs: every datapoint, stably sorted, folded in order. */
class Reference {
  points: { timestampMs: number; values: StatisticSet; unit: string }[] = [];
  constructor(private readonly now: () => number) {}
  put(datum: PublishedDatum): void {
    const granularity = datum.storageResolution === 1 ? 1000 : MINUTE;
    const point = {
      timestampMs: Math.floor(datum.timestampMs / granularity) * granularity,
      values: datum.values,
      unit: datum.unit ?? 'None',
    };
    let index = this.points.length;
    while (index > 0 && this.points[index - 1]!.timestampMs > point.timestampMs) index--;
    this.points.splice(index, 0, point);
    this.points = this.points.filter((p) => p.timestampMs >= this.now() - RETENTION);
  }
  aggregate(startMs: number, endMs: number, periodSeconds: number, unit?: string) {
    const buckets = new Map<string, { startMs: number; values: StatisticSet; unit: string }>();
    for (const p of this.points) {
      if (p.timestampMs < startMs || p.timestampMs >= endMs) continue;
      if (unit !== undefined && p.unit !== unit) continue;
      const bucketStart =
        startMs + Math.floor((p.timestampMs - startMs) / (periodSeconds * 1000)) * periodSeconds * 1000;
      const key = `${bucketStart}/${p.unit}`;
      const e = buckets.get(key);
      buckets.set(key, {
        startMs: bucketStart,
        unit: p.unit,
        values: e
          ? {
              sampleCount: e.values.sampleCount + p.values.sampleCount,
              sum: e.values.sum + p.values.sum,
              minimum: Math.min(e.values.minimum, p.values.minimum),
              maximum: Math.max(e.values.maximum, p.values.maximum),
            }
          : p.values,
      });
    }
    return [...buckets.values()].sort((a, b) => a.startMs - b.startMs);
  }
}

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const set = (v: number, n = 1): StatisticSet => ({ sampleCount: n, sum: v * n, minimum: v, maximum: v });

describe('MetricStore: runs of identical minute datapoints', () => {
  it('aggregates as the datapoints one by one would, for in-order, late, high-resolution and fractional data', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const now = 0;
      const store = new MetricStore(() => now);
      const reference = new Reference(() => now);
      let minute = 0;
      for (let i = 0; i < 400; i++) {
        const r = next();
        let datum: PublishedDatum;
        if (r < 0.7) {
          // The fleet's shape: one datapoint a minute, mostly the same whole value.
          minute++;
          datum = {
            ...metric,
            timestampMs: minute * MINUTE,
            values: set(next() < 0.85 ? 0 : 1),
            unit: 'Count',
          };
        } else if (r < 0.8) {
          // Late: inside the minutes already stored.
          const at = Math.floor(next() * (minute + 1)) * MINUTE + (next() < 0.5 ? 0 : 17_000);
          datum = { ...metric, timestampMs: at, values: set(0), unit: 'Count' };
        } else if (r < 0.87) {
          const at = Math.floor(next() * (minute + 1)) * MINUTE + Math.floor(next() * 60) * 1000;
          datum = { ...metric, timestampMs: at, values: set(2), unit: 'Count', storageResolution: 1 };
        } else if (r < 0.94) {
          minute++;
          datum = { ...metric, timestampMs: minute * MINUTE, values: set(0.1, 3), unit: 'Count' };
        } else {
          minute++;
          datum = { ...metric, timestampMs: minute * MINUTE, values: set(0), unit: 'Seconds' };
        }
        store.put(datum);
        reference.put(datum);
      }
      for (const [start, end, period, unit] of [
        [0, (minute + 2) * MINUTE, 60, undefined],
        [0, (minute + 2) * MINUTE, 300, undefined],
        [7 * MINUTE + 30_000, 90 * MINUTE, 120, 'Count'],
        [13 * MINUTE, 14 * MINUTE, 60, undefined],
        [5 * MINUTE, 200 * MINUTE, 3600, 'Seconds'],
      ] as const) {
        expect(store.aggregate(metric, start, end, period, unit), `seed ${seed}`).toEqual(
          reference.aggregate(start, end, period, unit),
        );
      }
    }
  });

  it('drops the minutes past retention from the front of a run, one minute at a time', () => {
    let now = 0;
    const store = new MetricStore(() => now);
    const reference = new Reference(() => now);
    for (let minute = 0; minute < 100; minute++) {
      const datum = { ...metric, timestampMs: minute * MINUTE, values: set(0), unit: 'Count' };
      store.put(datum);
      reference.put(datum);
    }
    now = RETENTION + 40.5 * MINUTE;
    const late = { ...metric, timestampMs: 100 * MINUTE, values: set(0), unit: 'Count' };
    store.put(late);
    reference.put(late);
    const read = store.aggregate(metric, 0, 200 * MINUTE, 600);
    expect(read).toEqual(reference.aggregate(0, 200 * MINUTE, 600));
    // Minutes 0-40 are past retention: the first 10-minute period holds minutes 41-49.
    expect(read[0]).toEqual({ startMs: 40 * MINUTE, values: set(0, 9), unit: 'Count' });
  });
});
