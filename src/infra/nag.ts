import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RolloutConfig } from '../config/schema.ts';
import { stepFunctionNames } from '../statemachine/definition.ts';
import {
  executionArnPattern,
  groupArnPattern,
  groupSelectors,
  imageBuilderImagePattern,
} from './permissions.ts';
import type { AmiRolloutPipeline } from './pipeline.ts';

/**
 * The cdk-nag AwsSolutions findings the pipeline keeps on purpose, each with the reason. Everything else
 * AwsSolutions checks passes (a test synthesizes with AwsSolutionsChecks and fails on any finding left).
 *
 * Each acknowledgment is recorded on the one policy whose statements it covers, never on a whole role: the
 * `Resource::*` ones on the policies that hold only read-only Describe calls and tracing, only the launch check,
 * or only the state machine's log delivery; the others name their exact ARN. A grant on `*` added later to a
 * role's default policy (where `role.addToPrincipalPolicy` puts it) is therefore reported, not silenced.
 */

export interface NagAcknowledgment {
  /** The finding as cdk-nag names it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly finding: string;
  readonly reason: string;
}

const DESCRIBE_ONLY_ON_STAR =
  'EC2 and Auto Scaling Describe* actions (DescribeImages, DescribeLaunchTemplateVersions, DescribeAutoScalingGroups, DescribeInstanceRefreshes) support no resource-level permissions: AWS authorizes them only on "*". They are read-only.';
const ALARMS_ON_STAR =
  'cloudwatch:DescribeAlarms (read-only): preflight checks that the alarms in refreshPreferences.alarmNames and the health gate exist, CheckGate and CheckRefreshStatus read the gate alarms\' states; DescribeAlarms supports no resource-level permissions and returns composite alarms only to a grant on "*" (CloudWatch API reference).';
const XRAY_ON_STAR =
  'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.';
const LAUNCH_ON_STAR =
  'Auto Scaling checks that whoever points a group at a launch template may launch from it. ec2:RunInstances is on "*" (it touches instances, volumes, ENIs, subnets, security groups and images whose ids are in the template) but limited by the ec2:LaunchTemplate condition to the configured templates; ec2:CreateTags is limited by ec2:CreateAction=RunInstances to tagging at launch.';
const GROUPS_BY_TAG =
  "The groups a wave selects by autoScalingGroupTags are found by Preflight at run time, so they cannot be named at deploy time: every statement of this policy is on autoScalingGroup:*:autoScalingGroupName/* behind StringEquals on aws:ResourceTag/<key> for every tag of one selector, so only a group carrying all of a wave's tags can be changed. The roles cannot tag groups (no autoscaling:CreateOrUpdateTags).";
const GROUP_ARN =
  'An Auto Scaling group ARN holds a UUID AWS assigns at creation (autoScalingGroup:UUID:autoScalingGroupName/NAME); the wildcard is only that UUID, the group name is fixed.';

/** The text cdk-nag prints for a (possibly tokenized) ARN: `arn:<AWS::Partition>:ec2:us-east-1::image/*`. */
export function nagText(stack: Stack, value: string): string {
  const flatten = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (typeof record.Ref === 'string') return `<${record.Ref}>`;
      const join = record['Fn::Join'];
      if (Array.isArray(join) && Array.isArray(join[1])) {
        return (join[1] as unknown[]).map(flatten).join(typeof join[0] === 'string' ? join[0] : '');
      }
      const getAtt = record['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    }
    return JSON.stringify(node);
  };
  return flatten(stack.resolve(value));
}

const iam5 = (resourceOrAction: string) => `AwsSolutions-IAM5[${resourceOrAction}]`;

/** The acknowledgments, by construct: returned for docs/iam.md and the tests, and applied with `Validations`. */
export function nagAcknowledgments(
  pipeline: AmiRolloutPipeline,
  config: RolloutConfig,
): { construct: IConstruct; path: string; acknowledgments: NagAcknowledgment[] }[] {
  const stack = Stack.of(pipeline);
  const { partition, region, account } = stack;
  const text = (arn: string) => nagText(stack, arn);
  const star = (reason: string) => [{ finding: iam5('Resource::*'), reason }];
  const readOnly = star(`${DESCRIBE_ONLY_ON_STAR} ${XRAY_ON_STAR}`);
  const groups = groupSelectors(config).names.map((name) => ({
    finding: iam5(`Resource::${text(groupArnPattern(stack, name))}`),
    reason: GROUP_ARN,
  }));
  const groupsByTag = [
    { finding: iam5(`Resource::${text(groupArnPattern(stack, '*'))}`), reason: GROUPS_BY_TAG },
  ];
  const executionsOf = (machineName: string, why: string) => ({
    finding: iam5(`Resource::${text(executionArnPattern(stack, machineName))}`),
    reason: `${why} Execution names are chosen at run time; the wildcard is only the execution name, of this one state machine.`,
  });
  const staleLockHolder = executionsOf(
    pipeline.stateMachineName,
    "DescribeExecution (read-only) of the rollout state machine's executions: the lock's holder, to recover a lock whose execution has ended.",
  );
  const runsChild = (child: string) =>
    executionsOf(
      `${pipeline.stateMachineName}-${child}`,
      `DescribeExecution and StopExecution of the ${child} state machine's executions, which a startExecution.sync:2 Task needs to wait for its child and to stop it when the parent stops (Step Functions developer guide, "IAM policies for Step Functions").`,
    );
  const stateMachineServiceOnStar = star(
    `Step Functions logging to CloudWatch Logs uses the vended-logs API (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups), which AWS authorizes only on "*". ${XRAY_ON_STAR}`,
  );

  /** By role: what its default policy (`role`) and its other policies may keep. */
  const byRole: Record<string, Partial<Record<string, NagAcknowledgment[]>>> = {
    Preflight: {
      readOnlyOnStar: star(`${DESCRIBE_ONLY_ON_STAR} ${ALARMS_ON_STAR} ${XRAY_ON_STAR}`),
      role: [
        {
          finding: iam5(`Resource::${text(`arn:${partition}:iam::${account}:instance-profile/*`)}`),
          reason:
            "iam:GetInstanceProfile (read-only) of the profiles the launch templates name, whose role preflight checks against instanceRoleArns: a template's profile is read at run time and can change after deploy. This account only.",
        },
        staleLockHolder,
      ],
    },
    PlanBatch: { readOnlyOnStar: readOnly },
    CheckGate: { readOnlyOnStar: star(`${ALARMS_ON_STAR} ${XRAY_ON_STAR}`) },
    FinishBatch: {
      readOnlyOnStar: readOnly,
      launchOnStar: star(LAUNCH_ON_STAR),
      role: groups,
      groupsByTag,
    },
    ShareAmi: {
      readOnlyOnStar: readOnly,
      imagesAtRunTime: [
        {
          finding: iam5(`Resource::${text(`arn:${partition}:ec2:${region}::image/*`)}`),
          reason:
            'The image to share and protect arrives with each execution (Image Builder makes a new AMI id per build), so it cannot be named at deploy time. Image ARNs carry no account; ModifyImageAttribute and EnableImageDeregistrationProtection succeed only on images this account owns. ModifyImageAttribute has no condition key for the accounts added (docs/iam.md).',
        },
        ...(config.shareWithAccountIds.length > 0
          ? [
              {
                finding: iam5(`Resource::${text(`arn:${partition}:ec2:${region}::snapshot/*`)}`),
                reason:
                  "The snapshots shared are the new AMI's, found from the image at run time. ModifySnapshotAttribute succeeds only on snapshots this account owns, and the policy allows it only to add the configured accounts (ec2:Add/userId), never a group (ec2:Add/group absent).",
              },
            ]
          : []),
      ],
    },
    UpdateLaunchTemplates: {
      readOnlyOnStar: readOnly,
      launchOnStar: star(LAUNCH_ON_STAR),
      role: groups,
      groupsByTag,
    },
    RollbackAmi: { readOnlyOnStar: readOnly },
    TriggerInstanceRefresh: {
      readOnlyOnStar: readOnly,
      launchOnStar: star(LAUNCH_ON_STAR),
      role: groups,
      groupsByTag,
    },
    TriggerRollbackRefresh: {
      readOnlyOnStar: readOnly,
      launchOnStar: star(LAUNCH_ON_STAR),
      role: groups,
      groupsByTag,
    },
    CheckRefreshStatus: {
      readOnlyOnStar: star(`${DESCRIBE_ONLY_ON_STAR} ${ALARMS_ON_STAR} ${XRAY_ON_STAR}`),
      role: groups,
      groupsByTag,
    },
    CheckRollbackRefresh: { readOnlyOnStar: readOnly, role: groups, groupsByTag },
    Notify: { readOnlyOnStar: star(XRAY_ON_STAR) },
    StartRollout: {
      readOnlyOnStar: star(XRAY_ON_STAR),
      role: [
        {
          finding: iam5(`Resource::${text(executionArnPattern(stack, pipeline.stateMachineName))}`),
          reason:
            "DescribeExecution of this state machine's executions only: execution names are derived from each new AMI id (rollout-ami-...), unknown at deploy time.",
        },
        {
          finding: iam5(`Resource::${text(imageBuilderImagePattern(stack))}`),
          reason:
            'GetImage of the Image Builder image named in the AVAILABLE event: its recipe name and version arrive with the event. Read-only, this account and region.',
        },
      ],
    },
    StateMachine: { serviceOnStar: stateMachineServiceOnStar, role: [runsChild('batch')] },
    BatchStateMachine: { serviceOnStar: stateMachineServiceOnStar, role: [runsChild('group')] },
    GroupStateMachine: { serviceOnStar: stateMachineServiceOnStar },
  };

  const entries: { construct: IConstruct; path: string; acknowledgments: NagAcknowledgment[] }[] = [];
  const add = (construct: IConstruct | undefined, acknowledgments: NagAcknowledgment[] | undefined) => {
    if (!construct || !acknowledgments || acknowledgments.length === 0) return;
    entries.push({ construct, path: construct.node.path, acknowledgments });
  };
  const owners = [
    ...stepFunctionNames,
    'StartRollout',
    'StateMachine',
    'BatchStateMachine',
    'GroupStateMachine',
  ];
  for (const owner of owners) {
    const rolePolicies = pipeline.rolePolicies[owner];
    if (!rolePolicies) continue;
    const wanted = byRole[owner] ?? {};
    add(rolePolicies.role.node.tryFindChild('DefaultPolicy'), wanted['role']);
    for (const [kind, policy] of Object.entries(rolePolicies.policies)) add(policy, wanted[kind]);
  }
  add(pipeline.triggerDeadLetterQueue, [
    {
      finding: 'AwsSolutions-SQS3',
      reason:
        "This queue is the dead-letter queue of the Image Builder rule's target (an EventBridge target's DeadLetterConfig, which cdk-nag does not see); a dead-letter queue needs none of its own.",
    },
  ]);
  return entries;
}

/** Records every acknowledgment on its construct (`Validations.of(construct).acknowledge`). */
export function acknowledgeNagFindings(pipeline: AmiRolloutPipeline, config: RolloutConfig): void {
  for (const { construct, acknowledgments } of nagAcknowledgments(pipeline, config)) {
    for (const { finding, reason } of acknowledgments) {
      Validations.of(construct).acknowledge({ id: `AwsSolutions::${finding}`, reason });
    }
  }
}
