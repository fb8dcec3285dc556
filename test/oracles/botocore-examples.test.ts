/**
 * botocore's examples-1.json as an oracle nobody here wrote: every example request for every operation the local
 * account implements is sent through the real AWS SDK v3 client for its service (the SDK's own serializer, the
 * same one the rollout uses; in process, so the request is byte for byte what the SDK would put on the wire) and
 * must be ACCEPTED: no serialization, validation or unknown-parameter error, and no "not found" either.
 *
 * The operations come from the services' handler tables (`account.service(name).operations`), so an operation
 * added later is replayed with no change here. The examples are read at test time from the botocore in the pyenv
 * python; without it the suite skips and says why.
 *
 * "Accepted" with resources the examples name: each example runs in a fresh account (123456789012, us-west-2,
 * the account and region the examples' ARNs use) seeded with what its input names, derived from the input:
 * images (`ami-`), snapshots (`snap-`), launch templates (by id or name), Auto Scaling groups (by name), target
 * groups, load balancers and listeners (from their ARNs), instances (`i-`, launched by a group) and instance
 * profiles. Ids the local account generates itself (instance ids, ELBv2 ARNs) are mapped from the example's to the
 * seeded resource's in the request; everything else is sent exactly as the example has it. A resource the
 * operation itself creates (CreateLaunchTemplate's LaunchTemplateName) is not seeded.
 *
 * Where the example gives an `output`, every member name in it must be present in ours (recursively; list items
 * compared with the first item of ours when ours has one).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as autoScalingSdk from '@aws-sdk/client-auto-scaling';
import * as cloudWatchSdk from '@aws-sdk/client-cloudwatch';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import * as elbv2Sdk from '@aws-sdk/client-elastic-load-balancing-v2';
import * as iamSdk from '@aws-sdk/client-iam';
import * as sfnSdk from '@aws-sdk/client-sfn';
import * as snsSdk from '@aws-sdk/client-sns';
import * as ssmSdk from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';
import { addInstanceProfile } from '../../src/local-account/services/iam.ts';
import type { ServiceDefinition } from '../../src/local-account/services/service.ts';
import { TOOL_ENV } from '../support/tools.ts';

type ServiceName = ServiceDefinition['name'];
type SdkModule = Record<string, unknown>;

/**
 * Each local service's botocore directory and SDK v3 package. A service added to the local account without a
 * row here fails the test below, so none is left out silently.
 */
const SERVICES: Readonly<Record<ServiceName, { botocore: string; sdk: SdkModule; client: string }>> = {
  ec2: { botocore: 'ec2', sdk: ec2Sdk, client: 'EC2Client' },
  autoscaling: { botocore: 'autoscaling', sdk: autoScalingSdk, client: 'AutoScalingClient' },
  ssm: { botocore: 'ssm', sdk: ssmSdk, client: 'SSMClient' },
  sns: { botocore: 'sns', sdk: snsSdk, client: 'SNSClient' },
  states: { botocore: 'stepfunctions', sdk: sfnSdk, client: 'SFNClient' },
  iam: { botocore: 'iam', sdk: iamSdk, client: 'IAMClient' },
  monitoring: { botocore: 'cloudwatch', sdk: cloudWatchSdk, client: 'CloudWatchClient' },
  elasticloadbalancing: {
    botocore: 'elbv2',
    sdk: elbv2Sdk,
    client: 'ElasticLoadBalancingV2Client',
  },
};

/**
 * Examples that cannot succeed, each for a documented reason: it names something the local account does not
 * model, or the example itself is wrong. Each is replayed anyway and must be refused with exactly this code, so an
 * entry that starts passing (or fails differently) is noticed and removed.
 */
const EXCEPTIONS: Readonly<Record<string, { code: string; reason: string }>> = {
  // The id lacks the `lt-` prefix that the example's own output shows (`lt-068f72b72934aff71`): a typo in the
  // example. EC2 answers a malformed launch template id with InvalidLaunchTemplateId.Malformed.
  'ec2:DescribeLaunchTemplateVersions:to-describe-the-versions-for-a-launch-template-1529344425048': {
    code: 'InvalidLaunchTemplateId.Malformed',
    reason: "the example's LaunchTemplateId has no lt- prefix",
  },
  // Mixed instances policies (instance type overrides, On-Demand/Spot distribution) are not modelled: refused
  // by name (docs/local-account.md, not modelled), so a rehearsal never runs a different group than described.
  'autoscaling:CreateAutoScalingGroup:autoscaling-create-auto-scaling-group-3': {
    code: 'ValidationError',
    reason: 'MixedInstancesPolicy is not modelled',
  },
  'autoscaling:CreateAutoScalingGroup:autoscaling-create-auto-scaling-group-4': {
    code: 'ValidationError',
    reason: 'MixedInstancesPolicy is not modelled',
  },
  // The listener ARN's region is `ua-west-2` (a typo for us-west-2): no listener with that ARN can exist.
  'elasticloadbalancing:DeleteListener:elbv2-delete-listener-1': {
    code: 'ListenerNotFoundException',
    reason: "the example's listener ARN names region ua-west-2",
  },
};

/**
 * Examples replayed but not compared in full, each for a documented reason. Skipped, and printed.
 */
const PENDING_AUTOSCALING: Readonly<Record<string, string>> = {
  // The example's refresh is InProgress with instances warming up; the seeded one is replayed the moment it
  // starts, before a replacement is in flight, when the local account has no StatusReason yet (what AWS shows at that
  // moment is not documented).
  'autoscaling:DescribeInstanceRefreshes:to-list-instance-refreshes-1592959593746':
    'output: InstanceRefreshes[0].StatusReason is absent at the moment the seeded refresh starts',
};

/**
 * Members of an example's output that ours leaves out, each for a documented reason: AWS leaves them out too for
 * the resources seeded here, or they describe something the local account does not model.
 */
const OUTPUT_GAPS: Readonly<Record<string, string>> = {
  // Only paravirtual images have a kernel; the local account models HVM images only (as AWS has them today).
  'ec2:Images[0].KernelId': 'paravirtual images are not modelled',
  // EC2 sends NextToken only when there are more results (the example shows an empty one).
  'ec2:NextToken': 'sent only when there are more results',
  // The example's source version had network interfaces; the seeded one has only an image and a type.
  'ec2:LaunchTemplateVersion.LaunchTemplateData.NetworkInterfaces': 'not in the seeded source version',
  // The example's instance came from a launch configuration; ours from a launch template, for which AWS shows
  // LaunchTemplate instead (launch configurations are not modelled).
  'autoscaling:AutoScalingInstances[0].LaunchConfigurationName': 'launch configurations are not modelled',
  // Subnets, VPCs and security groups are not modelled: a load balancer's zones are the region's a and b.
  'elasticloadbalancing:LoadBalancers[0].AvailabilityZones[0].SubnetId': 'subnets are not modelled',
  'elasticloadbalancing:LoadBalancers[0].SecurityGroups': 'security groups are not modelled',
  'elasticloadbalancing:LoadBalancers[0].VpcId': 'VPCs are not modelled',
};

const BOTOCORE_DATA = botocoreData();

/** The botocore data directory of the pyenv python, or undefined (printed) when botocore is absent. */
function botocoreData(): string | undefined {
  const result = spawnSync(
    'python3',
    ['-c', 'import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), "data"))'],
    { env: TOOL_ENV, encoding: 'utf8', timeout: 30_000 },
  );
  const dir = result.status === 0 ? result.stdout.trim() : '';
  if (dir && existsSync(dir)) return dir;
  console.warn(
    'SKIPPED botocore examples-1.json oracle (test/oracles/botocore-examples.test.ts): botocore not found ' +
      'in python3; install it (`pip install botocore`, or the AWS CLI v1, which brings it).',
  );
  return undefined;
}

interface Example {
  readonly id: string;
  readonly input?: Record<string, unknown>;
  readonly output?: Record<string, unknown>;
}

/** The examples of one botocore service: the newest API version directory that has an examples-1.json. */
function examplesOf(data: string, botocoreName: string, apiVersion?: string): Record<string, Example[]> {
  const dir = join(data, botocoreName);
  const versions = readdirSync(dir)
    .filter((v) => existsSync(join(dir, v, 'examples-1.json')))
    .filter((v) => apiVersion === undefined || v === apiVersion)
    .sort();
  const newest = versions.at(-1);
  if (!newest) return {};
  const parsed = JSON.parse(readFileSync(join(dir, newest, 'examples-1.json'), 'utf8')) as {
    examples: Record<string, Example[]>;
  };
  return parsed.examples;
}

interface Case {
  readonly key: string;
  readonly service: ServiceName;
  readonly operation: string;
  readonly example: Example;
}

function cases(): Case[] {
  if (!BOTOCORE_DATA) return [];
  const account = createLocalAccount();
  const found: Case[] = [];
  for (const service of Object.keys(SERVICES) as ServiceName[]) {
    const definition = account.service(service);
    if (!definition) continue;
    const examples = examplesOf(BOTOCORE_DATA, SERVICES[service].botocore, definition.apiVersion);
    for (const operation of Object.keys(definition.operations)) {
      for (const example of examples[operation] ?? []) {
        found.push({ key: `${service}:${operation}:${example.id}`, service, operation, example });
      }
    }
  }
  return found;
}

const CASES = cases();

const clientFor = (account: LocalAccount, service: ServiceName) => {
  const { sdk, client } = SERVICES[service];
  const Client = sdk[client] as new (config: object) => { send(command: unknown): Promise<unknown> };
  return new Client({ ...inProcessClientConfig(account), maxAttempts: 1 });
};

async function call(
  account: LocalAccount,
  service: ServiceName,
  operation: string,
  input: unknown,
): Promise<Record<string, unknown>> {
  const Command = SERVICES[service].sdk[`${operation}Command`] as
    (new (input: unknown) => unknown) | undefined;
  if (!Command) throw new Error(`the SDK v3 client for ${service} has no ${operation}Command`);
  return (await clientFor(account, service).send(new Command(input))) as Record<string, unknown>;
}

const ARN = /^arn:aws:elasticloadbalancing:([a-z0-9-]+):(\d{12}):(targetgroup|loadbalancer|listener)\/(.+)$/;

/** Every string in `value` with the member name it is under (a list's items are under the list's name). */
function strings(value: unknown, key = ''): [string, string][] {
  if (typeof value === 'string') return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((item) => strings(item, key));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => strings(v, k));
  return [];
}

/** The first string under member `name` anywhere in `value`. */
const firstUnder = (value: unknown, name: string): string | undefined =>
  strings(value).find(([k]) => k === name)?.[1];

/**
 * Puts in place what the example's input names, and returns the map from the example's generated identifiers
 * (instance ids, ELBv2 ARNs) to the seeded resources'. The operation's own new resource is left out: the member
 * `<Kind>Name` at the top level of `Create<Kind>`.
 */
async function seed(
  account: LocalAccount,
  operation: string,
  example: Example,
): Promise<Map<string, string>> {
  const input = example.input ?? {};
  const created = /^Create(\w+)$/.exec(operation)?.[1];
  const ownName = created ? input[`${created}Name`] : undefined;
  const mapped = new Map<string, string>();
  const found = strings(input);
  const ec2 = (op: string, args: unknown) => call(account, 'ec2', op, args);
  const elb = (op: string, args: unknown) => call(account, 'elasticloadbalancing', op, args);
  const autoscaling = (op: string, args: unknown) => call(account, 'autoscaling', op, args);

  for (const [, value] of found) {
    if (/^ami-[0-9a-f]{8,17}$/.test(value) && !account.state.images.has(value))
      addImage(account, { imageId: value, name: `example-${value}`, description: `Seeded for ${value}` });
    if (/^snap-[0-9a-f]{8,17}$/.test(value) && !account.state.snapshots.has(value))
      addImage(account, { name: `example-for-${value}`, snapshots: [{ snapshotId: value }] });
  }

  // Launch templates, by id and by name, each with versions 1 and 2 and version 2 the default, so that an
  // example deleting version 1 (DeleteLaunchTemplateVersions) deletes a version that is not the default.
  const templateNames = new Set(
    found.filter(([k, v]) => k === 'LaunchTemplateName' && v !== ownName).map(([, v]) => v),
  );
  const templateIds = new Set(found.filter(([, v]) => /^lt-[0-9a-f]{8,17}$/.test(v)).map(([, v]) => v));
  const addTemplate = async (name: string, id?: string) => {
    const image = addImage(account, { name: `image-for-${name}` });
    const template = addLaunchTemplate(account, {
      name,
      imageId: image.imageId,
      ...(id ? { launchTemplateId: id } : {}),
    });
    await ec2('CreateLaunchTemplateVersion', {
      LaunchTemplateId: template.launchTemplateId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: image.imageId },
    });
    await ec2('ModifyLaunchTemplate', { LaunchTemplateId: template.launchTemplateId, DefaultVersion: '2' });
    return template.launchTemplateId;
  };
  for (const id of templateIds)
    await addTemplate(firstUnder(input, 'LaunchTemplateName') ?? `example-${id}`, id);
  for (const name of templateNames) {
    if (![...account.state.launchTemplates.values()].some((t) => t.launchTemplateName === name))
      await addTemplate(name);
  }

  // Instances are launched by a group: the one the example names, or the group its output shows them in.
  const instanceIds = [...new Set(found.filter(([, v]) => /^i-[0-9a-f]{8,17}$/.test(v)).map(([, v]) => v))];
  const groupName =
    typeof input['AutoScalingGroupName'] === 'string' && operation !== 'CreateAutoScalingGroup'
      ? input['AutoScalingGroupName']
      : instanceIds.length > 0
        ? (firstUnder(example.output, 'AutoScalingGroupName') ?? 'example-instances')
        : undefined;
  // Alarms the input or output names (an AlarmSpecification), except the one PutMetricAlarm creates.
  const alarms = new Set(
    [...found, ...strings(example.output)]
      .filter(([k, v]) => ['Alarms', 'AlarmNames', 'AlarmName'].includes(k) && v !== ownName)
      .map(([, v]) => v),
  );
  if (operation === 'PutMetricAlarm') alarms.delete(String(input['AlarmName']));
  for (const name of alarms) {
    await call(account, 'monitoring', 'PutMetricAlarm', {
      AlarmName: name,
      Namespace: 'Example',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  }

  if (groupName) {
    const templateId = await addTemplate(`template-for-${groupName}`);
    // As many instances as the example names, at least one; none in a group the example deletes without
    // ForceDelete, which AWS refuses for a group with instances (ResourceInUse).
    const desired =
      operation === 'DeleteAutoScalingGroup' && input['ForceDelete'] !== true
        ? 0
        : Math.max(1, instanceIds.length);
    // A numbered version: AWS refuses AutoRollback for a group on $Default or $Latest.
    await autoscaling('CreateAutoScalingGroup', {
      AutoScalingGroupName: groupName,
      LaunchTemplate: { LaunchTemplateId: templateId, Version: '2' },
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: desired,
      AvailabilityZones: [`${account.region}a`],
    });
    // Settled: launched, and past the default cooldown (300 s), which SetDesiredCapacity's HonorCooldown honours.
    account.clock.runUntilIdle(3600);
    account.advance(300);
    const launched = account.state.autoScalingGroups.get(groupName)!.instanceIds;
    instanceIds.forEach((id, i) => mapped.set(id, launched[i]!));
    // Instances an example takes out of standby are in standby (with the capacity they left).
    if (operation === 'ExitStandby') {
      await autoscaling('EnterStandby', {
        AutoScalingGroupName: groupName,
        InstanceIds: instanceIds.map((id) => mapped.get(id)),
        ShouldDecrementDesiredCapacity: true,
      });
    }
    // An operation on an instance refresh (Describe, Cancel, Rollback) finds one in progress, started with the
    // preferences the example's output shows, if it shows any.
    if (/\w+InstanceRefresh(es)?$/.test(operation) && operation !== 'StartInstanceRefresh') {
      const shown = (example.output?.['InstanceRefreshes'] as { Preferences?: unknown }[] | undefined)?.[0];
      await autoscaling('StartInstanceRefresh', {
        AutoScalingGroupName: groupName,
        DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' } },
        ...(shown?.Preferences ? { Preferences: shown.Preferences } : {}),
      });
    }
  }

  // ELBv2 resources from their ARNs, in this account and region only: an ARN naming another is left as it is.
  const arns = [...new Set(found.map(([, v]) => v).filter((v) => ARN.test(v)))];
  const ours = (arn: string) => {
    const [, region, accountId] = ARN.exec(arn)!;
    return region === account.region && accountId === account.accountId;
  };
  const createTargetGroup = async (name: string) => {
    const { TargetGroups = [] } = (await elb('CreateTargetGroup', {
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: 'vpc-3ac0fb5f',
    })) as { TargetGroups?: { TargetGroupArn: string }[] };
    return TargetGroups[0]!.TargetGroupArn;
  };
  const createLoadBalancer = async (name: string) => {
    const { LoadBalancers = [] } = (await elb('CreateLoadBalancer', {
      Name: name,
      Subnets: ['subnet-b7d581c0', 'subnet-8360a9e7'],
    })) as { LoadBalancers?: { LoadBalancerArn: string }[] };
    return LoadBalancers[0]!.LoadBalancerArn;
  };
  for (const arn of arns.filter(ours)) {
    const [, , , kind, rest] = ARN.exec(arn)!;
    if (kind === 'targetgroup') mapped.set(arn, await createTargetGroup(rest!.split('/')[0]!));
    if (kind === 'loadbalancer') mapped.set(arn, await createLoadBalancer(rest!.split('/')[1]!));
  }
  for (const arn of arns.filter(ours)) {
    const [, , , kind, rest] = ARN.exec(arn)!;
    if (kind !== 'listener') continue;
    const [type, lbName, lbHash] = rest!.split('/');
    const lbArn = arn.replace(/:listener\/.*$/, `:loadbalancer/${type}/${lbName}/${lbHash}`);
    if (!mapped.has(lbArn)) mapped.set(lbArn, await createLoadBalancer(lbName!));
    const { Listeners = [] } = (await elb('CreateListener', {
      LoadBalancerArn: mapped.get(lbArn),
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: await createTargetGroup(`for-${lbName}`) }],
    })) as { Listeners?: { ListenerArn: string }[] };
    mapped.set(arn, Listeners[0]!.ListenerArn);
  }

  const profile = input['InstanceProfileName'];
  if (typeof profile === 'string' && operation !== 'CreateInstanceProfile')
    addInstanceProfile(account, { name: profile, path: '/' });
  return mapped;
}

/** The input with every mapped identifier replaced. */
function substituted(value: unknown, mapped: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return mapped.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => substituted(item, mapped));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituted(v, mapped)]));
  return value;
}

/** Member names in the example's output that ours lacks, as paths (`Images[0].Hypervisor`). */
function missingMembers(expected: unknown, actual: unknown, path = ''): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path} (not a list)`];
    if (expected.length === 0 || actual.length === 0) return [];
    return missingMembers(expected[0], actual[0], `${path}[0]`);
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${path} (not a structure)`];
    return Object.entries(expected).flatMap(([key, value]) => {
      const here = path ? `${path}.${key}` : key;
      const ours = (actual as Record<string, unknown>)[key];
      return ours === undefined ? [here] : missingMembers(value, ours, here);
    });
  }
  return [];
}

interface Outcome {
  readonly error?: { code: string; message: string };
  readonly missing: readonly string[];
}

async function replay({ service, operation, example }: Case): Promise<Outcome> {
  const account = createLocalAccount({ region: 'us-west-2', accountId: '123456789012' });
  const mapped = await seed(account, operation, example);
  try {
    const output = await call(account, service, operation, substituted(example.input ?? {}, mapped));
    return { missing: example.output ? missingMembers(example.output, output) : [] };
  } catch (error) {
    const { name, message } = error as Error;
    return { error: { code: name, message }, missing: [] };
  }
}

describe.skipIf(!BOTOCORE_DATA)("botocore's examples-1.json, replayed against the local account", () => {
  it('finds examples for the services, and knows every service the local account serves', () => {
    const account = createLocalAccount();
    for (const name of Object.keys(SERVICES) as ServiceName[])
      expect(account.service(name), `${name} is in SERVICES`).toBeDefined();
    expect(CASES.length).toBeGreaterThan(40);
    const pendingAndExceptions = [...Object.keys(EXCEPTIONS), ...Object.keys(PENDING_AUTOSCALING)];
    const keys = new Set(CASES.map((c) => c.key));
    for (const key of pendingAndExceptions) expect(keys, `${key} is still an example`).toContain(key);
  });

  const pending = CASES.filter((c) => PENDING_AUTOSCALING[c.key]);
  if (pending.length > 0) {
    console.warn(
      `botocore examples replayed but not compared in full: ${pending
        .map((c) => `${c.key}: ${PENDING_AUTOSCALING[c.key]}`)
        .join('; ')}`,
    );
  }

  it.each(CASES.filter((c) => !PENDING_AUTOSCALING[c.key]).map((c) => [c.key, c] as const))(
    '%s',
    async (key, example) => {
      const outcome = await replay(example);
      const exception = EXCEPTIONS[key];
      if (exception) {
        expect(outcome.error?.code, `${key} is an exception (${exception.reason})`).toBe(exception.code);
        return;
      }
      const refusal = outcome.error && `${outcome.error.code}: ${outcome.error.message}`;
      expect(refusal, `${key} was refused`).toBeUndefined();
      const gaps = outcome.missing.filter((path) => !OUTPUT_GAPS[`${example.service}:${path}`]);
      expect(gaps, `${key}: members of the example's output missing from ours`).toEqual([]);
    },
  );
});
