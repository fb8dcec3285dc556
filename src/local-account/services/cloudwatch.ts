import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import type { Input } from '../protocols/input.ts';
import { pageOffset, pageToken } from '../protocols/paging.ts';
import { cloudWatchOf, type AlarmConfiguration, type MetricAlarm } from './cloudwatch-alarms.ts';
import {
  STATE_VALUES,
  TREAT_MISSING_DATA,
  type AlarmStateValue,
  type ComparisonOperator,
  type TreatMissingData,
} from './cloudwatch-evaluation.ts';
import {
  STATISTICS,
  fleetApplicationMetrics,
  statisticValue,
  type Dimension,
  type MetricIdentity,
  type PublishedDatum,
  type Statistic,
  type StatisticSet,
} from './cloudwatch-metrics.ts';
import type { Operation, ServiceDefinition } from './service.ts';

/**
 * Amazon CloudWatch (2010-08-01): metric alarms and the metric operations they need. Its wire protocol is
 * AWS JSON 1.0 with the awsQueryCompatible trait (what SDK v3 and the AWS CLI speak today) and Smithy RPC v2
 * CBOR (the first protocol botocore's model lists); account.ts routes both here. Error codes are the model's
 * (botocore cloudwatch/2010-08-01/service-2.json): ResourceNotFound (404), InvalidParameterValue,
 * InvalidParameterCombination, MissingParameter, InvalidFormat, InvalidNextToken, LimitExceeded, and the
 * service-wide ValidationError for constraint violations.
 */

/** Query error codes -> the model's error shape names, for `__type` in JSON and CBOR error bodies. */
export const CLOUDWATCH_ERROR_SHAPES: Readonly<Record<string, string>> = {
  ResourceNotFound: 'ResourceNotFound',
  InvalidParameterValue: 'InvalidParameterValueException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  MissingParameter: 'MissingRequiredParameterException',
  InvalidFormat: 'InvalidFormatFault',
  InvalidNextToken: 'InvalidNextToken',
  LimitExceeded: 'LimitExceededFault',
  InternalServiceError: 'InternalServiceFault',
};

const validation = (message: string): AwsApiError => new AwsApiError('ValidationError', message);
const invalidValue = (message: string): AwsApiError => new AwsApiError('InvalidParameterValue', message);
const combination = (message: string): AwsApiError => new AwsApiError('InvalidParameterCombination', message);
const missing = (message: string): AwsApiError => new AwsApiError('MissingParameter', message);
const notNull = (member: string): AwsApiError =>
  validation(
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  );
const enumError = (value: string, member: string, allowed: readonly string[]): AwsApiError =>
  validation(
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ` +
      `Member must satisfy enum value set: [${allowed.join(', ')}]`,
  );
const lengthError = (value: string, member: string, min: number, max: number): AwsApiError =>
  validation(
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ` +
      `Member must have length ${value.length < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`}`,
  );
/** What the local account does not model, said plainly (the request is valid on AWS). */
const unsupported = (what: string): AwsApiError =>
  validation(`The local account does not support ${what}: use a single metric with a static threshold.`);

const COMPARISON_OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
] as const;
const STATIC_OPERATORS: ReadonlySet<string> = new Set(COMPARISON_OPERATORS.slice(0, 4));
const UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;
const ALARM_TYPES = ['CompositeAlarm', 'MetricAlarm'] as const;
/** DescribeAlarms MaxRecords: 1-100 (model); AWS does not document the default, 50 is what it pages at. */
const DEFAULT_ALARM_PAGE = 50;
/** Values CloudWatch accepts in a datum (PutMetricData: -2^360 to 2^360). */
const MAX_VALUE = 2 ** 360;

/** AlarmName, and any other name CloudWatch refuses ASCII control characters in. */
function readName(input: Input, path: string, member: string, max: number): string | undefined {
  const value = input.optString(path);
  if (value === undefined) return undefined;
  if (value.length < 1 || value.length > max) throw lengthError(value, member, 1, max);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw validation(`The value for ${path} must not contain ASCII control characters.`);
  return value;
}

function readEnum<T extends string>(
  input: Input,
  path: string,
  member: string,
  allowed: readonly T[],
): T | undefined {
  const value = input.optString(path);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw enumError(value, member, allowed);
  return value as T;
}

function readDimensions(input: Input, path: string): Dimension[] {
  const dimensions = input.objects(path).map((d, i) => {
    const name = readName(d, 'Name', `${lowerFirst(path)}.${i + 1}.member.name`, 255);
    const value = d.optString('Value');
    if (name === undefined) throw notNull(`${lowerFirst(path)}.${i + 1}.member.name`);
    if (value === undefined) throw notNull(`${lowerFirst(path)}.${i + 1}.member.value`);
    if (value.length < 1 || value.length > 1024)
      throw lengthError(value, `${lowerFirst(path)}.${i + 1}.member.value`, 1, 1024);
    return { name, value };
  });
  if (dimensions.length > 30) {
    throw validation(
      `1 validation error detected: Value '[...]' at '${lowerFirst(path)}' failed to satisfy constraint: ` +
        'Member must have length less than or equal to 30',
    );
  }
  const seen = new Set<string>();
  for (const d of dimensions) {
    if (seen.has(d.name)) throw invalidValue(`No metric may have duplicate dimension names: ${d.name}.`);
    seen.add(d.name);
  }
  return dimensions;
}

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

/** Timestamps arrive as epoch seconds (JSON, CBOR) or ISO 8601 (query). */
function readTimestamp(input: Input, path: string): number | undefined {
  const text = input.optString(path);
  if (text === undefined) return undefined;
  const ms = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (!Number.isFinite(ms)) throw invalidValue(`The parameter ${path} must be a timestamp, not '${text}'.`);
  return ms;
}

function readNamespace(input: Input, path: string, forWrite: boolean): string | undefined {
  const namespace = readName(input, path, lowerFirst(path), 255);
  if (namespace === undefined) return undefined;
  if (namespace.startsWith(':'))
    throw validation(`The value ${namespace} for parameter ${path} must not start with ':'.`);
  // PutMetricData: "you should not specify a namespace that begins with AWS/" - CloudWatch refuses it.
  if (forWrite && namespace.startsWith('AWS/'))
    throw invalidValue(`The value ${namespace} for parameter ${path} is invalid.`);
  return namespace;
}

function readActions(input: Input, path: string): string[] {
  const actions = input.strings(path);
  if (actions.length > 5) {
    throw validation(
      `1 validation error detected: Value '[${actions.join(', ')}]' at '${lowerFirst(path)}' failed to ` +
        'satisfy constraint: Member must have length less than or equal to 5',
    );
  }
  for (const action of actions) {
    if (!/^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d*:.+$/.test(action))
      throw validation(`Invalid arn syntax: ${action}`);
  }
  return actions;
}

/** Period: 10, 20, 30 or a multiple of 60 (PutMetricAlarm reference). */
function checkAlarmPeriod(period: number, evaluationPeriods: number): void {
  if (![10, 20, 30].includes(period) && period % 60 !== 0) {
    throw validation(`The parameter Period must be 10, 20, 30 or a multiple of 60, not ${period}.`);
  }
  const total = period * evaluationPeriods;
  if (total > 604_800) {
    throw validation(
      `Period (${period}) multiplied by EvaluationPeriods (${evaluationPeriods}) must not exceed 604800 seconds (7 days).`,
    );
  }
  if (period < 3600 && total > 86_400) {
    throw validation(
      `For a Period below 3600 seconds, Period (${period}) multiplied by EvaluationPeriods (${evaluationPeriods}) ` +
        'must not exceed 86400 seconds (1 day).',
    );
  }
}

export function cloudWatchService(account: LocalAccount): ServiceDefinition {
  const engine = cloudWatchOf(account);
  // The fleet's application metric (App/Errors per group): an instance of an image the appFailure fault names
  // serves errors, whatever its health checks say. Read at each sample, so a fault added later moves it.
  engine.addSource(
    fleetApplicationMetrics(account, (group, imageId) => account.faults.applicationFails(group, imageId)),
  );

  const PutMetricAlarm: Operation = (input) => {
    const name = readName(input, 'AlarmName', 'alarmName', 255);
    if (name === undefined) throw notNull('alarmName');
    for (const member of ['Metrics', 'EvaluationCriteria', 'ThresholdMetricId', 'EvaluationInterval']) {
      if (input.has(member))
        throw unsupported(`${member} (metric math, anomaly detection, Metrics Insights and PromQL alarms)`);
    }
    if (input.has('ExtendedStatistic')) {
      if (input.has('Statistic'))
        throw combination('Statistic and ExtendedStatistic cannot both be specified.');
      throw unsupported('ExtendedStatistic (percentile alarms)');
    }
    const description = input.optString('AlarmDescription');
    if (description !== undefined && description.length > 1024)
      throw lengthError(description, 'alarmDescription', 0, 1024);
    const metricName = readName(input, 'MetricName', 'metricName', 255);
    const namespace = readNamespace(input, 'Namespace', false);
    if (metricName === undefined)
      throw validation(
        'PutMetricAlarm needs MetricName (with Namespace, Statistic and Period), Metrics or EvaluationCriteria.',
      );
    if (namespace === undefined) throw validation('Namespace must be specified for an alarm on MetricName.');
    const statistic = readEnum(input, 'Statistic', 'statistic', STATISTICS);
    if (statistic === undefined) throw validation('Either Statistic or ExtendedStatistic must be specified.');
    const period = input.optInt('Period', 1);
    if (period === undefined) throw validation('Period must be specified for an alarm on MetricName.');
    const evaluationPeriods = input.optInt('EvaluationPeriods', 1);
    if (evaluationPeriods === undefined) throw notNull('evaluationPeriods');
    checkAlarmPeriod(period, evaluationPeriods);
    const datapointsToAlarm = input.optInt('DatapointsToAlarm', 1);
    if (datapointsToAlarm !== undefined && datapointsToAlarm > evaluationPeriods) {
      throw validation(
        `DatapointsToAlarm (${datapointsToAlarm}) must be less than or equal to EvaluationPeriods (${evaluationPeriods}).`,
      );
    }
    const threshold = input.optNumber('Threshold');
    if (threshold === undefined)
      throw validation('Threshold must be specified for an alarm with a static threshold.');
    const operator = readEnum(input, 'ComparisonOperator', 'comparisonOperator', COMPARISON_OPERATORS);
    if (operator === undefined) throw notNull('comparisonOperator');
    if (!STATIC_OPERATORS.has(operator))
      throw unsupported(`ComparisonOperator ${operator} (anomaly detection bands)`);
    const treat = input.optString('TreatMissingData');
    if (treat !== undefined && !(TREAT_MISSING_DATA as readonly string[]).includes(treat)) {
      throw validation(
        `Option ${treat} is not supported. Supported options for parameter TreatMissingData are missing, ignore, breaching and notBreaching.`,
      );
    }
    const lowSample = input.optString('EvaluateLowSampleCountPercentile');
    if (lowSample !== undefined && lowSample !== 'evaluate' && lowSample !== 'ignore') {
      throw validation(
        `Option ${lowSample} is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are evaluate and ignore.`,
      );
    }
    const unit = readEnum(input, 'Unit', 'unit', UNITS);
    const dimensions = readDimensions(input, 'Dimensions');
    const okActions = readActions(input, 'OKActions');
    const alarmActions = readActions(input, 'AlarmActions');
    const insufficientDataActions = readActions(input, 'InsufficientDataActions');
    const tags = input.objects('Tags').map((tag, i) => {
      const key = readName(tag, 'Key', `tags.${i + 1}.member.key`, 128);
      if (key === undefined) throw notNull(`tags.${i + 1}.member.key`);
      const value = tag.optString('Value');
      if (value === undefined) throw notNull(`tags.${i + 1}.member.value`);
      return [key, value] as const;
    });
    if (tags.length > 50) throw invalidValue('An alarm can have at most 50 tags.');
    const configuration: AlarmConfiguration = {
      ...(description !== undefined ? { alarmDescription: description } : {}),
      actionsEnabled: input.optBoolean('ActionsEnabled') ?? true,
      okActions,
      alarmActions,
      insufficientDataActions,
      metric: { namespace, metricName, dimensions },
      statistic,
      periodSeconds: period,
      ...(unit !== undefined ? { unit } : {}),
      evaluationPeriods,
      ...(datapointsToAlarm !== undefined ? { datapointsToAlarm } : {}),
      threshold,
      comparisonOperator: operator as ComparisonOperator,
      ...(treat !== undefined ? { treatMissingData: treat as TreatMissingData } : {}),
    };
    engine.putAlarm(name, configuration, new Map(tags));
    return undefined;
  };

  const DescribeAlarms: Operation = (input) => {
    const names = input.strings('AlarmNames');
    if (names.length > 100) {
      throw validation(
        "1 validation error detected: Value '[...]' at 'alarmNames' failed to satisfy constraint: " +
          'Member must have length less than or equal to 100',
      );
    }
    names.forEach((n, i) => {
      if (n.length < 1 || n.length > 255) throw lengthError(n, `alarmNames.${i + 1}.member`, 1, 255);
    });
    const prefix = readName(input, 'AlarmNamePrefix', 'alarmNamePrefix', 255);
    if (prefix !== undefined && names.length > 0)
      throw combination('AlarmNamePrefix and AlarmNames cannot both be specified.');
    const stateValue = readEnum(input, 'StateValue', 'stateValue', STATE_VALUES);
    const actionPrefix = input.optString('ActionPrefix');
    if (actionPrefix !== undefined && (actionPrefix.length < 1 || actionPrefix.length > 1024))
      throw lengthError(actionPrefix, 'actionPrefix', 1, 1024);
    const types = input.strings('AlarmTypes');
    types.forEach((t, i) => {
      if (!(ALARM_TYPES as readonly string[]).includes(t))
        throw enumError(t, `alarmTypes.${i + 1}.member`, ALARM_TYPES);
    });
    readName(input, 'ChildrenOfAlarmName', 'childrenOfAlarmName', 255);
    readName(input, 'ParentsOfAlarmName', 'parentsOfAlarmName', 255);
    const size = input.optInt('MaxRecords', 1, 100) ?? DEFAULT_ALARM_PAGE;
    // Only metric alarms exist here; the children and parents of an alarm are composite-alarm relations.
    const wantsMetric = types.length === 0 || types.includes('MetricAlarm');
    const relations = input.has('ChildrenOfAlarmName') || input.has('ParentsOfAlarmName');
    const wanted = new Set(names);
    const found =
      !wantsMetric || relations
        ? []
        : [...engine.alarms.values()]
            .filter((a) => names.length === 0 || wanted.has(a.alarmName))
            .filter((a) => prefix === undefined || a.alarmName.startsWith(prefix))
            .filter((a) => stateValue === undefined || a.stateValue === stateValue)
            .filter(
              (a) =>
                actionPrefix === undefined ||
                [
                  ...a.configuration.alarmActions,
                  ...a.configuration.okActions,
                  ...a.configuration.insufficientDataActions,
                ].some((action) => action.startsWith(actionPrefix)),
            )
            .sort((a, b) => (a.alarmName < b.alarmName ? -1 : a.alarmName > b.alarmName ? 1 : 0));
    const start = pageOffset(input.optString('NextToken'), found.length);
    if (start === undefined)
      throw new AwsApiError('InvalidNextToken', 'The service cannot find the next token.');
    const page = found.slice(start, start + size);
    const end = start + page.length;
    return {
      MetricAlarms: page.map(describeAlarm),
      CompositeAlarms: [],
      ...(end < found.length ? { NextToken: pageToken(end) } : {}),
    };
  };

  const SetAlarmState: Operation = (input) => {
    const name = readName(input, 'AlarmName', 'alarmName', 255);
    if (name === undefined) throw notNull('alarmName');
    const state = input.optString('StateValue');
    if (state === undefined) throw notNull('stateValue');
    const reason = input.optString('StateReason');
    if (reason === undefined) throw notNull('stateReason');
    if (reason.length > 1023) throw lengthError(reason, 'stateReason', 0, 1023);
    const reasonData = input.optString('StateReasonData');
    if (reasonData !== undefined && reasonData.length > 4000)
      throw lengthError(reasonData, 'stateReasonData', 0, 4000);
    if (!(STATE_VALUES as readonly string[]).includes(state))
      throw enumError(state, 'stateValue', STATE_VALUES);
    if (reasonData !== undefined) {
      try {
        JSON.parse(reasonData);
      } catch {
        throw new AwsApiError('InvalidFormat', 'StateReasonData is not valid JSON.');
      }
    }
    const alarm = engine.alarms.get(name);
    if (!alarm) throw new AwsApiError('ResourceNotFound', `Alarm ${name} not found`, 404);
    engine.setAlarmState(alarm, state as AlarmStateValue, reason, reasonData);
    return undefined;
  };

  const DeleteAlarms: Operation = (input) => {
    if (!input.has('AlarmNames')) throw notNull('alarmNames');
    const names = input.strings('AlarmNames');
    if (names.length > 100) {
      throw validation(
        "1 validation error detected: Value '[...]' at 'alarmNames' failed to satisfy constraint: " +
          'Member must have length less than or equal to 100',
      );
    }
    names.forEach((n, i) => {
      if (n.length < 1 || n.length > 255) throw lengthError(n, `alarmNames.${i + 1}.member`, 1, 255);
    });
    // "If you specify any incorrect alarm names, the alarms you specify with correct names are still deleted."
    engine.deleteAlarms(names);
    return undefined;
  };

  const PutMetricData: Operation = (input) => {
    const namespace = readNamespace(input, 'Namespace', true);
    if (namespace === undefined) throw notNull('namespace');
    if (input.has('EntityMetricData')) throw unsupported('EntityMetricData');
    const data = input.objects('MetricData');
    if (data.length === 0) throw missing('The parameter MetricData is required.');
    if (data.length > 1000)
      throw invalidValue('The collection MetricData must not have a size greater than 1000.');
    const nowMs = account.clock.now();
    const datums: PublishedDatum[] = data.map((datum, index) =>
      readDatum(datum, `MetricData.member.${index + 1}`, namespace, nowMs),
    );
    for (const datum of datums) engine.metrics.put(datum);
    return undefined;
  };

  const GetMetricStatistics: Operation = (input) => {
    const namespace = readNamespace(input, 'Namespace', false);
    if (namespace === undefined) throw missing('The parameter Namespace is required.');
    const metricName = readName(input, 'MetricName', 'metricName', 255);
    if (metricName === undefined) throw missing('The parameter MetricName is required.');
    const startMs = readTimestamp(input, 'StartTime');
    if (startMs === undefined) throw missing('The parameter StartTime is required.');
    const endMs = readTimestamp(input, 'EndTime');
    if (endMs === undefined) throw missing('The parameter EndTime is required.');
    const period = input.optInt('Period', 1);
    if (period === undefined) throw missing('The parameter Period is required.');
    const statistics = input.strings('Statistics');
    if (input.has('ExtendedStatistics')) {
      if (statistics.length > 0)
        throw combination(
          'The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.',
        );
      throw unsupported('ExtendedStatistics (percentiles)');
    }
    if (statistics.length === 0) throw missing('Must specify either Statistics or ExtendedStatistics.');
    if (statistics.length > 5) {
      throw validation(
        "1 validation error detected: Value '[...]' at 'statistics' failed to satisfy constraint: " +
          'Member must have length less than or equal to 5',
      );
    }
    statistics.forEach((s, i) => {
      if (!(STATISTICS as readonly string[]).includes(s))
        throw enumError(s, `statistics.${i + 1}.member`, STATISTICS);
    });
    const unit = readEnum(input, 'Unit', 'unit', UNITS);
    const dimensions = readDimensions(input, 'Dimensions');
    checkQueryPeriod(period, 'Period');
    if (startMs >= endMs)
      throw invalidValue('The parameter StartTime must be less than the parameter EndTime.');
    const requested = Math.ceil((endMs - startMs) / (period * 1000));
    if (requested > 1440) {
      throw combination(
        `You have requested up to ${requested.toLocaleString('en-US')} datapoints, which exceeds the limit of 1,440. ` +
          'You may reduce the datapoints requested by increasing Period, or decreasing the time range.',
      );
    }
    const metric: MetricIdentity = { namespace, metricName, dimensions };
    const aggregates = engine.metrics.aggregate(metric, startMs, endMs, period, unit);
    return {
      Label: metricName,
      Datapoints: aggregates.map((a) => ({
        Timestamp: new Date(a.startMs),
        ...Object.fromEntries(statistics.map((s) => [s, statisticValue(a.values, s as Statistic)])),
        Unit: a.unit,
      })),
    };
  };

  const GetMetricData: Operation = (input) => {
    const queries = input.objects('MetricDataQueries');
    if (!input.has('MetricDataQueries')) throw notNull('metricDataQueries');
    if (queries.length > 500)
      throw validation('A GetMetricData call can include at most 500 MetricDataQuery structures.');
    const startMs = readTimestamp(input, 'StartTime');
    if (startMs === undefined) throw notNull('startTime');
    const endMs = readTimestamp(input, 'EndTime');
    if (endMs === undefined) throw notNull('endTime');
    const scanBy = readEnum(input, 'ScanBy', 'scanBy', [
      'TimestampDescending',
      'TimestampAscending',
    ] as const);
    if (input.optString('NextToken') !== undefined)
      throw new AwsApiError('InvalidNextToken', 'The service cannot find the next token.');
    const ids = new Set<string>();
    const parsed = queries.map((query, i) => {
      const id = query.optString('Id');
      if (id === undefined) throw notNull(`metricDataQueries.${i + 1}.member.id`);
      if (!/^[a-z][a-zA-Z0-9_]*$/.test(id))
        throw validation(
          `The value ${id} for parameter MetricDataQueries.member.${i + 1}.Id is invalid: it must start with a lowercase letter and hold only letters, digits and _.`,
        );
      if (ids.has(id))
        throw validation(`The value ${id} for parameter MetricDataQueries.member.${i + 1}.Id is not unique.`);
      ids.add(id);
      if (query.has('Expression'))
        throw unsupported('metric math expressions and Metrics Insights queries in GetMetricData');
      const stat = query.optObject('MetricStat');
      if (!stat)
        throw validation(`MetricDataQueries.member.${i + 1} must specify either Expression or MetricStat.`);
      const metric = stat.optObject('Metric');
      if (!metric) throw notNull(`metricDataQueries.${i + 1}.member.metricStat.metric`);
      const namespace = readNamespace(metric, 'Namespace', false);
      const metricName = readName(metric, 'MetricName', 'metricName', 255);
      if (namespace === undefined || metricName === undefined)
        throw validation(
          `MetricDataQueries.member.${i + 1}.MetricStat.Metric needs Namespace and MetricName.`,
        );
      const period = stat.optInt('Period', 1);
      if (period === undefined) throw notNull(`metricDataQueries.${i + 1}.member.metricStat.period`);
      checkQueryPeriod(period, `MetricDataQueries.member.${i + 1}.MetricStat.Period`);
      const statName = stat.optString('Stat');
      if (statName === undefined) throw notNull(`metricDataQueries.${i + 1}.member.metricStat.stat`);
      if (!(STATISTICS as readonly string[]).includes(statName))
        throw unsupported(`the statistic ${statName} (only SampleCount, Average, Sum, Minimum and Maximum)`);
      return {
        id,
        label: query.optString('Label') ?? metricName,
        returnData: query.optBoolean('ReturnData') ?? true,
        metric: { namespace, metricName, dimensions: readDimensions(metric, 'Dimensions') },
        period,
        stat: statName as Statistic,
        unit: readEnum(stat, 'Unit', 'unit', UNITS),
      };
    });
    if (startMs >= endMs)
      throw validation('The parameter StartTime must be less than the parameter EndTime.');
    return {
      MetricDataResults: parsed
        .filter((q) => q.returnData)
        .map((q) => {
          const points = [...engine.metrics.aggregateAllUnits(q.metric, startMs, endMs, q.period, q.unit)]
            .map(([start, values]) => ({ start, value: statisticValue(values, q.stat) }))
            .sort((a, b) => (scanBy === 'TimestampAscending' ? a.start - b.start : b.start - a.start));
          return {
            Id: q.id,
            Label: q.label,
            Timestamps: points.map((p) => new Date(p.start)),
            Values: points.map((p) => p.value),
            StatusCode: 'Complete',
          };
        }),
      Messages: [],
    };
  };

  return {
    name: 'monitoring',
    protocol: 'json',
    apiVersion: '2010-08-01',
    xmlns: 'http://monitoring.amazonaws.com/doc/2010-08-01/',
    targetPrefix: 'GraniteServiceVersion20100801',
    jsonVersion: '1.0',
    queryCompatibleErrors: CLOUDWATCH_ERROR_SHAPES,
    rpcV2Cbor: { namespace: 'com.amazonaws.cloudwatch' },
    requestCompression: true,
    throttling: { code: 'Throttling', httpStatus: 400 },
    operations: {
      PutMetricAlarm,
      DescribeAlarms,
      SetAlarmState,
      DeleteAlarms,
      PutMetricData,
      GetMetricStatistics,
      GetMetricData,
    },
  };
}

/** GetMetricStatistics / GetMetricData periods: 1, 5, 10, 20, 30, 60 or a multiple of 60. */
function checkQueryPeriod(period: number, path: string): void {
  if (![1, 5, 10, 20, 30].includes(period) && period % 60 !== 0)
    throw invalidValue(`The parameter ${path} must be 1, 5, 10, 20, 30, 60 or a multiple of 60.`);
}

function checkValue(value: number, path: string): void {
  if (!Number.isFinite(value) || Math.abs(value) > MAX_VALUE)
    throw invalidValue(`The value ${value} for parameter ${path} is invalid.`);
}

/** One MetricDatum, validated as PutMetricData does, as a statistic set. */
function readDatum(datum: Input, path: string, namespace: string, nowMs: number): PublishedDatum {
  const metricName = readName(datum, 'MetricName', `${lowerFirst(path)}.metricName`, 255);
  if (metricName === undefined) throw missing(`The parameter ${path}.MetricName is required.`);
  const dimensions = readDimensions(datum, 'Dimensions');
  const timestampMs = readTimestamp(datum, 'Timestamp') ?? nowMs;
  // "as much as two weeks before the current date, and as much as 2 hours after the current day and time."
  if (timestampMs < nowMs - 14 * 24 * 3600 * 1000 || timestampMs > nowMs + 2 * 3600 * 1000) {
    throw invalidValue(
      `The parameter ${path}.Timestamp must specify a time no more than two weeks in the past and no more than two hours in the future.`,
    );
  }
  const unit = datum.optString('Unit');
  if (unit !== undefined && !(UNITS as readonly string[]).includes(unit))
    throw invalidValue(`The value ${unit} for parameter ${path}.Unit is invalid.`);
  const resolution = datum.optInt('StorageResolution', 1);
  if (resolution !== undefined && resolution !== 1 && resolution !== 60)
    throw invalidValue(
      `The value ${resolution} for parameter ${path}.StorageResolution is invalid: use 1 or 60.`,
    );
  const hasValue = datum.has('Value');
  const values = datum.has('Values') ? datum.numbers('Values') : [];
  const counts = datum.has('Counts') ? datum.numbers('Counts') : [];
  const statistics = datum.optObject('StatisticValues');
  if (hasValue && values.length > 0)
    throw invalidValue(
      `The parameters ${path}.Value and ${path}.Values are mutually exclusive and you have specified both.`,
    );
  if (statistics && (hasValue || values.length > 0)) {
    throw combination(
      `The parameters ${path}.Value and ${path}.StatisticValues are mutually exclusive and you have specified both.`,
    );
  }
  let set: StatisticSet;
  if (statistics) {
    const read = (member: string): number => {
      const value = statistics.optNumber(member);
      if (value === undefined) throw missing(`The parameter ${path}.StatisticValues.${member} is required.`);
      checkValue(value, `${path}.StatisticValues.${member}`);
      return value;
    };
    set = {
      sampleCount: read('SampleCount'),
      sum: read('Sum'),
      minimum: read('Minimum'),
      maximum: read('Maximum'),
    };
    if (set.sampleCount <= 0)
      throw invalidValue(
        `The value ${set.sampleCount} for parameter ${path}.StatisticValues.SampleCount is invalid.`,
      );
  } else if (values.length > 0) {
    if (values.length > 150)
      throw invalidValue(`The parameter ${path}.Values must not have more than 150 values.`);
    if (counts.length > 0 && counts.length !== values.length)
      throw invalidValue(`The parameters ${path}.Values and ${path}.Counts must be of the same size.`);
    values.forEach((v) => checkValue(v, `${path}.Values`));
    counts.forEach((c) => checkValue(c, `${path}.Counts`));
    let sampleCount = 0;
    let sum = 0;
    values.forEach((v, i) => {
      const count = counts[i] ?? 1;
      sampleCount += count;
      sum += v * count;
    });
    set = { sampleCount, sum, minimum: Math.min(...values), maximum: Math.max(...values) };
  } else if (hasValue) {
    const value = datum.number('Value');
    checkValue(value, `${path}.Value`);
    set = { sampleCount: 1, sum: value, minimum: value, maximum: value };
  } else {
    throw missing(`The parameter ${path} must contain Value, Values or StatisticValues.`);
  }
  return {
    namespace,
    metricName,
    dimensions,
    timestampMs,
    values: set,
    ...(unit !== undefined ? { unit } : {}),
    ...(resolution === 1 ? { storageResolution: 1 as const } : {}),
  };
}

function describeAlarm(alarm: MetricAlarm): Record<string, unknown> {
  const c = alarm.configuration;
  return {
    AlarmName: alarm.alarmName,
    AlarmArn: alarm.alarmArn,
    AlarmDescription: c.alarmDescription,
    AlarmConfigurationUpdatedTimestamp: alarm.configurationUpdatedTimestamp,
    ActionsEnabled: c.actionsEnabled,
    OKActions: c.okActions,
    AlarmActions: c.alarmActions,
    InsufficientDataActions: c.insufficientDataActions,
    StateValue: alarm.stateValue,
    StateReason: alarm.stateReason,
    StateReasonData: alarm.stateReasonData,
    StateUpdatedTimestamp: alarm.stateUpdatedTimestamp,
    MetricName: c.metric.metricName,
    Namespace: c.metric.namespace,
    Statistic: c.statistic,
    Dimensions: c.metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
    Period: c.periodSeconds,
    Unit: c.unit,
    EvaluationPeriods: c.evaluationPeriods,
    DatapointsToAlarm: c.datapointsToAlarm,
    Threshold: c.threshold,
    ComparisonOperator: c.comparisonOperator,
    TreatMissingData: c.treatMissingData,
    StateTransitionedTimestamp: alarm.stateTransitionedTimestamp,
  };
}
