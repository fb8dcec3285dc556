import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { gateOf, MAX_WAVES, wavesOf } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/errors.ts';

const seed = {
  amiParameterName: '/ami-rollout/golden-ami',
  launchTemplateIds: ['lt-0000000000000a001'],
  autoScalingGroupNames: ['web', 'api'],
  trustedImageOwners: ['123456789012'],
  notificationTopicArn: 'arn:aws:sns:us-east-1:123456789012:ami-rollout',
};
const { autoScalingGroupNames: _names, ...base } = seed;
const waves = [
  { name: 'canary', autoScalingGroupNames: ['web-1'], alarmNames: ['canary-5xx'] },
  { name: 'rest', autoScalingGroupNames: ['web-2', 'web-3'], maxParallel: 2, bakeMinutes: 15 },
];

function issuesOf(value: unknown): string[] {
  try {
    parseConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('expected the configuration to be refused');
}

describe('gate', () => {
  it('has no alarms, no bake, no watch and waits on INSUFFICIENT_DATA when left out', () => {
    expect(gateOf(parseConfig(seed))).toEqual({
      alarmNames: [],
      bakeMinutes: 0,
      watchMinutes: 0,
      insufficientData: 'wait',
    });
  });

  it('applies the same defaults to an empty gate', () => {
    const config = parseConfig({ ...seed, gate: {} });
    expect(config.gate).toEqual({
      alarmNames: [],
      bakeMinutes: 0,
      watchMinutes: 0,
      insufficientData: 'wait',
    });
    expect(gateOf(config)).toEqual(config.gate);
  });

  it('takes every field as written', () => {
    const gate = { alarmNames: ['fleet-5xx', 'queue-depth'], bakeMinutes: 10, watchMinutes: 30 };
    for (const insufficientData of ['ignore', 'wait', 'fail'] as const) {
      expect(gateOf(parseConfig({ ...seed, gate: { ...gate, insufficientData } }))).toEqual({
        ...gate,
        insufficientData,
      });
    }
  });

  it("gives a wave without bakeMinutes the gate's, and lets a wave's own win, 0 included", () => {
    const config = parseConfig({
      ...base,
      gate: { bakeMinutes: 10 },
      waves: [...waves, { name: 'last', autoScalingGroupNames: ['web-4'], bakeMinutes: 0 }],
    });
    expect(wavesOf(config).map((w) => [w.name, w.bakeMinutes])).toEqual([
      ['canary', 10],
      ['rest', 15],
      ['last', 0],
    ]);
  });

  it("bakes the gate's bakeMinutes after each group of autoScalingGroupNames (a wave each)", () => {
    expect(wavesOf(parseConfig({ ...seed, gate: { bakeMinutes: 5 } }))).toEqual([
      { name: 'web', autoScalingGroupNames: ['web'], maxParallel: 1, bakeMinutes: 5, alarmNames: [] },
      { name: 'api', autoScalingGroupNames: ['api'], maxParallel: 1, bakeMinutes: 5, alarmNames: [] },
    ]);
  });

  it("watches each wave with the gate's alarms, then its own, each once", () => {
    const config = parseConfig({
      ...base,
      gate: { alarmNames: ['fleet-5xx', 'latency'] },
      waves: [
        { name: 'canary', autoScalingGroupNames: ['web-1'], alarmNames: ['canary-5xx', 'fleet-5xx'] },
        { name: 'rest', autoScalingGroupNames: ['web-2'] },
      ],
    });
    expect(wavesOf(config).map((w) => w.alarmNames)).toEqual([
      ['fleet-5xx', 'latency', 'canary-5xx'],
      ['fleet-5xx', 'latency'],
    ]);
    expect(
      wavesOf(parseConfig({ ...seed, gate: { alarmNames: ['fleet-5xx'] } })).map((w) => w.alarmNames),
    ).toEqual([['fleet-5xx'], ['fleet-5xx']]);
  });

  it('keeps wave alarms without a gate', () => {
    expect(wavesOf(parseConfig({ ...base, waves })).map((w) => w.alarmNames)).toEqual([['canary-5xx'], []]);
  });

  it('accepts a gate alarm that refreshPreferences.alarmNames also lists, saying nothing', () => {
    const config = parseConfig({
      ...seed,
      gate: { alarmNames: ['fleet-5xx'] },
      refreshPreferences: { alarmNames: ['fleet-5xx'] },
    });
    expect(gateOf(config).alarmNames).toEqual(['fleet-5xx']);
    expect(config.refreshPreferences.alarmNames).toEqual(['fleet-5xx']);
  });

  it('fails when a gate alarm is listed twice, naming it and the fix', () => {
    expect(issuesOf({ ...seed, gate: { alarmNames: ['fleet-5xx', 'latency', 'fleet-5xx'] } })).toEqual([
      'gate.alarmNames[2]: "fleet-5xx" is listed twice; list each gate alarm once',
    ]);
  });

  it('fails when a wave lists one of its alarms twice', () => {
    expect(
      issuesOf({ ...base, waves: [{ name: 'w', autoScalingGroupNames: ['a'], alarmNames: ['x', 'x'] }] }),
    ).toEqual(['waves[0].alarmNames[1]: "x" is listed twice; list each alarm once']);
  });

  it.each([
    [{ alarmNames: [''] }, 'gate.alarmNames[0]: "" must not be empty'],
    [{ alarmNames: ['a'.repeat(256)] }, 'must be at most 255 characters (the CloudWatch limit)'],
    [{ bakeMinutes: -1 }, 'gate.bakeMinutes: -1 must be 0 or more'],
    [{ bakeMinutes: 1.5 }, 'gate.bakeMinutes: 1.5 must be a whole number'],
    [{ watchMinutes: 10_081 }, 'gate.watchMinutes: 10081 must be at most 10080 (one week)'],
    [
      { insufficientData: 'ok' },
      'gate.insufficientData: "ok" must be "ignore", "wait" or "fail" (what an alarm in INSUFFICIENT_DATA means)',
    ],
    [{ alarms: ['x'] }, 'gate: unknown field "alarms"; remove it or check its spelling'],
  ])('fails when the gate is %j', (gate, message) => {
    expect(issuesOf({ ...seed, gate }).join('\n')).toContain(message);
  });

  it('accepts a 255-character alarm name and a week of bake and watch', () => {
    const gate = { alarmNames: ['a'.repeat(255)], bakeMinutes: 10_080, watchMinutes: 10_080 };
    expect(gateOf(parseConfig({ ...seed, gate }))).toMatchObject(gate);
  });

  it('fails when a wave bakes longer than a week', () => {
    expect(
      issuesOf({ ...base, waves: [{ name: 'w', autoScalingGroupNames: ['a'], bakeMinutes: 10_081 }] }),
    ).toEqual(['waves[0].bakeMinutes: 10081 must be at most 10080 (one week)']);
  });

  it('fails when a wave would watch more alarms than one DescribeAlarms call reads', () => {
    const gate = { alarmNames: Array.from({ length: 99 }, (_, i) => `fleet-${i}`) };
    const config = {
      ...base,
      gate,
      waves: [{ name: 'canary', autoScalingGroupNames: ['a'], alarmNames: ['fleet-0', 'own-1', 'own-2'] }],
    };
    expect(issuesOf(config)).toEqual([
      'waves[0].alarmNames: with gate.alarmNames, wave "canary" watches 101 alarms; at most 100 (one DescribeAlarms call reads them all): remove some, or combine them in a composite alarm',
    ]);
    // One of the wave's own is the gate's: 100 in all.
    expect(() =>
      parseConfig({ ...config, waves: [{ ...config.waves[0]!, alarmNames: ['fleet-0', 'own-1'] }] }),
    ).not.toThrow();
    expect(
      issuesOf({ ...seed, gate: { alarmNames: Array.from({ length: 101 }, (_, i) => `a${i}`) } }).join(),
    ).toMatch(/^gate\.alarmNames: must list at most 100 alarms \(one DescribeAlarms call reads them all\)/);
  });

  it('fails when the gate bakes after more one-group waves than Step Functions allows', () => {
    const names = Array.from({ length: MAX_WAVES + 1 }, (_, i) => `g-${i}`);
    expect(issuesOf({ ...seed, autoScalingGroupNames: names, gate: { bakeMinutes: 1 } })).toEqual([
      `gate.bakeMinutes: bakes after each of the ${MAX_WAVES + 1} groups of autoScalingGroupNames (each a wave of its own), more than ${MAX_WAVES} waves (Step Functions' history limit); use waves with several groups each, or set bakeMinutes 0`,
    ]);
    // Without a bake, serial one-group waves share batches: no such limit.
    expect(() =>
      parseConfig({ ...seed, autoScalingGroupNames: names, gate: { bakeMinutes: 0 } }),
    ).not.toThrow();
  });
});
