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

export type LifecycleState = 'Pending' | 'InService' | 'Standby' | 'Terminating' | 'Terminated';
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
  /** Scale-in protection (ProtectedFromScaleIn). Default false. */
  protectedFromScaleIn?: boolean;
  /** When the instance entered InService: health check grace periods count from it. */
  inServiceAt?: Date;
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
  /** EC2, or EC2 plus ELB (`ELB`): what Auto Scaling replaces instances on. */
  healthCheckType: HealthCheckType;
  healthCheckGracePeriod: number;
  /** ARNs of the Elastic Load Balancing target groups the group registers its InService instances with. */
  targetGroupARNs: string[];
  defaultInstanceWarmup?: number;
  /** NewInstancesProtectedFromScaleIn: instances the group launches start protected from scale in. Default false. */
  newInstancesProtectedFromScaleIn?: boolean;
  readonly createdTime: Date;
  /** Ids of the group's instances that are not yet terminated. */
  instanceIds: string[];
  tags: Map<string, string>;
}

/**
 * The health check types the local account models. AWS also accepts EBS and VPC_LATTICE (comma-separated with
 * these); the local account refuses them rather than pretend to check them.
 */
export type HealthCheckType = 'EC2' | 'ELB';

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

/** An Elastic Load Balancing v2 target group (target type `instance`). */
export interface TargetGroup {
  readonly targetGroupArn: string;
  readonly targetGroupName: string;
  readonly protocol: string;
  readonly port: number;
  readonly vpcId?: string;
  healthCheckProtocol: string;
  healthCheckPort: string;
  healthCheckPath: string;
  healthCheckIntervalSeconds: number;
  healthCheckTimeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  /** Matcher.HttpCode, as given ("200", "200-299", "200,202"). */
  matcherHttpCode: string;
  /** deregistration_delay.timeout_seconds, and the other attributes as given. */
  readonly attributes: Map<string, string>;
  /** Registered targets by instance id. */
  readonly targets: Map<string, Target>;
}

export type TargetHealthState =
  'initial' | 'healthy' | 'unhealthy' | 'unhealthy.draining' | 'unused' | 'draining' | 'unavailable';

/** A registered target and where its health checks stand. */
export interface Target {
  readonly instanceId: string;
  readonly port: number;
  readonly registeredAt: Date;
  state: TargetHealthState;
  reason?: string;
  description?: string;
  /** Bumped whenever the target's health is re-planned, so stale health check timers do nothing. */
  epoch: number;
}

export interface LoadBalancer {
  readonly loadBalancerArn: string;
  readonly loadBalancerName: string;
  readonly dnsName: string;
  readonly createdTime: Date;
  readonly scheme: string;
  readonly type: string;
  readonly availabilityZones: readonly string[];
}

export interface Listener {
  readonly listenerArn: string;
  readonly loadBalancerArn: string;
  readonly port: number;
  readonly protocol: string;
  /** The default action's forward target group. */
  readonly targetGroupArn: string;
  /** HTTPS/TLS listeners: the certificate ARNs and security policy, as given (TLS itself is not modelled). */
  readonly certificateArns?: readonly string[];
  readonly sslPolicy?: string;
}

/** An Activity's StatusCode, as far as the local account reaches them (API ScalingActivityStatusCode). */
export type ScalingActivityStatusCode =
  'InProgress' | 'PreInService' | 'WaitingForELBConnectionDraining' | 'Successful' | 'Failed' | 'Cancelled';

/** Something Auto Scaling did or failed to do to a group (what DescribeScalingActivities shows). */
export interface ScalingActivity {
  readonly activityId: string;
  readonly autoScalingGroupName: string;
  /** The group's ARN when the activity started: a later group of the same name is another group. */
  readonly autoScalingGroupARN?: string;
  readonly description: string;
  readonly cause: string;
  readonly startTime: Date;
  /** Unset while the activity is in progress. */
  endTime?: Date;
  statusCode: ScalingActivityStatusCode;
  readonly statusMessage?: string;
  /** 0-100. */
  progress?: number;
  /** JSON, as AWS writes it (`{"Availability Zone":"us-east-1a"}`). */
  readonly details?: string;
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
  /** Elastic Load Balancing v2, by ARN. */
  readonly targetGroups: Map<string, TargetGroup>;
  readonly loadBalancers: Map<string, LoadBalancer>;
  readonly listeners: Map<string, Listener>;
  /** Failed launches and other Auto Scaling activities, oldest first. */
  readonly scalingActivities: ScalingActivity[];
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
  targetGroups: new Map(),
  loadBalancers: new Map(),
  listeners: new Map(),
  scalingActivities: [],
});
