/**
 * CloudWatch metric alarms in the local account, read as a specification of what AWS does: through the real
 * SDK v3 client (AWS JSON 1.0 by default, Smithy RPC v2 CBOR when the client is told to), in process and over
 * HTTP, advancing virtual time and watching alarms change state.
 */
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import type { RunningEmulator } from '../../src/local-account/server.ts';
import {
  evaluateAlarm,
  type AlarmStateValue,
  type TreatMissingData,
} from '../../src/local-account/services/cloudwatch-evaluation.ts';

let account: LocalAccount;
let cloudWatch: CloudWatchClient;

const MINUTE = 60;
const at = (minute: number) => new Date(account.startTime.getTime() + minute * 60_000);

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; code?: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, code: e.Code, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail');
}

const alarmInput = (overrides: Partial<PutMetricAlarmCommandInput> = {}): PutMetricAlarmCommandInput => ({
  AlarmName: 'web-errors',
  Namespace: 'App',
  MetricName: 'Errors',
  Dimensions: [{ Name: 'Service', Value: 'web' }],
  Statistic: 'Sum',
  Period: 60,
  EvaluationPeriods: 1,
  Threshold: 5,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  ...overrides,
});

const putAlarm = (overrides: Partial<PutMetricAlarmCommandInput> = {}) =>
  cloudWatch.send(new PutMetricAlarmCommand(alarmInput(overrides)));

/** One datapoint of App/Errors {Service=web} at the start of `minute` (minutes since the account started). */
const putErrors = (value: number, minute: number) =>
  cloudWatch.send(
    new PutMetricDataCommand({
      Namespace: 'App',
      MetricData: [
        {
          MetricName: 'Errors',
          Dimensions: [{ Name: 'Service', Value: 'web' }],
          Value: value,
          Timestamp: at(minute),
        },
      ],
    }),
  );

async function alarm(name = 'web-errors'): Promise<MetricAlarm> {
  const { MetricAlarms = [] } = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  if (!MetricAlarms[0]) throw new Error(`no alarm ${name}`);
  return MetricAlarms[0];
}

/** Moves virtual time to the start of `minute`, running every evaluation on the way. */
const advanceTo = (minute: number) => account.clock.advanceTo(at(minute).getTime());

beforeEach(() => {
  account = createLocalAccount();
  cloudWatch = new CloudWatchClient(inProcessClientConfig(account));
});

describe('evaluateAlarm: the user guide tables ("How alarm state is evaluated when data is missing")', () => {
  /** Rows as the guide writes them: oldest datapoint first, 0 not breaching, X breaching, - missing. */
  const evaluate = (row: string, m: number, treat: TreatMissingData, current: AlarmStateValue = 'OK') => {
    const range = row.split(' ').map((cell, i) => ({
      startMs: i * 300_000,
      value: cell === '-' ? undefined : cell === 'X' ? 10 : 0,
    }));
    const outcome = evaluateAlarm({
      range,
      evaluationPeriods: 3,
      datapointsToAlarm: m,
      threshold: 5,
      comparisonOperator: 'GreaterThanThreshold',
      treatMissingData: treat,
      current,
      statistic: 'Average',
      periodSeconds: 300,
      nowMs: 5 * 300_000,
    });
    return outcome.kind === 'retain' ? 'Retain current state' : outcome.state;
  };
  const treatments: TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

  it.each([
    ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', ['INSUFFICIENT_DATA', 'Retain current state', 'ALARM', 'OK']],
    ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - X - -', ['ALARM', 'Retain current state', 'ALARM', 'OK']],
  ])('3 out of 3: %s', (row, expected) => {
    expect(treatments.map((treat) => evaluate(row, 3, treat))).toEqual(expected);
  });

  it.each([
    ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - X -', ['ALARM', 'Retain current state', 'ALARM', 'OK']],
  ])('2 out of 3: %s', (row, expected) => {
    expect(treatments.map((treat) => evaluate(row, 2, treat))).toEqual(expected);
  });

  it('does not go to ALARM on one breaching datapoint that is too recent to be premature (- - - - X, 3 of 3)', () => {
    expect(evaluate('- - - - X', 3, 'missing')).toBe('OK');
  });
});

describe('PutMetricAlarm and DescribeAlarms', () => {
  it('creates an alarm in INSUFFICIENT_DATA, and an update keeps its state', async () => {
    await putAlarm({ AlarmDescription: 'web errors', TreatMissingData: 'notBreaching' });
    expect(await alarm()).toMatchObject({
      AlarmName: 'web-errors',
      AlarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-errors',
      AlarmDescription: 'web errors',
      ActionsEnabled: true,
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Unchecked: Initial alarm creation',
      StateUpdatedTimestamp: account.now(),
      MetricName: 'Errors',
      Namespace: 'App',
      Dimensions: [{ Name: 'Service', Value: 'web' }],
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      TreatMissingData: 'notBreaching',
    });
    advanceTo(1);
    expect((await alarm()).StateValue).toBe('OK');
    advanceTo(2);
    await putAlarm({ Threshold: 50 });
    const updated = await alarm();
    expect(updated).toMatchObject({
      StateValue: 'OK',
      Threshold: 50,
      AlarmConfigurationUpdatedTimestamp: at(2),
    });
    // "the update completely overwrites the previous configuration"
    expect(updated.AlarmDescription).toBeUndefined();
    expect(updated.TreatMissingData).toBeUndefined();
  });

  it('pages in alarm name order, and filters by names, prefix, state and type', async () => {
    for (const name of ['e', 'b', 'd', 'a', 'c']) await putAlarm({ AlarmName: name });
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: 'c', StateValue: 'ALARM', StateReason: 'test' }),
    );
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await cloudWatch.send(new DescribeAlarmsCommand({ MaxRecords: 2, NextToken: token }));
      pages.push((page.MetricAlarms ?? []).map((a) => a.AlarmName!));
      token = page.NextToken;
    } while (token);
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);

    const names = async (input: DescribeAlarmsCommandInput) =>
      ((await cloudWatch.send(new DescribeAlarmsCommand(input))).MetricAlarms ?? []).map((a) => a.AlarmName);
    expect(await names({ AlarmNames: ['d', 'a', 'nope'] })).toEqual(['a', 'd']);
    await putAlarm({ AlarmName: 'web-latency' });
    expect(await names({ AlarmNamePrefix: 'web-' })).toEqual(['web-latency']);
    expect(await names({ StateValue: 'ALARM' })).toEqual(['c']);
    expect(await names({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })).toHaveLength(6);
    const composite = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmTypes: ['CompositeAlarm'] }));
    expect(composite.MetricAlarms).toEqual([]);
    expect(composite.CompositeAlarms).toEqual([]);
  });

  it.each([
    [
      'an unknown AlarmType',
      { AlarmTypes: ['Alarm' as 'MetricAlarm'] },
      'ValidationError',
      "Value 'Alarm' at 'alarmTypes.1.member' failed to satisfy constraint",
    ],
    [
      'AlarmNames with AlarmNamePrefix',
      { AlarmNames: ['a'], AlarmNamePrefix: 'a' },
      'InvalidParameterCombination',
      'AlarmNamePrefix',
    ],
    ['a NextToken this account did not issue', { NextToken: 'nope' }, 'InvalidNextToken', 'next token'],
    [
      'an unknown StateValue',
      { StateValue: 'RED' as 'OK' },
      'ValidationError',
      'enum value set: [OK, ALARM, INSUFFICIENT_DATA]',
    ],
  ])('DescribeAlarms fails for %s with %s', async (_label, input, code, message) => {
    const error = await failure(cloudWatch.send(new DescribeAlarmsCommand(input)));
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  it.each([
    [
      'a Period that is not 10, 20, 30 or a multiple of 60',
      { Period: 45 },
      'ValidationError',
      'Period must be 10, 20, 30',
    ],
    [
      'DatapointsToAlarm above EvaluationPeriods',
      { EvaluationPeriods: 2, DatapointsToAlarm: 3 },
      'ValidationError',
      'DatapointsToAlarm (3)',
    ],
    [
      'an evaluation range over a day with periods under an hour',
      { Period: 60, EvaluationPeriods: 1441 },
      'ValidationError',
      '86400',
    ],
    [
      'an unknown TreatMissingData',
      { TreatMissingData: 'zero' },
      'ValidationError',
      'Option zero is not supported',
    ],
    [
      'an unknown Statistic',
      { Statistic: 'Median' as 'Sum' },
      'ValidationError',
      "Value 'Median' at 'statistic'",
    ],
    [
      'an action that is not an ARN',
      { AlarmActions: ['my-topic'] },
      'ValidationError',
      'Invalid arn syntax: my-topic',
    ],
    [
      'a 256-character name',
      { AlarmName: 'a'.repeat(256) },
      'ValidationError',
      'length less than or equal to 255',
    ],
    ['no Threshold', { Threshold: undefined }, 'ValidationError', 'Threshold'],
  ])('PutMetricAlarm fails for %s with %s, and creates nothing', async (_label, overrides, code, message) => {
    const error = await failure(putAlarm(overrides));
    expect(error).toMatchObject({ code, status: 400 });
    expect(error.message).toContain(message);
    expect((await cloudWatch.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
  });

  it('refuses what the local account does not model, saying so', async () => {
    const error = await failure(putAlarm({ Statistic: undefined, ExtendedStatistic: 'p99' }));
    expect(error.message).toContain('The local account does not support ExtendedStatistic');
  });
});

describe('evaluation in virtual time', () => {
  it('goes to ALARM at the evaluation after a breaching minute, with the reason and time of the change', async () => {
    await putAlarm();
    await putErrors(7, 0);
    advanceTo(1);
    expect(await alarm()).toMatchObject({
      StateValue: 'ALARM',
      StateReason:
        'Threshold Crossed: 1 out of the last 1 datapoints [7.0 (01/01/26 00:00:00)] was greater than or equal to ' +
        'the threshold (5.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> ALARM transition).',
      StateUpdatedTimestamp: at(1),
      StateTransitionedTimestamp: at(1),
    });
    expect(JSON.parse((await alarm()).StateReasonData!)).toMatchObject({
      version: '1.0',
      statistic: 'Sum',
      period: 60,
      recentDatapoints: [7],
      threshold: 5,
    });
    await putErrors(1, 1);
    advanceTo(2);
    expect(await alarm()).toMatchObject({
      StateValue: 'OK',
      StateReason:
        'Threshold Crossed: 1 out of the last 1 datapoints [1.0 (01/01/26 00:01:00)] was not greater than or equal ' +
        'to the threshold (5.0) (minimum 1 datapoint for ALARM -> OK transition).',
      StateUpdatedTimestamp: at(2),
    });
  });

  it('evaluates on a background tick that does not keep runUntilIdle going', async () => {
    await putAlarm();
    expect(account.clock.pendingTasks).toBe(1);
    expect(account.clock.runUntilIdle()).toBe(0);
    expect(account.now()).toEqual(at(0));
    await cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: ['web-errors'] }));
    expect(account.clock.pendingTasks).toBe(0);
  });

  it('sums every datapoint of a period, and sees a period only once it is complete', async () => {
    await putAlarm();
    await putErrors(3, 0);
    account.advance(30);
    await putErrors(3, 0.5);
    expect((await alarm()).StateValue).toBe('INSUFFICIENT_DATA');
    advanceTo(1);
    expect((await alarm()).StateValue).toBe('ALARM');
  });

  it('needs M breaching datapoints out of N (2 out of 3)', async () => {
    await putAlarm({ EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    await putErrors(9, 0);
    await putErrors(0, 1);
    await putErrors(0, 2);
    advanceTo(3);
    expect((await alarm()).StateValue).toBe('OK');
    await putErrors(9, 3);
    advanceTo(4);
    expect((await alarm()).StateValue).toBe('OK');
    await putErrors(9, 4);
    advanceTo(5);
    expect(await alarm()).toMatchObject({
      StateValue: 'ALARM',
      StateReason: expect.stringContaining('2 out of the last 3 datapoints') as unknown,
    });
  });

  it('stays INSUFFICIENT_DATA with no data by default, and treats missing data as breaching when told to', async () => {
    await putAlarm({ AlarmName: 'default' });
    await putAlarm({ AlarmName: 'breaching', TreatMissingData: 'breaching', EvaluationPeriods: 2 });
    advanceTo(10);
    expect((await alarm('default')).StateValue).toBe('INSUFFICIENT_DATA');
    expect(await alarm('breaching')).toMatchObject({
      StateValue: 'ALARM',
      StateReason:
        'Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching].',
      StateTransitionedTimestamp: at(1),
    });
  });

  it('returns to INSUFFICIENT_DATA once every datapoint of the evaluation range is missing', async () => {
    await putAlarm();
    await putErrors(9, 0);
    advanceTo(1);
    expect((await alarm()).StateValue).toBe('ALARM');
    // The range is N + 2 = 3 periods: the datapoint of minute 0 leaves it at minute 4.
    advanceTo(3);
    expect((await alarm()).StateValue).toBe('ALARM');
    advanceTo(4);
    expect(await alarm()).toMatchObject({
      StateValue: 'INSUFFICIENT_DATA',
      StateReason: 'Insufficient Data: 1 datapoint was unknown.',
      StateUpdatedTimestamp: at(4),
    });
  });

  it('reads the fleet application metric: App/Errors per group is 0, so an alarm on it is OK', async () => {
    const fleetAccount = await createLocalAccountFromFleet(
      parseFleet({
        images: [{ imageId: 'ami-0000000000000c001', name: 'worker' }],
        launchTemplates: [{ name: 'worker', imageId: 'ami-0000000000000c001' }],
        autoScalingGroups: [
          { name: 'worker', launchTemplate: 'worker', minSize: 1, maxSize: 2, desiredCapacity: 1 },
        ],
        alarms: [
          {
            name: 'worker-errors',
            namespace: 'App',
            metricName: 'Errors',
            dimensions: { AutoScalingGroupName: 'worker' },
            statistic: 'Sum',
            threshold: 1,
            comparisonOperator: 'GreaterThanOrEqualToThreshold',
          },
        ],
      }),
    );
    const client = new CloudWatchClient(inProcessClientConfig(fleetAccount));
    fleetAccount.advance(2 * MINUTE);
    const { MetricAlarms = [] } = await client.send(new DescribeAlarmsCommand({}));
    expect(MetricAlarms[0]).toMatchObject({ AlarmName: 'worker-errors', StateValue: 'OK' });
    const stats = await client.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'worker' }],
        StartTime: fleetAccount.startTime,
        EndTime: fleetAccount.now(),
        Period: 60,
        Statistics: ['Sum', 'SampleCount'],
      }),
    );
    expect(stats.Datapoints?.length).toBeGreaterThan(0);
    expect(stats.Datapoints?.every((d) => d.Sum === 0 && d.SampleCount === 1 && d.Unit === 'Count')).toBe(
      true,
    );
  });
});

describe('SetAlarmState', () => {
  it('sets the state until the next evaluation, which returns the alarm to its actual state', async () => {
    await putAlarm();
    await putErrors(0, 0);
    advanceTo(1);
    expect((await alarm()).StateValue).toBe('OK');
    account.advance(10);
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: 'web-errors',
        StateValue: 'ALARM',
        StateReason: 'testing the rollback',
        StateReasonData: '{"by":"test"}',
      }),
    );
    expect(await alarm()).toMatchObject({
      StateValue: 'ALARM',
      StateReason: 'testing the rollback',
      StateReasonData: '{"by":"test"}',
      StateUpdatedTimestamp: account.now(),
    });
    await putErrors(0, 1);
    advanceTo(2);
    expect(await alarm()).toMatchObject({ StateValue: 'OK', StateUpdatedTimestamp: at(2) });
  });

  it.each([
    [
      'an unknown alarm',
      { AlarmName: 'nope' },
      { code: 'ResourceNotFound', status: 404, name: 'ResourceNotFound' },
    ],
    [
      'StateReasonData that is not JSON',
      { StateReasonData: '{nope' },
      { code: 'InvalidFormat', status: 400 },
    ],
    ['an unknown StateValue', { StateValue: 'RED' as 'OK' }, { code: 'ValidationError', status: 400 }],
  ])('fails for %s, and changes nothing', async (_label, overrides, expected) => {
    await putAlarm();
    const error = await failure(
      cloudWatch.send(
        new SetAlarmStateCommand({
          AlarmName: 'web-errors',
          StateValue: 'ALARM',
          StateReason: 'x',
          ...overrides,
        }),
      ),
    );
    expect(error).toMatchObject(expected);
    expect((await alarm()).StateValue).toBe('INSUFFICIENT_DATA');
  });
});

describe('the alarm fault', () => {
  it('holds the alarm in its state from atMinute on, through evaluations and SetAlarmState, until it is cleared', async () => {
    await putAlarm();
    const fault = account.faults.add({ kind: 'alarm', alarmName: 'web-errors', atMinute: 3, state: 'ALARM' });
    for (let minute = 0; minute < 8; minute++) await putErrors(0, minute);
    advanceTo(2);
    expect((await alarm()).StateValue).toBe('OK');
    advanceTo(3);
    expect(await alarm()).toMatchObject({
      StateValue: 'ALARM',
      StateReason: expect.stringContaining('alarm fault') as unknown,
      StateTransitionedTimestamp: at(3),
    });
    account.advance(5);
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: 'web-errors', StateValue: 'OK', StateReason: 'x' }),
    );
    advanceTo(4);
    expect((await alarm()).StateValue).toBe('ALARM');
    advanceTo(6);
    expect((await alarm()).StateValue).toBe('ALARM');
    account.faults.remove(fault.id);
    advanceTo(7);
    expect((await alarm()).StateValue).toBe('OK');
  });

  it('takes hold at once when added after its minute, and at the exact minute on an account that does not start on one', async () => {
    const offset = createLocalAccount({ startTime: new Date('2026-01-01T00:00:30Z') });
    const client = new CloudWatchClient(inProcessClientConfig(offset));
    await client.send(new PutMetricAlarmCommand(alarmInput()));
    offset.faults.add({ kind: 'alarm', alarmName: 'web-errors', atMinute: 2, state: 'ALARM' });
    offset.clock.advanceTo(Date.parse('2026-01-01T00:02:29Z'));
    expect(offset.faults.list()).toHaveLength(1);
    const before = (await client.send(new DescribeAlarmsCommand({}))).MetricAlarms![0]!;
    expect(before.StateValue).toBe('INSUFFICIENT_DATA');
    offset.advance(1);
    const after = (await client.send(new DescribeAlarmsCommand({}))).MetricAlarms![0]!;
    expect(after).toMatchObject({
      StateValue: 'ALARM',
      StateUpdatedTimestamp: new Date('2026-01-01T00:02:30Z'),
    });

    await putAlarm();
    advanceTo(5);
    account.faults.add({ kind: 'alarm', alarmName: 'web-errors', atMinute: 1, state: 'OK' });
    expect(await alarm()).toMatchObject({ StateValue: 'OK', StateUpdatedTimestamp: at(5) });
  });
});

describe('DeleteAlarms', () => {
  it('deletes the named alarms and passes over names that do not exist', async () => {
    await putAlarm({ AlarmName: 'a' });
    await putAlarm({ AlarmName: 'b' });
    await cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: ['a', 'nope'] }));
    const { MetricAlarms = [] } = await cloudWatch.send(new DescribeAlarmsCommand({}));
    expect(MetricAlarms.map((a) => a.AlarmName)).toEqual(['b']);
  });
});

describe('PutMetricData, GetMetricStatistics and GetMetricData', () => {
  it('aggregates values, value arrays and statistic sets per period', async () => {
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: 'App',
        MetricData: [
          { MetricName: 'Latency', Value: 10, Unit: 'Milliseconds', Timestamp: at(0) },
          {
            MetricName: 'Latency',
            Values: [20, 30],
            Counts: [1, 2],
            Unit: 'Milliseconds',
            Timestamp: at(0.5),
          },
          {
            MetricName: 'Latency',
            StatisticValues: { SampleCount: 2, Sum: 100, Minimum: 40, Maximum: 60 },
            Unit: 'Milliseconds',
            Timestamp: at(1),
          },
        ],
      }),
    );
    advanceTo(3);
    const { Datapoints = [] } = await cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'Latency',
        StartTime: at(0),
        EndTime: at(2),
        Period: 60,
        Statistics: ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum'],
      }),
    );
    expect(Datapoints).toEqual([
      {
        Timestamp: at(0),
        SampleCount: 4,
        Sum: 90,
        Average: 22.5,
        Minimum: 10,
        Maximum: 30,
        Unit: 'Milliseconds',
      },
      {
        Timestamp: at(1),
        SampleCount: 2,
        Sum: 100,
        Average: 50,
        Minimum: 40,
        Maximum: 60,
        Unit: 'Milliseconds',
      },
    ]);
    const data = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: at(0),
        EndTime: at(2),
        MetricDataQueries: [
          {
            Id: 'latency',
            MetricStat: { Metric: { Namespace: 'App', MetricName: 'Latency' }, Period: 60, Stat: 'Maximum' },
          },
        ],
      }),
    );
    expect(data.MetricDataResults).toEqual([
      {
        Id: 'latency',
        Label: 'Latency',
        Timestamps: [at(1), at(0)],
        Values: [60, 30],
        StatusCode: 'Complete',
      },
    ]);
  });

  it('accepts a gzip-compressed PutMetricData, as the SDK sends a large one', async () => {
    const encodings: (string | undefined)[] = [];
    const handle = account.handle.bind(account);
    account.handle = (request) => {
      encodings.push(request.headers['content-encoding']);
      return handle(request);
    };
    const MetricData = Array.from({ length: 300 }, (_, i) => ({
      MetricName: 'Requests',
      Dimensions: [{ Name: 'Service', Value: 'web' }],
      Value: 1,
      Timestamp: new Date(account.now().getTime() - (i % 60) * 1000),
    }));
    await cloudWatch.send(new PutMetricDataCommand({ Namespace: 'App', MetricData }));
    expect(encodings).toContain('gzip');
    const { Datapoints = [] } = await cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'Requests',
        Dimensions: [{ Name: 'Service', Value: 'web' }],
        StartTime: at(-2),
        EndTime: at(1),
        Period: 180,
        Statistics: ['SampleCount'],
      }),
    );
    expect(Datapoints).toEqual([{ Timestamp: at(-2), SampleCount: 300, Unit: 'None' }]);
  });

  it.each([
    [
      'an AWS/ namespace',
      { Namespace: 'AWS/EC2' },
      'InvalidParameterValue',
      'The value AWS/EC2 for parameter Namespace is invalid.',
    ],
    [
      'Value with Values',
      { MetricData: [{ MetricName: 'x', Value: 1, Values: [1] }] },
      'InvalidParameterValue',
      'mutually exclusive',
    ],
    [
      'a timestamp three weeks old',
      { MetricData: [{ MetricName: 'x', Value: 1, Timestamp: new Date(Date.UTC(2025, 11, 10)) }] },
      'InvalidParameterValue',
      'two weeks',
    ],
  ])('PutMetricData fails for %s with %s, and stores nothing', async (_label, overrides, code, message) => {
    const error = await failure(
      cloudWatch.send(
        new PutMetricDataCommand({
          Namespace: 'App',
          MetricData: [{ MetricName: 'x', Value: 1 }],
          ...overrides,
        }),
      ),
    );
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    const { Datapoints } = await cloudWatch.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'x',
        StartTime: at(-60 * 24 * 14),
        EndTime: at(1),
        Period: 86_400,
        Statistics: ['SampleCount'],
      }),
    );
    expect(Datapoints).toEqual([]);
  });

  it('refuses a GetMetricStatistics whose StartTime is not before EndTime, or that asks for over 1,440 datapoints', async () => {
    const ask = (start: Date, end: Date, period: number) =>
      failure(
        cloudWatch.send(
          new GetMetricStatisticsCommand({
            Namespace: 'App',
            MetricName: 'x',
            StartTime: start,
            EndTime: end,
            Period: period,
            Statistics: ['Sum'],
          }),
        ),
      );
    expect(await ask(at(1), at(1), 60)).toMatchObject({
      code: 'InvalidParameterValue',
      message: 'The parameter StartTime must be less than the parameter EndTime.',
    });
    expect(await ask(at(-1441), at(0), 60)).toMatchObject({
      code: 'InvalidParameterCombination',
      message: expect.stringContaining('1,441 datapoints') as unknown,
    });
  });
});

describe('the wire protocols', () => {
  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  it('answers the SDK over Smithy RPC v2 CBOR: dates as dates, errors with their codes', async () => {
    const cbor = new CloudWatchClient({
      ...inProcessClientConfig(account),
      protocol: AwsSmithyRpcV2CborProtocol,
    });
    const protocols: (string | undefined)[] = [];
    const handle = account.handle.bind(account);
    account.handle = (request) => {
      protocols.push(request.headers['smithy-protocol']);
      return handle(request);
    };
    await cbor.send(new PutMetricAlarmCommand(alarmInput()));
    await cbor.send(
      new PutMetricDataCommand({
        Namespace: 'App',
        MetricData: [
          {
            MetricName: 'Errors',
            Dimensions: [{ Name: 'Service', Value: 'web' }],
            Value: 6,
            Timestamp: at(0),
          },
        ],
      }),
    );
    advanceTo(1);
    const { MetricAlarms = [] } = await cbor.send(new DescribeAlarmsCommand({ AlarmNames: ['web-errors'] }));
    expect(MetricAlarms[0]).toMatchObject({
      StateValue: 'ALARM',
      StateUpdatedTimestamp: at(1),
      Threshold: 5,
    });
    expect(
      await failure(
        cbor.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' })),
      ),
    ).toMatchObject({
      name: 'ResourceNotFound',
      status: 404,
    });
    expect(protocols.length).toBeGreaterThan(0);
    expect(protocols.every((p) => p === 'rpc-v2-cbor')).toBe(true);
  });

  it('answers a malformed CBOR body with an error, and keeps serving', () => {
    const reply = account.handle({
      method: 'POST',
      path: '/service/GraniteServiceVersion20100801/operation/DescribeAlarms',
      headers: { 'smithy-protocol': 'rpc-v2-cbor', 'content-type': 'application/cbor' },
      body: '',
      rawBody: new Uint8Array([0xbf, 0x61]),
    });
    expect(reply.status).toBe(400);
    expect(reply.headers['smithy-protocol']).toBe('rpc-v2-cbor');
    expect(reply.binaryBody).toBeInstanceOf(Uint8Array);
  });

  it('inflates gzip bodies only for CloudWatch, whose PutMetricData has the requestCompression trait', () => {
    const gzipped = gzipSync(JSON.stringify({ Name: '/x' }));
    const reply = account.handle({
      method: 'POST',
      path: '/',
      headers: { 'x-amz-target': 'AmazonSSM.GetParameter', 'content-encoding': 'gzip' },
      body: '',
      rawBody: gzipped,
    });
    expect(reply.status).toBe(415);
    expect(JSON.parse(reply.body)).toMatchObject({ __type: 'UnsupportedMediaType' });
  });

  it.each(['json', 'cbor'] as const)('works over HTTP (%s)', async (protocol) => {
    emulator = await serve(account, 0);
    const client = new CloudWatchClient({
      region: 'us-east-1',
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...(protocol === 'cbor' ? { protocol: AwsSmithyRpcV2CborProtocol } : {}),
    });
    await client.send(new PutMetricAlarmCommand(alarmInput({ AlarmName: `http-${protocol}` })));
    await client.send(
      new SetAlarmStateCommand({
        AlarmName: `http-${protocol}`,
        StateValue: 'ALARM',
        StateReason: 'over http',
      }),
    );
    const { MetricAlarms = [] } = await client.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
    expect(MetricAlarms.map((a) => [a.AlarmName, a.StateReason])).toEqual([
      [`http-${protocol}`, 'over http'],
    ]);
    const error = await failure(client.send(new DescribeAlarmsCommand({ NextToken: 'nope' })));
    expect(error).toMatchObject({ name: 'InvalidNextToken', status: 400 });
    client.destroy();
  });
});

describe('the fleet file and the emulator controls', () => {
  const fleet = {
    alarms: [
      {
        name: 'worker-errors',
        namespace: 'App',
        metricName: 'Errors',
        statistic: 'Sum',
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
    ],
  };

  it('declares alarms and alarm faults, seeded through the API', async () => {
    const seeded = await createLocalAccountFromFleet(
      parseFleet({
        ...fleet,
        faults: [{ kind: 'alarm', alarmName: 'worker-errors', atMinute: 90, state: 'ALARM' }],
      }),
    );
    expect(seeded.calls.filter((c) => c.service === 'monitoring').map((c) => c.action)).toEqual([
      'PutMetricAlarm',
    ]);
    const client = new CloudWatchClient(inProcessClientConfig(seeded));
    seeded.clock.advanceTo(seeded.startTime.getTime() + 90 * 60_000);
    const { MetricAlarms = [] } = await client.send(new DescribeAlarmsCommand({}));
    expect(MetricAlarms[0]).toMatchObject({
      AlarmName: 'worker-errors',
      StateValue: 'ALARM',
      Period: 60,
      EvaluationPeriods: 1,
    });
  });

  it('refuses an alarm fault for an alarm the file does not declare', () => {
    expect(() =>
      parseFleet({ ...fleet, faults: [{ kind: 'alarm', alarmName: 'nope', atMinute: 1, state: 'ALARM' }] }),
    ).toThrow(/faults\[0\]\.alarmName: alarm "nope" is not declared under alarms/);
    expect(() => parseFleet({ alarms: [{ ...fleet.alarms[0], periodSeconds: 45 }] })).toThrow(
      /alarms\[0\]\.periodSeconds: 45 must be 10, 20, 30 or a multiple of 60/,
    );
  });

  it('adds an alarm fault through POST /_local/faults, and refuses one for an unknown alarm', async () => {
    emulator = await serve(account, 0);
    await putAlarm();
    const post = (body: unknown) =>
      fetch(`${emulator!.endpoint}/_local/faults`, { method: 'POST', body: JSON.stringify(body) });
    const refused = await post({ kind: 'alarm', alarmName: 'nope', atMinute: 0, state: 'ALARM' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toContain(
      '"nope" is not an alarm of this account (alarms: web-errors)',
    );
    const added = await post({ kind: 'alarm', alarmName: 'web-errors', atMinute: 0, state: 'ALARM' });
    expect(added.status).toBe(201);
    expect((await alarm()).StateValue).toBe('ALARM');
  });

  let emulator: RunningEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });
});
