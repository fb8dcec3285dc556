import { AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { formatIssue, plainIssueMessage } from '../config/issues.ts';
import { readJsonFile } from '../config/json-file.ts';
import type { LocalAccount } from './account.ts';
import { faultSchema } from './faults.ts';
import { inProcessClientConfig } from './in-process.ts';
import { addImage, addLaunchTemplate } from './seed.ts';
import { addInstanceProfile } from './services/iam.ts';

const amiId = z
  .string()
  .regex(/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be an AMI id: ami- and 8 or 17 hex digits');
const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const name = z.string().min(1).max(255);
const iamName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\w+=,.@-]+$/, 'may hold only letters, digits and _ + = , . @ -');
const iamPath = z
  .string()
  .regex(/^(\/|\/[\u0021-\u007E]+\/)$/, 'must be / or start and end with / (e.g. /app/)')
  .default('/');

/** The fleet file: what a local account holds when it starts. */
export const fleetSchema = z
  .object({
    $schema: z
      .string()
      .optional()
      .describe('The JSON Schema an editor checks this file with (schemas/fleet.schema.json); ignored.'),
    accountId: accountId.default('123456789012').describe('The local account id. Default 123456789012.'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region such as us-east-1')
      .default('us-east-1'),
    startTime: z.iso
      .datetime({ offset: true })
      .default('2026-01-01T00:00:00Z')
      .describe('Virtual time at which the account starts (ISO 8601). Default 2026-01-01T00:00:00Z.'),
    images: z
      .array(
        z
          .object({
            imageId: amiId,
            name,
            description: z.string().optional(),
            ownerId: accountId.optional().describe('Default: the account itself.'),
            state: z
              .enum(['pending', 'available', 'invalid', 'deregistered', 'failed', 'error'])
              .default('available'),
            creationDate: z.iso.datetime({ offset: true }).optional(),
            snapshots: z
              .array(
                z
                  .object({
                    snapshotId: z
                      .string()
                      .regex(
                        /^snap-([0-9a-f]{8}|[0-9a-f]{17})$/,
                        'must be a snapshot id: snap- and 8 or 17 hex digits',
                      )
                      .optional(),
                    volumeSize: z.number().int().min(1).max(65536).default(8),
                    encrypted: z.boolean().default(false),
                    kmsKeyId: z.string().optional(),
                  })
                  .strict(),
              )
              .min(1)
              .optional()
              .describe('Default: one 8 GiB unencrypted root snapshot.'),
            deregistrationProtection: z.boolean().default(false),
            tags: z.record(z.string(), z.string()).optional(),
          })
          .strict(),
      )
      .default([]),
    launchTemplates: z
      .array(
        z
          .object({
            launchTemplateId: z
              .string()
              .regex(/^lt-[0-9a-f]{17}$/, 'must be a launch template id: lt- and 17 hex digits')
              .optional()
              .describe('Default: generated (lt-0000000000000a001, ... in file order).'),
            name,
            imageId: amiId,
            instanceType: z.string().default('t3.micro'),
            instanceProfile: z
              .string()
              .min(1)
              .optional()
              .describe(
                'IamInstanceProfile: the name of an instance profile under instanceProfiles (kept as Name), or its ARN (kept as Arn).',
              ),
          })
          .strict(),
      )
      .default([]),
    targetGroups: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(
                /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/,
                'must be 1-32 letters, digits and hyphens, not starting or ending with a hyphen',
              ),
            protocol: z.enum(['HTTP', 'HTTPS']).default('HTTP'),
            port: z.number().int().min(1).max(65535).default(80),
            healthCheckPath: z.string().startsWith('/').default('/'),
            healthCheckIntervalSeconds: z.number().int().min(5).max(300).default(30),
            healthyThresholdCount: z.number().int().min(2).max(10).default(5),
            unhealthyThresholdCount: z.number().int().min(2).max(10).default(2),
            deregistrationDelaySeconds: z.number().int().min(0).max(3600).default(300),
            loadBalancer: z
              .string()
              .regex(
                /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/,
                'must be 1-32 letters, digits and hyphens, not starting or ending with a hyphen',
              )
              .optional()
              .describe(
                'The application load balancer whose listener on `port` forwards to this target group. Default: ' +
                  'one of the same name. A target group no load balancer uses has its targets `unused`.',
              ),
          })
          .strict(),
      )
      .default([])
      .describe(
        'Elastic Load Balancing target groups, each behind a load balancer with a listener on its port.',
      ),
    autoScalingGroups: z
      .array(
        z
          .object({
            name,
            launchTemplate: z.string().min(1).describe('The name or id of a launch template in this file.'),
            launchTemplateVersion: z
              .string()
              .regex(/^(\$Default|\$Latest|\d+)$/, 'must be $Default, $Latest or a version number')
              .default('$Default'),
            minSize: z.number().int().min(0),
            maxSize: z.number().int().min(0),
            desiredCapacity: z.number().int().min(0),
            availabilityZones: z.array(z.string().min(1)).min(1).optional(),
            healthCheckType: z
              .enum(['EC2', 'ELB'])
              .default('EC2')
              .describe(
                "ELB: instances failing their target groups' health checks are replaced too. Default EC2.",
              ),
            healthCheckGracePeriodSeconds: z.number().int().min(0).optional(),
            targetGroups: z
              .array(z.string().min(1))
              .max(10)
              .default([])
              .describe('Names of target groups in this file the group registers its instances with.'),
            defaultInstanceWarmupSeconds: z.number().int().min(0).optional(),
            tags: z
              .record(z.string().min(1).max(128), z.string().max(256))
              .optional()
              .describe(
                'Tags of the group (key: value), e.g. for a wave that selects groups by autoScalingGroupTags.',
              ),
          })
          .strict(),
      )
      .default([]),
    instanceProfiles: z
      .array(
        z
          .object({
            name: iamName(128),
            path: iamPath,
            roleName: iamName(64).optional().describe('The role the profile holds. Default: none.'),
            rolePath: iamPath,
          })
          .strict(),
      )
      .default([])
      .describe('IAM instance profiles the launch templates name; preflight reads their roles.'),
    parameters: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-zA-Z0-9_.\-/]+$/, 'may hold only letters, digits and _ . - /'),
            value: z.string().min(1),
            type: z.enum(['String', 'StringList', 'SecureString']).default('String'),
            dataType: z.enum(['text', 'aws:ec2:image']).default('text'),
          })
          .strict(),
      )
      .default([]),
    topics: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[A-Za-z0-9_-]{1,256}$/, 'may hold only letters, digits, - and _ (1-256)'),
          })
          .strict(),
      )
      .default([]),
    alarms: z
      .array(
        z
          .object({
            name: z.string().min(1).max(255).describe('The alarm name (AlarmName).'),
            description: z.string().max(1024).optional(),
            namespace: z
              .string()
              .min(1)
              .max(255)
              .describe('For example App, the namespace of the fleet application metrics.'),
            metricName: z.string().min(1).max(255).describe('For example Errors.'),
            dimensions: z
              .record(z.string().min(1).max(255), z.string().min(1).max(1024))
              .optional()
              .describe('Dimension name -> value, for example {"AutoScalingGroupName": "worker"}.'),
            statistic: z.enum(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']),
            periodSeconds: z
              .number()
              .int()
              .refine(
                (p) => [10, 20, 30].includes(p) || (p > 0 && p % 60 === 0),
                'must be 10, 20, 30 or a multiple of 60',
              )
              .default(60),
            evaluationPeriods: z.number().int().min(1).default(1),
            datapointsToAlarm: z.number().int().min(1).optional().describe('Default: evaluationPeriods.'),
            threshold: z.number(),
            comparisonOperator: z.enum([
              'GreaterThanOrEqualToThreshold',
              'GreaterThanThreshold',
              'LessThanThreshold',
              'LessThanOrEqualToThreshold',
            ]),
            treatMissingData: z
              .enum(['breaching', 'notBreaching', 'ignore', 'missing'])
              .optional()
              .describe('Default: missing.'),
          })
          .strict(),
      )
      .default([])
      .describe(
        'CloudWatch metric alarms, created through PutMetricAlarm. Metrics come from PutMetricData and the fleet (App/Errors per group).',
      ),
    faults: z.array(faultSchema).default([]),
  })
  .strict()
  .superRefine((fleet, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const duplicates = <T>(items: T[], key: (item: T) => string, field: string) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        const k = key(item);
        if (seen.has(k)) issue([field, i], `duplicate "${k}": each must appear once`);
        seen.add(k);
      });
    };
    duplicates(fleet.images, (i) => i.imageId, 'images');
    duplicates(fleet.launchTemplates, (t) => t.name, 'launchTemplates');
    duplicates(
      fleet.launchTemplates.filter((t) => t.launchTemplateId),
      (t) => t.launchTemplateId!,
      'launchTemplates',
    );
    duplicates(fleet.autoScalingGroups, (g) => g.name, 'autoScalingGroups');
    duplicates(fleet.targetGroups, (t) => t.name, 'targetGroups');
    duplicates(fleet.targetGroups, (t) => `${t.loadBalancer ?? t.name} port ${t.port}`, 'targetGroups');
    const targetGroupNames = new Set(fleet.targetGroups.map((t) => t.name));
    fleet.autoScalingGroups.forEach((g, i) => {
      g.targetGroups.forEach((name, j) => {
        if (!targetGroupNames.has(name))
          issue(
            ['autoScalingGroups', i, 'targetGroups', j],
            `target group "${name}" is not declared under targetGroups`,
          );
      });
    });
    duplicates(fleet.parameters, (p) => p.name, 'parameters');
    duplicates(fleet.topics, (t) => t.name, 'topics');
    duplicates(fleet.instanceProfiles, (p) => p.name, 'instanceProfiles');
    const profiles = new Set(fleet.instanceProfiles.map((p) => p.name));
    fleet.launchTemplates.forEach((t, i) => {
      const profile = t.instanceProfile;
      if (profile === undefined || profile.startsWith('arn:')) return;
      if (!profiles.has(profile))
        issue(
          ['launchTemplates', i, 'instanceProfile'],
          `"${profile}" is not the name of an instance profile declared under instanceProfiles`,
        );
    });
    duplicates(fleet.alarms, (a) => a.name, 'alarms');
    fleet.alarms.forEach((a, i) => {
      if (a.datapointsToAlarm !== undefined && a.datapointsToAlarm > a.evaluationPeriods) {
        issue(
          ['alarms', i, 'datapointsToAlarm'],
          `datapointsToAlarm ${a.datapointsToAlarm} is above evaluationPeriods ${a.evaluationPeriods}`,
        );
      }
    });
    const alarmNames = new Set(fleet.alarms.map((a) => a.name));
    fleet.faults.forEach((f, i) => {
      if (f.kind === 'alarm' && !alarmNames.has(f.alarmName))
        issue(['faults', i, 'alarmName'], `alarm "${f.alarmName}" is not declared under alarms`);
    });
    const imageIds = new Set(fleet.images.map((i) => i.imageId));
    fleet.launchTemplates.forEach((t, i) => {
      if (!imageIds.has(t.imageId))
        issue(
          ['launchTemplates', i, 'imageId'],
          `image "${t.imageId}" is not declared under images: add it there`,
        );
    });
    const templates = new Set(
      fleet.launchTemplates.flatMap((t) => [t.name, ...(t.launchTemplateId ? [t.launchTemplateId] : [])]),
    );
    fleet.autoScalingGroups.forEach((g, i) => {
      if (!templates.has(g.launchTemplate)) {
        issue(
          ['autoScalingGroups', i, 'launchTemplate'],
          `"${g.launchTemplate}" is not the name or id of a launch template declared under launchTemplates`,
        );
      }
      if (g.minSize > g.maxSize)
        issue(['autoScalingGroups', i, 'minSize'], `minSize ${g.minSize} is above maxSize ${g.maxSize}`);
      if (g.desiredCapacity < g.minSize || g.desiredCapacity > g.maxSize) {
        issue(
          ['autoScalingGroups', i, 'desiredCapacity'],
          `desiredCapacity ${g.desiredCapacity} must lie between minSize ${g.minSize} and maxSize ${g.maxSize}`,
        );
      }
    });
    const groups = new Set(fleet.autoScalingGroups.map((g) => g.name));
    fleet.faults.forEach((f, i) => {
      const group = 'group' in f ? f.group : undefined;
      if (group !== undefined && !groups.has(group))
        issue(['faults', i, 'group'], `group "${group}" is not declared under autoScalingGroups`);
    });
    // A capacityChange outside its group's declared bounds is refused here, with the bounds; at run time (bounds
    // changed since) it is clamped, as a scaling policy's change is.
    fleet.faults.forEach((f, i) => {
      if (f.kind !== 'capacityChange') return;
      const g = fleet.autoScalingGroups.find((candidate) => candidate.name === f.group);
      if (g && (f.desiredCapacity < g.minSize || f.desiredCapacity > g.maxSize)) {
        issue(
          ['faults', i, 'desiredCapacity'],
          `desiredCapacity ${f.desiredCapacity} must lie between minSize ${g.minSize} and maxSize ${g.maxSize} ` +
            `of group "${g.name}": change it, or the group's sizes`,
        );
      }
    });
  });

export type FleetFile = z.input<typeof fleetSchema>;
export type Fleet = z.output<typeof fleetSchema>;

export class FleetFileError extends Error {
  override readonly name = 'FleetFileError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
    /** The message, when it is not a list of fields (a file that cannot be read or is not JSON). */
    message = `${source} is not a valid fleet file:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  ) {
    super(message);
  }
}

/**
 * Validates a fleet; the error lists every problem with the path of the bad field, the bad value and the fix
 * (`autoScalingGroups[1].minSize: -1 must be 0 or more`), worded as the rollout configuration's are.
 */
export function parseFleet(value: unknown, source = 'fleet'): Fleet {
  const result = fleetSchema.safeParse(value, { reportInput: true, error: plainIssueMessage });
  if (result.success) return result.data;
  throw new FleetFileError(source, result.error.issues.map(formatIssue));
}

export async function readFleetFile(path: string): Promise<Fleet> {
  const read = await readJsonFile(path);
  if (!read.ok) {
    const fix = read.kind === 'empty' ? ' (examples/fleet.json is one)' : '';
    throw new FleetFileError(path, [read.problem], `fleet file ${path} ${read.problem}${fix}`);
  }
  return parseFleet(read.value, path);
}

/**
 * Seeds `account` with `fleet`. Images and launch templates are put in place directly (they have fixed ids);
 * target groups (each behind a load balancer), groups, parameters, topics and alarms are created through the
 * account's own API, so the fleet file exercises the same code as any client. Returns once every group's instances are in service.
 */
export async function applyFleet(account: LocalAccount, fleet: Fleet): Promise<void> {
  for (const image of fleet.images) {
    addImage(account, {
      imageId: image.imageId,
      name: image.name,
      ...(image.description ? { description: image.description } : {}),
      ...(image.ownerId ? { ownerId: image.ownerId } : {}),
      state: image.state,
      ...(image.creationDate ? { creationDate: new Date(image.creationDate) } : {}),
      ...(image.snapshots ? { snapshots: image.snapshots } : {}),
      deregistrationProtection: image.deregistrationProtection,
      ...(image.tags ? { tags: image.tags } : {}),
    });
  }
  for (const profile of fleet.instanceProfiles) {
    addInstanceProfile(account, {
      name: profile.name,
      path: profile.path,
      ...(profile.roleName ? { role: { name: profile.roleName, path: profile.rolePath } } : {}),
    });
  }
  const templateIds = new Map<string, string>();
  for (const template of fleet.launchTemplates) {
    const profile = template.instanceProfile;
    const created = addLaunchTemplate(account, {
      ...(template.launchTemplateId ? { launchTemplateId: template.launchTemplateId } : {}),
      name: template.name,
      imageId: template.imageId,
      instanceType: template.instanceType,
      ...(profile
        ? { data: { IamInstanceProfile: profile.startsWith('arn:') ? { Arn: profile } : { Name: profile } } }
        : {}),
    });
    templateIds.set(template.name, created.launchTemplateId);
    templateIds.set(created.launchTemplateId, created.launchTemplateId);
  }
  // The seed's own clients: nobody else sees their middleware stacks.
  const config = inProcessClientConfig(account, { cacheMiddleware: true });
  const elb = new ElasticLoadBalancingV2Client(config);
  const targetGroupArns = new Map<string, string>();
  const loadBalancerArns = new Map<string, string>();
  for (const targetGroup of fleet.targetGroups) {
    const { TargetGroups = [] } = await elb.send(
      new CreateTargetGroupCommand({
        Name: targetGroup.name,
        Protocol: targetGroup.protocol,
        Port: targetGroup.port,
        VpcId: 'vpc-0a1b2c3d4e5f60001',
        HealthCheckPath: targetGroup.healthCheckPath,
        HealthCheckIntervalSeconds: targetGroup.healthCheckIntervalSeconds,
        HealthyThresholdCount: targetGroup.healthyThresholdCount,
        UnhealthyThresholdCount: targetGroup.unhealthyThresholdCount,
      }),
    );
    const arn = TargetGroups[0]!.TargetGroupArn!;
    targetGroupArns.set(targetGroup.name, arn);
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [
          {
            Key: 'deregistration_delay.timeout_seconds',
            Value: String(targetGroup.deregistrationDelaySeconds),
          },
        ],
      }),
    );
    const lbName = targetGroup.loadBalancer ?? targetGroup.name;
    let lbArn = loadBalancerArns.get(lbName);
    if (!lbArn) {
      const { LoadBalancers = [] } = await elb.send(new CreateLoadBalancerCommand({ Name: lbName }));
      lbArn = LoadBalancers[0]!.LoadBalancerArn!;
      loadBalancerArns.set(lbName, lbArn);
    }
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lbArn,
        Protocol: targetGroup.protocol,
        Port: targetGroup.port,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
      }),
    );
  }
  const autoScaling = new AutoScalingClient(config);
  const ssm = new SSMClient(config);
  const sns = new SNSClient(config);
  for (const group of fleet.autoScalingGroups) {
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group.name,
        LaunchTemplate: {
          LaunchTemplateId: templateIds.get(group.launchTemplate)!,
          Version: group.launchTemplateVersion,
        },
        MinSize: group.minSize,
        MaxSize: group.maxSize,
        DesiredCapacity: group.desiredCapacity,
        AvailabilityZones: group.availabilityZones ?? [
          `${account.region}a`,
          `${account.region}b`,
          `${account.region}c`,
        ],
        HealthCheckType: group.healthCheckType,
        ...(group.healthCheckGracePeriodSeconds !== undefined
          ? { HealthCheckGracePeriod: group.healthCheckGracePeriodSeconds }
          : {}),
        ...(group.targetGroups.length > 0
          ? { TargetGroupARNs: group.targetGroups.map((name) => targetGroupArns.get(name)!) }
          : {}),
        ...(group.defaultInstanceWarmupSeconds !== undefined
          ? { DefaultInstanceWarmup: group.defaultInstanceWarmupSeconds }
          : {}),
        ...(group.tags
          ? {
              Tags: Object.entries(group.tags).map(([Key, Value]) => ({
                Key,
                Value,
                PropagateAtLaunch: false,
                ResourceId: group.name,
                ResourceType: 'auto-scaling-group',
              })),
            }
          : {}),
      }),
    );
  }
  for (const parameter of fleet.parameters) {
    await ssm.send(
      new PutParameterCommand({
        Name: parameter.name,
        Value: parameter.value,
        Type: parameter.type,
        DataType: parameter.dataType,
      }),
    );
  }
  for (const topic of fleet.topics) await sns.send(new CreateTopicCommand({ Name: topic.name }));
  const cloudWatch = new CloudWatchClient(config);
  for (const alarm of fleet.alarms) {
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm.name,
        ...(alarm.description !== undefined ? { AlarmDescription: alarm.description } : {}),
        Namespace: alarm.namespace,
        MetricName: alarm.metricName,
        Dimensions: Object.entries(alarm.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
        Statistic: alarm.statistic,
        Period: alarm.periodSeconds,
        EvaluationPeriods: alarm.evaluationPeriods,
        ...(alarm.datapointsToAlarm !== undefined ? { DatapointsToAlarm: alarm.datapointsToAlarm } : {}),
        Threshold: alarm.threshold,
        ComparisonOperator: alarm.comparisonOperator,
        ...(alarm.treatMissingData !== undefined ? { TreatMissingData: alarm.treatMissingData } : {}),
      }),
    );
  }
  for (const fault of fleet.faults) account.faults.add(fault);
  // Let the groups' first instances finish launching, so the fleet starts in service.
  account.clock.runUntilIdle(3600);
}
