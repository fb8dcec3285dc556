import { describe, expect, it } from 'vitest';
import type { LedgerWave } from '../../src/core/ledger-records.ts';
import {
  BATCH_SIZE,
  lanesFor,
  nextForwardBatch,
  nextRollbackBatch,
  resolveWaves,
  rollbackOrder,
} from '../../src/core/wave-plan.ts';

const wave = (
  index: number,
  firstGroup: number,
  groupCount: number,
  more: Partial<LedgerWave> = {},
): LedgerWave => ({
  index,
  name: `w${index}`,
  firstGroup,
  groupCount,
  maxParallel: 1,
  bakeMinutes: 0,
  ...more,
});
const NOW = new Date('2026-01-01T12:00:00Z');

describe('resolving waves', () => {
  const configured = [
    { name: 'canary', autoScalingGroupNames: ['web-1'], maxParallel: 1, bakeMinutes: 0 },
    { name: 'rest', autoScalingGroupTags: { tier: 'web' }, maxParallel: 10, bakeMinutes: 5 },
  ];

  it('puts the groups a selector found after those a wave names, each once', () => {
    const resolved = resolveWaves(configured, new Map([[1, ['web-2', 'web-3']]]));
    expect(resolved).toEqual({
      kind: 'ok',
      waves: [
        { name: 'canary', groups: ['web-1'], maxParallel: 1, bakeMinutes: 0 },
        {
          name: 'rest',
          groups: ['web-2', 'web-3'],
          maxParallel: 10,
          bakeMinutes: 5,
          selectedByTags: { tier: 'web' },
        },
      ],
    });
  });

  it('refuses a selector that matches nothing, naming the wave and the tags', () => {
    const resolved = resolveWaves(configured, new Map([[1, []]]));
    expect(resolved).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(
        /^wave "rest": autoScalingGroupTags \{"tier":"web"\} match no Auto Scaling group/,
      ),
    });
  });

  it('refuses a group a selector finds that another wave names', () => {
    const resolved = resolveWaves(configured, new Map([[1, ['web-1', 'web-2']]]));
    expect(resolved).toEqual({
      kind: 'invalid',
      reason: expect.stringMatching(
        /^group web-1 is in wave "canary" and in wave "rest" \(found by its tags\)/,
      ),
    });
  });
});

describe('forward batches', () => {
  it('runs serial waves with no bake between them in one batch, one at a time (the seed shape)', () => {
    const waves = Array.from({ length: 100 }, (_, i) => wave(i, i, 1));
    const plan = nextForwardBatch(waves, 0, NOW)!;
    expect(plan).toMatchObject({ from: 0, to: 100, maxParallel: 1, waitSeconds: 0 });
    expect(plan.lanes).toEqual([{ items: plan.items, maxConcurrency: 1 }]);
    expect(nextForwardBatch(waves, 100, NOW)).toBeUndefined();
  });

  it('splits at a bake and waits what is left of it', () => {
    const waves = [
      wave(0, 0, 1, { bakeMinutes: 30, endedAt: '2026-01-01T11:50:00Z' }),
      wave(1, 1, 2, { maxParallel: 2 }),
    ];
    expect(nextForwardBatch(waves, 0, NOW)).toMatchObject({ from: 0, to: 1, waitSeconds: 0, waves: ['w0'] });
    // Ended 10 minutes ago with a 30-minute bake: 20 minutes left.
    expect(nextForwardBatch(waves, 1, NOW)).toMatchObject({
      from: 1,
      to: 3,
      maxParallel: 2,
      waitSeconds: 1200,
    });
  });

  it('spreads a wide wave over lanes whose concurrencies add up to maxParallel, at most 40 each', () => {
    const waves = [wave(0, 0, 1), wave(1, 1, 1999, { maxParallel: 50 })];
    const plan = nextForwardBatch(waves, 1, NOW)!;
    expect(plan).toMatchObject({ from: 1, to: 1 + BATCH_SIZE, maxParallel: 50 });
    const lanes = plan.lanes;
    expect(lanes.map((l) => l.maxConcurrency)).toEqual([25, 25]);
    expect(lanes.map((l) => l.items.length)).toEqual([BATCH_SIZE / 2, BATCH_SIZE / 2]);
    expect(nextForwardBatch(waves, 1 + BATCH_SIZE, NOW)).toMatchObject({ from: 501, to: 1001 });
  });

  it('deals 200 at once to five lanes of 40, and never makes an empty lane', () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    expect(lanesFor(items, 200).map((l) => l.maxConcurrency)).toEqual([40, 40, 40, 40, 40]);
    expect(lanesFor(items, 41).map((l) => l.maxConcurrency)).toEqual([21, 20]);
    // Fewer groups than lanes: a lane each, none above Inline Map's 40.
    expect(lanesFor([1, 2], 200)).toEqual([
      { items: [1], maxConcurrency: 40 },
      { items: [2], maxConcurrency: 40 },
    ]);
    expect(lanesFor([], 5)).toEqual([]);
  });
});

describe('rollback batches', () => {
  it('takes the newest wave first, and its last group first', () => {
    const groups = [
      { index: 0, wave: 0 },
      { index: 1, wave: 1 },
      { index: 2, wave: 1 },
      { index: 3, wave: 2 },
    ];
    expect(rollbackOrder(groups)).toEqual([3, 2, 1, 0]);
  });

  it('rolls a parallel wave back in parallel, and serial waves together one at a time', () => {
    const waves = [wave(0, 0, 1), wave(1, 1, 2, { maxParallel: 2 }), wave(2, 3, 1), wave(3, 4, 1)];
    const waveOf = (i: number) => [0, 1, 1, 2, 3][i]!;
    const order = [4, 3, 2, 1, 0];
    expect(nextRollbackBatch(waves, order, waveOf, 0)).toMatchObject({
      from: 0,
      to: 2,
      items: [4, 3],
      maxParallel: 1,
    });
    expect(nextRollbackBatch(waves, order, waveOf, 2)).toMatchObject({
      from: 2,
      to: 4,
      items: [2, 1],
      maxParallel: 2,
    });
    expect(nextRollbackBatch(waves, order, waveOf, 4)).toMatchObject({ from: 4, to: 5, items: [0] });
    expect(nextRollbackBatch(waves, order, waveOf, 5)).toBeUndefined();
  });
});
