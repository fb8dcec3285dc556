/**
 * A local account with a small fleet, and the step dependencies that point real SDK v3 clients at it.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { parseConfig } from '../../src/config/load.ts';
import type { RolloutConfig, RolloutConfigInput } from '../../src/config/schema.ts';
import type { Rollout } from '../../src/core/rollout.ts';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
  type FleetFile,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import type { StepDependencies } from '../../src/steps/dependencies.ts';
import { createPreflight } from '../../src/steps/preflight.ts';

export const ACCOUNT = '111122223333';
export const OLD_IMAGE = 'ami-0a1b2c3d4e5f60001';
export const NEW_IMAGE = 'ami-0a1b2c3d4e5f60002';
export const FOREIGN_IMAGE = 'ami-0a1b2c3d4e5f60003';
export const PENDING_IMAGE = 'ami-0a1b2c3d4e5f60004';
export const OTHER_IMAGE = 'ami-0a1b2c3d4e5f60005';
export const WEB_TEMPLATE = 'lt-0a1b2c3d4e5f60001';
export const BACKEND_TEMPLATE = 'lt-0a1b2c3d4e5f60002';
export const PARAM = '/ami-rollout/golden-ami';
export const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:ami-rollout-notifications`;

/** A group's fleet-file fields for ELB health checks through the target group `targetGroup`. */
export const behind = (targetGroup: string) => ({
  healthCheckType: 'ELB' as const,
  healthCheckGracePeriodSeconds: 60,
  targetGroups: [targetGroup],
});

export const baseFleet = (): FleetFile => ({
  accountId: ACCOUNT,
  region: 'us-east-1',
  startTime: '2026-11-26T09:00:00Z',
  images: [
    { imageId: OLD_IMAGE, name: 'golden-old', snapshots: [{ snapshotId: 'snap-0a1b2c3d4e5f60001' }] },
    { imageId: NEW_IMAGE, name: 'golden-new', snapshots: [{ snapshotId: 'snap-0a1b2c3d4e5f60002' }] },
    { imageId: FOREIGN_IMAGE, name: 'someone-elses', ownerId: '999988887777' },
    { imageId: PENDING_IMAGE, name: 'still-baking', state: 'pending' },
    { imageId: OTHER_IMAGE, name: 'golden-other' },
  ],
  launchTemplates: [
    { launchTemplateId: WEB_TEMPLATE, name: 'web', imageId: OLD_IMAGE, instanceType: 't3.small' },
    { launchTemplateId: BACKEND_TEMPLATE, name: 'backend', imageId: OLD_IMAGE, instanceType: 'm7g.large' },
  ],
  // Preflight refuses a group with no health signal: web and api are behind load balancers (ELB health checks),
  // and worker, with EC2 checks only, is let through by the config's groupsWithoutHealthSignal.
  targetGroups: [{ name: 'web' }, { name: 'api' }],
  autoScalingGroups: [
    { name: 'web', launchTemplate: 'web', minSize: 1, maxSize: 4, desiredCapacity: 2, ...behind('web') },
    { name: 'api', launchTemplate: 'backend', minSize: 1, maxSize: 4, desiredCapacity: 2, ...behind('api') },
    { name: 'worker', launchTemplate: 'backend', minSize: 1, maxSize: 4, desiredCapacity: 1 },
  ],
  parameters: [{ name: PARAM, value: OLD_IMAGE }],
  topics: [{ name: 'ami-rollout-notifications' }],
  faults: [],
});

export const baseConfig = (): RolloutConfigInput => ({
  amiParameterName: PARAM,
  launchTemplateIds: [WEB_TEMPLATE, BACKEND_TEMPLATE],
  autoScalingGroupNames: ['web', 'api', 'worker'],
  shareWithAccountIds: ['444455556666'],
  shareWithOrganizationArns: ['arn:aws:organizations::111122223333:organization/o-abcde12345'],
  shareWithOrganizationalUnitArns: ['arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-cdefgh34'],
  trustedImageOwners: [ACCOUNT],
  notificationTopicArn: TOPIC,
  refreshPreferences: { instanceWarmupSeconds: 60 },
  groupsWithoutHealthSignal: ['worker'],
  pollIntervalSeconds: 60,
  // As in the example config: Auto Scaling retries unhealthy replacements for an hour before a refresh fails,
  // so a 60-minute timeout would cancel every failing refresh before Auto Scaling gives up on it.
  refreshTimeoutMinutes: 90,
});

export interface Harness {
  readonly account: LocalAccount;
  readonly config: RolloutConfig;
  /** Every client but Step Functions: preflight then skips its one-rollout-at-a-time check. */
  readonly deps: StepDependencies<'ec2' | 'autoscaling' | 'ssm' | 'sns'>;
  /** Every structured log line the steps wrote, parsed. */
  readonly logs: Record<string, unknown>[];
}

export async function harness(
  options: {
    fleet?: (fleet: FleetFile) => FleetFile;
    config?: (config: RolloutConfigInput) => RolloutConfigInput;
  } = {},
): Promise<Harness> {
  const fleet = parseFleet((options.fleet ?? ((f) => f))(baseFleet()));
  const account = await createLocalAccountFromFleet(fleet);
  const config = parseConfig((options.config ?? ((c) => c))(baseConfig()));
  const clientConfig = { ...inProcessClientConfig(account), maxAttempts: 3 };
  const logs: Record<string, unknown>[] = [];
  const deps: StepDependencies<'ec2' | 'autoscaling' | 'ssm' | 'sns' | 'iam' | 'cloudwatch'> = {
    config,
    ec2: new EC2Client(clientConfig),
    autoscaling: new AutoScalingClient(clientConfig),
    ssm: new SSMClient(clientConfig),
    sns: new SNSClient(clientConfig),
    iam: new IAMClient(clientConfig),
    cloudwatch: new CloudWatchClient(clientConfig),
    now: () => account.now(),
    logSink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
  };
  return { account, config, deps, logs };
}

/** The rollout record preflight produces for `imageId`. */
export async function preflighted(
  h: Harness,
  imageId = NEW_IMAGE,
  rolloutId = 'rollout-1',
): Promise<Rollout> {
  return createPreflight(h.deps)({ rolloutId, imageId });
}

/** The mutating calls the account answered successfully since `from` (an index into `account.calls`). */
export function writesSince(account: LocalAccount, from = 0): string[] {
  return account.calls
    .slice(from)
    .filter((c) => !c.errorCode && !/^(Describe|Get|List)/.test(c.action))
    .map((c) => `${c.service}:${c.action}`);
}

/** A comparable snapshot of what the rollout can change: template versions and defaults, parameters, refreshes. */
export function rolloutState(account: LocalAccount): unknown {
  const s = account.state;
  return {
    templates: [...s.launchTemplates.values()].map((t) => ({
      id: t.launchTemplateId,
      defaultVersion: t.defaultVersion,
      versions: [...t.versions.values()].map((v) => [v.versionNumber, v.data.ImageId]),
    })),
    parameters: [...s.parameters.values()].map((p) => [p.name, p.versions.length, p.versions.at(-1)?.value]),
    refreshes: [...s.instanceRefreshes.entries()].map(([g, rs]) => [g, rs.map((r) => r.instanceRefreshId)]),
    images: [...s.images.values()].map((i) => ({
      id: i.imageId,
      users: [...i.launchPermissions.userIds],
      orgs: [...i.launchPermissions.organizationArns],
      ous: [...i.launchPermissions.organizationalUnitArns],
      protection: i.deregistrationProtection,
    })),
    snapshots: [...s.snapshots.values()].map((sn) => [
      sn.snapshotId,
      [...sn.createVolumePermissions.userIds],
    ]),
  };
}
