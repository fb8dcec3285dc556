import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { RolloutConfig } from '../config/schema.ts';
import { inProcessClientConfig, type LocalAccount } from '../local-account/index.ts';
import type { LogSink } from '../log.ts';
import {
  buildDefinitions,
  renderDefinition,
  stepFunctionNames,
  type StepFunctionName,
} from '../statemachine/definition.ts';
import { steps, type StepHandler } from '../steps/index.ts';

export interface LocalPipeline {
  /** The rollout's state machine (the parent); its children are `batchStateMachineArn` and `groupStateMachineArn`. */
  readonly stateMachineArn: string;
  readonly batchStateMachineArn: string;
  readonly groupStateMachineArn: string;
  /** The rollout ledger's DynamoDB table. */
  readonly ledgerTable: string;
  readonly functionArns: Readonly<Record<StepFunctionName, string>>;
  /** The rollout definition exactly as the local account runs it (function and child machine ARNs substituted). */
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
  const ledgerTable = `${name}-ledger`;
  const dynamodb = new DynamoDBClient(clientConfig);
  await createLedgerTable(dynamodb, ledgerTable);
  const deps = {
    config: { ...config, notificationTopicArn: topicArn },
    ledgerTable,
    dynamodb,
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
  const definitions = buildDefinitions({ pollIntervalSeconds: config.pollIntervalSeconds });
  const sfn = new SFNClient(inProcessClientConfig(account));
  const roleArn = `arn:aws:iam::${account.accountId}:role/${name}-state-machine`;
  const create = async (machineName: string, definition: string): Promise<string> => {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: machineName, definition, roleArn }),
    );
    if (!stateMachineArn) throw new Error('CreateStateMachine returned no ARN');
    return stateMachineArn;
  };
  // Children first: each definition names the machine it starts.
  const groupStateMachineArn = await create(
    `${name}-group`,
    renderDefinition(definitions.group, functionArns),
  );
  const batchStateMachineArn = await create(
    `${name}-batch`,
    renderDefinition(definitions.batch, functionArns, { group: groupStateMachineArn }),
  );
  const definition = renderDefinition(definitions.rollout, functionArns, { batch: batchStateMachineArn });
  const stateMachineArn = await create(name, definition);
  return {
    stateMachineArn,
    batchStateMachineArn,
    groupStateMachineArn,
    ledgerTable,
    functionArns,
    definition,
    topicArn,
  };
}

/**
 * Creates the ledger table as the CDK app does (on demand, keyed by pk and sk) and waits until it is ACTIVE, as
 * the stack's deployment waits for it.
 */
export async function createLedgerTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  for (let i = 0; ; i++) {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (i >= 200) throw new Error(`the ledger table ${tableName} did not become ACTIVE`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
