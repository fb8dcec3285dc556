import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CONFIG_ENV } from '../config/load.ts';
import type { RolloutConfig } from '../config/schema.ts';
import {
  arnPlaceholder,
  buildDefinition,
  stepFunctionNames,
  type StepFunctionName,
} from '../statemachine/definition.ts';
import { steps } from '../steps/index.ts';
import { START_ROLLOUT_ENV } from '../steps/start-rollout.ts';
import { functionEnvironment, functionHandler, type FunctionBundling } from './bundle.ts';
import { acknowledgeNagFindings } from './nag.ts';
import { scopedArns, startRolloutPolicyStatements, stepPolicyStatements } from './permissions.ts';

/** The repository root: step entries (`steps[name].entry`) are relative to it. */
export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How every function is bundled (`bundleFunction` in bundle.ts): by the locally installed esbuild, never Docker,
 * to minified ESM for Node.js 24 with a source map, each step holding only the AWS SDK clients it calls.
 */
export const defaultBundling: FunctionBundling = { minify: true, sourceMap: true, target: 'node24' };

const bundleModuleUrl = new URL('./bundle.ts', import.meta.url).href;

/**
 * A function's code: `entry` (relative to the project root) bundled by `bundleFunction`. CDK stages assets
 * synchronously and esbuild's plugins run only in its asynchronous API, so the bundling runs in a child
 * process, as CDK's own NodejsFunction bundling runs the esbuild binary.
 */
export function functionCode(entry: string, bundling: FunctionBundling = defaultBundling): lambda.Code {
  const entryPath = `${projectRoot}${entry}`;
  const script =
    'const [module, args] = process.argv.slice(1); ' +
    'const { bundleFunction } = await import(module); await bundleFunction(...JSON.parse(args));';
  return lambda.Code.fromAsset(projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: local bundling bundles or throws, it never falls back to Docker.
      image: DockerImage.fromRegistry('ami-rollout-bundles-locally'),
      // With `bundling` itself, the asset's cache key: one bundle per entry and options.
      command: [entry, JSON.stringify(bundling)],
      local: {
        tryBundle(outputDir: string): boolean {
          const result = spawnSync(
            process.execPath,
            [
              '--import',
              'tsx',
              '--input-type=module',
              '-e',
              script,
              bundleModuleUrl,
              JSON.stringify([entryPath, outputDir, bundling]),
            ],
            { cwd: projectRoot, stdio: ['ignore', process.stderr, 'inherit'] },
          );
          if (result.status !== 0) {
            throw new Error(
              `bundling ${entry} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`,
            );
          }
          return true;
        },
      },
    },
  });
}

export interface AmiRolloutPipelineProps {
  /** The validated rollout configuration (`loadConfig`); the same file the rehearsal uses. */
  readonly config: RolloutConfig;
  /** Name of the state machine, which the CLI looks for. Default `ami-rollout`. */
  readonly stateMachineName?: string;
  /** How long the functions' and the state machine's logs are kept. Default three months. */
  readonly logRetention?: logs.RetentionDays;
  /** The functions' runtime. Default Node.js 24 (`nodejs24.x`). */
  readonly runtime?: lambda.Runtime;
  /**
   * Roles the launch templates' instance profiles carry: Auto Scaling checks that whoever points a group at a
   * template may pass them (iam:PassRole). Default none (templates without an instance profile).
   */
  readonly instanceRoleArns?: readonly string[];
  /** Start a rollout when Image Builder reports an image AVAILABLE. Default true. */
  readonly imageBuilderTrigger?: boolean;
  /**
   * Only images built by this Image Builder pipeline start a rollout. Default: any image. (The state change
   * event names only the image, so the start function checks the image's pipeline with GetImage.)
   */
  readonly imagePipelineArn?: string;
  /**
   * Reserve a concurrency of 1 for the start function, so two images arriving together are decided one after
   * the other. Default true. Accounts whose Lambda concurrency quota is the new-account 10 cannot reserve any.
   */
  readonly serializeStarts?: boolean;
  /**
   * How the functions are bundled (always by the locally installed esbuild, never Docker). Default
   * `defaultBundling`: minified ESM for Node.js 24 with source maps, the AWS SDK bundled (not the runtime's copy).
   */
  readonly bundling?: FunctionBundling;
  /** What happens to the key and log groups when the stack is deleted. Default RETAIN. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The ami-rollout pipeline on AWS: one Lambda function per state machine step, the state machine from the
 * same definition the local account runs, an encrypted SNS topic only the pipeline may publish to, and an
 * EventBridge trigger on Image Builder images.
 */
export class AmiRolloutPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;
  readonly functions: Readonly<Record<StepFunctionName, NodejsFunction>>;
  /** Invoked by the Image Builder rule; undefined when `imageBuilderTrigger` is false. */
  readonly startFunction?: NodejsFunction;
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  readonly stateMachineLogGroup: logs.LogGroup;
  readonly imageBuilderRule?: events.Rule;

  constructor(scope: Construct, id: string, props: AmiRolloutPipelineProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const stateMachineName = props.stateMachineName ?? 'ami-rollout';
    this.stateMachineName = stateMachineName;
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(stateMachineName)) {
      throw new Error(
        `AmiRolloutPipeline: stateMachineName "${stateMachineName}" must be 1-80 letters, digits, - or _ (e.g. ami-rollout)`,
      );
    }
    for (const arn of props.instanceRoleArns ?? []) {
      if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(arn)) {
        throw new Error(
          `AmiRolloutPipeline: instanceRoleArns "${arn}" must be an IAM role ARN such as arn:aws:iam::111122223333:role/web-instance`,
        );
      }
    }
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_24_X;

    this.key = new kms.Key(this, 'Key', {
      description: 'ami-rollout: encrypts the notification topic and the pipeline logs',
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch Logs encrypts the pipeline's log groups with the key; only log groups of this account.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'ami-rollout',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of config.notificationEmails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    const logGroup = (name: string, logGroupId: string) =>
      new logs.LogGroup(this, logGroupId, {
        logGroupName: name,
        retention,
        encryptionKey: this.key,
        removalPolicy,
      });

    // The steps read the configuration from AMI_ROLLOUT_CONFIG; they publish to the topic created here.
    const stepConfig = stack.toJsonString({ ...config, notificationTopicArn: this.topic.topicArn });
    const arns = scopedArns(stack, config, {
      topicArn: this.topic.topicArn,
      topicKeyArn: this.key.keyArn,
      instanceRoleArns: props.instanceRoleArns ?? [],
      stateMachineName,
    });
    const bundling = props.bundling ?? defaultBundling;

    const makeFunction = (
      functionId: string,
      entry: string,
      description: string,
      statements: iam.PolicyStatement[],
      environment: Record<string, string>,
      extra: { reservedConcurrentExecutions?: number } = {},
    ): NodejsFunction => {
      const functionName = `${stateMachineName}-${functionId}`;
      const group = logGroup(`/aws/lambda/${functionName}`, `${functionId}Logs`);
      const role = new iam.Role(this, `${functionId}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `ami-rollout ${functionId}: only the calls this step makes`,
      });
      for (const statement of statements) role.addToPrincipalPolicy(statement);
      // Its own log group only (no AWSLambdaBasicExecutionRole, which allows every log group).
      group.grantWrite(role);
      return new NodejsFunction(this, `${functionId}Function`, {
        functionName,
        description,
        code: functionCode(entry, bundling),
        handler: functionHandler,
        runtime,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        // A step makes a handful of calls the SDK retries itself; the state machine retries the rest.
        timeout: Duration.minutes(2),
        role,
        logGroup: group,
        tracing: lambda.Tracing.ACTIVE,
        environment: { ...functionEnvironment(bundling), ...environment },
        ...extra,
      });
    };

    const functions = {} as Record<StepFunctionName, NodejsFunction>;
    for (const step of stepFunctionNames) {
      functions[step] = makeFunction(
        step,
        steps[step].entry,
        `ami-rollout step ${step}`,
        stepPolicyStatements(step, arns),
        { [CONFIG_ENV]: stepConfig },
      );
    }
    this.functions = functions;

    // The Notify role alone may publish: a topic policy Deny for every other principal, this account's included.
    const notifyRole = functions.Notify.role;
    if (!notifyRole) throw new Error('AmiRolloutPipeline: the Notify function has no role');
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheAmiRolloutPipelinePublishes',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': notifyRole.roleArn } },
      }),
    );

    this.stateMachineLogGroup = logGroup(`/aws/vendedlogs/states/${stateMachineName}`, 'StateMachineLogs');
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(
        JSON.stringify(buildDefinition({ pollIntervalSeconds: config.pollIntervalSeconds }), null, 2),
      ),
      definitionSubstitutions: Object.fromEntries(
        stepFunctionNames.map((step) => [arnPlaceholder(step), functions[step].functionArn]),
      ),
      logs: { destination: this.stateMachineLogGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
      comment: 'ami-rollout: roll a new AMI across Auto Scaling groups one at a time; roll back on failure',
    });
    // The definition invokes the unqualified function ARNs: no `:*` for versions and aliases (grantInvoke's).
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: stepFunctionNames.map((step) => functions[step].functionArn),
      }),
    );

    if (props.imageBuilderTrigger ?? true) {
      const startFunction = makeFunction(
        'StartRollout',
        'src/steps/start-rollout.ts',
        'ami-rollout: starts a rollout when Image Builder reports an image AVAILABLE',
        startRolloutPolicyStatements(stack, {
          stateMachineArn: this.stateMachine.stateMachineArn,
          stateMachineName,
        }),
        {
          [START_ROLLOUT_ENV.stateMachineArn]: this.stateMachine.stateMachineArn,
          [START_ROLLOUT_ENV.accountId]: stack.account,
          ...(props.imagePipelineArn ? { [START_ROLLOUT_ENV.imagePipelineArn]: props.imagePipelineArn } : {}),
        },
        (props.serializeStarts ?? true) ? { reservedConcurrentExecutions: 1 } : {},
      );
      this.startFunction = startFunction;
      this.imageBuilderRule = new events.Rule(this, 'ImageAvailableRule', {
        description: 'ami-rollout: an EC2 Image Builder image became AVAILABLE -> start its rollout',
        eventPattern: {
          source: ['aws.imagebuilder'],
          detailType: ['EC2 Image Builder Image State Change'],
          detail: { state: { status: ['AVAILABLE'] } },
        },
        targets: [
          new targets.LambdaFunction(startFunction, {
            retryAttempts: 4,
            maxEventAge: Duration.hours(2),
          }),
        ],
      });
    }
    acknowledgeNagFindings(this, config);
  }
}
