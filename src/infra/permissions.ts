import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { RolloutConfig } from '../config/schema.ts';
import { previousParameterName } from '../core/parameter-plan.ts';
import type { StepFunctionName } from '../statemachine/definition.ts';

/**
 * Least privilege, one function at a time: each step gets the actions its code calls (the SDK commands its
 * bundle contains, test/infra/permissions.test.ts) plus the permissions AWS checks on the side
 * (`impliedPermissions`), and nothing else. docs/iam.md is this file in prose.
 *
 * A role's statements are split into policies by why they are as broad as they are, so each cdk-nag
 * acknowledgment (nag.ts) covers exactly the statements it names and a new grant on `*` is never silenced:
 * - `scoped`: every resource named (the role's default policy; its only wildcards are parts of ARNs AWS assigns
 *   after deploy, each acknowledged by its exact text);
 * - `readOnlyOnStar`: Describe calls AWS authorizes only on `*` (and the functions' X-Ray tracing);
 * - `launchOnStar`: ec2:RunInstances / ec2:CreateTags that Auto Scaling checks, on `*` behind conditions;
 * - `imagesAtRunTime`: the AMI and snapshots of each execution, unknown at deploy time;
 * - `groupsByTag`: Auto Scaling mutations on any group carrying a wave's `autoScalingGroupTags` (groups a tag
 *   selector finds are named only at run time), each statement behind its `aws:ResourceTag/<key>` conditions.
 */

/** The ARNs the step policies are scoped to, resolved in the stack's account, region and partition. */
export interface ScopedArns {
  readonly launchTemplates: readonly string[];
  /** The groups the configuration names (`groupArnPattern`). */
  readonly groups: readonly string[];
  /** The waves' tag selectors: a group carrying every tag of one of them may be changed too. */
  readonly groupTags: readonly Readonly<Record<string, string>>[];
  /** Every group of the account and region: the resource of the tag-conditioned statements. */
  readonly anyGroup: string;
  /** The rollout ledger's DynamoDB table. */
  readonly ledgerTable: string;
  /** Every execution of the rollout state machine (a stale lock's holder is described). */
  readonly rolloutExecutions: string;
  /** `{param}`. */
  readonly parameter: string;
  /** `{param}-previous`. */
  readonly previousParameter: string;
  /** Every AMI in the region: the rollout's image id arrives with the execution, not at deploy time. */
  readonly images: string;
  /** Every EBS snapshot in the region: an AMI's snapshots are found from the image at run time. */
  readonly snapshots: string;
  /** Every instance profile of the account: the launch templates name them, and can change after deploy. */
  readonly instanceProfiles: string;
  readonly topic: string;
  readonly topicKey: string;
  /** Roles the launch templates' instance profiles pass to EC2 (Auto Scaling checks iam:PassRole). */
  readonly instanceRoles: readonly string[];
  /** Accounts the AMI's snapshots are shared with (`shareWithAccountIds`). */
  readonly shareAccounts: readonly string[];
  /** Whether the AMI is shared at all (accounts, organizations or OUs). */
  readonly sharesImage: boolean;
  /**
   * The pipeline's state machine, built from its name: the state machine refers to the functions, so a
   * function's policy cannot refer to the state machine resource without a cycle.
   */
  readonly stateMachine: string;
}

export function scopedArns(
  stack: Stack,
  config: RolloutConfig,
  resources: {
    topicArn: string;
    topicKeyArn: string;
    instanceRoleArns: readonly string[];
    stateMachineName: string;
    ledgerTableArn: string;
  },
): ScopedArns {
  const { partition, region, account } = stack;
  const selectors = groupSelectors(config);
  const parameterArn = (name: string) =>
    `arn:${partition}:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  return {
    launchTemplates: config.launchTemplateIds.map(
      (id) => `arn:${partition}:ec2:${region}:${account}:launch-template/${id}`,
    ),
    groups: selectors.names.map((name) => groupArnPattern(stack, name)),
    groupTags: selectors.tags,
    anyGroup: groupArnPattern(stack, '*'),
    ledgerTable: resources.ledgerTableArn,
    rolloutExecutions: executionArnPattern(stack, resources.stateMachineName),
    parameter: parameterArn(config.amiParameterName),
    previousParameter: parameterArn(previousParameterName(config.amiParameterName)),
    images: `arn:${partition}:ec2:${region}::image/*`,
    snapshots: `arn:${partition}:ec2:${region}::snapshot/*`,
    instanceProfiles: `arn:${partition}:iam::${account}:instance-profile/*`,
    topic: resources.topicArn,
    topicKey: resources.topicKeyArn,
    instanceRoles: resources.instanceRoleArns,
    shareAccounts: config.shareWithAccountIds,
    sharesImage:
      config.shareWithAccountIds.length +
        config.shareWithOrganizationArns.length +
        config.shareWithOrganizationalUnitArns.length >
      0,
    stateMachine: `arn:${partition}:states:${region}:${account}:stateMachine:${resources.stateMachineName}`,
  };
}

/**
 * What a configuration rolls, in either shape: `autoScalingGroupNames` alone (one group per wave) or `waves`
 * naming groups and/or selecting them by tags. Typed loosely so any config shape with these keys fits.
 */
export interface GroupSelectorSource {
  readonly autoScalingGroupNames?: readonly string[] | undefined;
  readonly waves?:
    | readonly {
        readonly autoScalingGroupNames?: readonly string[] | undefined;
        readonly autoScalingGroupTags?: Readonly<Record<string, string>> | undefined;
      }[]
    | undefined;
}

/** Every group a configuration names (first mention first) and every distinct tag selector of its waves. */
export function groupSelectors(config: GroupSelectorSource): {
  names: string[];
  tags: Readonly<Record<string, string>>[];
} {
  const names = new Set<string>(config.autoScalingGroupNames ?? []);
  const tags = new Map<string, Readonly<Record<string, string>>>();
  for (const wave of config.waves ?? []) {
    for (const name of wave.autoScalingGroupNames ?? []) names.add(name);
    const selector = wave.autoScalingGroupTags;
    if (!selector || Object.keys(selector).length === 0) continue;
    const sorted = Object.fromEntries(
      Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
    tags.set(JSON.stringify(sorted), sorted);
  }
  return { names: [...names], tags: [...tags.values()] };
}

/** A group's ARN with its UUID (assigned at creation) wildcarded and its name fixed. */
export function groupArnPattern(stack: Stack, name: string): string {
  const { partition, region, account } = stack;
  return `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${name}`;
}

/**
 * Read-only calls AWS authorizes only on `*` (the Service Authorization Reference lists no resource type for
 * them): EC2 and Auto Scaling Describe* actions.
 */
export const unscopableActions = [
  'ec2:DescribeImages',
  'ec2:DescribeLaunchTemplateVersions',
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeInstanceRefreshes',
  'autoscaling:DescribeScalingActivities',
] as const;

/** What a function's tracing writes; X-Ray supports no resource-level permissions. */
export const tracingActions = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'] as const;

/** Why a permission is granted that no SDK command of the function names: AWS checks it on the side. */
export interface ImpliedPermission {
  /** The operation the function calls, `service:Operation`. */
  readonly operation: string;
  /** What AWS also checks when that operation runs. */
  readonly needs: readonly string[];
  /** The configuration key without which the check cannot arise (and nothing is granted). */
  readonly onlyWith?: 'instanceRoleArns';
  readonly reason: string;
}

const LAUNCH_CHECK =
  'Pointing a group at a launch template makes Auto Scaling check that the caller may launch from it (Auto Scaling user guide, "Control Amazon EC2 launch template usage in Auto Scaling groups"): ec2:RunInstances, and ec2:CreateTags for templates that tag at launch.';
const PASS_ROLE_CHECK =
  "A template with an instance profile makes Auto Scaling check iam:PassRole on the profile's role (same guide, and the EC2 user guide's IAM roles for EC2).";

/** The permissions AWS checks beyond the operation itself, for the operations the steps call. */
export const impliedPermissions: readonly ImpliedPermission[] = [
  {
    operation: 'autoscaling:UpdateAutoScalingGroup',
    needs: ['ec2:RunInstances', 'ec2:CreateTags'],
    reason: LAUNCH_CHECK,
  },
  {
    operation: 'autoscaling:StartInstanceRefresh',
    needs: ['ec2:RunInstances', 'ec2:CreateTags'],
    reason: `${LAUNCH_CHECK} StartInstanceRefresh with a DesiredConfiguration sets the group's template when it succeeds.`,
  },
  {
    operation: 'autoscaling:UpdateAutoScalingGroup',
    needs: ['iam:PassRole'],
    onlyWith: 'instanceRoleArns',
    reason: PASS_ROLE_CHECK,
  },
  {
    operation: 'autoscaling:StartInstanceRefresh',
    needs: ['iam:PassRole'],
    onlyWith: 'instanceRoleArns',
    reason: PASS_ROLE_CHECK,
  },
  {
    operation: 'ec2:CreateLaunchTemplateVersion',
    needs: ['iam:PassRole'],
    onlyWith: 'instanceRoleArns',
    reason:
      "The Service Authorization Reference lists iam:PassRole as a dependent action of ec2:CreateLaunchTemplateVersion: a new version copies its source version's instance profile.",
  },
  {
    operation: 'ssm:PutParameter',
    needs: ['ec2:DescribeImages'],
    reason:
      'Parameter Store validates a DataType aws:ec2:image value with the caller\'s ec2:DescribeImages, after answering 200; without it the write silently fails (Parameter Store user guide, "Native parameter support for Amazon Machine Image IDs").',
  },
  {
    operation: 'sns:Publish',
    needs: ['kms:GenerateDataKey', 'kms:Decrypt'],
    reason:
      'Publishing to a topic encrypted with a customer managed key needs the data key SNS encrypts the message with (SNS developer guide, "Encryption at rest": publisher permissions).',
  },
];

/** Operations granted only when the configuration asks for them; the code checks the same before calling. */
export const configuredOperations: Readonly<Record<string, string>> = {
  'ec2:ModifyImageAttribute':
    'shareWithAccountIds, shareWithOrganizationArns or shareWithOrganizationalUnitArns',
  'ec2:ModifySnapshotAttribute': 'shareWithAccountIds',
};

export type PolicyKind = 'scoped' | 'readOnlyOnStar' | 'launchOnStar' | 'imagesAtRunTime' | 'groupsByTag';

/** The kinds after `scoped`, each a policy of its own (`makeRole` in pipeline.ts). */
export const separatePolicyKinds = [
  'readOnlyOnStar',
  'launchOnStar',
  'imagesAtRunTime',
  'groupsByTag',
] as const;

/** One function's statements, by the policy each belongs to (see the top of this file). */
export type StepPolicies = Readonly<Record<PolicyKind, iam.PolicyStatement[]>>;

const allow = (actions: string[], resources: readonly string[], conditions?: Record<string, unknown>) =>
  new iam.PolicyStatement({
    effect: iam.Effect.ALLOW,
    actions,
    resources: [...resources],
    ...(conditions ? { conditions } : {}),
  });

const policies = (parts: Partial<Record<PolicyKind, iam.PolicyStatement[]>>): StepPolicies => ({
  scoped: parts.scoped ?? [],
  readOnlyOnStar: parts.readOnlyOnStar ?? [],
  launchOnStar: parts.launchOnStar ?? [],
  imagesAtRunTime: parts.imagesAtRunTime ?? [],
  groupsByTag: parts.groupsByTag ?? [],
});

/**
 * Auto Scaling mutations on the rollout's groups: the named ones by ARN (`scoped`), and any group carrying all
 * the tags of one wave's selector (`groupsByTag`). UpdateAutoScalingGroup, StartInstanceRefresh and
 * CancelInstanceRefresh support `aws:ResourceTag/${TagKey}` and `autoscaling:ResourceTag/${TagKey}` on the
 * autoScalingGroup resource (Service Authorization Reference, Amazon EC2 Auto Scaling; docs/iam.md).
 */
function onGroups(actions: string[], arns: ScopedArns): Pick<StepPolicies, 'scoped' | 'groupsByTag'> {
  return {
    scoped: arns.groups.length > 0 ? [allow(actions, arns.groups)] : [],
    groupsByTag: arns.groupTags.map((selector) =>
      allow(actions, [arns.anyGroup], {
        StringEquals: Object.fromEntries(
          Object.entries(selector).map(([key, value]) => [`aws:ResourceTag/${key}`, value]),
        ),
      }),
    ),
  };
}

/**
 * The DynamoDB actions each function may take on the ledger table, nothing else: the calls its code makes
 * (test/infra/permissions.test.ts holds each list to the SDK commands the function's bundle contains; each
 * ledger operation is its own function in src/adapters/ledger.ts, so a bundle holds only those it reaches). A
 * function with an empty list gets neither a grant nor the table's name. The table is the only resource; its
 * items are keyed by rollout id, which no IAM condition can scope (dynamodb:LeadingKeys would need the id).
 */
export const ledgerActions: Readonly<Record<StepFunctionName | 'StartRollout', readonly string[]>> = {
  // The lock (conditional PutItem), the plan (BatchWriteItem, then the rollout item), a reused rollout id (GetItem).
  // A rollback-only execution reads the rollout's groups (Query), takes the rollout over (conditional
  // UpdateItem) and sets failed rollback refreshes to be tried again (BatchWriteItem).
  Preflight: [
    'dynamodb:BatchWriteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ],
  // Read the rollout whole (GetItem, Query), write back what changed (BatchWriteItem, UpdateItem).
  ShareAmi: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  UpdateLaunchTemplates: [
    'dynamodb:BatchWriteItem',
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ],
  // The next slice; the rollback's first batch writes the rollback plan (BatchWriteItem, UpdateItem); a lock
  // found missing (a redriven rollout) is taken again for this execution (conditional PutItem).
  PlanBatch: [
    'dynamodb:BatchWriteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ],
  // Reads the gate plan and waves; records each reading and, when it fires, the rollout's failure (UpdateItem).
  // (a lock found missing is taken again, as PlanBatch does: conditional PutItem)
  CheckGate: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  // Moves the cursor (conditional UpdateItem), marks waves ended (PutItem).
  FinishBatch: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  // One group: its records (GetItem), its new state (PutItem); a failure is recorded once (UpdateItem).
  TriggerInstanceRefresh: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  // ... and, when it claims the gate's check (conditional UpdateItem), the wave's own alarms (Query).
  CheckRefreshStatus: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  RollbackAmi: ['dynamodb:BatchWriteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  TriggerRollbackRefresh: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  CheckRollbackRefresh: ['dynamodb:GetItem', 'dynamodb:PutItem'],
  // Reads the outcome, records it (UpdateItem), releases its own lock (conditional DeleteItem).
  Notify: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  StartRollout: [],
};

/** The ledger statement of a function, none when it has no ledger action. */
function onLedger(step: StepFunctionName | 'StartRollout', arns: ScopedArns): iam.PolicyStatement[] {
  const actions = ledgerActions[step];
  return actions.length > 0 ? [allow([...actions], [arns.ledgerTable])] : [];
}

/** Passing the instance profiles' roles to EC2, and to nothing else; none when no role is configured. */
function passInstanceRoles(arns: ScopedArns): iam.PolicyStatement[] {
  if (arns.instanceRoles.length === 0) return [];
  return [
    allow(['iam:PassRole'], arns.instanceRoles, {
      StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    }),
  ];
}

/**
 * RunInstances on `*` limited to the configured templates by `ec2:LaunchTemplate`; CreateTags to tagging at
 * launch. Not tightened with `ec2:IsLaunchTemplateResource`: Auto Scaling launches with subnets from the group
 * (VPCZoneIdentifier), not the template, and the reference does not show its check passing that condition.
 */
function launchFromTemplates(arns: ScopedArns): iam.PolicyStatement[] {
  return [
    allow(['ec2:RunInstances'], ['*'], { ArnLike: { 'ec2:LaunchTemplate': [...arns.launchTemplates] } }),
    allow(['ec2:CreateTags'], ['*'], { StringEquals: { 'ec2:CreateAction': 'RunInstances' } }),
  ];
}

/**
 * Sharing the execution's AMI and its snapshots. Snapshots: only with the configured accounts, never a group
 * (`all` is public), by the ec2:Add/userId and ec2:Add/group condition keys of ModifySnapshotAttribute; a
 * call that adds nothing (a removal) has no ec2:Add/userId and is refused. ModifyImageAttribute has no such
 * keys (Service Authorization Reference), so the image grant is bounded only to images of the region, and
 * only granted when the configuration shares the image at all: docs/iam.md says what that leaves open.
 */
function shareImages(arns: ScopedArns): iam.PolicyStatement[] {
  return [
    allow(['ec2:EnableImageDeregistrationProtection'], [arns.images]),
    ...(arns.sharesImage ? [allow(['ec2:ModifyImageAttribute'], [arns.images])] : []),
    ...(arns.shareAccounts.length > 0
      ? [
          allow(['ec2:ModifySnapshotAttribute'], [arns.snapshots], {
            StringEquals: { 'ec2:Add/userId': [...arns.shareAccounts] },
            Null: { 'ec2:Add/group': 'true' },
          }),
        ]
      : []),
  ];
}

/** The policy statements of each step function. */
export function stepPolicyStatements(step: StepFunctionName, arns: ScopedArns): StepPolicies {
  const { scoped, ...rest } = stepStatements(step, arns);
  return { ...rest, scoped: [...scoped, ...onLedger(step, arns)] };
}

function stepStatements(step: StepFunctionName, arns: ScopedArns): StepPolicies {
  const both = [arns.parameter, arns.previousParameter];
  switch (step) {
    case 'Preflight':
      return policies({
        readOnlyOnStar: [
          allow(
            [
              'ec2:DescribeImages',
              'ec2:DescribeLaunchTemplateVersions',
              'autoscaling:DescribeAutoScalingGroups',
              'autoscaling:DescribeInstanceRefreshes',
            ],
            ['*'],
          ),
          // The alarms in alarmNames must exist. DescribeAlarms returns composite alarms only to a grant on `*`
          // (CloudWatch API reference, DescribeAlarms), and AlarmSpecification may name either kind.
          allow(['cloudwatch:DescribeAlarms'], ['*']),
        ],
        scoped: [
          allow(['ssm:GetParameter'], both),
          // One rollout at a time: preflight refuses while another execution of this state machine runs.
          allow(['states:ListExecutions'], [arns.stateMachine]),
          // The lock's holder, when the lock is held: a finished (crashed or stopped) holder's lock is recovered.
          allow(['states:DescribeExecution'], [arns.rolloutExecutions]),
          // The roles of the templates' instance profiles, checked against instanceRoleArns before any change.
          allow(['iam:GetInstanceProfile'], [arns.instanceProfiles]),
        ],
      });
    case 'ShareAmi':
      return policies({
        readOnlyOnStar: [allow(['ec2:DescribeImages'], ['*'])],
        imagesAtRunTime: shareImages(arns),
        scoped: [allow(['ssm:GetParameter', 'ssm:PutParameter'], both)],
      });
    case 'UpdateLaunchTemplates': {
      // Before any default moves, each group on $Default/$Latest is pinned to the number it runs.
      const pin = onGroups(['autoscaling:UpdateAutoScalingGroup'], arns);
      return policies({
        readOnlyOnStar: [
          allow(['ec2:DescribeLaunchTemplateVersions', 'autoscaling:DescribeAutoScalingGroups'], ['*']),
        ],
        scoped: [
          allow(['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate'], arns.launchTemplates),
          ...pin.scoped,
          ...passInstanceRoles(arns),
        ],
        groupsByTag: pin.groupsByTag,
        launchOnStar: launchFromTemplates(arns),
      });
    }
    case 'PlanBatch':
      // The next slice of the plan from the ledger; the rollback's first batch looks for refreshes of this
      // rollout whose record was lost (DescribeInstanceRefreshes, read-only).
      return policies({
        readOnlyOnStar: [allow(['autoscaling:DescribeInstanceRefreshes'], ['*'])],
      });
    case 'FinishBatch': {
      // After the last batch, forward or back, each pinned group gets its own launch template setting back.
      const groups = onGroups(['autoscaling:UpdateAutoScalingGroup'], arns);
      return policies({
        readOnlyOnStar: [
          allow(['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeLaunchTemplateVersions'], ['*']),
        ],
        scoped: [...groups.scoped, ...passInstanceRoles(arns)],
        groupsByTag: groups.groupsByTag,
        launchOnStar: launchFromTemplates(arns),
      });
    }
    case 'RollbackAmi':
      return policies({
        // DescribeImages: SSM validates the aws:ec2:image value RollbackAmi writes with the caller's rights.
        readOnlyOnStar: [allow(['ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeImages'], ['*'])],
        scoped: [
          allow(['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate'], arns.launchTemplates),
          ...passInstanceRoles(arns),
          // {param} goes back to the rollback target, {param}-previous to what it held before the rollout.
          allow(['ssm:GetParameter', 'ssm:PutParameter'], both),
        ],
      });
    case 'TriggerInstanceRefresh': {
      const groups = onGroups(
        ['autoscaling:StartInstanceRefresh', 'autoscaling:UpdateAutoScalingGroup'],
        arns,
      );
      return policies({
        readOnlyOnStar: [readGroupsAndTemplates()],
        scoped: [...groups.scoped, ...passInstanceRoles(arns)],
        groupsByTag: groups.groupsByTag,
        launchOnStar: launchFromTemplates(arns),
      });
    }
    case 'TriggerRollbackRefresh': {
      // UpdateAutoScalingGroup gives each group its own launch template version setting back at the end.
      const groups = onGroups(
        [
          'autoscaling:StartInstanceRefresh',
          'autoscaling:CancelInstanceRefresh',
          'autoscaling:UpdateAutoScalingGroup',
        ],
        arns,
      );
      return policies({
        readOnlyOnStar: [readGroupsAndTemplates()],
        scoped: [...groups.scoped, ...passInstanceRoles(arns)],
        groupsByTag: groups.groupsByTag,
        launchOnStar: launchFromTemplates(arns),
      });
    }
    case 'CheckRefreshStatus':
    case 'CheckRollbackRefresh': {
      // A refresh past refreshTimeoutMinutes is cancelled by the check that finds it (forward or rollback).
      const cancel = onGroups(['autoscaling:CancelInstanceRefresh'], arns);
      return policies({
        readOnlyOnStar: [
          allow(
            [
              'autoscaling:DescribeInstanceRefreshes',
              // After Successful: every InService instance must run the refresh's version (its instances).
              'autoscaling:DescribeAutoScalingGroups',
              // After a failure: what EC2 answered to the last failed launch, for the notification.
              'autoscaling:DescribeScalingActivities',
              // Forward only: the health gate's alarms, read while groups refresh (one check per poll interval
              // for the fleet). DescribeAlarms has no resource-level permissions (`*` only).
              ...(step === 'CheckRefreshStatus' ? ['cloudwatch:DescribeAlarms'] : []),
            ],
            ['*'],
          ),
        ],
        ...cancel,
      });
    }
    case 'CheckGate':
      // The health gate's alarms, before each batch and through each bake and the watch window (read-only;
      // DescribeAlarms takes no resource but `*`).
      return policies({ readOnlyOnStar: [allow(['cloudwatch:DescribeAlarms'], ['*'])] });
    case 'Notify':
      return policies({
        scoped: [
          allow(['sns:Publish'], [arns.topic]),
          // Publishing to a KMS-encrypted topic needs the data key SNS encrypts the message with.
          allow(['kms:GenerateDataKey', 'kms:Decrypt'], [arns.topicKey]),
        ],
      });
  }
}

/** Every execution of the named state machine. */
export function executionArnPattern(stack: Stack, stateMachineName: string): string {
  return stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** Image Builder images of the stack's account and region (the one to read arrives with the event). */
export function imageBuilderImagePattern(stack: Stack): string {
  return Arn.format({ service: 'imagebuilder', resource: 'image', resourceName: '*' }, stack);
}

/** The start function: look at and start executions of this one state machine, and read Image Builder images. */
export function startRolloutPolicyStatements(
  stack: Stack,
  stateMachine: { stateMachineArn: string; stateMachineName: string },
  arns?: Pick<ScopedArns, 'ledgerTable'>,
): StepPolicies {
  const executions = executionArnPattern(stack, stateMachine.stateMachineName);
  const ledger = ledgerActions.StartRollout;
  return policies({
    scoped: [
      allow(['states:ListExecutions', 'states:StartExecution'], [stateMachine.stateMachineArn]),
      allow(['states:DescribeExecution'], [executions]),
      allow(['imagebuilder:GetImage'], [imageBuilderImagePattern(stack)]),
      ...(arns && ledger.length > 0 ? [allow([...ledger], [arns.ledgerTable])] : []),
    ],
  });
}

/**
 * The EventBridge managed rule through which Step Functions learns that a child execution started by a
 * `startExecution.sync` Task has ended (Step Functions developer guide, "IAM policies for Step Functions").
 */
export const SYNC_RULE_NAME = 'StepFunctionsGetEventsForStepFunctionsExecutionRule';

/**
 * What a state machine's role needs to run a child machine with `arn:aws:states:::states:startExecution.sync:2`
 * and wait for it, as the developer guide's "IAM policies for Step Functions" (Synchronous) lists it: start
 * executions of that machine only; describe and stop its executions (`execution:<name>:*`, so `ami-rollout`
 * does not reach `ami-rollout-batch`'s); and put and describe the managed rule .sync waits with.
 */
export function runChildStatements(
  stack: Stack,
  child: { stateMachineArn: string; stateMachineName: string },
): iam.PolicyStatement[] {
  return [
    allow(['states:StartExecution'], [child.stateMachineArn]),
    allow(
      ['states:DescribeExecution', 'states:StopExecution'],
      [executionArnPattern(stack, child.stateMachineName)],
    ),
    allow(
      ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      [stack.formatArn({ service: 'events', resource: 'rule', resourceName: SYNC_RULE_NAME })],
    ),
  ];
}

/** What both trigger steps read before they touch a group: Describe calls AWS authorizes only on `*`. */
function readGroupsAndTemplates(): iam.PolicyStatement {
  return allow(
    [
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeInstanceRefreshes',
      'ec2:DescribeLaunchTemplateVersions',
    ],
    ['*'],
  );
}
