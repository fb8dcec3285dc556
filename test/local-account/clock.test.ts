import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/local-account/clock.ts';

describe('VirtualClock', () => {
  it('starts at the given time and does not move on its own', () => {
    const clock = new VirtualClock(new Date('2026-03-01T00:00:00Z'));
    expect(clock.date().toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(clock.now()).toBe(Date.parse('2026-03-01T00:00:00Z'));
  });

  it('runs due tasks in time order, ties in scheduling order, each at its own time', () => {
    const clock = new VirtualClock(0);
    const seen: string[] = [];
    clock.schedule(30, () => seen.push(`b@${clock.now()}`));
    clock.schedule(10, () => seen.push(`a@${clock.now()}`));
    clock.schedule(30, () => seen.push(`c@${clock.now()}`));
    clock.schedule(31, () => seen.push('late'));
    clock.advance(30);
    expect(seen).toEqual(['a@10000', 'b@30000', 'c@30000']);
    expect(clock.now()).toBe(30_000);
  });

  it('runs tasks scheduled by tasks when they fall due within the same advance', () => {
    const clock = new VirtualClock(0);
    const seen: number[] = [];
    const tick = () => {
      seen.push(clock.now() / 1000);
      if (seen.length < 5) clock.schedule(60, tick);
    };
    clock.schedule(60, tick);
    clock.advance(250);
    expect(seen).toEqual([60, 120, 180, 240]);
    clock.advance(3600);
    expect(seen).toEqual([60, 120, 180, 240, 300]);
  });

  it('does not run a cancelled task', () => {
    const clock = new VirtualClock(0);
    let ran = false;
    const id = clock.schedule(5, () => (ran = true));
    clock.cancel(id);
    clock.advance(10);
    expect(ran).toBe(false);
  });

  it('runUntilIdle settles everything scheduled and reports the virtual seconds that passed', () => {
    const clock = new VirtualClock(0);
    clock.schedule(100, () => clock.schedule(50, () => undefined));
    expect(clock.runUntilIdle()).toBe(150);
    expect(clock.pendingTasks).toBe(0);
  });

  it('fails when asked to go backwards', () => {
    expect(() => new VirtualClock(0).advance(-1)).toThrow(/seconds must be a number >= 0/);
  });
});
