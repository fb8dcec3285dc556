import { INLINE_MAP_CONCURRENCY, type EffectiveWave } from '../config/schema.ts';
import type { LedgerWave } from './ledger-records.ts';

/**
 * Waves, in pure decisions: which groups each wave holds once its tag selectors are resolved, and which slice
 * of the plan the next batch execution runs.
 *
 * A batch execution runs at most BATCH_SIZE groups (about 8 history events each in the batch's Map, far below
 * Step Functions' 25,000), spread over LANES Inline Maps (each runs at most 40 iterations at once). Consecutive
 * serial waves (one group at a time) with no bake between them share a batch: a Map with MaxConcurrency 1 takes
 * its items in order, which is exactly "wave N+1 starts when wave N is done". So the seed's shape (one group
 * per wave, 100 groups) is one batch, and the rollout's execution records a handful of events for it.
 */

export const BATCH_SIZE = 500;
export const LANES = 5;

export interface ResolvedWave {
  readonly name: string;
  readonly groups: readonly string[];
  readonly maxParallel: number;
  readonly bakeMinutes: number;
  /** The alarms the wave's refreshes and bake are watched by (the gate's and its own); absent when none. */
  readonly alarmNames?: readonly string[];
  readonly selectedByTags?: Readonly<Record<string, string>>;
}

/** A configured wave as `wavesOf` gives it (its bake and alarms already combined with the gate's). */
export type WaveToResolve = Omit<EffectiveWave, 'alarmNames'> & { readonly alarmNames?: readonly string[] };

export type WaveResolution =
  | { readonly kind: 'ok'; readonly waves: readonly ResolvedWave[] }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * The waves with their tag selectors resolved (`tagged[i]`: the groups wave i's selector found, in name order).
 * Refused: a selector that matches nothing, a group in two waves (named in one, found by tags in another), and
 * a wave left with no groups.
 */
export function resolveWaves(
  waves: readonly WaveToResolve[],
  tagged: ReadonlyMap<number, readonly string[]>,
): WaveResolution {
  const owner = new Map<string, string>();
  const resolved: ResolvedWave[] = [];
  for (const [index, wave] of waves.entries()) {
    const found = tagged.get(index) ?? [];
    if (wave.autoScalingGroupTags && found.length === 0) {
      return {
        kind: 'invalid',
        reason: `wave "${wave.name}": autoScalingGroupTags ${JSON.stringify(wave.autoScalingGroupTags)} match no Auto Scaling group in this account and region; fix the tags (every key and value must match) or tag the groups`,
      };
    }
    const groups = [...new Set([...(wave.autoScalingGroupNames ?? []), ...found])];
    for (const group of groups) {
      const first = owner.get(group);
      if (first !== undefined) {
        return {
          kind: 'invalid',
          reason: `group ${group} is in wave "${first}" and in wave "${wave.name}"${found.includes(group) ? ' (found by its tags)' : ''}; a group refreshes in one wave only: remove it from one wave, or change its tags`,
        };
      }
      owner.set(group, wave.name);
    }
    if (groups.length === 0) {
      return { kind: 'invalid', reason: `wave "${wave.name}" has no groups` };
    }
    resolved.push({
      name: wave.name,
      groups,
      maxParallel: wave.maxParallel,
      bakeMinutes: wave.bakeMinutes,
      ...(wave.alarmNames && wave.alarmNames.length > 0 ? { alarmNames: [...wave.alarmNames] } : {}),
      ...(wave.autoScalingGroupTags ? { selectedByTags: wave.autoScalingGroupTags } : {}),
    });
  }
  return { kind: 'ok', waves: resolved };
}

/** One lane of a batch: an Inline Map over these group indexes, at most `maxConcurrency` at once. */
export interface Lane {
  readonly items: readonly number[];
  readonly maxConcurrency: number;
}

export interface BatchPlan {
  /** The cursor positions the batch covers: [from, to). */
  readonly from: number;
  readonly to: number;
  /** Group indexes, in the order they start. */
  readonly items: readonly number[];
  readonly maxParallel: number;
  /** At most LANES lanes, each an Inline Map of the batch (no empty lane). */
  readonly lanes: readonly Lane[];
  /** Seconds to wait before the batch starts: what is left of the bake of the wave before. */
  readonly waitSeconds: number;
  /** Names of the waves the batch runs. */
  readonly waves: readonly string[];
}

const serial = (wave: Pick<LedgerWave, 'maxParallel' | 'groupCount'>) =>
  wave.maxParallel === 1 || wave.groupCount === 1;

/**
 * The next forward batch from `cursor` (the index of the next group in rollout order), or undefined when every
 * group has had its turn. `now` and each wave's `endedAt` decide what is left of a bake.
 */
export function nextForwardBatch(
  waves: readonly LedgerWave[],
  cursor: number,
  now: Date,
): BatchPlan | undefined {
  const ordered = [...waves].sort((a, b) => a.index - b.index);
  const first = ordered.findIndex((w) => cursor >= w.firstGroup && cursor < w.firstGroup + w.groupCount);
  if (first < 0) return undefined;
  const wave = ordered[first]!;
  let waitSeconds = 0;
  const before = ordered[first - 1];
  if (cursor === wave.firstGroup && before && before.bakeMinutes > 0) {
    const ended = before.endedAt ? Date.parse(before.endedAt) : now.getTime();
    waitSeconds = Math.max(0, Math.ceil((ended + before.bakeMinutes * 60_000 - now.getTime()) / 1000));
  }
  let to = Math.min(wave.firstGroup + wave.groupCount, cursor + BATCH_SIZE);
  const names = [wave.name];
  if (serial(wave)) {
    // Serial waves with no bake between them run in one batch, one group at a time, in order.
    for (let i = first + 1; i < ordered.length; i++) {
      const previous = ordered[i - 1]!;
      const next = ordered[i]!;
      if (previous.bakeMinutes > 0 || !serial(next) || to !== next.firstGroup) break;
      const end = Math.min(next.firstGroup + next.groupCount, cursor + BATCH_SIZE);
      if (end <= to) break;
      to = end;
      names.push(next.name);
      if (end < next.firstGroup + next.groupCount) break;
    }
  }
  const items = range(cursor, to);
  const maxParallel = serial(wave) ? 1 : wave.maxParallel;
  return {
    from: cursor,
    to,
    items,
    maxParallel,
    lanes: lanesFor(items, maxParallel),
    waitSeconds,
    waves: names,
  };
}

/**
 * The order the fleet rollback takes the groups to refresh back in: newest wave first, and in each wave the
 * last group first (the one that failed, whose refresh may still be replacing instances, goes back first).
 */
export function rollbackOrder(groups: readonly { index: number; wave: number }[]): number[] {
  return [...groups].sort((a, b) => b.wave - a.wave || b.index - a.index).map((g) => g.index);
}

/**
 * The next rollback batch from `cursor` (a position in `order`): the groups of one wave, in parallel up to its
 * maxParallel; consecutive serial waves share a batch, one group at a time.
 */
export function nextRollbackBatch(
  waves: readonly LedgerWave[],
  order: readonly number[],
  waveOf: (groupIndex: number) => number,
  cursor: number,
): BatchPlan | undefined {
  if (cursor >= order.length) return undefined;
  const byIndex = new Map(waves.map((w) => [w.index, w]));
  const waveAt = (position: number) => byIndex.get(waveOf(order[position]!));
  const wave = waveAt(cursor);
  if (!wave) return undefined;
  const names = [wave.name];
  let to = cursor + 1;
  const limit = Math.min(order.length, cursor + BATCH_SIZE);
  while (to < limit) {
    const next = waveAt(to);
    if (!next) break;
    if (next.index === wave.index) {
      to++;
      continue;
    }
    if (!serial(wave) || !serial(next)) break;
    if (!names.includes(next.name)) names.push(next.name);
    to++;
  }
  const items = order.slice(cursor, to);
  const maxParallel = serial(wave) ? 1 : wave.maxParallel;
  return {
    from: cursor,
    to,
    items,
    maxParallel,
    lanes: lanesFor(items, maxParallel),
    waitSeconds: 0,
    waves: names,
  };
}

/**
 * Spreads `items` over the lanes: as few lanes as Inline Map's 40-at-once limit allows (and no more than there
 * are items), their concurrencies adding up to `maxParallel`, items dealt in turn so each lane starts its share
 * in order.
 */
export function lanesFor(items: readonly number[], maxParallel: number): Lane[] {
  if (items.length === 0) return [];
  const count = Math.min(LANES, Math.max(1, Math.ceil(maxParallel / INLINE_MAP_CONCURRENCY)), items.length);
  return Array.from({ length: count }, (_, lane) => ({
    items: items.filter((_, i) => i % count === lane),
    maxConcurrency: Math.min(
      INLINE_MAP_CONCURRENCY,
      Math.max(1, Math.floor(maxParallel / count) + (lane < maxParallel % count ? 1 : 0)),
    ),
  }));
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
