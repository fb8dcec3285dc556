import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import type { LedgerGroup, LedgerRolloutItem, LedgerWave } from '../../src/core/ledger-records.ts';
import { fleetProgress, type LedgerSnapshot } from '../../src/execution/fleet-progress.ts';
import {
  SMALL_FLEET,
  changeLines,
  fitView,
  renderFleet,
  renderGroups,
} from '../../src/execution/fleet-render.ts';
import { childExecutionArns, historyStats, largestPayload } from '../../src/execution/history-stats.ts';
import { RolloutWatch } from '../../src/execution/rollout-watch.ts';

const T0 = Date.UTC(2026, 0, 1);
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

const rollout = (fields: Partial<LedgerRolloutItem> = {}): LedgerRolloutItem => ({
  rolloutId: 'rollout-ami-0123456789abcdef0',
  imageId: 'ami-0123456789abcdef0',
  executionArn: 'arn:aws:states:us-east-1:111122223333:execution:ami-rollout:rollout-ami-0123456789abcdef0',
  createdAt: iso(0),
  rollbackTargetImageId: 'ami-00000000000000000',
  groupCount: 0,
  waveCount: 0,
  forwardCursor: 0,
  rollbackCursor: 0,
  ...fields,
});

/** Waves of the given sizes, in order, with their groups' first indexes. */
function waves(
  specs: readonly {
    name: string;
    size: number;
    maxParallel?: number;
    bakeMinutes?: number;
    endedAt?: string;
  }[],
): LedgerWave[] {
  let first = 0;
  return specs.map((s, index) => {
    const wave: LedgerWave = {
      index,
      name: s.name,
      firstGroup: first,
      groupCount: s.size,
      maxParallel: s.maxParallel ?? 1,
      bakeMinutes: s.bakeMinutes ?? 0,
      ...(s.endedAt ? { endedAt: s.endedAt } : {}),
    };
    first += s.size;
    return wave;
  });
}

function group(index: number, wave: number, fields: Partial<LedgerGroup> = {}): LedgerGroup {
  return {
    index,
    wave,
    autoScalingGroupName: `g-${String(index).padStart(4, '0')}`,
    launchTemplateId: 'lt-0123456789abcdef0',
    previousLaunchTemplateVersion: '$Default',
    status: 'PENDING',
    ...fields,
  };
}

const refresh = (
  g: number,
  status: string,
  percentageComplete: number,
  extra: Record<string, unknown> = {},
) => ({
  groupIndex: g,
  autoScalingGroupName: `g-${String(g).padStart(4, '0')}`,
  instanceRefreshId: `refresh-${g}`,
  launchTemplateId: 'lt-0123456789abcdef0',
  launchTemplateVersion: 2,
  startedAt: iso(10),
  status,
  percentageComplete,
  ...extra,
});

/** A rollout of `count` groups: a canary wave of one, then waves of `size` at `maxParallel` 50. */
function bigSnapshot(
  count: number,
  size: number,
  state: (index: number) => Partial<LedgerGroup>,
): LedgerSnapshot {
  const specs = [{ name: 'canary', size: 1, bakeMinutes: 10 }];
  for (let left = count - 1, n = 1; left > 0; n++, left -= size)
    specs.push({ name: `wave-${n}`, size: Math.min(size, left), bakeMinutes: 0 });
  const w = waves(specs.map((s) => ({ ...s, maxParallel: s.size > 1 ? 50 : 1 })));
  const groups = w.flatMap((wave) =>
    Array.from({ length: wave.groupCount }, (_, k) =>
      group(wave.firstGroup + k, wave.index, state(wave.firstGroup + k)),
    ),
  );
  return { rollout: rollout({ groupCount: count, waveCount: w.length }), waves: w, groups };
}

describe('fleetProgress', () => {
  it('gives each group its wave, phase, refresh id and status, percentage and times from the ledger', () => {
    const snapshot: LedgerSnapshot = {
      rollout: rollout({ groupCount: 3, waveCount: 2 }),
      waves: waves([
        { name: 'canary', size: 1, endedAt: iso(20) },
        { name: 'rest', size: 2, maxParallel: 2 },
      ]),
      groups: [
        group(0, 0, {
          status: 'SUCCEEDED',
          refresh: refresh(0, 'Successful', 100),
          startedAt: iso(10),
          endedAt: iso(20),
        }),
        group(1, 1, {
          status: 'REFRESHING',
          refresh: refresh(1, 'InProgress', 40, { startedAt: iso(21) }),
          startedAt: iso(21),
        }),
        group(2, 1, { status: 'PENDING' }),
      ],
    };
    const view = fleetProgress(snapshot);
    expect(
      view.groups.map((g) => [g.name, g.wave, g.phase, g.refreshId, g.refreshStatus, g.percentage]),
    ).toEqual([
      ['g-0000', 'canary', 'done', 'refresh-0', 'Successful', 100],
      ['g-0001', 'rest', 'refreshing', 'refresh-1', 'InProgress', 40],
      ['g-0002', 'rest', 'waiting', undefined, undefined, 0],
    ]);
    expect(view.groups[0]).toMatchObject({ startedAt: iso(10), endedAt: iso(20), durationSeconds: 600 });
    expect(view.groups[1]!.endedAt).toBeUndefined();
    expect(view.waves!.map((w) => [w.name, w.state, w.done, w.refreshing, w.pending])).toEqual([
      ['canary', 'done', 1, 0, 0],
      ['rest', 'running', 0, 1, 1],
    ]);
    // No clock given: "now" is the latest time any record names.
    expect(view.now?.toISOString()).toBe(iso(21));
    expect(view.rollingBack).toBe(false);
  });

  it('counts what is left of a bake from the wave`s end, until the next wave starts', () => {
    const snapshot: LedgerSnapshot = {
      rollout: rollout(),
      waves: waves([
        { name: 'canary', size: 1, bakeMinutes: 30, endedAt: iso(20) },
        { name: 'rest', size: 1 },
      ]),
      groups: [group(0, 0, { status: 'SUCCEEDED', endedAt: iso(20) }), group(1, 1)],
    };
    const baking = fleetProgress(snapshot, { now: new Date(T0 + 26 * 60_000) }).waves![0]!;
    expect(baking).toMatchObject({ state: 'baking', bakeLeftSeconds: 24 * 60 });
    expect(fleetProgress(snapshot, { now: new Date(T0 + 51 * 60_000) }).waves![0]!.state).toBe('done');
    const started = { ...snapshot, groups: [snapshot.groups[0]!, group(1, 1, { status: 'STARTING' })] };
    expect(fleetProgress(started, { now: new Date(T0 + 26 * 60_000) }).waves![0]!.state).toBe('done');
  });

  it('shows a failure mid-wave: the failed group, groups skipped after it, the rollback and the rollout`s failure', () => {
    const snapshot: LedgerSnapshot = {
      rollout: rollout({
        failure: {
          autoScalingGroupName: 'g-0002',
          index: 2,
          wave: 1,
          reason: 'instances unhealthy',
          at: iso(30),
        },
        rollbackOrder: [2, 1, 0],
        phase: 'rollback',
      }),
      waves: waves([
        { name: 'canary', size: 1, endedAt: iso(20) },
        { name: 'rest', size: 3, maxParallel: 2 },
      ]),
      groups: [
        group(0, 0, {
          status: 'SUCCEEDED',
          rollback: { launchTemplateVersion: 1, reason: 'r', status: 'PENDING' },
        }),
        group(1, 1, {
          status: 'SUCCEEDED',
          rollback: {
            launchTemplateVersion: 1,
            reason: 'r',
            status: 'ROLLING_BACK',
            refresh: refresh(1, 'InProgress', 30, { instanceRefreshId: 'back-1' }),
          },
        }),
        group(2, 1, {
          status: 'FAILED',
          refresh: refresh(2, 'Failed', 50, { statusReason: 'instances unhealthy' }),
          rollback: {
            launchTemplateVersion: 1,
            reason: 'r',
            status: 'ROLLED_BACK',
            refresh: refresh(2, 'Successful', 100),
          },
        }),
        group(3, 1, { status: 'SKIPPED' }),
      ],
    };
    const view = fleetProgress(snapshot);
    expect(view.rollingBack).toBe(true);
    expect(view.failure).toEqual({
      group: 'g-0002',
      wave: 'rest',
      reason: 'instances unhealthy',
      at: iso(30),
    });
    expect(view.groups.map((g) => g.phase)).toEqual(['done', 'rolling-back', 'rolled-back', 'skipped']);
    expect(view.groups[1]).toMatchObject({
      refreshStatus: 'InProgress',
      percentage: 30,
      rollback: { status: 'ROLLING_BACK', refreshId: 'back-1' },
    });
    expect(view.groups[2]).toMatchObject({ refreshId: 'refresh-2', statusReason: 'instances unhealthy' });
    expect(view.waves!.map((w) => w.state)).toEqual(['done', 'rolling-back']);
  });

  it('takes the step and the end from the parent`s history; groups never reached are untouched once it ended', () => {
    const snapshot: LedgerSnapshot = {
      rollout: rollout(),
      waves: waves([{ name: 'all', size: 2, maxParallel: 2 }]),
      groups: [group(0, 0, { status: 'SUCCEEDED' }), group(1, 0)],
    };
    const view = fleetProgress(snapshot, {
      parent: { step: 'NotifyRollback', ended: 'FAILED', rollingBack: true, startedAt: new Date(T0) },
    });
    expect(view).toMatchObject({ step: 'NotifyRollback', ended: 'FAILED', rollingBack: true });
    expect(view.groups[1]!.phase).toBe('untouched');
  });
});

describe('rendering a large fleet', () => {
  // 2,000 groups: the canary done, wave-1 (400) done, wave-2 half done with 50 in flight and 3 failed.
  const snapshot = bigSnapshot(2000, 400, (i) =>
    i <= 400
      ? { status: 'SUCCEEDED', refresh: refresh(i, 'Successful', 100) }
      : i <= 600
        ? { status: 'SUCCEEDED', refresh: refresh(i, 'Successful', 100) }
        : i <= 650
          ? { status: 'REFRESHING', refresh: refresh(i, 'InProgress', (i * 7) % 100) }
          : i <= 653
            ? { status: 'FAILED', refresh: refresh(i, 'Failed', 20, { statusReason: `launch failed: ${i}` }) }
            : {},
  );
  const view = fleetProgress(snapshot, {
    parent: { step: 'RunBatch', rollingBack: false, startedAt: new Date(T0) },
  });

  it('summarizes every wave, lists every failure and the groups in flight, not a bar per group', () => {
    const lines = renderGroups(view);
    expect(lines.length).toBeLessThan(100);
    expect(lines[0]).toBe('2000 groups in 6 waves: 601 done, 50 refreshing, 3 failed, 1346 pending');
    expect(lines).toContain(
      '  wave wave-2  400 groups, 50 at once: 200 done, 50 refreshing, 3 failed, 147 pending  failed',
    );
    expect(lines.filter((l) => l.startsWith('  FAILED '))).toEqual([
      '  FAILED g-0651 (wave wave-2): refresh Failed: launch failed: 651',
      '  FAILED g-0652 (wave wave-2): refresh Failed: launch failed: 652',
      '  FAILED g-0653 (wave wave-2): refresh Failed: launch failed: 653',
    ]);
    expect(lines.filter((l) => / refreshing \(InProgress\)/.test(l))).toHaveLength(50);
    // Waves still waiting, one after another, are one line.
    expect(lines).toContain('  waves wave-3 … wave-5 (3 waves, 1199 groups): 1199 pending  waiting');
  });

  it('fits the live block to the terminal, each part keeping a line', () => {
    for (const [columns, rows] of [
      [80, 24],
      [100, 10],
      [40, 5],
      [80, 3],
    ] as const) {
      const lines = fitView(view, { columns, rows })!;
      expect(lines.length).toBeLessThanOrEqual(rows - 1);
      expect(lines.every((l) => l.length < columns)).toBe(true);
    }
    const lines = fitView(view, { columns: 120, rows: 12 })!;
    expect(lines).toHaveLength(11);
    expect(lines.some((l) => l.startsWith('  FAILED '))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ {2}\.\.\. \d+ more groups in flight$/);
  });

  it('gives a fleet of a few groups one bar per group, as before waves', () => {
    const small = bigSnapshot(SMALL_FLEET, 19, (i) =>
      i === 0 ? { status: 'SUCCEEDED', refresh: refresh(0, 'Successful', 100) } : {},
    );
    const lines = renderGroups(fleetProgress(small));
    expect(lines).toHaveLength(SMALL_FLEET);
    expect(lines[0]).toMatch(/^ {2}g-0000 +\[#+\] 100% {2}done \(Successful\) {2}wave canary$/);
  });
});

describe('changeLines', () => {
  const frames = (count: number) => {
    // A 2,000-group rollout seen at every group's end: the plain log must stay short.
    const at = (done: number) =>
      fleetProgress(
        bigSnapshot(count, 500, (i) =>
          i < done ? { status: 'SUCCEEDED', refresh: refresh(i, 'Successful', 100) } : {},
        ),
        { now: new Date(T0 + done * 60_000), parent: { rollingBack: false, startedAt: new Date(T0) } },
      );
    const lines: string[] = [];
    let before;
    for (let done = 0; done <= count; done += 25) {
      const view = at(done);
      lines.push(...changeLines(before, view));
      before = view;
    }
    return lines;
  };

  it('prints the waves and a line per tenth of the fleet for 2,000 groups, not a line per group', () => {
    const lines = frames(2000);
    expect(lines.length).toBeLessThan(40);
    expect(lines.filter((l) => / wave wave-\d started/.test(l))).toHaveLength(4);
    expect(lines.filter((l) => / wave wave-\d done/.test(l))).toHaveLength(4);
    expect(lines.filter((l) => / groups in \d+ waves:/.test(l))).toHaveLength(10);
  });

  it('prints every group`s status change with verbose', () => {
    const two = (status: 'REFRESHING' | 'SUCCEEDED') =>
      fleetProgress(
        bigSnapshot(30, 29, (i) => ({
          status,
          refresh: refresh(
            i,
            status === 'SUCCEEDED' ? 'Successful' : 'InProgress',
            status === 'SUCCEEDED' ? 100 : 5,
          ),
        })),
      );
    expect(changeLines(two('REFRESHING'), two('SUCCEEDED'))).toHaveLength(1 + 1);
    expect(
      changeLines(two('REFRESHING'), two('SUCCEEDED'), { verbose: true }).filter((l) =>
        l.includes('refresh Successful 100%'),
      ),
    ).toHaveLength(30);
  });

  it('says once that the rollback started, and names each failed group', () => {
    const base = bigSnapshot(30, 29, (i) => (i === 0 ? { status: 'SUCCEEDED' } : {}));
    const before = fleetProgress(base);
    const failed = fleetProgress({
      ...base,
      rollout: { ...base.rollout, rollbackOrder: [1, 0] },
      groups: base.groups.map((g) =>
        g.index === 1
          ? {
              ...g,
              status: 'FAILED',
              refresh: refresh(1, 'Failed', 10, { statusReason: 'alarm x in ALARM' }),
            }
          : g,
      ),
    });
    const lines = changeLines(before, failed);
    expect(lines.filter((l) => l.includes('ROLLBACK:'))).toHaveLength(1);
    expect(lines).toContain('+00:10:00  FAILED g-0001 (wave wave-1): refresh Failed: alarm x in ALARM');
    expect(changeLines(failed, failed)).toEqual([]);
  });
});

describe('RolloutWatch', () => {
  it('follows the history alone for an execution with no ledger, and the ledger once it has one', () => {
    const watch = new RolloutWatch(['web']);
    const entered: HistoryEvent = {
      id: 1,
      timestamp: new Date(T0),
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'Preflight' },
    };
    expect(watch.applyEvents([entered])).toEqual(['+00:00:00  Preflight']);
    expect(watch.fromLedger).toBe(false);
    expect(watch.view.groups.map((g) => g.name)).toEqual(['web']);
    const snapshot: LedgerSnapshot = {
      rollout: rollout(),
      waves: waves([{ name: 'web', size: 1 }]),
      groups: [
        {
          ...group(0, 0),
          autoScalingGroupName: 'web',
          status: 'REFRESHING',
          refresh: { ...refresh(0, 'InProgress', 50), autoScalingGroupName: 'web' },
        },
      ],
    };
    expect(watch.applySnapshot(snapshot)).toEqual(['+00:10:00  web: refresh InProgress 50%']);
    expect(watch.view).toMatchObject({ step: 'Preflight', groups: [{ name: 'web', phase: 'refreshing' }] });
  });
});

describe('history stats', () => {
  const event = (id: number, type: string, details: Record<string, unknown> = {}): HistoryEvent =>
    ({ id, type, timestamp: new Date(T0), ...details }) as HistoryEvent;

  it('counts events per execution, the mean and max of the group executions, and finds the largest payload', () => {
    const big = JSON.stringify({ x: 'é'.repeat(1000) });
    const executions = [
      {
        executionArn: 'p',
        kind: 'parent' as const,
        events: [
          event(1, 'ExecutionStarted', { executionStartedEventDetails: { input: '{}' } }),
          event(2, 'TaskStateEntered'),
        ],
      },
      { executionArn: 'b1', kind: 'batch' as const, events: [event(1, 'ExecutionStarted')] },
      { executionArn: 'g1', kind: 'group' as const, events: [event(1, 'A'), event(2, 'B')] },
      {
        executionArn: 'g2',
        kind: 'group' as const,
        events: [
          event(1, 'A'),
          event(2, 'B'),
          event(3, 'TaskStateExited', { stateExitedEventDetails: { name: 'x', output: big } }),
        ],
      },
    ];
    expect(historyStats(executions)).toEqual({
      parent: { executionArn: 'p', events: 2 },
      batches: [{ executionArn: 'b1', events: 1 }],
      groups: { executions: 2, maxEvents: 3, meanEvents: 2.5, maxExecutionArn: 'g2' },
      totalEvents: 8,
      stateTransitions: 1,
    });
    // Bytes of UTF-8, not characters: é is two bytes.
    expect(largestPayload(executions)).toEqual({
      bytes: 2008,
      executionArn: 'g2',
      eventId: 3,
      eventType: 'TaskStateExited',
      field: 'output',
    });
  });

  it('finds the children a history started, from its startExecution Task events', () => {
    const events = [
      event(5, 'TaskSubmitted', {
        taskSubmittedEventDetails: {
          resourceType: 'states',
          resource: 'startExecution.sync:2',
          output: JSON.stringify({ ExecutionArn: 'child-1', StartDate: 1 }),
        },
      }),
      event(6, 'TaskSucceeded', {
        taskSucceededEventDetails: {
          resourceType: 'states',
          resource: 'startExecution.sync:2',
          output: JSON.stringify({ ExecutionArn: 'child-1', Output: {} }),
        },
      }),
      event(7, 'TaskFailed', {
        taskFailedEventDetails: {
          resourceType: 'states',
          resource: 'startExecution.sync:2',
          error: 'States.TaskFailed',
          cause: JSON.stringify({ ExecutionArn: 'child-2' }),
        },
      }),
      event(8, 'TaskSucceeded', {
        taskSucceededEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          output: JSON.stringify({ ExecutionArn: 'not-a-child' }),
        },
      }),
    ];
    expect(childExecutionArns(events)).toEqual(['child-1', 'child-2']);
  });
});

describe('renderFleet', () => {
  it('keeps the step and the totals on a terminal of three rows', () => {
    const view = fleetProgress(bigSnapshot(100, 50, () => ({})));
    expect(renderFleet(view, 2)).toHaveLength(2);
  });
});
