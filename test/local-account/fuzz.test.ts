/**
 * A bounded, seeded fuzz of the local account's wire protocols over real HTTP: random query bodies for EC2, Auto
 * Scaling, SNS and Elastic Load Balancing v2, random JSON 1.1 (SSM) and 1.0 (Step Functions, CloudWatch) bodies,
 * random Smithy RPC v2 CBOR bodies (CloudWatch), and random /_local/* control calls.
 * Every request must get an answer in its protocol's shape (never a 500), the server must keep serving, and a
 * refused request must leave the account exactly as it was.
 *
 * Deterministic: the same seed gives the same requests (FUZZ_SEED=n to try another; a failure prints the seed
 * and the request). Bounded: REQUESTS per protocol, and a wall-clock budget after which a run stops early.
 */
import { gzipSync } from 'node:zlib';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { decode as decodeCbor, encode as encodeCbor, Tagged } from 'cborg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccountFromFleet,
  readFleetFile,
  serve,
  stepFunctionsOf,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import {
  fingerprint,
  prototypeKeys,
  rawRequest,
  seededRandom,
  signedAs,
  type RawRequest,
  type RawResponse,
} from './bad-request-support.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20260101);
const REQUESTS = 300;
const BUDGET_MS = 20_000;

let account: LocalAccount;
let running: Awaited<ReturnType<typeof serve>>;

beforeEach(async () => {
  account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
  running = await serve(account, 0);
});
afterEach(async () => {
  await running.close();
});

type Random = ReturnType<typeof seededRandom>;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: Random, p: number): boolean => random() < p;
const between = (random: Random, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
const QUERY_MEMBERS = [
  ...[
    'AutoScalingGroupName',
    'AutoScalingGroupNames',
    'LaunchTemplate',
    'LaunchTemplateId',
    'LaunchTemplateName',
  ],
  ...['Version', 'Versions', 'MinSize', 'MaxSize', 'DesiredCapacity', 'Filters', 'Filter', 'Name', 'Values'],
  ...['Value', 'Tag', 'Tags', 'Key', 'ResourceId', 'ImageId', 'Owner', 'ExecutableBy', 'Attribute', 'DryRun'],
  ...['LaunchPermission', 'Add', 'Remove', 'UserId', 'Group', 'OrganizationArn', 'SnapshotId', 'MaxRecords'],
  ...['NextToken', 'InstanceIds', 'InstanceId', 'LaunchTemplateData', 'InstanceType', 'SourceVersion'],
  ...['SetDefaultVersion', 'Preferences', 'MinHealthyPercentage', 'InstanceWarmup', 'CheckpointPercentages'],
  ...['AutoRollback', 'DesiredConfiguration', 'Strategy', 'InstanceRefreshIds', 'TopicArn', 'TargetArn'],
  ...['Message', 'Subject', 'MessageStructure', 'MessageAttributes', 'DataType', 'StringValue', 'Attributes'],
  ...[
    'Protocol',
    'Endpoint',
    'ForceDelete',
    'HonorCooldown',
    'ShouldDecrementDesiredCapacity',
    'Description',
  ],
  ...['BlockDeviceMapping', 'Ebs', 'VolumeSize', 'TagSpecification', 'ResourceType', 'VersionDescription'],
  ...['TargetGroupArn', 'TargetGroupArns', 'Targets', 'Id', 'Port', 'LoadBalancerArn', 'LoadBalancerArns'],
  ...['ListenerArn', 'ListenerArns', 'DefaultActions', 'Type', 'ForwardConfig', 'TargetGroups', 'Subnets'],
  ...['HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount'],
  ...['HealthCheckProtocol', 'HealthCheckPort', 'Matcher', 'HttpCode', 'Names', 'PageSize', 'Marker'],
  ...['Scheme', 'VpcId', 'Certificates', 'CertificateArn', 'SslPolicy', 'TargetType'],
];
const LIST_MARKERS = ['member', 'entry', 'item', 'key', 'value'];
const INDEXES = ['1', '2', '3', '0', '1000', '1001', '200000000', '99999999999999999999', '01', '-1'];
const IDS = [
  ...['ami-0a1b2c3d4e5f60001', 'ami-0a1b2c3d4e5f60002', 'ami-00000000', 'ami-zz', 'lt-0a1b2c3d4e5f60001'],
  ...['snap-0a1b2c3d4e5f60001', 'web', 'api', 'worker', 'nosuch', '$Latest', '$Default', '1', '2'],
  ...['arn:aws:sns:us-east-1:111122223333:events', 'i-0000000000000a001', '111122223333', 'all'],
  ...[
    '{tg}',
    '{lb}',
    '{listener}',
    '{instance}',
    'fuzz-errors',
    'App',
    'Errors',
    'AWS/EC2',
    'HTTP',
    'forward',
  ],
  ...['arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/nosuch/0000000000000000'],
];

/**
 * Placeholders in ELBv2 templates and values, replaced when a request is built by an ARN or instance id the
 * account holds then (one of the fuzz's own target groups, load balancers, listeners; a fleet instance), or,
 * when it holds none, by one that does not exist.
 */
function resolved(random: Random, value: string): string {
  if (!/\{(tg|lb|listener|instance)\}/.test(value)) return value;
  const { targetGroups, loadBalancers, listeners, instances } = account.state;
  const choose = (keys: Iterable<string>, none: string) => {
    const all = [...keys];
    return all.length > 0 && chance(random, 0.9) ? pick(random, all) : none;
  };
  const arn = 'arn:aws:elasticloadbalancing:us-east-1:111122223333';
  return value
    .replaceAll('{tg}', () => choose(targetGroups.keys(), `${arn}:targetgroup/gone/0123456789abcdef`))
    .replaceAll('{lb}', () => choose(loadBalancers.keys(), `${arn}:loadbalancer/app/gone/0123456789abcdef`))
    .replaceAll('{listener}', () =>
      choose(listeners.keys(), `${arn}:listener/app/gone/0123456789abcdef/0123456789abcdef`),
    )
    .replaceAll('{instance}', () => choose(instances.keys(), 'i-0000000000000dead'));
}

/** The fuzz fleet's start, in epoch seconds: CloudWatch timestamps in the templates are near it. */
const FLEET_START = Date.parse('2026-11-26T09:00:00Z') / 1000;

const DEFINITION = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });

/**
 * Requests that succeed on the fuzz fleet, for each service: the fuzz mutates them (a value changed, a member
 * dropped or added) to reach past parameter checks into the operations, where a refusal after a partial change
 * would show.
 */
const QUERY_TEMPLATES: Record<string, readonly (readonly [string, string])[][]> = {
  ec2: [
    [
      ['Action', 'DescribeImages'],
      ['Filter.1.Name', 'name'],
      ['Filter.1.Value.1', 'golden-*'],
    ],
    [
      ['Action', 'CreateTags'],
      ['ResourceId.1', 'ami-0a1b2c3d4e5f60002'],
      ['Tag.1.Key', 'stage'],
      ['Tag.1.Value', 'canary'],
    ],
    [
      ['Action', 'DeleteTags'],
      ['ResourceId.1', 'lt-0a1b2c3d4e5f60001'],
      ['Tag.1.Key', 'stage'],
    ],
    [
      ['Action', 'CreateLaunchTemplateVersion'],
      ['LaunchTemplateName', 'web'],
      ['SourceVersion', '1'],
      ['LaunchTemplateData.ImageId', 'ami-0a1b2c3d4e5f60002'],
    ],
    [
      ['Action', 'ModifyLaunchTemplate'],
      ['LaunchTemplateId', 'lt-0a1b2c3d4e5f60001'],
      ['SetDefaultVersion', '1'],
    ],
    [
      ['Action', 'DescribeLaunchTemplateVersions'],
      ['LaunchTemplateName', 'web'],
      ['LaunchTemplateVersion.1', '$Latest'],
    ],
    [
      ['Action', 'ModifyImageAttribute'],
      ['ImageId', 'ami-0a1b2c3d4e5f60002'],
      ['LaunchPermission.Add.1.UserId', '210987654321'],
    ],
    [
      ['Action', 'ModifySnapshotAttribute'],
      ['SnapshotId', 'snap-0a1b2c3d4e5f60002'],
      ['Attribute', 'createVolumePermission'],
      ['OperationType', 'add'],
      ['UserId.1', '210987654321'],
    ],
    [
      ['Action', 'DescribeInstances'],
      ['Filter.1.Name', 'instance-state-name'],
      ['Filter.1.Value.1', 'running'],
    ],
    [
      ['Action', 'CreateLaunchTemplate'],
      ['LaunchTemplateName', 'fuzzed'],
      ['LaunchTemplateData.ImageId', 'ami-0a1b2c3d4e5f60001'],
      ['TagSpecification.1.ResourceType', 'launch-template'],
      ['TagSpecification.1.Tag.1.Key', 'k'],
      ['TagSpecification.1.Tag.1.Value', 'v'],
    ],
  ],
  autoscaling: [
    [
      ['Action', 'DescribeAutoScalingGroups'],
      ['AutoScalingGroupNames.member.1', 'web'],
    ],
    [
      ['Action', 'UpdateAutoScalingGroup'],
      ['AutoScalingGroupName', 'web'],
      ['MinSize', '1'],
      ['MaxSize', '9'],
    ],
    [
      ['Action', 'SetDesiredCapacity'],
      ['AutoScalingGroupName', 'api'],
      ['DesiredCapacity', '4'],
    ],
    [
      ['Action', 'StartInstanceRefresh'],
      ['AutoScalingGroupName', 'web'],
      ['Preferences.MinHealthyPercentage', '90'],
      ['Preferences.CheckpointPercentages.member.1', '50'],
    ],
    [
      ['Action', 'CancelInstanceRefresh'],
      ['AutoScalingGroupName', 'web'],
    ],
    [
      ['Action', 'DescribeInstanceRefreshes'],
      ['AutoScalingGroupName', 'web'],
      ['MaxRecords', '10'],
    ],
    [
      ['Action', 'UpdateAutoScalingGroup'],
      ['AutoScalingGroupName', 'api'],
      ['LaunchTemplate.LaunchTemplateName', 'backend'],
      ['LaunchTemplate.Version', '$Latest'],
    ],
  ],
  sns: [
    [
      ['Action', 'CreateTopic'],
      ['Name', 'events'],
      ['Attributes.entry.1.key', 'DisplayName'],
      ['Attributes.entry.1.value', 'Ops'],
    ],
    [
      ['Action', 'Publish'],
      ['TopicArn', 'arn:aws:sns:us-east-1:111122223333:events'],
      ['Message', 'hi'],
      ['MessageAttributes.entry.1.Name', 'status'],
      ['MessageAttributes.entry.1.Value.DataType', 'String'],
      ['MessageAttributes.entry.1.Value.StringValue', 'FAILED'],
    ],
    [
      ['Action', 'Subscribe'],
      ['TopicArn', 'arn:aws:sns:us-east-1:111122223333:events'],
      ['Protocol', 'email'],
      ['Endpoint', 'ops@example.com'],
    ],
    [['Action', 'ListTopics']],
    [
      ['Action', 'DeleteTopic'],
      ['TopicArn', 'arn:aws:sns:us-east-1:111122223333:events'],
    ],
  ],
  elasticloadbalancing: [
    [
      ['Action', 'CreateTargetGroup'],
      ['Name', 'fuzz'],
      ['Protocol', 'HTTP'],
      ['Port', '80'],
      ['VpcId', 'vpc-0a1b2c3d4e5f60001'],
      ['HealthCheckIntervalSeconds', '10'],
      ['HealthyThresholdCount', '2'],
    ],
    [
      ['Action', 'CreateLoadBalancer'],
      ['Name', 'fuzz'],
      ['Subnets.member.1', 'subnet-1'],
      ['Subnets.member.2', 'subnet-2'],
    ],
    [
      ['Action', 'CreateListener'],
      ['LoadBalancerArn', '{lb}'],
      ['Protocol', 'HTTP'],
      ['Port', '80'],
      ['DefaultActions.member.1.Type', 'forward'],
      ['DefaultActions.member.1.TargetGroupArn', '{tg}'],
    ],
    [
      ['Action', 'RegisterTargets'],
      ['TargetGroupArn', '{tg}'],
      ['Targets.member.1.Id', '{instance}'],
      ['Targets.member.1.Port', '8080'],
    ],
    [
      ['Action', 'DeregisterTargets'],
      ['TargetGroupArn', '{tg}'],
      ['Targets.member.1.Id', '{instance}'],
    ],
    [
      ['Action', 'DescribeTargetHealth'],
      ['TargetGroupArn', '{tg}'],
      ['Targets.member.1.Id', '{instance}'],
    ],
    [
      ['Action', 'ModifyTargetGroup'],
      ['TargetGroupArn', '{tg}'],
      ['HealthCheckPath', '/health'],
      ['HealthyThresholdCount', '3'],
      ['Matcher.HttpCode', '200-299'],
    ],
    [
      ['Action', 'ModifyTargetGroupAttributes'],
      ['TargetGroupArn', '{tg}'],
      ['Attributes.member.1.Key', 'deregistration_delay.timeout_seconds'],
      ['Attributes.member.1.Value', '30'],
    ],
    [
      ['Action', 'DescribeTargetGroups'],
      ['Names.member.1', 'fuzz'],
      ['PageSize', '1'],
    ],
    [
      ['Action', 'DescribeListeners'],
      ['LoadBalancerArn', '{lb}'],
    ],
    [
      ['Action', 'DeleteListener'],
      ['ListenerArn', '{listener}'],
    ],
    [
      ['Action', 'DeleteTargetGroup'],
      ['TargetGroupArn', '{tg}'],
    ],
    [
      ['Action', 'DeleteLoadBalancer'],
      ['LoadBalancerArn', '{lb}'],
    ],
  ],
};

const JSON_TEMPLATES: Record<string, readonly [string, Record<string, unknown>][]> = {
  ssm: [
    [
      'PutParameter',
      {
        Name: '/fuzz/ami',
        Value: 'ami-0a1b2c3d4e5f60002',
        Type: 'String',
        DataType: 'aws:ec2:image',
        Overwrite: true,
      },
    ],
    ['PutParameter', { Name: '/fuzz/text', Value: 'v', Type: 'String', Tags: [{ Key: 'k', Value: 'v' }] }],
    ['GetParameter', { Name: '/fuzz/ami' }],
    ['GetParameters', { Names: ['/fuzz/ami', '/fuzz/text'] }],
    ['LabelParameterVersion', { Name: '/fuzz/ami', Labels: ['good'] }],
    ['DescribeParameters', { ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/fuzz'] }] }],
    ['GetParameterHistory', { Name: '/fuzz/ami' }],
    ['DeleteParameter', { Name: '/fuzz/text' }],
  ],
  states: [
    [
      'CreateStateMachine',
      { name: 'fuzzed', roleArn: 'arn:aws:iam::111122223333:role/r', definition: DEFINITION },
    ],
    [
      'StartExecution',
      { stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:fuzzed', input: '{"a":1}' },
    ],
    [
      'ListExecutions',
      { stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:fuzzed', maxResults: 5 },
    ],
    [
      'DescribeStateMachine',
      { stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:fuzzed' },
    ],
    ['ListStateMachines', {}],
    ['DeleteStateMachine', { stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:fuzzed' }],
  ],
  monitoring: [
    [
      'PutMetricAlarm',
      {
        AlarmName: 'fuzz-errors',
        Namespace: 'App',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'web' }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
    ],
    ['DescribeAlarms', { AlarmNames: ['fuzz-errors'], StateValue: 'ALARM', MaxRecords: 10 }],
    ['DescribeAlarms', { AlarmNamePrefix: 'fuzz', AlarmTypes: ['MetricAlarm'] }],
    ['SetAlarmState', { AlarmName: 'fuzz-errors', StateValue: 'ALARM', StateReason: 'fuzz' }],
    ['DeleteAlarms', { AlarmNames: ['fuzz-errors'] }],
    [
      'PutMetricData',
      {
        Namespace: 'App',
        MetricData: [
          {
            MetricName: 'Errors',
            Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'web' }],
            Timestamp: FLEET_START,
            Value: 3,
            Unit: 'Count',
          },
          { MetricName: 'Latency', Values: [10, 30], Counts: [1, 2], Unit: 'Milliseconds' },
          { MetricName: 'Latency', StatisticValues: { SampleCount: 2, Sum: 40, Minimum: 5, Maximum: 35 } },
        ],
      },
    ],
    [
      'GetMetricStatistics',
      {
        Namespace: 'App',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'web' }],
        StartTime: FLEET_START - 600,
        EndTime: FLEET_START + 600,
        Period: 60,
        Statistics: ['Sum', 'Average'],
      },
    ],
    [
      'GetMetricData',
      {
        MetricDataQueries: [
          {
            Id: 'm1',
            MetricStat: {
              Metric: { Namespace: 'App', MetricName: 'Errors' },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
        StartTime: FLEET_START - 600,
        EndTime: FLEET_START + 600,
        ScanBy: 'TimestampDescending',
        MaxDatapoints: 100,
      },
    ],
  ],
};

/** Another value for a member: for a number, mostly one at or past a likely bound. */
function nearby(random: Random, value: string): string {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || chance(random, 0.3)) return randomQueryValue(random);
  return String(pick(random, [n - 1, n + 1, 0, -1, n * 10, n + 100, 1000, 2 ** 31, 1e308, n + 0.5]));
}

/** A template with no change (a quarter of the time) or one or two: a value replaced, a member dropped, or a random member added. */
function mutatedPairs(random: Random, template: readonly (readonly [string, string])[]): [string, string][] {
  const pairs = template.map(([k, v]): [string, string] => [k, v]);
  for (let n = chance(random, 0.25) ? 0 : between(random, 1, 2); n > 0; n--) {
    const at = between(random, 1, Math.max(1, pairs.length - 1));
    const roll = random();
    if (roll < 0.5 && pairs[at]) pairs[at] = [pairs[at][0], nearby(random, pairs[at][1])];
    else if (roll < 0.65 && pairs.length > 1) pairs.splice(at, 1);
    else if (roll < 0.8 && pairs[at])
      pairs[at] = [pairs[at][0].replace(/\d+/, pick(random, INDEXES)), pairs[at][1]];
    else pairs.push([randomQueryKey(random), randomQueryValue(random)]);
  }
  return pairs;
}

function randomText(random: Random, max = 40): string {
  const alphabets = ['abcXYZ019', ' %+&=?*.\\/:-_', 'é漢字😀\u0000\u202e', '<>"\'&;'];
  const alphabet = [...(alphabets.filter(() => chance(random, 0.6)).join('') || 'ab')];
  return Array.from({ length: between(random, 0, max) }, () => pick(random, alphabet)).join('');
}

function randomQueryValue(random: Random): string {
  switch (between(random, 0, 9)) {
    case 0:
      return '';
    case 1:
      return String(pick(random, [0, -1, 1, 2, 100, 101, 1e308, 2 ** 53, -(2 ** 31), 0.5]));
    case 2:
      return pick(random, ['NaN', 'Infinity', '-Infinity', '1e400', '0x10', ' 7 ', 'true', 'false', 'TRUE']);
    case 3:
      return pick(random, ['*', '?', '*0*0*0*0*0*0*1', '\\*', 'a*b?c', '*'.repeat(300)]);
    case 4:
      return 'x'.repeat(between(random, 200, 3000));
    case 5:
    case 6:
      return pick(random, IDS);
    default:
      return randomText(random);
  }
}

function randomQueryKey(random: Random): string {
  const segments = Array.from({ length: between(random, 1, 5) }, (_, i) => {
    const roll = random();
    if (i > 0 && roll < 0.2) return pick(random, INDEXES);
    if (i > 0 && roll < 0.3) return pick(random, LIST_MARKERS);
    if (roll < 0.4) return pick(random, PROTOTYPE_NAMES);
    if (roll < 0.45) return randomText(random, 8);
    return pick(random, QUERY_MEMBERS);
  });
  if (chance(random, 0.02)) return 'A.'.repeat(between(random, 30, 40)) + 'B';
  return segments.join('.');
}

/** Form-encodes mostly as the SDKs do; sometimes leaves `&`, `=`, `%` and `+` raw. */
const encode = (random: Random, text: string): string =>
  chance(random, 0.9) ? encodeURIComponent(text) : text;

function randomQueryRequest(
  random: Random,
  service: { name: string; version: string; actions: string[] },
): RawRequest {
  const others = ['ec2', 'autoscaling', 'sns', 'ssm', 'states', 'iam', 'elasticloadbalancing', 'monitoring'];
  const signer = chance(random, 0.8) ? service.name : chance(random, 0.5) ? pick(random, others) : undefined;
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    ...(signer ? signedAs(signer) : {}),
  };
  if (chance(random, 0.04)) return { headers, body: randomText(random, 300) };
  const pairs: string[] = [];
  if (chance(random, 0.6)) {
    const [action, ...members] = mutatedPairs(random, pick(random, QUERY_TEMPLATES[service.name]!));
    const body = [
      `${action![0]}=${encodeURIComponent(action![1])}`,
      `Version=${service.version}`,
      ...members.map(([k, v]) => `${encode(random, k)}=${encode(random, resolved(random, v))}`),
    ].join('&');
    return { headers, body };
  }
  if (chance(random, 0.97)) {
    pairs.push(
      `Action=${chance(random, 0.85) ? pick(random, service.actions) : encode(random, randomText(random, 12))}`,
    );
  }
  if (chance(random, 0.95)) pairs.push(`Version=${chance(random, 0.92) ? service.version : '2099-01-01'}`);
  for (let n = between(random, 0, 12); n > 0; n--) {
    pairs.push(
      `${encode(random, randomQueryKey(random))}=${encode(random, resolved(random, randomQueryValue(random)))}`,
    );
  }
  if (chance(random, 0.02)) pairs.push(...Array.from({ length: 10_001 }, (_, i) => `x${i}=1`));
  const body = pairs.join('&');
  // Some requests as GET, with the parameters in the query string, as the query protocols also allow.
  if (chance(random, 0.1) && /^[\x21-\x7e]{0,4000}$/.test(body) && !body.includes('#')) {
    return { method: 'GET', path: `/?${body}`, headers };
  }
  return { headers, body };
}

const JSON_MEMBERS = {
  ssm: [
    ...['Name', 'Value', 'Type', 'Overwrite', 'Labels', 'ParameterVersion', 'Names', 'WithDecryption'],
    ...['MaxResults', 'NextToken', 'ParameterFilters', 'Filters', 'Key', 'Option', 'Values', 'DataType'],
    ...['Tags', 'Description', 'AllowedPattern', 'Tier', 'Policies', 'KeyId'],
  ],
  states: [
    ...['name', 'definition', 'roleArn', 'type', 'stateMachineArn', 'executionArn', 'input', 'maxResults'],
    ...['nextToken', 'statusFilter', 'reverseOrder', 'includeExecutionData', 'loggingConfiguration'],
    ...['tracingConfiguration', 'error', 'cause', 'tags'],
  ],
  monitoring: [
    ...['AlarmName', 'AlarmNames', 'AlarmNamePrefix', 'AlarmTypes', 'Namespace', 'MetricName', 'Dimensions'],
    ...['Name', 'Value', 'Statistic', 'Statistics', 'ExtendedStatistic', 'ExtendedStatistics', 'Period'],
    ...['EvaluationPeriods', 'DatapointsToAlarm', 'Threshold', 'ComparisonOperator', 'TreatMissingData'],
    ...['StateValue', 'StateReason', 'StateReasonData', 'MetricData', 'Timestamp', 'Values', 'Counts'],
    ...['StatisticValues', 'SampleCount', 'Sum', 'Minimum', 'Maximum', 'Unit', 'StorageResolution'],
    ...['StartTime', 'EndTime', 'MetricDataQueries', 'Id', 'MetricStat', 'Metric', 'Stat', 'Expression'],
    ...['ReturnData', 'Label', 'ScanBy', 'MaxDatapoints', 'MaxRecords', 'NextToken', 'ActionsEnabled'],
    ...['AlarmActions', 'OKActions', 'Metrics', 'Tags', 'Key', 'ThresholdMetricId', 'ActionPrefix'],
  ],
};

function randomJsonValue(random: Random, members: readonly string[], depth = 0): unknown {
  const roll = random();
  if (depth > 3 || roll < 0.45) {
    return pick(random, [
      () => randomText(random),
      () => pick(random, IDS),
      () => pick(random, [0, -1, 1, 10, 101, 1e308, 0.5, 2 ** 53 + 1]),
      () => pick(random, [true, false, null]),
      () => pick(random, ['String', 'StringList', 'SecureString', 'aws:ec2:image', 'text', 'STANDARD', '{}']),
      () => pick(random, [DEFINITION, '{"a":1}', '[]', '{', 'null', '1']),
      () => `/${randomText(random, 10)}`,
      () => `arn:aws:states:us-east-1:111122223333:stateMachine:${pick(random, ['m', 'ami-rollout', 'x'])}`,
    ])();
  }
  if (roll < 0.7) {
    return Array.from({ length: between(random, 0, 4) }, () => randomJsonValue(random, members, depth + 1));
  }
  return randomJsonObject(random, members, depth + 1);
}

function randomJsonObject(random: Random, members: readonly string[], depth = 0): Record<string, unknown> {
  // Built by defineProperty, so a `__proto__` member is an own member, as JSON.parse would make it.
  const object: Record<string, unknown> = {};
  for (let n = between(random, 0, 6); n > 0; n--) {
    const key = chance(random, 0.15)
      ? pick(random, PROTOTYPE_NAMES)
      : chance(random, 0.05)
        ? randomText(random, 6)
        : pick(random, members);
    Object.defineProperty(object, key, {
      value: randomJsonValue(random, members, depth),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return object;
}

interface JsonService {
  readonly name: string;
  readonly prefix: string;
  readonly version: '1.0' | '1.1';
  readonly actions: string[];
  readonly members: readonly string[];
}

/**
 * A template of the service with no change (a quarter of the time) or one or two: a member's value replaced
 * (a number or a numeric string mostly by one at or past a likely bound), a member dropped, or one added; at the
 * top level or, a third of the time, inside a nested structure (a MetricData item, a query's MetricStat).
 */
function mutatedTemplate(random: Random, service: JsonService): [string, Record<string, unknown>] {
  const [action, template] = pick(random, JSON_TEMPLATES[service.name]!);
  const members = structuredClone(template);
  for (let n = chance(random, 0.25) ? 0 : between(random, 1, 2); n > 0; n--) {
    let target: Record<string, unknown> = members;
    for (let depth = 0; depth < 3 && chance(random, 0.33); depth++) {
      const nested = Object.values(target)
        .flatMap((v) => (Array.isArray(v) ? v : [v]))
        .filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object');
      if (nested.length === 0) break;
      target = pick(random, nested);
    }
    const keys = Object.keys(target);
    const roll = random();
    if (roll < 0.5 && keys.length > 0) {
      const key = pick(random, keys);
      const value = target[key];
      target[key] =
        typeof value === 'string' && chance(random, 0.5)
          ? nearby(random, value)
          : typeof value === 'number' && chance(random, 0.6)
            ? Number(nearby(random, String(value)))
            : randomJsonValue(random, service.members);
    } else if (roll < 0.65 && keys.length > 0) {
      delete target[pick(random, keys)];
    } else {
      const key = pick(random, [...service.members, ...PROTOTYPE_NAMES]);
      Object.defineProperty(target, key, {
        value: randomJsonValue(random, service.members),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
  return [action, members];
}

function randomJsonRequest(random: Random, service: JsonService): RawRequest {
  if (chance(random, 0.6)) {
    const [action, members] = mutatedTemplate(random, service);
    return {
      headers: {
        'content-type': `application/x-amz-json-${service.version}`,
        'x-amz-target': `${service.prefix}.${action}`,
      },
      body: JSON.stringify(members),
    };
  }
  const action = chance(random, 0.9) ? pick(random, service.actions) : randomText(random, 10);
  const headers = {
    'content-type': `application/x-amz-json-${service.version}`,
    // Only what an HTTP header can carry: Node refuses to send anything else.
    'x-amz-target': (chance(random, 0.97) ? `${service.prefix}.${action}` : randomText(random, 20)).replace(
      /[^\x21-\x7e]/g,
      '_',
    ),
  };
  const body = pick(random, [
    () => JSON.stringify(randomJsonObject(random, service.members)),
    () => JSON.stringify(randomJsonObject(random, service.members)),
    () => JSON.stringify(randomJsonObject(random, service.members)),
    () => '',
    () => randomText(random, 80),
    () => JSON.stringify(randomJsonValue(random, service.members)),
    () => `{"Name":"/a","x":${'['.repeat(between(random, 30, 50_000))}`,
    () => JSON.stringify(randomJsonObject(random, service.members)).slice(0, -1),
  ])();
  return { headers, body };
}

/** Timestamp members, which CBOR carries as tag 1 (epoch seconds). */
const CBOR_TIMESTAMPS = new Set(['Timestamp', 'StartTime', 'EndTime', 'StartDate', 'EndDate']);

/**
 * A value as the SDK encodes it for RPC v2 CBOR, mostly: timestamps as tag 1, the rest as is. Sometimes not:
 * a timestamp as a plain number or a string, an integer as a bigint, a string as bytes, a structure as a map
 * with a non-string key, an unknown tag.
 */
function cborValue(random: Random, value: unknown, key = ''): unknown {
  if (CBOR_TIMESTAMPS.has(key) && typeof value === 'number')
    return chance(random, 0.85) ? new Tagged(1, value) : chance(random, 0.5) ? value : String(value);
  if (typeof value === 'number' && Number.isInteger(value) && chance(random, 0.05)) return BigInt(value);
  if (typeof value === 'string' && chance(random, 0.03)) return new TextEncoder().encode(value);
  if (Array.isArray(value)) return value.map((item) => cborValue(random, item, key));
  if (value !== null && typeof value === 'object') {
    const map = new Map<unknown, unknown>(
      Object.entries(value).map(([k, v]) => [k, cborValue(random, v, k)] as [unknown, unknown]),
    );
    if (chance(random, 0.03)) map.set(pick(random, [1, -1, true]), 'x');
    if (chance(random, 0.03)) map.set('Tagged', new Tagged(pick(random, [0, 2, 42, 55799]), 'x'));
    return map;
  }
  return value;
}

/** Bodies that are not what any encoder writes: truncated, bad lengths, duplicate keys, deep nesting. */
const MALFORMED_CBOR: readonly ((random: Random) => Uint8Array)[] = [
  (random) => Uint8Array.from({ length: between(random, 1, 64) }, () => between(random, 0, 255)),
  // A map of two entries with the same key.
  () => Uint8Array.from([0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02]),
  // A byte string, a map and an array declaring 2^63 items.
  () => Uint8Array.from([0x5b, 0x80, 0, 0, 0, 0, 0, 0, 0]),
  () => Uint8Array.from([0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
  () => Uint8Array.from([0xa1, 0x61, 0x61, 0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
  // An indefinite-length map that never breaks; a break with nothing open.
  () => Uint8Array.from([0xbf, 0x61, 0x61, 0x01]),
  () => Uint8Array.from([0xff]),
  // Arrays nested tens of thousands deep, inside a map.
  (random) => {
    const depth = between(random, 30, 20_000);
    return Uint8Array.from([0xa1, 0x61, 0x61, ...new Array<number>(depth).fill(0x81), 0x00]);
  },
  // undefined, NaN, a half float, a simple value, and a negative bignum.
  () => Uint8Array.from([0xa1, 0x61, 0x61, 0xf7]),
  () => Uint8Array.from([0xa1, 0x65, ...new TextEncoder().encode('Value'), 0xf9, 0x7e, 0x00]),
  () => Uint8Array.from([0xa1, 0x61, 0x61, 0xf0]),
  () => Uint8Array.from([0xa1, 0x61, 0x61, 0xc3, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
  // Not a map: an array, a number, a string.
  () => encodeCbor([1, 2, 3]),
  () => encodeCbor(7),
  () => encodeCbor('PutMetricAlarm'),
  // Invalid UTF-8 in a text string key.
  () => Uint8Array.from([0xa1, 0x62, 0xc3, 0x28, 0x01]),
];

function randomCborRequest(random: Random, service: JsonService): RawRequest {
  const templated = chance(random, 0.7);
  const [action, members] = templated
    ? mutatedTemplate(random, service)
    : [
        chance(random, 0.9) ? pick(random, service.actions) : randomText(random, 10),
        randomJsonObject(random, service.members),
      ];
  let body: Uint8Array;
  if (templated || chance(random, 0.5)) {
    try {
      body = encodeCbor(cborValue(random, members));
    } catch {
      body = new Uint8Array(0);
    }
    if (chance(random, 0.1)) body = body.subarray(0, between(random, 0, body.length));
  } else {
    body = pick(random, MALFORMED_CBOR)(random);
  }
  const gzip = chance(random, 0.08);
  const payload = gzip ? (chance(random, 0.8) ? gzipSync(body) : body) : body;
  const route = `/service/${service.prefix}/operation/`;
  const path = pick(random, [
    ...Array.from({ length: 12 }, () => `${route}${encodeURIComponent(action)}`),
    `${route}`,
    `/service/Nothing/operation/${encodeURIComponent(action)}`,
    `${route}${encodeURIComponent(action)}?x=1`,
    `/service/${service.prefix}/operation/${'A'.repeat(300)}`,
    `/`,
  ]);
  return {
    path,
    headers: {
      'smithy-protocol': chance(random, 0.97) ? 'rpc-v2-cbor' : 'RPC-V2-CBOR',
      'content-type': chance(random, 0.95) ? 'application/cbor' : 'application/json',
      accept: 'application/cbor',
      ...signedAs('monitoring'),
      ...(gzip ? { 'content-encoding': pick(random, ['gzip', 'gzip', 'GZIP', 'br', 'gzip, identity']) } : {}),
    },
    body: Buffer.from(payload),
  };
}

const CONTROL_PATHS = [
  '/_local/clock',
  '/_local/clock/advance',
  '/_local/faults',
  '/_local/sns/messages',
  '/_local/nothing',
  '/_local/',
  '/_local/clock/advance?seconds=60',
  '/_local/faults/../clock',
];

const CONTROL_ROUTES = [
  ['GET', '/_local/clock'],
  ['POST', '/_local/clock/advance'],
  ['POST', '/_local/clock/advance'],
  ['GET', '/_local/faults'],
  ['POST', '/_local/faults'],
  ['POST', '/_local/faults'],
  ['DELETE', '/_local/faults'],
  ['GET', '/_local/sns/messages'],
] as const;

function randomControlRequest(random: Random): RawRequest {
  const [method, path] = chance(random, 0.8)
    ? pick(random, CONTROL_ROUTES)
    : [pick(random, ['GET', 'POST', 'DELETE', 'PUT']), pick(random, CONTROL_PATHS)];
  const members = ['seconds', 'kind', 'group', 'imageId', 'operation', 'calls', 'atPercentage'];
  const values = [
    ...[60, 0, -1, 1e308, 31_622_400, 31_622_401, 0.001, '60', null, [], {}],
    ...['stallRefresh', 'unhealthyInstances', 'cancelRefresh', 'failRollback', 'throttle', 'nosuch'],
    ...['web', 'api', 'worker', 'nosuch', 'ami-0a1b2c3d4e5f60002', 'DescribeInstanceRefreshes', 50, 150],
  ];
  const body = pick(random, [
    () => {
      const object: Record<string, unknown> = {};
      for (let n = between(random, 0, 4); n > 0; n--) {
        const key = chance(random, 0.15) ? pick(random, PROTOTYPE_NAMES) : pick(random, members);
        Object.defineProperty(object, key, {
          value: pick(random, values),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return JSON.stringify(object);
    },
    () => '',
    () => randomText(random, 60),
    () => `{"seconds":${'['.repeat(between(random, 10, 20_000))}`,
  ])();
  const contentType = pick(random, ['application/json', 'text/plain', 'application/x-www-form-urlencoded']);
  return { method, path, headers: { 'content-type': contentType }, body };
}

/** Tags balance, attribute-free end tags, and text without a raw `<` or a bare `&`: enough to be XML. */
function wellFormedXml(text: string): boolean {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w:-]+="[^"<&]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  for (let match = token.exec(body); match; match = token.exec(body)) {
    const [, closing, name, , selfClosing, textRun, stray] = match;
    if (stray) return false;
    if (textRun !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(textRun)) return false;
      continue;
    }
    if (closing) {
      if (stack.pop() !== name) return false;
    } else if (!selfClosing) stack.push(name!);
  }
  return stack.length === 0;
}

/** The ways an answer can be wrong for its protocol; empty when it is in shape. */
function queryProblems(reply: RawResponse): string[] {
  const problems: string[] = [];
  if (!String(reply.headers['content-type']).startsWith('text/xml'))
    problems.push('content-type is not text/xml');
  if (!reply.headers['x-amzn-requestid']) problems.push('no x-amzn-requestid');
  if (!wellFormedXml(reply.body)) problems.push('the body is not well-formed XML');
  if (reply.status === 200) {
    if (!/^<\?xml[^>]*\?>\s*<\w+Response xmlns="[^"]+">/.test(reply.body))
      problems.push('no <ActionResponse>');
  } else if (
    !/<Response><Errors><Error><Code>[^<]+<\/Code><Message>[^<]*<\/Message><\/Error><\/Errors><RequestID>/.test(
      reply.body,
    ) &&
    !/<ErrorResponse xmlns="[^"]*"><Error><Type>(Sender|Receiver)<\/Type><Code>[^<]+<\/Code><Message>[^<]*<\/Message><\/Error><RequestId>/.test(
      reply.body,
    )
  ) {
    problems.push('the error is in neither query error envelope');
  }
  return problems;
}

/**
 * A query-compatible service's error (CloudWatch's) carries its query code in `x-amzn-query-error`
 * (`Code;Sender`), which botocore and the SDKs read; a request no service answered has none.
 */
function queryErrorHeaderProblems(reply: RawResponse, message: unknown): string[] {
  if (reply.status === 200 || String(message).startsWith('No service answers')) return [];
  const header = reply.headers['x-amzn-query-error'];
  return typeof header === 'string' && /^[A-Za-z][\w.]*;(Sender|Receiver)$/.test(header)
    ? []
    : [`x-amzn-query-error is ${String(header)}`];
}

function jsonProblems(reply: RawResponse, version: string, queryCompatible = false): string[] {
  const problems: string[] = [];
  if (reply.headers['content-type'] !== `application/x-amz-json-${version}`) {
    problems.push(`content-type ${String(reply.headers['content-type'])}`);
  }
  if (!reply.headers['x-amzn-requestid']) problems.push('no x-amzn-requestid');
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    return [...problems, 'the body is not JSON'];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    problems.push('the body is no object');
  if (reply.status !== 200) {
    const { __type, message } = parsed as { __type?: unknown; message?: unknown };
    if (typeof __type !== 'string' || __type === '') problems.push('no __type');
    if (typeof message !== 'string') problems.push('no message');
    if (reply.headers['x-amzn-errortype'] !== __type) problems.push('x-amzn-errortype differs from __type');
    if (queryCompatible) problems.push(...queryErrorHeaderProblems(reply, message));
  }
  return problems;
}

function cborProblems(reply: RawResponse): string[] {
  const problems: string[] = [];
  if (reply.headers['content-type'] !== 'application/cbor')
    problems.push('content-type is not application/cbor');
  if (reply.headers['smithy-protocol'] !== 'rpc-v2-cbor') problems.push('no smithy-protocol: rpc-v2-cbor');
  if (!reply.headers['x-amzn-requestid']) problems.push('no x-amzn-requestid');
  let parsed: unknown;
  try {
    parsed = decodeCbor(reply.bytes, {
      useMaps: false,
      tags: { 1: (inner: () => unknown) => inner() } as never,
    });
  } catch (error) {
    return [...problems, `the body is not CBOR: ${(error as Error).message}`];
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return [...problems, 'no map'];
  if (reply.status !== 200) {
    const { __type, message } = parsed as { __type?: unknown; message?: unknown };
    // Namespaced (`com.amazonaws.cloudwatch#ResourceNotFound`) when a service was found; SDKs read both forms.
    if (typeof __type !== 'string' || __type === '') problems.push('no __type');
    if (typeof message !== 'string') problems.push('no message');
    problems.push(...queryErrorHeaderProblems(reply, message));
  }
  return problems;
}

function controlProblems(reply: RawResponse): string[] {
  const problems: string[] = [];
  if (reply.headers['content-type'] !== 'application/json')
    problems.push('content-type is not application/json');
  try {
    const parsed = JSON.parse(reply.body) as { error?: unknown };
    if (reply.status >= 400 && parsed.error === undefined) problems.push('no error member');
  } catch {
    problems.push('the body is not JSON');
  }
  return problems;
}

/** Lets Step Functions executions finish, so a fingerprint sees only what requests did. */
async function settle(): Promise<void> {
  await Promise.all([...stepFunctionsOf(account).executions.values()].map((e) => e.done));
}

// 415: a Content-Encoding other than gzip on a service that takes compressed bodies (CloudWatch).
const ANSWERS = new Set([200, 201, 400, 403, 404, 412, 413, 415, 429, 503]);

/**
 * Sends `count` requests from `next`, each checked: an expected status, no problems with its shape, and, when
 * refused, an unchanged account. Stops early past BUDGET_MS. Returns how many were sent and refused.
 */
async function fuzz(
  label: string,
  next: (random: Random) => RawRequest,
  problems: (reply: RawResponse) => string[],
): Promise<{ sent: number; refused: number }> {
  const random = seededRandom(SEED ^ [...label].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7));
  const prototypes = prototypeKeys();
  const started = performance.now();
  let refused = 0;
  let sent = 0;
  for (; sent < REQUESTS && performance.now() - started < BUDGET_MS; sent++) {
    const request = next(random);
    await settle();
    const before = fingerprint(account);
    const reply = await rawRequest(running.port, request);
    await settle();
    const where = () =>
      `${label} request ${sent} of seed ${SEED} (rerun with FUZZ_SEED=${SEED}): ` +
      `${request.method ?? 'POST'} ${request.path ?? '/'} ${JSON.stringify(request.headers)} ` +
      `${String(request.body ?? '').slice(0, 300)}\n-> ${reply.status} ${reply.body.slice(0, 300)}`;
    expect(ANSWERS.has(reply.status), `unexpected status: ${where()}`).toBe(true);
    expect(problems(reply), where()).toEqual([]);
    if (reply.status >= 400) {
      refused++;
      expect(fingerprint(account) === before, `a refused request changed the account: ${where()}`).toBe(true);
    }
  }
  expect(prototypeKeys(), `${label}, seed ${SEED}: a request changed a prototype`).toBe(prototypes);
  return { sent, refused };
}

const actionsOf = (
  name: 'ec2' | 'autoscaling' | 'sns' | 'ssm' | 'states' | 'monitoring' | 'elasticloadbalancing',
): string[] => Object.keys(account.service(name)!.operations);

describe('fuzz: random requests get AWS-shaped answers, and refused ones change nothing', () => {
  it.each([
    ['ec2', '2016-11-15'],
    ['autoscaling', '2011-01-01'],
    ['sns', '2010-03-31'],
    ['elasticloadbalancing', '2015-12-01'],
  ] as const)('query protocol: %s', async (name, version) => {
    const service = { name, version, actions: actionsOf(name) };
    const { sent, refused } = await fuzz(
      name,
      (random) => randomQueryRequest(random, service),
      queryProblems,
    );
    expect(sent).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const groups = await new AutoScalingClient({
      endpoint: running.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    }).send(new DescribeAutoScalingGroupsCommand({}));
    expect(groups.$metadata.httpStatusCode).toBe(200);
  });

  it.each([
    ['ssm', 'AmazonSSM', '1.1', JSON_MEMBERS.ssm],
    ['states', 'AWSStepFunctions', '1.0', JSON_MEMBERS.states],
    ['monitoring', 'GraniteServiceVersion20100801', '1.0', JSON_MEMBERS.monitoring],
  ] as const)('JSON protocol: %s', async (name, prefix, version, members) => {
    const service = { name, prefix, version, actions: actionsOf(name), members };
    const { sent, refused } = await fuzz(
      name,
      (random) => randomJsonRequest(random, service),
      (reply) => jsonProblems(reply, version, name === 'monitoring'),
    );
    expect(sent).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const parameters = await new SSMClient({
      endpoint: running.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    }).send(new DescribeParametersCommand({}));
    expect(parameters.$metadata.httpStatusCode).toBe(200);
  });

  it('Smithy RPC v2 CBOR: monitoring (CloudWatch)', async () => {
    const service = {
      name: 'monitoring',
      prefix: 'GraniteServiceVersion20100801',
      version: '1.0',
      actions: actionsOf('monitoring'),
      members: JSON_MEMBERS.monitoring,
    } as const;
    const { sent, refused } = await fuzz(
      'monitoring-cbor',
      (random) => randomCborRequest(random, { ...service, actions: [...service.actions] }),
      cborProblems,
    );
    expect(sent).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const alarms = await new CloudWatchClient({
      endpoint: running.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    }).send(new DescribeAlarmsCommand({}));
    expect(alarms.$metadata.httpStatusCode).toBe(200);
  });

  it('/_local/* controls', async () => {
    const { sent, refused } = await fuzz('controls', randomControlRequest, controlProblems);
    expect(sent).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const clock = await rawRequest(running.port, { method: 'GET', path: '/_local/clock' });
    expect(JSON.parse(clock.body)).toEqual({ now: account.now().toISOString() });
  });
});
