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
import * as sqs from 'aws-cdk-lib/aws-sqs';
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
import {
  scopedArns,
  startRolloutPolicyStatements,
  stepPolicyStatements,
  tracingActions,
  type PolicyKind,
  type StepPolicies,
} from './permissions.ts';

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
   * @deprecated List the roles in the configuration's `instanceRoleArns`, which preflight checks too. Roles here
   * are added to those (and handed to preflight with them). Default none.
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
  /** What happens to the key, log groups and dead-letter queue when the stack is deleted. Default RETAIN. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A role and the policies its statements are split into (permissions.ts): `scoped` is the role's default
 * policy, each other kind its own policy, so cdk-nag acknowledgments name exactly the statements they cover.
 */
export interface RolePolicies {
  readonly role: iam.Role;
  readonly policies: Readonly<Partial<Record<PolicyKind | 'serviceOnStar', iam.Policy>>>;
}

/** A role's default policy (when it has statements) and its other policies. */
function policiesOf({ role, policies }: RolePolicies): Construct[] {
  const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
  return [...(defaultPolicy instanceof Construct ? [defaultPolicy] : []), ...Object.values(policies)];
}

/**
 * The ami-rollout pipeline on AWS: one Lambda function per state machine step, the state machine from the
 * same definition the local account runs, an encrypted SNS topic only the pipeline may publish to, and an
 * EventBridge trigger on Image Builder images with a dead-letter queue.
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
  /** Where the trigger keeps an event it could not deliver after its retries. */
  readonly triggerDeadLetterQueue?: sqs.Queue;
  /** Every role of the pipeline with its policies, by function id (`Preflight`, ..., `StartRollout`, `StateMachine`). */
  readonly rolePolicies: Readonly<Record<string, RolePolicies>>;
  /** The roles the functions may pass to EC2: the configuration's `instanceRoleArns` and the deprecated prop. */
  readonly instanceRoleArns: readonly string[];

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
    this.instanceRoleArns = [...new Set([...config.instanceRoleArns, ...(props.instanceRoleArns ?? [])])];
    const retention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_24_X;
    const trigger = props.imageBuilderTrigger ?? true;
    const functionName = (functionId: string) => `${stateMachineName}-${functionId}`;
    const functionLogGroupName = (functionId: string) => `/aws/lambda/${functionName(functionId)}`;
    const stateMachineLogGroupName = `/aws/vendedlogs/states/${stateMachineName}`;

    this.key = new kms.Key(this, 'Key', {
      description: 'ami-rollout: encrypts the notification topic and the pipeline logs',
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch Logs encrypts the pipeline's own log groups with the key, and no other log group: the
    // encryption context CloudWatch Logs sends names the log group (CloudWatch Logs user guide, "Encrypt log
    // data in CloudWatch Logs using AWS KMS": kms:EncryptionContext:aws:logs:arn).
    const logGroupArn = (name: string) =>
      `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${name}`;
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': [
              ...[...stepFunctionNames, ...(trigger ? ['StartRollout'] : [])].map((f) =>
                logGroupArn(functionLogGroupName(f)),
              ),
              logGroupArn(stateMachineLogGroupName),
            ],
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

    // The steps read the configuration from AMI_ROLLOUT_CONFIG; they publish to the topic created here, and
    // preflight checks templates against every role the functions may pass.
    const stepConfig = stack.toJsonString({
      ...config,
      instanceRoleArns: this.instanceRoleArns,
      notificationTopicArn: this.topic.topicArn,
    });
    const arns = scopedArns(stack, config, {
      topicArn: this.topic.topicArn,
      topicKeyArn: this.key.keyArn,
      instanceRoleArns: this.instanceRoleArns,
      stateMachineName,
    });
    const bundling = props.bundling ?? defaultBundling;
    const rolePolicies: Record<string, RolePolicies> = {};

    /**
     * A role with `scoped` in its default policy and every other non-empty kind in a policy of its own. The
     * function or state machine gets the role without policy updates, so what CDK would add on its own (X-Ray
     * on `*`) lands in the policy named for it, never in the default one.
     */
    const makeRole = (
      ownerId: string,
      service: string,
      description: string,
      statements: StepPolicies & { serviceOnStar?: iam.PolicyStatement[] },
    ): RolePolicies => {
      const role = new iam.Role(this, `${ownerId}Role`, {
        assumedBy: new iam.ServicePrincipal(service),
        description,
      });
      for (const statement of statements.scoped) role.addToPrincipalPolicy(statement);
      const policies: Partial<Record<PolicyKind | 'serviceOnStar', iam.Policy>> = {};
      for (const kind of ['readOnlyOnStar', 'launchOnStar', 'imagesAtRunTime', 'serviceOnStar'] as const) {
        const kindStatements = statements[kind] ?? [];
        if (kindStatements.length === 0) continue;
        policies[kind] = new iam.Policy(this, `${ownerId}${kind[0]!.toUpperCase()}${kind.slice(1)}Policy`, {
          roles: [role],
          statements: kindStatements,
        });
      }
      const entry = { role, policies };
      rolePolicies[ownerId] = entry;
      return entry;
    };

    const makeFunction = (
      functionId: string,
      entry: string,
      description: string,
      statements: StepPolicies,
      environment: Record<string, string>,
      extra: { reservedConcurrentExecutions?: number } = {},
    ): NodejsFunction => {
      const group = logGroup(functionLogGroupName(functionId), `${functionId}Logs`);
      const traced = new iam.PolicyStatement({ actions: [...tracingActions], resources: ['*'] });
      const { role, policies } = makeRole(
        functionId,
        'lambda.amazonaws.com',
        `ami-rollout ${functionId}: only the calls this step makes`,
        { ...statements, readOnlyOnStar: [...statements.readOnlyOnStar, traced] },
      );
      // Its own log group only (no AWSLambdaBasicExecutionRole, which allows every log group).
      group.grantWrite(role);
      const fn = new NodejsFunction(this, `${functionId}Function`, {
        functionName: functionName(functionId),
        description,
        code: functionCode(entry, bundling),
        handler: functionHandler,
        runtime,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 256,
        // A step makes a handful of calls the SDK retries itself; the state machine retries the rest.
        timeout: Duration.minutes(2),
        role: role.withoutPolicyUpdates(),
        logGroup: group,
        tracing: lambda.Tracing.ACTIVE,
        environment: { ...functionEnvironment(bundling), ...environment },
        ...extra,
      });
      // The role's policies are not the function's own any more: created before it, as CDK orders its own.
      fn.node.addDependency(...policiesOf({ role, policies }));
      return fn;
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
    const notifyRole = rolePolicies['Notify']?.role;
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

    this.stateMachineLogGroup = logGroup(stateMachineLogGroupName, 'StateMachineLogs');
    const machine = makeRole(
      'StateMachine',
      'states.amazonaws.com',
      'ami-rollout state machine: invokes the step functions, logs and traces',
      {
        scoped: [
          // The definition invokes the unqualified function ARNs: no `:*` for versions and aliases (grantInvoke's).
          new iam.PolicyStatement({
            actions: ['lambda:InvokeFunction'],
            resources: stepFunctionNames.map((step) => functions[step].functionArn),
          }),
        ],
        readOnlyOnStar: [],
        launchOnStar: [],
        imagesAtRunTime: [],
        // What CDK grants a state machine that logs to CloudWatch Logs and traces with X-Ray.
        serviceOnStar: [
          new iam.PolicyStatement({
            actions: [
              'logs:CreateLogDelivery',
              'logs:GetLogDelivery',
              'logs:UpdateLogDelivery',
              'logs:DeleteLogDelivery',
              'logs:ListLogDeliveries',
              'logs:PutResourcePolicy',
              'logs:DescribeResourcePolicies',
              'logs:DescribeLogGroups',
            ],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            actions: [...tracingActions, 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
            resources: ['*'],
          }),
        ],
      },
    );
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      role: machine.role.withoutPolicyUpdates(),
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
    // Step Functions checks at creation that the role may deliver logs.
    this.stateMachine.node.addDependency(...policiesOf(machine));

    if (trigger) {
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
      // An event the start function keeps failing on (or that outlives its retries) is kept here, not dropped.
      this.triggerDeadLetterQueue = new sqs.Queue(this, 'TriggerDeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
      });
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
            deadLetterQueue: this.triggerDeadLetterQueue,
          }),
        ],
      });
    }
    this.rolePolicies = rolePolicies;
    acknowledgeNagFindings(this, config);
  }
}
