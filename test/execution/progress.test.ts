import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { RolloutProgress, formatDuration, formatOffset, renderLive } from '../../src/execution/progress.ts';

const start = Date.UTC(2026, 0, 1);
let id = 0;
const at = (seconds: number) => new Date(start + seconds * 1000);
const entered = (seconds: number, name: string): HistoryEvent => ({
  id: ++id,
  timestamp: at(seconds),
  type: 'TaskStateEntered',
  stateEnteredEventDetails: { name, input: '{}' },
});
const exited = (seconds: number, name: string, rollout: unknown): HistoryEvent => ({
  id: ++id,
  timestamp: at(seconds),
  type: 'TaskStateExited',
  stateExitedEventDetails: { name, output: JSON.stringify({ rollout }) },
});
const refresh = (group: string, status: string, outcome: string, percentageComplete: number) => ({
  refresh: { autoScalingGroupName: group, status, outcome, percentageComplete },
});

describe('RolloutProgress', () => {
  it('turns history events into one line per change and a bar per group', () => {
    const progress = new RolloutProgress(['web', 'api']);
    const lines = progress.apply([
      { id: ++id, timestamp: at(0), type: 'ExecutionStarted' },
      entered(0, 'Preflight'),
      exited(60, 'TriggerInstanceRefresh', refresh('web', 'Pending', 'IN_PROGRESS', 0)),
      exited(120, 'CheckRefreshStatus', refresh('web', 'InProgress', 'IN_PROGRESS', 50)),
      exited(180, 'CheckRefreshStatus', refresh('web', 'InProgress', 'IN_PROGRESS', 50)),
      exited(600, 'CheckRefreshStatus', refresh('web', 'Successful', 'SUCCEEDED', 100)),
    ]);
    expect(lines).toEqual([
      '+00:00:00  Preflight',
      '+00:01:00  web: refresh Pending 0%',
      '+00:02:00  web: refresh InProgress 50%',
      '+00:10:00  web: refresh Successful 100%',
    ]);
    expect(renderLive(progress.view, 10)).toEqual([
      'step: Preflight  +00:10:00',
      '  web      [##########] 100%  done (Successful)  9m 00s',
      '  api      [..........]   0%  waiting',
    ]);
  });

  it('shows the rollback: the banner once, and groups going back', () => {
    const progress = new RolloutProgress(['web']);
    progress.apply([{ id: ++id, timestamp: at(0), type: 'ExecutionStarted' }]);
    const lines = progress.apply([
      entered(300, 'RollbackAmi'),
      entered(300, 'RollbackAmi'),
      exited(360, 'CheckRollbackRefresh', { fleetRollback: refresh('web', 'Successful', 'SUCCEEDED', 100) }),
    ]);
    expect(lines.filter((l) => l.includes('ROLLBACK'))).toHaveLength(1);
    expect(lines.at(-1)).toBe('+00:06:00  web: rollback refresh Successful 100%');
    expect(progress.view.groups[0]).toMatchObject({ phase: 'rolled-back' });
    expect(progress.view.rollingBack).toBe(true);
  });
});

describe('formatting', () => {
  it('writes offsets as +hh:mm:ss and durations in the largest sensible units', () => {
    expect(formatOffset(3723)).toBe('+01:02:03');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(125)).toBe('2m 05s');
    expect(formatDuration(7260)).toBe('2h 01m');
  });

  it('shows a group the rollout never reached as untouched once the execution has ended', () => {
    const progress = new RolloutProgress(['web', 'worker']);
    progress.apply([
      { id: ++id, timestamp: at(0), type: 'ExecutionStarted' },
      exited(60, 'CheckRefreshStatus', refresh('web', 'Failed', 'FAILED', 10)),
      {
        id: ++id,
        timestamp: at(120),
        type: 'ExecutionFailed',
        executionFailedEventDetails: { error: 'RolloutRolledBack' },
      },
    ]);
    expect(renderLive(progress.view, 10)[2]).toBe('  worker   [..........]   0%  not reached (untouched)');
    expect(progress.view.groups.map((g) => [g.name, g.phase])).toEqual([
      ['web', 'failed'],
      ['worker', 'untouched'],
    ]);
  });

  it('gives each group its refresh status, and when its refresh started and ended, in ISO 8601', () => {
    const progress = new RolloutProgress(['web']);
    progress.apply([
      { id: ++id, timestamp: at(0), type: 'ExecutionStarted' },
      exited(60, 'TriggerInstanceRefresh', refresh('web', 'Pending', 'IN_PROGRESS', 0)),
      exited(660, 'CheckRefreshStatus', refresh('web', 'Successful', 'SUCCEEDED', 100)),
    ]);
    expect(progress.view.groups[0]).toEqual({
      name: 'web',
      phase: 'done',
      refreshStatus: 'Successful',
      percentage: 100,
      startedAt: '2026-01-01T00:01:00.000Z',
      endedAt: '2026-01-01T00:11:00.000Z',
      durationSeconds: 600,
    });
  });
});
