import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { RolloutConfig } from '../config/schema.ts';
import { previousParameterName } from '../core/parameter-plan.ts';
import type { StepFunctionName } from '../statemachine/definition.ts';

/**
 * Least privilege, one function at a time: each step gets the actions its adapters call (src/adapters/*.ts)
 * and nothing else; every mutation is scoped to the configured launch templates, groups, parameters, the
 * pipeline's topic, or (for AMIs and snapshots, whose ids are only known at run time) to images and snapshots
 * in the stack's region. The README's IAM table is this file in prose.
 */

/** The ARNs the step policies are scoped to, resolved in the stack's account, region and partition. */
export interface ScopedArns {
  readonly launchTemplates: readonly string[];
  readonly groups: readonly string[];
  /** `{param}` and `{param}-previous`. */
  readonly parameters: readonly string[];
  /** Every AMI in the region: the rollout's image id arrives with the execution, not at deploy time. */
  readonly images: string;
  /** Every EBS snapshot in the region: an AMI's snapshots are found from the image at run time. */
  readonly snapshots: string;
  readonly topic: string;
  readonly topicKey: string;
  /** Roles the launch templates' instance profiles pass to EC2 (Auto Scaling checks iam:PassRole). */
  readonly instanceRoles: readonly string[];
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
  },
): ScopedArns {
  const { partition, region, account } = stack;
  const parameterArn = (name: string) =>
    `arn:${partition}:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  return {
    launchTemplates: config.launchTemplateIds.map(
      (id) => `arn:${partition}:ec2:${region}:${account}:launch-template/${id}`,
    ),
    groups: config.autoScalingGroupNames.map(
      (name) =>
        `arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${name}`,
    ),
    parameters: [config.amiParameterName, previousParameterName(config.amiParameterName)].map(parameterArn),
    images: `arn:${partition}:ec2:${region}::image/*`,
    snapshots: `arn:${partition}:ec2:${region}::snapshot/*`,
    topic: resources.topicArn,
    topicKey: resources.topicKeyArn,
    instanceRoles: resources.instanceRoleArns,
    stateMachine: `arn:${partition}:states:${region}:${account}:stateMachine:${resources.stateMachineName}`,
  };
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
] as const;

const allow = (actions: string[], resources: readonly string[], conditions?: Record<string, unknown>) =>
  new iam.PolicyStatement({
    effect: iam.Effect.ALLOW,
    actions,
    resources: [...resources],
    ...(conditions ? { conditions } : {}),
  });

/**
 * Pointing a group at a launch template (UpdateAutoScalingGroup, and StartInstanceRefresh's
 * DesiredConfiguration, which sets the group's template when it succeeds) makes Auto Scaling check that the
 * caller may launch from it: ec2:RunInstances (and ec2:CreateTags for templates with tag specifications,
 * iam:PassRole for templates with an instance profile). RunInstances is limited to our templates through the
 * `ec2:LaunchTemplate` condition, CreateTags to tagging at launch.
 */
function launchFromTemplates(arns: ScopedArns): iam.PolicyStatement[] {
  const statements = [
    allow(['ec2:RunInstances'], ['*'], { ArnLike: { 'ec2:LaunchTemplate': [...arns.launchTemplates] } }),
    allow(['ec2:CreateTags'], ['*'], { StringEquals: { 'ec2:CreateAction': 'RunInstances' } }),
  ];
  if (arns.instanceRoles.length > 0) {
    statements.push(
      allow(['iam:PassRole'], arns.instanceRoles, {
        StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
      }),
    );
  }
  return statements;
}

/** The policy statements of each step function. */
export function stepPolicyStatements(step: StepFunctionName, arns: ScopedArns): iam.PolicyStatement[] {
  switch (step) {
    case 'Preflight':
      return [
        allow(
          [
            'ec2:DescribeImages',
            'ec2:DescribeLaunchTemplateVersions',
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeInstanceRefreshes',
          ],
          ['*'],
        ),
        allow(['ssm:GetParameter'], arns.parameters),
        // One rollout at a time: preflight refuses while another execution of this state machine runs.
        allow(['states:ListExecutions'], [arns.stateMachine]),
      ];
    case 'ShareAmi':
      return [
        allow(['ec2:DescribeImages'], ['*']),
        allow(['ec2:ModifyImageAttribute', 'ec2:EnableImageDeregistrationProtection'], [arns.images]),
        allow(['ec2:ModifySnapshotAttribute'], [arns.snapshots]),
        allow(['ssm:GetParameter', 'ssm:PutParameter'], arns.parameters),
      ];
    case 'UpdateLaunchTemplates':
    case 'RollbackAmi':
      return [
        allow(['ec2:DescribeLaunchTemplateVersions'], ['*']),
        allow(['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate'], arns.launchTemplates),
        ...(step === 'RollbackAmi' ? [allow(['ssm:GetParameter', 'ssm:PutParameter'], arns.parameters)] : []),
      ];
    case 'TriggerInstanceRefresh':
      return [
        allow(
          [
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeInstanceRefreshes',
            'ec2:DescribeLaunchTemplateVersions',
          ],
          ['*'],
        ),
        allow(['autoscaling:StartInstanceRefresh', 'autoscaling:UpdateAutoScalingGroup'], arns.groups),
        ...launchFromTemplates(arns),
      ];
    case 'TriggerRollbackRefresh':
      return [
        allow(
          [
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeInstanceRefreshes',
            'ec2:DescribeLaunchTemplateVersions',
          ],
          ['*'],
        ),
        // UpdateAutoScalingGroup gives each group its own launch template version setting back at the end.
        allow(
          [
            'autoscaling:StartInstanceRefresh',
            'autoscaling:CancelInstanceRefresh',
            'autoscaling:UpdateAutoScalingGroup',
          ],
          arns.groups,
        ),
        ...launchFromTemplates(arns),
      ];
    case 'CheckRefreshStatus':
      return [
        allow(['autoscaling:DescribeInstanceRefreshes'], ['*']),
        // A refresh past refreshTimeoutMinutes is cancelled by the check that finds it.
        allow(['autoscaling:CancelInstanceRefresh'], arns.groups),
      ];
    case 'CheckRollbackRefresh':
      return [
        allow(['autoscaling:DescribeInstanceRefreshes'], ['*']),
        // A rollback refresh past refreshTimeoutMinutes is cancelled by the check that finds it, like a forward one.
        allow(['autoscaling:CancelInstanceRefresh'], arns.groups),
      ];
    case 'Notify':
      return [
        allow(['sns:Publish'], [arns.topic]),
        // Publishing to a KMS-encrypted topic needs the data key SNS encrypts the message with.
        allow(['kms:GenerateDataKey', 'kms:Decrypt'], [arns.topicKey]),
      ];
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

/** The start function: look at and start executions of this one state machine, and read Image Builder images. */
export function startRolloutPolicyStatements(
  stack: Stack,
  stateMachine: { stateMachineArn: string; stateMachineName: string },
): iam.PolicyStatement[] {
  const executions = executionArnPattern(stack, stateMachine.stateMachineName);
  const images = Arn.format({ service: 'imagebuilder', resource: 'image', resourceName: '*' }, stack);
  return [
    allow(['states:ListExecutions', 'states:StartExecution'], [stateMachine.stateMachineArn]),
    allow(['states:DescribeExecution'], [executions]),
    allow(['imagebuilder:GetImage'], [images]),
  ];
}
