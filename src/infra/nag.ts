import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { RolloutConfig } from '../config/schema.ts';
import { stepFunctionNames, type StepFunctionName } from '../statemachine/definition.ts';
import { executionArnPattern } from './permissions.ts';
import type { AmiRolloutPipeline } from './pipeline.ts';

/**
 * The cdk-nag AwsSolutions findings the pipeline keeps on purpose, each with the reason. Everything else
 * AwsSolutions checks passes (a test synthesizes with AwsSolutionsChecks and fails on any finding left).
 * Every finding here is an IAM5 "wildcard" one: an action AWS authorizes only on `*`, or an ARN whose last
 * part is not known when the stack is deployed.
 */

export interface NagAcknowledgment {
  /** The finding as cdk-nag names it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly finding: string;
  readonly reason: string;
}

const DESCRIBE_ONLY_ON_STAR =
  'EC2 and Auto Scaling Describe* actions (DescribeImages, DescribeLaunchTemplateVersions, DescribeAutoScalingGroups, DescribeInstanceRefreshes) support no resource-level permissions: AWS authorizes them only on "*". They are read-only.';
const XRAY_ON_STAR =
  'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.';
const LAUNCH_ON_STAR =
  'Auto Scaling checks that whoever points a group at a launch template may launch from it. ec2:RunInstances is on "*" (it touches instances, volumes, ENIs, subnets, security groups and images whose ids are in the template) but limited by the ec2:LaunchTemplate condition to the configured templates; ec2:CreateTags is limited by ec2:CreateAction=RunInstances to tagging at launch.';

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

/** The acknowledgments, by construct: returned for the README and the tests, and applied with `Validations`. */
export function nagAcknowledgments(
  pipeline: AmiRolloutPipeline,
  config: RolloutConfig,
): { construct: IConstruct; path: string; acknowledgments: NagAcknowledgment[] }[] {
  const stack = Stack.of(pipeline);
  const { partition, region, account } = stack;
  const text = (arn: string) => nagText(stack, arn);
  const groupArns = config.autoScalingGroupNames.map((name) =>
    text(`arn:${partition}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${name}`),
  );
  const groupReason =
    'An Auto Scaling group ARN holds a UUID AWS assigns at creation (autoScalingGroup:UUID:autoScalingGroupName/NAME); the wildcard is only that UUID, the group name is fixed.';
  const describe = { finding: iam5('Resource::*'), reason: `${DESCRIBE_ONLY_ON_STAR} ${XRAY_ON_STAR}` };

  const perStep: Record<StepFunctionName, NagAcknowledgment[]> = {
    Preflight: [describe],
    ShareAmi: [
      describe,
      {
        finding: iam5(`Resource::${text(`arn:${partition}:ec2:${region}::image/*`)}`),
        reason:
          'The image to share and protect arrives with each execution (Image Builder makes a new AMI id per build), so it cannot be named at deploy time. Image ARNs carry no account; ModifyImageAttribute and EnableImageDeregistrationProtection succeed only on images this account owns.',
      },
      {
        finding: iam5(`Resource::${text(`arn:${partition}:ec2:${region}::snapshot/*`)}`),
        reason:
          "The snapshots shared are the new AMI's, found from the image at run time. ModifySnapshotAttribute succeeds only on snapshots this account owns.",
      },
    ],
    UpdateLaunchTemplates: [describe],
    RollbackAmi: [describe],
    TriggerInstanceRefresh: [
      { finding: iam5('Resource::*'), reason: `${DESCRIBE_ONLY_ON_STAR} ${LAUNCH_ON_STAR} ${XRAY_ON_STAR}` },
      ...groupArns.map((arn) => ({ finding: iam5(`Resource::${arn}`), reason: groupReason })),
    ],
    TriggerRollbackRefresh: [
      { finding: iam5('Resource::*'), reason: `${DESCRIBE_ONLY_ON_STAR} ${LAUNCH_ON_STAR} ${XRAY_ON_STAR}` },
      ...groupArns.map((arn) => ({ finding: iam5(`Resource::${arn}`), reason: groupReason })),
    ],
    CheckRefreshStatus: [
      describe,
      ...groupArns.map((arn) => ({ finding: iam5(`Resource::${arn}`), reason: groupReason })),
    ],
    CheckRollbackRefresh: [
      describe,
      ...groupArns.map((arn) => ({ finding: iam5(`Resource::${arn}`), reason: groupReason })),
    ],
    Notify: [{ finding: iam5('Resource::*'), reason: XRAY_ON_STAR }],
  };

  const entries: { construct: IConstruct; path: string; acknowledgments: NagAcknowledgment[] }[] = [];
  const add = (construct: IConstruct | undefined, acknowledgments: NagAcknowledgment[]) => {
    if (!construct) return;
    entries.push({ construct, path: construct.node.path, acknowledgments });
  };
  for (const step of stepFunctionNames) add(pipeline.functions[step].role, perStep[step]);
  add(pipeline.stateMachine.role, [
    {
      finding: iam5('Resource::*'),
      reason:
        'Step Functions logging to CloudWatch Logs uses the vended-logs API (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups), which AWS authorizes only on "*". ' +
        XRAY_ON_STAR,
    },
  ]);
  add(pipeline.startFunction?.role, [
    { finding: iam5('Resource::*'), reason: XRAY_ON_STAR },
    {
      finding: iam5(`Resource::${text(executionArnPattern(stack, pipeline.stateMachineName))}`),
      reason:
        "DescribeExecution of this state machine's executions only: execution names are derived from each new AMI id (rollout-ami-...), unknown at deploy time.",
    },
    {
      finding: iam5(`Resource::${text(`arn:${partition}:imagebuilder:${region}:${account}:image/*`)}`),
      reason:
        'GetImage of the Image Builder image named in the AVAILABLE event: its recipe name and version arrive with the event. Read-only, this account and region.',
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
