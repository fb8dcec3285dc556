import { describe, expect, it } from 'vitest';
import {
  gateWindow,
  judgeGate,
  MAX_GATE_CHECKS,
  refreshAlarms,
  stepGate,
  type GatePlan,
  type GateWave,
} from '../../src/core/gate.ts';
import { gateLine } from '../../src/execution/progress.ts';

const T0 = Date.parse('2026-11-26T09:00:00Z');
const min = (n: number) => T0 + n * 60_000;
const gate: GatePlan = { alarmNames: ['errors'], watchMinutes: 30, insufficientData: 'wait' };
const waves: GateWave[] = [
  {
    index: 0,
    name: 'canary',
    firstGroup: 0,
    groupCount: 1,
    bakeMinutes: 10,
    endedAt: new Date(min(20)).toISOString(),
  },
  { index: 1, name: 'rest', firstGroup: 1, groupCount: 4, bakeMinutes: 5, alarmNames: ['rest-latency'] },
];

describe('judgeGate', () => {
  it('passes on OK, fires on ALARM naming the alarm and its reason', () => {
    expect(judgeGate({ alarms: [{ name: 'errors', state: 'OK' }], missing: [] }, 'wait')).toEqual({
      kind: 'pass',
    });
    const fired = judgeGate(
      {
        alarms: [
          { name: 'errors', state: 'ALARM', reason: 'Threshold Crossed', since: '2026-11-26T09:30:00Z' },
        ],
        missing: [],
      },
      'ignore',
    );
    expect(fired).toMatchObject({ kind: 'fired', alarm: { name: 'errors' } });
    expect(fired.kind === 'fired' && fired.reason).toBe(
      'gate alarm errors is in ALARM since 2026-11-26T09:30:00Z: Threshold Crossed',
    );
  });

  it('fails the gate for an alarm that no longer exists, whatever the policy', () => {
    for (const policy of ['ignore', 'wait', 'fail'] as const)
      expect(judgeGate({ alarms: [], missing: ['errors'] }, policy)).toMatchObject({ kind: 'fired' });
  });

  it('reads INSUFFICIENT_DATA as the policy says', () => {
    const reading = { alarms: [{ name: 'errors', state: 'INSUFFICIENT_DATA' as const }], missing: [] };
    expect(judgeGate(reading, 'ignore')).toEqual({ kind: 'pass' });
    expect(judgeGate(reading, 'wait')).toEqual({ kind: 'no-data', alarms: ['errors'] });
    expect(judgeGate(reading, 'fail')).toMatchObject({ kind: 'fired' });
  });
});

describe('gateWindow', () => {
  it('is the bake of the wave before, with the gate’s alarms and that wave’s own', () => {
    expect(gateWindow(waves, 1, gate, min(22))).toEqual({
      kind: 'bake',
      wave: waves[0],
      endsAt: min(30),
      minutes: 10,
      alarmNames: ['errors'],
    });
    // Mid-wave, no bake.
    expect(gateWindow(waves, 3, gate, min(40))).toMatchObject({ kind: 'none', minutes: 0 });
  });

  it('is the watch window after the last wave: the longer of watchMinutes and the last bake', () => {
    const ended = waves.map((w, i) => (i === 1 ? { ...w, endedAt: new Date(min(60)).toISOString() } : w));
    expect(gateWindow(ended, 5, gate, min(61))).toMatchObject({
      kind: 'watch',
      endsAt: min(90),
      minutes: 30,
      alarmNames: ['errors', 'rest-latency'],
    });
    expect(gateWindow(ended, 5, { ...gate, watchMinutes: 0 }, min(61))).toMatchObject({
      kind: 'watch',
      minutes: 5,
    });
    const noBake = ended.map((w) => ({ ...w, bakeMinutes: 0 }));
    expect(gateWindow(noBake, 5, { ...gate, watchMinutes: 0 }, min(61)).kind).toBe('none');
  });

  it('gives the alarms watched while a wave refreshes', () => {
    expect(refreshAlarms(gate, waves[1])).toEqual(['errors', 'rest-latency']);
    expect(refreshAlarms({ ...gate, alarmNames: ['rest-latency'] }, waves[1])).toEqual(['rest-latency']);
  });
});

describe('stepGate', () => {
  const bake = gateWindow(waves, 1, gate, min(22));
  it('waits until the window ends, at most a poll interval at a time, then passes', () => {
    expect(stepGate(bake, { kind: 'pass' }, min(22), 60, 90)).toEqual({ next: 'wait', waitSeconds: 60 });
    expect(stepGate(bake, { kind: 'pass' }, min(29.5), 60, 90)).toEqual({ next: 'wait', waitSeconds: 30 });
    expect(stepGate(bake, { kind: 'pass' }, min(30), 60, 90)).toEqual({ next: 'pass' });
  });

  it('fires at once on a fired verdict', () => {
    const alarm = { name: 'errors', state: 'ALARM' as const };
    expect(stepGate(bake, { kind: 'fired', alarm, reason: 'r' }, min(22), 60, 90)).toEqual({
      next: 'fired',
      alarm,
      reason: 'r',
    });
  });

  it('under "wait", holds a window past its end while an alarm has no data, then fails naming it', () => {
    const noData = { kind: 'no-data' as const, alarms: ['errors'] };
    expect(stepGate(bake, noData, min(31), 60, 90)).toEqual({ next: 'wait', waitSeconds: 60 });
    const failed = stepGate(bake, noData, min(120), 60, 90);
    expect(failed).toMatchObject({ next: 'fired', alarm: { name: 'errors', state: 'INSUFFICIENT_DATA' } });
    expect(failed.next === 'fired' && failed.reason).toMatch(
      /still had no data 90 minutes after the bake ended/,
    );
  });

  it('checks a long window less often, so that it takes at most MAX_GATE_CHECKS checks', () => {
    const week: GateWave[] = [{ ...waves[0]!, bakeMinutes: 10080 }, waves[1]!];
    const window = gateWindow(week, 1, gate, min(20));
    let checks = 0;
    for (let now = min(20); ; checks++) {
      const step = stepGate(window, { kind: 'pass' }, now, 60, 90);
      if (step.next !== 'wait') break;
      now += step.waitSeconds * 1000;
    }
    expect(checks).toBeGreaterThan(500);
    expect(checks).toBeLessThanOrEqual(MAX_GATE_CHECKS);
  });
});

describe('gateLine', () => {
  it('says each gate alarm’s state and what is left of the watch window', () => {
    const view = { groups: [], rollingBack: false };
    expect(gateLine(view)).toBeUndefined();
    expect(
      gateLine({
        ...view,
        gate: {
          alarms: [
            { name: 'errors', state: 'OK' },
            { name: 'latency', state: 'ALARM' },
          ],
          watchLeftSeconds: 1200,
        },
      }),
    ).toBe('gate: errors OK, latency ALARM; watching, 20m 00s left');
  });
});
