/**
 * CloudWatch alarms, differentially: the same SDK calls against moto_server and against the local account,
 * and the observable answers compared once generated values (dates, ARNs' account) are normalized. Follows
 * test/oracles/moto-differential.test.ts.
 *
 * moto is an independent emulator, not AWS: where the two disagree, the AWS documentation decides, and each
 * difference left out of the comparison says which document was checked.
 */
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  type DescribeAlarmsCommandOutput,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { missing, resetMoto, startMoto, type RunningMoto } from '../support/tools.ts';

type Outcome =
  { readonly ok: unknown } | { readonly error: { readonly code: string; readonly status?: number } };

interface ErrorLike {
  readonly name?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

async function outcome<T extends object>(
  call: Promise<T>,
  pick: (output: T) => unknown = (o) => o,
): Promise<Outcome> {
  try {
    const output = await call;
    const { $metadata: _ignored, ...members } = output as T & { $metadata?: unknown };
    return { ok: pick(members as T) };
  } catch (error) {
    const e = error as ErrorLike;
    if (!e.$metadata) throw error;
    // The query error code (x-amzn-query-error) is what both botocore and the SDK expose as Code.
    return { error: { code: e.Code ?? e.name ?? 'unknown', status: e.$metadata.httpStatusCode } };
  }
}

function normalize(value: unknown): unknown {
  if (value instanceof Date) return '<date>';
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

/**
 * Left out of every alarm:
 * - the initial StateValue: the PutMetricAlarm reference says "When this operation creates an alarm, the alarm
 *   state is immediately set to INSUFFICIENT_DATA"; moto 5 starts alarms in OK. The local account follows AWS
 *   (test/local-account/cloudwatch.test.ts). States set by SetAlarmState are compared.
 * - StateTransitionedTimestamp, which moto does not return (MetricAlarm in the API reference has it).
 * - StateReasonData when not set: moto answers "{}", the local account leaves it out (AWS fills it from its
 *   evaluations; an alarm never evaluated has none).
 * - an empty `Metrics`: moto sends [] for an alarm on one metric; `Metrics` holds the metric math queries of an
 *   alarm that has them (MetricAlarm in the API reference), and the local account has none to send.
 * And the order of MetricAlarms: the API reference does not give one. moto answers in creation order, the local
 * account in name order (so NextToken pages stay stable while alarms are created), so both are sorted by name.
 */
function comparableAlarm(alarm: MetricAlarm, compareState: boolean): Record<string, unknown> {
  const {
    StateValue,
    StateReason,
    StateReasonData,
    StateTransitionedTimestamp: _transitioned,
    Metrics,
    ...rest
  } = alarm;
  return {
    ...rest,
    ...(Metrics && Metrics.length > 0 ? { Metrics } : {}),
    ...(compareState ? { StateValue, StateReason } : {}),
    ...(StateReasonData !== undefined && StateReasonData !== '{}' ? { StateReasonData } : {}),
  };
}

const alarms =
  (compareState: boolean) =>
  (o: DescribeAlarmsCommandOutput): unknown => ({
    MetricAlarms: [...(o.MetricAlarms ?? [])]
      .sort((a, b) => (a.AlarmName! < b.AlarmName! ? -1 : 1))
      .map((a) => comparableAlarm(a, compareState)),
    CompositeAlarms: o.CompositeAlarms ?? [],
  });

type Steps = [string, Outcome][];

async function scenario(cloudWatch: CloudWatchClient, now: Date): Promise<Steps> {
  const steps: Steps = [];
  const step = async (label: string, result: Promise<Outcome>) => steps.push([label, await result]);
  const put = (name: string, extra: Record<string, unknown> = {}) =>
    cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        AlarmDescription: `${name} errors`,
        Namespace: 'App',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'web' }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: ['arn:aws:sns:us-east-1:123456789012:alarms'],
        ...extra,
      }),
    );
  await step('create web-errors', outcome(put('web-errors')));
  await step('create api-errors', outcome(put('api-errors', { Unit: 'Count' })));
  await step('describe all', outcome(cloudWatch.send(new DescribeAlarmsCommand({})), alarms(false)));
  await step(
    'describe by name',
    outcome(
      cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ['api-errors', 'nope'] })),
      alarms(false),
    ),
  );
  await step(
    'describe by prefix',
    outcome(cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'web-' })), alarms(false)),
  );
  await step(
    'set web-errors to ALARM',
    outcome(
      cloudWatch.send(
        new SetAlarmStateCommand({
          AlarmName: 'web-errors',
          StateValue: 'ALARM',
          StateReason: 'rollback drill',
          StateReasonData: '{"drill":true}',
        }),
      ),
    ),
  );
  await step(
    'describe in ALARM',
    outcome(cloudWatch.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' })), alarms(true)),
  );
  await step(
    'set an unknown alarm',
    outcome(
      cloudWatch.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' })),
    ),
  );
  await step(
    'set with StateReasonData that is not JSON',
    outcome(
      cloudWatch.send(
        new SetAlarmStateCommand({
          AlarmName: 'web-errors',
          StateValue: 'OK',
          StateReason: 'x',
          StateReasonData: '{',
        }),
      ),
    ),
  );
  await step(
    'set an unknown state',
    outcome(
      cloudWatch.send(
        new SetAlarmStateCommand({ AlarmName: 'web-errors', StateValue: 'RED' as 'OK', StateReason: 'x' }),
      ),
    ),
  );
  await step(
    'delete web-errors and an unknown name',
    outcome(cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: ['web-errors', 'nope'] }))),
  );
  await step('describe what is left', outcome(cloudWatch.send(new DescribeAlarmsCommand({})), alarms(false)));

  const minute = (n: number) => new Date(Math.floor(now.getTime() / 60_000) * 60_000 - n * 60_000);
  await step(
    'put metric data',
    outcome(
      cloudWatch.send(
        new PutMetricDataCommand({
          Namespace: 'App',
          MetricData: [
            { MetricName: 'Latency', Value: 10, Unit: 'Milliseconds', Timestamp: minute(3) },
            { MetricName: 'Latency', Value: 30, Unit: 'Milliseconds', Timestamp: minute(3) },
            { MetricName: 'Latency', Value: 50, Unit: 'Milliseconds', Timestamp: minute(2) },
          ],
        }),
      ),
    ),
  );
  await step(
    'get metric statistics',
    outcome(
      cloudWatch.send(
        new GetMetricStatisticsCommand({
          Namespace: 'App',
          MetricName: 'Latency',
          StartTime: minute(5),
          EndTime: minute(0),
          Period: 60,
          Statistics: ['SampleCount', 'Sum', 'Maximum'],
        }),
      ),
      (o) => ({
        Label: o.Label,
        Datapoints: [...(o.Datapoints ?? [])].sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime()),
      }),
    ),
  );
  return steps;
}

const noMoto = missing('moto', 'moto CloudWatch differential tests (test/oracles/moto-cloudwatch.test.ts)');

describe.skipIf(noMoto)('moto and the local account answer the same CloudWatch calls alike', () => {
  let moto: RunningMoto;
  let account: LocalAccount;

  beforeAll(async () => {
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  beforeEach(async () => {
    await resetMoto(moto.endpoint);
    account = createLocalAccount();
  });

  it('PutMetricAlarm, DescribeAlarms filters, SetAlarmState, DeleteAlarms, metric data, and their errors', async () => {
    const local = await scenario(
      new CloudWatchClient({ ...inProcessClientConfig(account), maxAttempts: 1 }),
      account.now(),
    );
    const reference = await scenario(
      new CloudWatchClient({
        region: 'us-east-1',
        endpoint: moto.endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      }),
      new Date(),
    );
    // Anchors, so agreement cannot come from two implementations failing the same way.
    const byLabel = new Map(local);
    expect(byLabel.get('describe in ALARM')).toMatchObject({
      ok: { MetricAlarms: [{ AlarmName: 'web-errors', StateValue: 'ALARM', StateReason: 'rollback drill' }] },
    });
    expect(byLabel.get('set an unknown alarm')).toEqual({ error: { code: 'ResourceNotFound', status: 404 } });
    expect(local.map(([label]) => label)).toEqual(reference.map(([label]) => label));
    for (const [index, [label, localOutcome]] of local.entries()) {
      expect.soft({ step: label, outcome: normalize(localOutcome) }).toEqual({
        step: label,
        outcome: normalize(reference[index]![1]),
      });
    }
  });
});
