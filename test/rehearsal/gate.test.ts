/**
 * The health gate through the real definitions, on the example fleet with one more alarm, `fleet-errors`, that
 * the gate watches: web, then api, then worker, each its own wave with a bake after it. An `alarm` fault holds
 * fleet-errors in a state from a virtual minute on, as a breaching metric would.
 */
import { CloudWatchClient, DeleteAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { Fault } from '../../src/local-account/faults.ts';
import { inProcessClientConfig, parseFleet, type LocalAccount } from '../../src/local-account/index.ts';
import { rehearse } from '../../src/rehearsal/rehearse.ts';
import { exampleConfig, exampleFleet, inServiceImages, NEW_IMAGE, PREVIOUS_IMAGE } from './example-fleet.ts';

const GATE_ALARM = 'fleet-errors';
const fleetFile = exampleFleet as { alarms: Record<string, unknown>[] };
const fleet = parseFleet(
  {
    ...fleetFile,
    alarms: [
      ...fleetFile.alarms,
      {
        name: GATE_ALARM,
        description: 'The fleet serves errors',
        namespace: 'App',
        metricName: 'FleetErrors',
        statistic: 'Sum',
        periodSeconds: 60,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
      },
    ],
  },
  'gate fleet',
);

const gateConfig = (gate: Record<string, unknown> = {}) => {
  const { autoScalingGroupNames: _names, ...rest } = exampleConfig as Record<string, unknown>;
  return parseConfig(
    {
      ...rest,
      waves: [
        { name: 'web', autoScalingGroupNames: ['web'], bakeMinutes: 10 },
        { name: 'api', autoScalingGroupNames: ['api'], bakeMinutes: 15 },
        { name: 'worker', autoScalingGroupNames: ['worker'] },
      ],
      gate: { alarmNames: [GATE_ALARM], watchMinutes: 30, ...gate },
    },
    'gate config',
  );
};

const alarmAt = (atMinute: number, state: 'ALARM' | 'INSUFFICIENT_DATA' = 'ALARM'): Fault => ({
  kind: 'alarm',
  alarmName: GATE_ALARM,
  atMinute,
  state,
});

const run = (options: {
  faults?: Fault[];
  gate?: Record<string, unknown>;
  prepare?: (account: LocalAccount) => void;
  wrapStep?: Parameters<typeof rehearse>[0]['wrapStep'];
}) =>
  rehearse({
    config: gateConfig(options.gate),
    fleet,
    imageId: NEW_IMAGE,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.prepare ? { prepare: options.prepare } : {}),
    ...(options.wrapStep ? { wrapStep: options.wrapStep } : {}),
  });

/** Virtual minutes from the rehearsal's start to an ISO time. */
const minuteOf = (account: LocalAccount, iso: string | undefined) =>
  iso === undefined ? undefined : (Date.parse(iso) - account.startTime.getTime()) / 60_000;

describe('the health gate through the real definitions', () => {
  it('with a quiet gate: bakes after each wave, watches after the last, then succeeds', async () => {
    const { report, ledger, account } = await run({});
    expect(report.status).toBe('SUCCEEDED');
    const waves = ledger!.waves;
    const groups = ledger!.groups;
    const api = groups.find((g) => g.autoScalingGroupName === 'api')!;
    const worker = groups.find((g) => g.autoScalingGroupName === 'worker')!;
    // Each wave starts only after the wave before it ended and its bake passed.
    expect(minuteOf(account, api.startedAt)!).toBeGreaterThanOrEqual(
      minuteOf(account, waves[0]!.endedAt)! + 10,
    );
    expect(minuteOf(account, worker.startedAt)!).toBeGreaterThanOrEqual(
      minuteOf(account, waves[1]!.endedAt)! + 15,
    );
    // The rollout ends no sooner than the watch window after the last wave.
    expect(minuteOf(account, ledger!.rollout.endedAt)!).toBeGreaterThanOrEqual(
      minuteOf(account, waves[2]!.endedAt)! + 30,
    );
    expect(ledger!.rollout.gateCheck?.alarms.map((a) => [a.name, a.state])).toEqual([[GATE_ALARM, 'OK']]);
  });

  it('an alarm during wave 2’s bake, after wave 1 succeeded: both waves restored, wave 3 untouched', async () => {
    // web refreshes until about minute 20 and bakes 10; api refreshes until about 45, then bakes 15.
    const { report, ledger, account } = await run({ faults: [alarmAt(50)] });
    expect(report.status).toBe('ROLLED_BACK');
    const failure = ledger!.rollout.failure!;
    expect(failure.alarm).toMatchObject({ name: GATE_ALARM, state: 'ALARM', during: 'bake' });
    expect(failure.reason).toMatch(/bake after wave api/);
    expect(account.state.instanceRefreshes.get('worker') ?? []).toEqual([]);
    for (const [group, images] of Object.entries(inServiceImages(account)))
      expect(Object.keys(images), group).toEqual([PREVIOUS_IMAGE]);
    const message = account.state.published.at(-1)!;
    expect(message.subject).toContain(`(alarm ${GATE_ALARM})`);
    expect(message.message).toMatch(
      new RegExp(`Cause \\(health gate\\): alarm ${GATE_ALARM} ALARM at .*in the bake after wave api`),
    );
  });

  it('an alarm in the watch window after the last wave: every group restored', async () => {
    const { report, ledger, account } = await run({ faults: [alarmAt(100)] });
    expect(report.status).toBe('ROLLED_BACK');
    expect(ledger!.rollout.failure?.alarm?.during).toBe('watch');
    for (const group of ['web', 'api', 'worker'])
      expect(ledger!.groups.find((g) => g.autoScalingGroupName === group)?.status, group).toBe('SUCCEEDED');
    for (const [group, images] of Object.entries(inServiceImages(account)))
      expect(Object.keys(images), group).toEqual([PREVIOUS_IMAGE]);
  });

  it('an alarm in ALARM at the start: refused before any change', async () => {
    const { report, account } = await run({ faults: [alarmAt(0)] });
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('PreflightFailed');
    expect([...account.state.instanceRefreshes.values()].flat()).toEqual([]);
    const template = account.state.launchTemplates.get('lt-0a1b2c3d4e5f60001')!;
    expect(template.defaultVersion).toBe(1);
    const message = account.state.published.at(-1)!;
    expect(message.message).toMatch(/gate alarm fleet-errors .* is in ALARM before the rollout starts/);
  });

  it('an alarm without data: ignored under "ignore", a failure under "fail"', async () => {
    const ignored = await run({
      faults: [alarmAt(5, 'INSUFFICIENT_DATA')],
      gate: { insufficientData: 'ignore' },
    });
    expect(ignored.report.status).toBe('SUCCEEDED');
    const failed = await run({
      faults: [alarmAt(5, 'INSUFFICIENT_DATA')],
      gate: { insufficientData: 'fail' },
    });
    expect(failed.report.status).toBe('ROLLED_BACK');
    expect(failed.ledger!.rollout.failure?.alarm).toMatchObject({
      name: GATE_ALARM,
      state: 'INSUFFICIENT_DATA',
    });
  });

  it('an alarm without data under "wait": the bake waits for data, then fails, never endlessly', async () => {
    const { report, ledger, account } = await run({ faults: [alarmAt(5, 'INSUFFICIENT_DATA')] });
    expect(report.status).toBe('ROLLED_BACK');
    const failure = ledger!.rollout.failure!;
    expect(failure.reason).toMatch(/still had no data 90 minutes after the bake ended/);
    // web's bake (10 min after about minute 20) plus refreshTimeoutMinutes (90) of waiting for data.
    expect(minuteOf(account, failure.at)!).toBeGreaterThanOrEqual(110);
    expect(account.state.instanceRefreshes.get('api') ?? []).toEqual([]);
  });

  it('a gate alarm deleted mid-rollout: a clear failure and a rollback', async () => {
    let deleted = false;
    let account: LocalAccount | undefined;
    const { report, ledger } = await run({
      prepare: (a) => {
        account = a;
      },
      wrapStep: (step, handler) =>
        step !== 'CheckRefreshStatus'
          ? handler
          : async (event) => {
              if (!deleted) {
                deleted = true;
                await new CloudWatchClient(inProcessClientConfig(account!)).send(
                  new DeleteAlarmsCommand({ AlarmNames: [GATE_ALARM] }),
                );
              }
              return handler(event);
            },
    });
    expect(report.status).toBe('ROLLED_BACK');
    expect(ledger!.rollout.failure?.reason).toMatch(/fleet-errors no longer exists/);
  });
});
