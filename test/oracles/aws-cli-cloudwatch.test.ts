/**
 * The AWS CLI against CloudWatch on a running emulator: botocore has its own serializers and parsers (it picks
 * AWS JSON 1.0 with the query-compatible error header for CloudWatch, ahead of CBOR and query), so agreement
 * here means the wire format is AWS's, not merely something the JS SDK tolerates. Follows aws-cli.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cloudWatchOf, createLocalAccount, serve, type LocalAccount } from '../../src/local-account/index.ts';
import type { RunningEmulator } from '../../src/local-account/server.ts';
import { cliError, missing, runAws } from '../support/tools.ts';

/** The CLI's exit code for an error the service answered with: 255 in CLI v1, 254 in CLI v2. */
const SERVICE_ERROR_EXIT_CODES = [254, 255];

const noCli = missing('aws', 'AWS CLI oracle for CloudWatch (test/oracles/aws-cli-cloudwatch.test.ts)');

let account: LocalAccount;
let emulator: RunningEmulator;

const aws = (...args: string[]) => runAws(emulator.endpoint, args);

/** CLI v1 prints the wire's epoch seconds, CLI v2 ISO 8601 strings. */
const epochMs = (value: number | string): number =>
  typeof value === 'number' ? value * 1000 : Date.parse(value);

const putAlarm = (name: string, ...extra: string[]) =>
  aws(
    'cloudwatch',
    'put-metric-alarm',
    '--alarm-name',
    name,
    '--namespace',
    'App',
    '--metric-name',
    'Errors',
    '--dimensions',
    'Name=AutoScalingGroupName,Value=worker',
    '--statistic',
    'Sum',
    '--period',
    '60',
    '--evaluation-periods',
    '2',
    '--datapoints-to-alarm',
    '1',
    '--threshold',
    '1',
    '--comparison-operator',
    'GreaterThanOrEqualToThreshold',
    ...extra,
  );

interface Alarms {
  MetricAlarms: {
    AlarmName: string;
    StateValue: string;
    StateReason: string;
    StateUpdatedTimestamp: number | string;
  }[];
  CompositeAlarms: unknown[];
}

describe.skipIf(noCli)('the AWS CLI against CloudWatch on the local account', () => {
  beforeAll(async () => {
    account = createLocalAccount();
    emulator = await serve(account, 0);
  });

  afterAll(async () => {
    await emulator?.close();
  });

  beforeEach(() => {
    cloudWatchOf(account).deleteAlarms([...cloudWatchOf(account).alarms.keys()]);
    account.faults.clear();
  });

  it('creates alarms, lists them page by page, and reads their state', async () => {
    for (const name of ['worker-errors', 'api-errors', 'web-errors'])
      expect((await putAlarm(name)).exitCode).toBe(0);
    // --page-size 1 makes the CLI follow NextToken through three pages.
    const listed = await aws('cloudwatch', 'describe-alarms', '--page-size', '1');
    expect(listed.exitCode).toBe(0);
    const alarms = listed.json as Alarms;
    expect(alarms.MetricAlarms.map((a) => [a.AlarmName, a.StateValue, a.StateReason])).toEqual([
      ['api-errors', 'INSUFFICIENT_DATA', 'Unchecked: Initial alarm creation'],
      ['web-errors', 'INSUFFICIENT_DATA', 'Unchecked: Initial alarm creation'],
      ['worker-errors', 'INSUFFICIENT_DATA', 'Unchecked: Initial alarm creation'],
    ]);
    expect(epochMs(alarms.MetricAlarms[0]!.StateUpdatedTimestamp)).toBe(account.now().getTime());
    const byPrefix = await aws(
      'cloudwatch',
      'describe-alarms',
      '--alarm-name-prefix',
      'w',
      '--query',
      'MetricAlarms[].AlarmName',
    );
    expect(byPrefix.json).toEqual(['web-errors', 'worker-errors']);
  });

  it('evaluates an alarm on data put with put-metric-data as the emulator clock advances', async () => {
    await putAlarm('worker-errors');
    const now = account.now().toISOString();
    const put = await aws(
      'cloudwatch',
      'put-metric-data',
      '--namespace',
      'App',
      '--metric-name',
      'Errors',
      '--dimensions',
      'AutoScalingGroupName=worker',
      '--value',
      '3',
      '--timestamp',
      now,
    );
    expect(put.exitCode).toBe(0);
    const advanced = await fetch(`${emulator.endpoint}/_local/clock/advance`, {
      method: 'POST',
      body: JSON.stringify({ seconds: 60 }),
    });
    expect(advanced.status).toBe(200);
    const described = await aws(
      'cloudwatch',
      'describe-alarms',
      '--alarm-names',
      'worker-errors',
      '--state-value',
      'ALARM',
    );
    expect((described.json as Alarms).MetricAlarms[0]).toMatchObject({
      AlarmName: 'worker-errors',
      StateValue: 'ALARM',
      StateReason: expect.stringContaining('1 out of the last 2 datapoints [3.0') as unknown,
    });
    const stats = await aws(
      'cloudwatch',
      'get-metric-statistics',
      '--namespace',
      'App',
      '--metric-name',
      'Errors',
      '--dimensions',
      'Name=AutoScalingGroupName,Value=worker',
      '--start-time',
      now,
      '--end-time',
      account.now().toISOString(),
      '--period',
      '60',
      '--statistics',
      'Sum',
    );
    expect(stats.json).toMatchObject({ Label: 'Errors', Datapoints: [{ Sum: 3, Unit: 'None' }] });
  });

  it('puts values, counts and statistic sets with --metric-data, and reads them back with get-metric-data', async () => {
    const start = account.now();
    const at = new Date(start.getTime() + 1000).toISOString();
    const put = await aws(
      'cloudwatch',
      'put-metric-data',
      '--namespace',
      'App',
      '--metric-data',
      JSON.stringify([
        { MetricName: 'Latency', Timestamp: at, Values: [10, 30], Counts: [1, 2], Unit: 'Milliseconds' },
        {
          MetricName: 'Latency',
          Timestamp: at,
          StatisticValues: { SampleCount: 2, Sum: 40, Minimum: 5, Maximum: 35 },
          Unit: 'Milliseconds',
        },
      ]),
    );
    expect(put.stderr).toBe('');
    expect(put.exitCode).toBe(0);
    account.advance(60);
    const got = await aws(
      'cloudwatch',
      'get-metric-data',
      '--start-time',
      start.toISOString(),
      '--end-time',
      account.now().toISOString(),
      '--metric-data-queries',
      JSON.stringify(
        ['Sum', 'SampleCount', 'Maximum', 'Average'].map((stat) => ({
          Id: stat.toLowerCase(),
          MetricStat: {
            Metric: { Namespace: 'App', MetricName: 'Latency' },
            Period: 60,
            Stat: stat,
          },
        })),
      ),
    );
    expect(got.stderr).toBe('');
    const results = (
      got.json as { MetricDataResults: { Id: string; Values: number[]; StatusCode: string }[] }
    ).MetricDataResults;
    // Values 10 once and 30 twice (sum 70, 3 samples) plus a set of 2 samples summing to 40.
    expect(results.map((r) => [r.Id, r.Values, r.StatusCode])).toEqual([
      ['sum', [110], 'Complete'],
      ['samplecount', [5], 'Complete'],
      ['maximum', [35], 'Complete'],
      ['average', [22], 'Complete'],
    ]);
  });

  it('sets an alarm state, and an alarm fault holds it', async () => {
    await putAlarm('worker-errors');
    const set = await aws(
      'cloudwatch',
      'set-alarm-state',
      '--alarm-name',
      'worker-errors',
      '--state-value',
      'ALARM',
      '--state-reason',
      'rollback drill',
    );
    expect(set.exitCode).toBe(0);
    const inAlarm = await aws(
      'cloudwatch',
      'describe-alarms',
      '--state-value',
      'ALARM',
      '--query',
      'MetricAlarms[].StateReason',
    );
    expect(inAlarm.json).toEqual(['rollback drill']);
    const fault = await fetch(`${emulator.endpoint}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'alarm', alarmName: 'worker-errors', atMinute: 0, state: 'OK' }),
    });
    expect(fault.status).toBe(201);
    const held = await aws('cloudwatch', 'describe-alarms', '--query', 'MetricAlarms[].StateValue');
    expect(held.json).toEqual(['OK']);
  });

  it('deletes alarms, passing over names that do not exist', async () => {
    await putAlarm('worker-errors');
    const deleted = await aws('cloudwatch', 'delete-alarms', '--alarm-names', 'worker-errors', 'nope');
    expect(deleted.exitCode).toBe(0);
    expect((await aws('cloudwatch', 'describe-alarms')).json).toEqual({
      MetricAlarms: [],
      CompositeAlarms: [],
    });
  });

  it.each([
    [
      'set-alarm-state on an unknown alarm with ResourceNotFound',
      ['set-alarm-state', '--alarm-name', 'nope', '--state-value', 'OK', '--state-reason', 'x'],
      'ResourceNotFound',
      'SetAlarmState',
    ],
    [
      'put-metric-data into an AWS/ namespace with InvalidParameterValue',
      ['put-metric-data', '--namespace', 'AWS/EC2', '--metric-name', 'x', '--value', '1'],
      'InvalidParameterValue',
      'PutMetricData',
    ],
    [
      'put-metric-alarm with a 45 s period with ValidationError',
      [
        'put-metric-alarm',
        '--alarm-name',
        'x',
        '--namespace',
        'App',
        '--metric-name',
        'Errors',
        '--statistic',
        'Sum',
        '--period',
        '45',
        '--evaluation-periods',
        '1',
        '--threshold',
        '1',
        '--comparison-operator',
        'GreaterThanThreshold',
      ],
      'ValidationError',
      'PutMetricAlarm',
    ],
    [
      'describe-alarms with a foreign token with InvalidNextToken',
      ['describe-alarms', '--starting-token', 'nope', '--max-items', '1'],
      'InvalidNextToken',
      'DescribeAlarms',
    ],
  ])('fails %s', async (_label, args, code, operation) => {
    const result = await aws('cloudwatch', ...args);
    expect(SERVICE_ERROR_EXIT_CODES).toContain(result.exitCode);
    expect(cliError(result.stderr)).toMatchObject({ code, operation });
  });
});
