import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { RolloutConfig } from '../config/schema.ts';
import { inProcessClientConfig, type LocalAccount } from '../local-account/index.ts';
import type { LogSink } from '../log.ts';
import {
  buildDefinition,
  renderDefinition,
  stepFunctionNames,
  type StepFunctionName,
} from '../statemachine/definition.ts';
import { steps, type StepHandler } from '../steps/index.ts';

export interface LocalPipeline {
  readonly stateMachineArn: string;
  readonly functionArns: Readonly<Record<StepFunctionName, string>>;
  /** The definition exactly as the local account runs it (function ARNs substituted). */
  readonly definition: string;
  /** The topic the steps publish to. */
  readonly topicArn: string;
}

export interface DeployLocalOptions {
  /** Name of the state machine. Default ami-rollout. */
  readonly name?: string;
  /** Where the steps' structured logs go. Default: nowhere (a rehearsal prints its own progress). */
  readonly logSink?: LogSink;
  /** Wraps a step's handler (tests use it to make a step fail the way a Lambda can). Default: none. */
  readonly wrapStep?: (step: StepFunctionName, handler: StepHandler) => StepHandler;
}

/**
 * Puts the pipeline on a local account as the CDK app puts it on AWS: one function per step (bound to the real
 * handler code, whose SDK clients talk to the same account, in its virtual time) and the state machine from the
 * same definition, created through the Step Functions API.
 */
export async function deployToLocalAccount(
  account: LocalAccount,
  config: RolloutConfig,
  options: DeployLocalOptions = {},
): Promise<LocalPipeline> {
  const name = options.name ?? 'ami-rollout';
  // The steps' clients are this function's own (nobody changes their middleware): resolved once per command.
  const clientConfig = { ...inProcessClientConfig(account, { cacheMiddleware: true }), maxAttempts: 6 };
  const sns = new SNSClient(clientConfig);
  // As the CDK app does: the steps publish to the pipeline's topic. The configured topic is created when the
  // fleet lacks it (CreateTopic is idempotent); a config with only emails gets one named after the pipeline.
  const topicName = config.notificationTopicArn?.split(':').at(-1) ?? `${name}-notifications`;
  const { TopicArn: topicArn } = await sns.send(
    new CreateTopicCommand({
      Name: topicName,
      ...(topicName.endsWith('.fifo') ? { Attributes: { FifoTopic: 'true' } } : {}),
    }),
  );
  if (!topicArn) throw new Error('CreateTopic returned no ARN');
  const deps = {
    config: { ...config, notificationTopicArn: topicArn },
    ec2: new EC2Client(clientConfig),
    autoscaling: new AutoScalingClient(clientConfig),
    ssm: new SSMClient(clientConfig),
    sns,
    sfn: new SFNClient(clientConfig),
    iam: new IAMClient(clientConfig),
    cloudwatch: new CloudWatchClient(clientConfig),
    now: () => account.now(),
    logSink: options.logSink ?? (() => undefined),
  };
  const functionArns = {} as Record<StepFunctionName, string>;
  for (const step of stepFunctionNames) {
    const arn = `arn:aws:lambda:${account.region}:${account.accountId}:function:${name}-${step}`;
    functionArns[step] = arn;
    const handler = steps[step].create(deps);
    account.lambdas.bind(arn, options.wrapStep ? options.wrapStep(step, handler) : handler);
  }
  const definition = renderDefinition(
    buildDefinition({ pollIntervalSeconds: config.pollIntervalSeconds }),
    functionArns,
  );
  const sfn = new SFNClient(inProcessClientConfig(account));
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name,
      definition,
      roleArn: `arn:aws:iam::${account.accountId}:role/${name}-state-machine`,
    }),
  );
  if (!stateMachineArn) throw new Error('CreateStateMachine returned no ARN');
  return { stateMachineArn, functionArns, definition, topicArn };
}
