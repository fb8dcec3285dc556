/**
 * The data the local account holds. Plain records, owned by the account and changed only by the service
 * modules (and the refresh simulation), so a test can look at any of it directly.
 */

export type ImageState =
  'pending' | 'available' | 'invalid' | 'deregistered' | 'transient' | 'failed' | 'error';

export interface BlockDeviceMapping {
  readonly deviceName: string;
  readonly snapshotId: string;
  readonly volumeSize: number;
  readonly encrypted: boolean;
}

export interface Image {
  readonly imageId: string;
  readonly name: string;
  readonly description?: string;
  readonly ownerId: string;
  state: ImageState;
  readonly creationDate: Date;
  readonly architecture: string;
  readonly rootDeviceName: string;
  readonly blockDeviceMappings: readonly BlockDeviceMapping[];
  /** launchPermission: accounts, organizations and OUs the image is shared with; `all` = public. */
  readonly launchPermissions: {
    userIds: Set<string>;
    organizationArns: Set<string>;
    organizationalUnitArns: Set<string>;
    groupAll: boolean;
  };
  deregistrationProtection: 'disabled' | 'enabled' | 'enabled-with-cooldown';
  tags: Map<string, string>;
}

export interface Snapshot {
  readonly snapshotId: string;
  readonly ownerId: string;
  readonly volumeSize: number;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  readonly startTime: Date;
  readonly description?: string;
  /** createVolumePermission: accounts the snapshot is shared with; `all` = public. */
  readonly createVolumePermissions: { userIds: Set<string>; groupAll: boolean };
}

/** The subset of launch template data the rollout reads and writes; the rest is kept verbatim. */
export interface LaunchTemplateData {
  ImageId?: string;
  InstanceType?: string;
  [field: string]: unknown;
}

export interface LaunchTemplateVersion {
  readonly versionNumber: number;
  readonly description?: string;
  readonly createTime: Date;
  readonly data: Readonly<LaunchTemplateData>;
}

export interface LaunchTemplate {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly createTime: Date;
  defaultVersion: number;
  latestVersion: number;
  readonly versions: Map<number, LaunchTemplateVersion>;
  tags: Map<string, string>;
}

/** A reference to a launch template as a group or a refresh holds it: version may be a number or $Default/$Latest. */
export interface LaunchTemplateSpec {
  launchTemplateId: string;
  launchTemplateName: string;
  version: string;
}

export type LifecycleState = 'Pending' | 'InService' | 'Terminating' | 'Terminated';
export type HealthStatus = 'Healthy' | 'Unhealthy';

export interface Instance {
  readonly instanceId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly availabilityZone: string;
  readonly launchTime: Date;
  /** The template and the resolved, numbered version the instance was launched from. */
  readonly launchTemplate?: { launchTemplateId: string; launchTemplateName: string; version: string };
  readonly autoScalingGroupName?: string;
  lifecycleState: LifecycleState;
  healthStatus: HealthStatus;
  /** EC2 state name, derived from the lifecycle. */
  ec2State: 'pending' | 'running' | 'shutting-down' | 'terminated';
}

export interface AutoScalingGroup {
  readonly autoScalingGroupName: string;
  readonly autoScalingGroupARN: string;
  launchTemplate: LaunchTemplateSpec;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  readonly availabilityZones: readonly string[];
  /** Subnet ids as given to CreateAutoScalingGroup (comma-separated), echoed by DescribeAutoScalingGroups. */
  readonly vpcZoneIdentifier?: string;
  readonly healthCheckType: string;
  healthCheckGracePeriod: number;
  defaultInstanceWarmup?: number;
  readonly createdTime: Date;
  /** Ids of the group's instances that are not yet terminated. */
  instanceIds: string[];
  tags: Map<string, string>;
}

export type InstanceRefreshStatus =
  | 'Pending'
  | 'InProgress'
  | 'Successful'
  | 'Failed'
  | 'Cancelling'
  | 'Cancelled'
  | 'RollbackInProgress'
  | 'RollbackFailed'
  | 'RollbackSuccessful'
  | 'Baking';

export interface RefreshPreferences {
  minHealthyPercentage: number;
  maxHealthyPercentage?: number;
  instanceWarmup?: number;
  checkpointPercentages?: number[];
  checkpointDelay?: number;
  skipMatching: boolean;
  autoRollback: boolean;
  scaleInProtectedInstances: 'Refresh' | 'Ignore' | 'Wait';
  standbyInstances: 'Terminate' | 'Ignore' | 'Wait';
  alarms?: string[];
  bakeTime?: number;
}

export interface InstanceRefresh {
  readonly instanceRefreshId: string;
  readonly autoScalingGroupName: string;
  readonly strategy: 'Rolling' | 'ReplaceRootVolume';
  status: InstanceRefreshStatus;
  statusReason?: string;
  readonly startTime: Date;
  endTime?: Date;
  percentageComplete: number;
  instancesToUpdate: number;
  readonly preferences: RefreshPreferences;
  /** The configuration the refresh moves the group to (resolved to a numbered version when one was given). */
  readonly desiredConfiguration?: { launchTemplate: LaunchTemplateSpec };
  /** What the group was launching from when the refresh started: the target of a rollback. */
  readonly previousConfiguration: { launchTemplate: LaunchTemplateSpec };
  rollbackDetails?: {
    rollbackReason: string;
    rollbackStartTime: Date;
    percentageCompleteOnRollback: number;
    instancesToUpdateOnRollback: number;
  };
}

export interface ParameterVersion {
  readonly version: number;
  readonly value: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly dataType: string;
  readonly description?: string;
  readonly lastModifiedDate: Date;
  labels: string[];
}

export interface Parameter {
  readonly name: string;
  /** Oldest first; at most 100 kept, as SSM does. */
  versions: ParameterVersion[];
}

export interface Subscription {
  readonly subscriptionArn: string;
  readonly topicArn: string;
  readonly protocol: string;
  readonly endpoint: string;
}

export interface Topic {
  readonly topicArn: string;
  readonly name: string;
  attributes: Map<string, string>;
  subscriptions: Subscription[];
}

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageAttributes: Record<string, { dataType: string; value: string }>;
  readonly publishedAt: Date;
}

/** An IAM role, as far as an instance profile shows it. */
export interface Role {
  readonly roleName: string;
  readonly roleId: string;
  readonly path: string;
  readonly arn: string;
  readonly createDate: Date;
}

/** An IAM instance profile: what a launch template's IamInstanceProfile names; it holds at most one role. */
export interface InstanceProfile {
  readonly instanceProfileName: string;
  readonly instanceProfileId: string;
  readonly path: string;
  readonly arn: string;
  readonly createDate: Date;
  readonly roles: readonly Role[];
}

export interface AccountState {
  readonly images: Map<string, Image>;
  readonly snapshots: Map<string, Snapshot>;
  readonly launchTemplates: Map<string, LaunchTemplate>;
  readonly instances: Map<string, Instance>;
  readonly autoScalingGroups: Map<string, AutoScalingGroup>;
  /** Every refresh ever started, newest last, per group. */
  readonly instanceRefreshes: Map<string, InstanceRefresh[]>;
  readonly parameters: Map<string, Parameter>;
  readonly topics: Map<string, Topic>;
  readonly published: PublishedMessage[];
  /** IAM is global: one set of instance profiles per account, by name. */
  readonly instanceProfiles: Map<string, InstanceProfile>;
}

export const emptyState = (): AccountState => ({
  images: new Map(),
  snapshots: new Map(),
  launchTemplates: new Map(),
  instances: new Map(),
  autoScalingGroups: new Map(),
  instanceRefreshes: new Map(),
  parameters: new Map(),
  topics: new Map(),
  published: [],
  instanceProfiles: new Map(),
});
