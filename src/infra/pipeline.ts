import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
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
import { START_ROLLOUT_ENV } from '../steps/start-rollout.ts';
import { functionEnvironment, functionHandler, type FunctionBundling } from './bundle.ts';
import {
  arnPlaceholder,
  buildDefinitions,
  childMachinePlaceholders,
  stepFunctionNames,
  type StepFunctionName,
} from '../statemachine/definition.ts';
import { LEDGER_TABLE_ENV } from '../steps/dependencies.ts';
import { steps } from '../steps/index.ts';
import { acknowledgeNagFindings } from './nag.ts';
import {
  ledgerActions,
  runChildStatements,
  scopedArns,
  separatePolicyKinds,
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
  /**
   * Name of the rollout state machine, which the CLI looks for; its children are `<name>-batch` and
   * `<name>-group`, its ledger table `<name>-ledger`, its functions `<name>-<Step>`. Default `ami-rollout`.
   */
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
  /**
   * What happens to the key, log groups, dead-letter queue and ledger table when the stack is deleted. Default
   * RETAIN. The ledger table keeps CloudFormation's deletion protection on unless this is DESTROY (DynamoDB
   * has no SNAPSHOT: the table is retained then).
   */
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

/** The three state machines by their definition (`buildDefinitions`), and the suffix each name takes. */
const machines = [
  { definition: 'group', id: 'GroupStateMachine', suffix: '-group' },
  { definition: 'batch', id: 'BatchStateMachine', suffix: '-batch' },
  { definition: 'rollout', id: 'StateMachine', suffix: '' },
] as const;

/** The longest function id, which bounds the state machine name (a function is `<name>-<id>`, at most 64). */
const longestFunctionId = Math.max(...[...stepFunctionNames, 'StartRollout'].map((id) => id.length));

/**
 * The Lambda steps and child state machines a definition refers to, by its `${...}` placeholders: what its role
 * may invoke and start, nothing else.
 */
export function definitionReferences(definition: Record<string, unknown>): {
  steps: StepFunctionName[];
  children: ('batch' | 'group')[];
} {
  const text = JSON.stringify(definition);
  const found = new Set([...text.matchAll(/\$\{([A-Za-z]+)\}/g)].map((m) => m[1]!));
  const steps = stepFunctionNames.filter((step) => found.delete(arnPlaceholder(step)));
  const children = (['batch', 'group'] as const).filter((c) => found.delete(childMachinePlaceholders[c]));
  if (found.size > 0) {
    throw new Error(
      `AmiRolloutPipeline: the definition has placeholders nothing fills: ${[...found].map((p) => `\${${p}}`).join(', ')}`,
    );
  }
  return { steps, children };
}

/**
 * The ami-rollout pipeline on AWS: one Lambda function per state machine step; the rollout state machine and
 * its two children (a batch of a wave's groups, one group's refresh), from the same definitions the local
 * account runs; the rollout ledger (DynamoDB); an encrypted SNS topic only the pipeline may publish to; and an
 * EventBridge trigger on Image Builder images with a dead-letter queue.
 */
export class AmiRolloutPipeline extends Construct {
  /** The rollout state machine (`<name>`), which starts one batch execution after another. */
  readonly stateMachine: sfn.StateMachine;
  /** `<name>-batch`: one slice of a wave, a Map of group executions. */
  readonly batchStateMachine: sfn.StateMachine;
  /** `<name>-group`: one group's refresh (forward or back), polled to its end. */
  readonly groupStateMachine: sfn.StateMachine;
  readonly stateMachineName: string;
  /** The rollout ledger: the rollout, its plan, each group's state, and the lock (`pk`/`sk`, on demand). */
  readonly ledgerTable: dynamodb.Table;
  readonly functions: Readonly<Record<StepFunctionName, NodejsFunction>>;
  /** Invoked by the Image Builder rule; undefined when `imageBuilderTrigger` is false. */
  readonly startFunction?: NodejsFunction;
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  /** The rollout state machine's log group; the children log to `/aws/vendedlogs/states/<name>-batch|-group`. */
  readonly stateMachineLogGroup: logs.LogGroup;
  readonly imageBuilderRule?: events.Rule;
  /** Where the trigger keeps an event it could not deliver after its retries. */
  readonly triggerDeadLetterQueue?: sqs.Queue;
  /**
   * Every role of the pipeline with its policies, by function id (`Preflight`, ..., `StartRollout`) and state
   * machine id (`StateMachine`, `BatchStateMachine`, `GroupStateMachine`).
   */
  readonly rolePolicies: Readonly<Record<string, RolePolicies>>;
  /** The roles the functions may pass to EC2: the configuration's `instanceRoleArns` and the deprecated prop. */
  readonly instanceRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: AmiRolloutPipelineProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const stateMachineName = props.stateMachineName ?? 'ami-rollout';
    this.stateMachineName = stateMachineName;
    // Function names hold at most 64 characters (<name>-<Step>); state machine names 80 (<name>-batch).
    const maxNameLength = 64 - 1 - longestFunctionId;
    if (!new RegExp(`^[A-Za-z0-9_-]{1,${maxNameLength}}$`).test(stateMachineName)) {
      throw new Error(
        `AmiRolloutPipeline: stateMachineName "${stateMachineName}" must be 1-${maxNameLength} letters, digits, - or _ (e.g. ami-rollout): the functions are named <name>-<Step>, at most 64 characters`,
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
    const machineLogGroupName = (suffix: string) => `/aws/vendedlogs/states/${stateMachineName}${suffix}`;

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
              ...machines.map(({ suffix }) => logGroupArn(machineLogGroupName(suffix))),
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

    // The ledger holds rollout state, not secrets (AMI and group names, versions, refresh ids, times): encrypted
    // with the AWS managed key aws/dynamodb, so the operator's `status` and `history` read it with DynamoDB
    // permissions alone, and no step role needs a KMS grant (docs/iam.md, "The ledger table").
    const retainLedger = removalPolicy !== RemovalPolicy.DESTROY;
    this.ledgerTable = new dynamodb.Table(this, 'LedgerTable', {
      tableName: `${stateMachineName}-ledger`,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // A retained table is protected from deletion outside the stack too (console, CLI, a replacement).
      deletionProtection: retainLedger,
      removalPolicy: retainLedger ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
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
      ledgerTableArn: this.ledgerTable.tableArn,
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
      for (const kind of [...separatePolicyKinds, 'serviceOnStar'] as const) {
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

    const ledgerEnvironment = (id: StepFunctionName | 'StartRollout'): Record<string, string> =>
      ledgerActions[id].length > 0 ? { [LEDGER_TABLE_ENV]: this.ledgerTable.tableName } : {};
    const functions = {} as Record<StepFunctionName, NodejsFunction>;
    for (const step of stepFunctionNames) {
      functions[step] = makeFunction(
        step,
        steps[step].entry,
        `ami-rollout step ${step}`,
        stepPolicyStatements(step, arns),
        { [CONFIG_ENV]: stepConfig, ...ledgerEnvironment(step) },
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

    const definitions = buildDefinitions({ pollIntervalSeconds: config.pollIntervalSeconds });
    const built: Partial<Record<'rollout' | 'batch' | 'group', sfn.StateMachine>> = {};
    const machineLogGroups: Partial<Record<'rollout' | 'batch' | 'group', logs.LogGroup>> = {};
    // Children first (group, batch, rollout): a definition's substitutions name the ARN of the machine it starts.
    for (const { definition: which, id: machineId, suffix } of machines) {
      const definition = definitions[which];
      const references = definitionReferences(definition);
      const childArns = references.children.map((child) => {
        const machine = built[child];
        if (!machine)
          throw new Error(`AmiRolloutPipeline: the ${which} definition starts ${child}, built after it`);
        return [childMachinePlaceholders[child], machine] as const;
      });
      const logGroupForMachine = logGroup(machineLogGroupName(suffix), `${machineId}Logs`);
      machineLogGroups[which] = logGroupForMachine;
      const machine = makeRole(
        machineId,
        'states.amazonaws.com',
        `ami-rollout ${which} state machine: invokes its steps${references.children.length > 0 ? ', runs its child machine' : ''}, logs and traces`,
        {
          scoped: [
            // The definition invokes the unqualified function ARNs: no `:*` for versions and aliases (grantInvoke's).
            ...(references.steps.length > 0
              ? [
                  new iam.PolicyStatement({
                    actions: ['lambda:InvokeFunction'],
                    resources: references.steps.map((step) => functions[step].functionArn),
                  }),
                ]
              : []),
            ...references.children.flatMap((child) =>
              runChildStatements(stack, {
                stateMachineArn: built[child]!.stateMachineArn,
                stateMachineName: `${stateMachineName}-${child}`,
              }),
            ),
          ],
          readOnlyOnStar: [],
          launchOnStar: [],
          imagesAtRunTime: [],
          groupsByTag: [],
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
      const stateMachine = new sfn.StateMachine(this, machineId, {
        stateMachineName: `${stateMachineName}${suffix}`,
        stateMachineType: sfn.StateMachineType.STANDARD,
        role: machine.role.withoutPolicyUpdates(),
        definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition, null, 2)),
        definitionSubstitutions: {
          ...Object.fromEntries(
            references.steps.map((step) => [arnPlaceholder(step), functions[step].functionArn]),
          ),
          ...Object.fromEntries(
            childArns.map(([placeholder, child]) => [placeholder, child.stateMachineArn]),
          ),
        },
        logs: { destination: logGroupForMachine, level: sfn.LogLevel.ALL, includeExecutionData: true },
        tracingEnabled: true,
        comment: {
          rollout:
            'ami-rollout: roll a new AMI across Auto Scaling groups in waves, one batch execution at a time; roll back every group touched on failure',
          batch:
            "ami-rollout: one batch of a wave's groups, each in a group execution, up to the wave's maxParallel at once",
          group: "ami-rollout: one group's instance refresh (forward or rollback), polled until it ends",
        }[which],
      });
      // Step Functions checks at creation that the role may deliver logs.
      stateMachine.node.addDependency(...policiesOf(machine));
      built[which] = stateMachine;
    }
    this.stateMachine = built.rollout!;
    this.batchStateMachine = built.batch!;
    this.groupStateMachine = built.group!;
    this.stateMachineLogGroup = machineLogGroups.rollout!;

    if (trigger) {
      const startFunction = makeFunction(
        'StartRollout',
        'src/steps/start-rollout.ts',
        'ami-rollout: starts a rollout when Image Builder reports an image AVAILABLE',
        startRolloutPolicyStatements(
          stack,
          { stateMachineArn: this.stateMachine.stateMachineArn, stateMachineName },
          arns,
        ),
        {
          ...ledgerEnvironment('StartRollout'),
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
