import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import type { RolloutConfig } from '../../src/config/schema.ts';
import { buildApp } from '../../src/infra/app.ts';
import { nagAcknowledgments } from '../../src/infra/nag.ts';
import { groupSelectors, ledgerActions } from '../../src/infra/permissions.ts';
import { AmiRolloutPipeline, definitionReferences } from '../../src/infra/pipeline.ts';
import {
  buildDefinitions,
  renderDefinition,
  stepFunctionNames,
  type StepFunctionName,
} from '../../src/statemachine/definition.ts';
import { TOOL_ENV } from '../support/tools.ts';

/**
 * The template is synthesized in process with bundling skipped (`aws:cdk:bundling-stacks: []`, what
 * `cdk deploy OtherStack` does for stacks it does not deploy): bundling all eleven functions with esbuild
 * takes about 30 s, asserting on the template needs none of it. bundling.test.ts bundles one for real.
 */
const skipBundling = { 'aws:cdk:bundling-stacks': [] as string[] };
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

let config: RolloutConfig;
let template: Template;
let resources: Resources;
let pipeline: AmiRolloutPipeline;
let stack: Stack;
let outdir: string;

beforeAll(async () => {
  config = await loadConfig('examples/rollout.config.json');
  outdir = mkdtempSync(join(tmpdir(), 'ami-rollout-cdk-'));
  process.env.CDK_DEFAULT_ACCOUNT = ACCOUNT;
  process.env.CDK_DEFAULT_REGION = REGION;
  const built = await buildApp(new App({ outdir, context: skipBundling }));
  delete process.env.CDK_DEFAULT_ACCOUNT;
  delete process.env.CDK_DEFAULT_REGION;
  ({ stack, pipeline } = built);
  const assembly = built.app.synth();
  template = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>);
  resources = template.toJSON().Resources as Resources;
});

const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as never);

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** The statements of the role's inline policies, by logical id of the role. */
function roleStatements(roleLogicalId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

function actionsOf(step: StepFunctionName | 'StartRollout'): Map<string, Statement[]> {
  const role = pipeline.rolePolicies[step]?.role;
  if (!role) throw new Error(`no role for ${step}`);
  const byAction = new Map<string, Statement[]>();
  for (const statement of roleStatements(stack.getLogicalId(role.node.defaultChild as never))) {
    for (const action of [statement.Action].flat()) {
      byAction.set(action, [...(byAction.get(action) ?? []), statement]);
    }
  }
  return byAction;
}

/**
 * The actions docs/iam.md lists per function ("Permissions by function"), split by whether the row says the
 * grant depends on the configuration ("only with ...").
 */
function documentedActions(): Map<string, { always: Set<string>; conditional: Set<string> }> {
  const text = readFileSync('docs/iam.md', 'utf8');
  const section = text.slice(
    text.indexOf('## Permissions by function'),
    text.indexOf('## Implied permissions'),
  );
  const rows = section.split('\n').filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line));
  const byFunction = new Map<string, { always: Set<string>; conditional: Set<string> }>();
  let current = '';
  for (const row of rows.slice(1)) {
    const [name = '', actions = ''] = row
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    if (name) current = name;
    const entry = byFunction.get(current) ?? { always: new Set<string>(), conditional: new Set<string>() };
    const into = /only with/.test(actions) ? entry.conditional : entry.always;
    for (const [, action] of actions.matchAll(/`([a-z0-9-]+:[A-Za-z]+)`/g)) into.add(action!);
    byFunction.set(current, entry);
  }
  return byFunction;
}

/** A policy Resource as text, `{Ref: AWS::Partition}` as aws, several resources joined by a space. */
const resolved = (value: unknown): string => {
  const one = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const record = node as Record<string, unknown>;
    if (record.Ref === 'AWS::Partition') return 'aws';
    const join = record['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].map(one).join(join[0]);
    return JSON.stringify(node);
  };
  return Array.isArray(value) ? value.map(one).join(' ') : one(value);
};

/** What each function may do with the example configuration, besides writing its own logs and X-Ray traces. */
/** Every step reads and writes the ledger through one adapter: these six actions, on the one table. */
/** The ledger actions each step's code calls, written out here (not read from permissions.ts). */
const read = ['dynamodb:GetItem'];
const ledger: Record<StepFunctionName | 'StartRollout', string[]> = {
  Preflight: [
    ...read,
    'dynamodb:BatchWriteItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ],
  ShareAmi: [...read, 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
  UpdateLaunchTemplates: [...read, 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
  PlanBatch: [
    ...read,
    'dynamodb:Query',
    'dynamodb:BatchWriteItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
  ],
  FinishBatch: [...read, 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  TriggerInstanceRefresh: [...read, 'dynamodb:PutItem'],
  CheckRefreshStatus: [...read, 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  CheckGate: [...read, 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  RollbackAmi: [...read, 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
  TriggerRollbackRefresh: [...read, 'dynamodb:PutItem'],
  CheckRollbackRefresh: [...read, 'dynamodb:PutItem'],
  Notify: [...read, 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  StartRollout: [],
};
const expectedActions: Record<StepFunctionName | 'StartRollout', string[]> = {
  Preflight: [
    'ec2:DescribeImages',
    'ec2:DescribeLaunchTemplateVersions',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeInstanceRefreshes',
    'ssm:GetParameter',
    'states:ListExecutions',
    'iam:GetInstanceProfile',
    'cloudwatch:DescribeAlarms',
    // A stale lock's holder.
    'states:DescribeExecution',
  ],
  PlanBatch: ['autoscaling:DescribeInstanceRefreshes'],
  CheckGate: ['cloudwatch:DescribeAlarms'],
  FinishBatch: [
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:UpdateAutoScalingGroup',
    'ec2:DescribeLaunchTemplateVersions',
    'ec2:RunInstances',
    'ec2:CreateTags',
  ],
  ShareAmi: [
    'ec2:DescribeImages',
    'ec2:ModifyImageAttribute',
    'ec2:EnableImageDeregistrationProtection',
    'ec2:ModifySnapshotAttribute',
    'ssm:GetParameter',
    'ssm:PutParameter',
  ],
  UpdateLaunchTemplates: [
    'ec2:DescribeLaunchTemplateVersions',
    'ec2:CreateLaunchTemplateVersion',
    'ec2:ModifyLaunchTemplate',
    // Pinning the $Default/$Latest groups before any default moves.
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:UpdateAutoScalingGroup',
    'ec2:RunInstances',
    'ec2:CreateTags',
  ],
  TriggerInstanceRefresh: [
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeInstanceRefreshes',
    'ec2:DescribeLaunchTemplateVersions',
    'autoscaling:StartInstanceRefresh',
    'autoscaling:UpdateAutoScalingGroup',
    'ec2:RunInstances',
    'ec2:CreateTags',
  ],
  CheckRefreshStatus: [
    'cloudwatch:DescribeAlarms',
    'autoscaling:DescribeInstanceRefreshes',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeScalingActivities',
    'autoscaling:CancelInstanceRefresh',
  ],
  RollbackAmi: [
    'ec2:DescribeLaunchTemplateVersions',
    'ec2:DescribeImages',
    'ec2:CreateLaunchTemplateVersion',
    'ec2:ModifyLaunchTemplate',
    'ssm:GetParameter',
    'ssm:PutParameter',
  ],
  TriggerRollbackRefresh: [
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeInstanceRefreshes',
    'ec2:DescribeLaunchTemplateVersions',
    'autoscaling:StartInstanceRefresh',
    'autoscaling:CancelInstanceRefresh',
    'autoscaling:UpdateAutoScalingGroup',
    'ec2:RunInstances',
    'ec2:CreateTags',
  ],
  CheckRollbackRefresh: [
    'autoscaling:DescribeInstanceRefreshes',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:DescribeScalingActivities',
    'autoscaling:CancelInstanceRefresh',
  ],
  Notify: ['sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt'],
  StartRollout: [
    'states:ListExecutions',
    'states:StartExecution',
    'states:DescribeExecution',
    'imagebuilder:GetImage',
  ],
};
const everyFunctionMay = [
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
];
const readOnlyOnStar = new Set([
  'ec2:DescribeImages',
  'ec2:DescribeLaunchTemplateVersions',
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeInstanceRefreshes',
  'cloudwatch:DescribeAlarms',
  'autoscaling:DescribeScalingActivities',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
]);

describe('AmiRolloutPipeline template', () => {
  it('has one function per state machine step plus the start function, on Node.js 20 or later', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions).toHaveLength(stepFunctionNames.length + 1);
    for (const [, fn] of functions) {
      const runtime = String(fn.Properties.Runtime);
      expect(runtime).toMatch(/^nodejs\d+\.x$/);
      expect(Number(/\d+/.exec(runtime)?.[0])).toBeGreaterThanOrEqual(20);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
    for (const step of stepFunctionNames) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `ami-rollout-${step}`,
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Environment: { Variables: Match.objectLike({ AMI_ROLLOUT_CONFIG: Match.anyValue() }) },
      });
    }
  });

  it('gives every function its own encrypted log group with a retention', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    // The functions', the start function's and the three state machines'.
    expect(groups).toHaveLength(stepFunctionNames.length + 1 + 3);
    for (const [, group] of groups) {
      expect(group.Properties.RetentionInDays).toBe(90);
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [logicalId(pipeline.key), 'Arn'] });
    }
    for (const step of stepFunctionNames) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `ami-rollout-${step}`,
        LoggingConfig: Match.objectLike({ LogGroup: Match.anyValue() }),
      });
    }
  });

  it('deploys the three state machine definitions the local account runs, with the function and child ARNs substituted', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines.map(([, m]) => m.Properties.StateMachineName).sort()).toEqual([
      'ami-rollout',
      'ami-rollout-batch',
      'ami-rollout-group',
    ]);
    const definitions = buildDefinitions({ pollIntervalSeconds: config.pollIntervalSeconds });
    const arns = Object.fromEntries(
      stepFunctionNames.map((step) => [step, `arn-of-${logicalId(pipeline.functions[step])}`]),
    ) as Record<StepFunctionName, string>;
    const children = {
      batch: `arn-of-${logicalId(pipeline.batchStateMachine)}`,
      group: `arn-of-${logicalId(pipeline.groupStateMachine)}`,
    };
    for (const [which, machine] of [
      ['rollout', pipeline.stateMachine],
      ['batch', pipeline.batchStateMachine],
      ['group', pipeline.groupStateMachine],
    ] as const) {
      const resource = resources[logicalId(machine)]!;
      expect(JSON.parse(String(resource.Properties.DefinitionString))).toEqual(definitions[which]);
      // A function's ARN is its GetAtt Arn, a child machine's its Ref.
      const substitutions = resource.Properties.DefinitionSubstitutions as Record<
        string,
        { 'Fn::GetAtt'?: string[]; Ref?: string }
      >;
      const substituted = String(resource.Properties.DefinitionString).replace(
        /\$\{([A-Za-z]+)\}/g,
        (_, key: string) =>
          `arn-of-${substitutions[key]?.['Fn::GetAtt']?.[0] ?? substitutions[key]?.Ref ?? '?'}`,
      );
      expect(substituted, which).toBe(renderDefinition(definitions[which], arns, children));
    }
  });

  it('logs every event of each state machine to its own encrypted log group, with tracing on', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'ami-rollout',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          {
            CloudWatchLogsLogGroup: {
              LogGroupArn: { 'Fn::GetAtt': [logicalId(pipeline.stateMachineLogGroup), 'Arn'] },
            },
          },
        ],
      },
    });
    for (const name of ['ami-rollout', 'ami-rollout-batch', 'ami-rollout-group']) {
      const [groupId] = ofType('AWS::Logs::LogGroup').find(
        ([, g]) => g.Properties.LogGroupName === `/aws/vendedlogs/states/${name}`,
      )!;
      expect(resources[groupId]!.Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [logicalId(pipeline.key), 'Arn'],
      });
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: name,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: true,
          Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [groupId, 'Arn'] } } }],
        },
      });
    }
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it("lets CloudWatch Logs use the key for the pipeline's own log groups and no other", () => {
    const key = resources[logicalId(pipeline.key)]!;
    const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
    const logsStatement = statements.find((st) =>
      JSON.stringify((st as { Principal?: unknown }).Principal ?? '').includes('logs.'),
    );
    const condition = logsStatement?.Condition as { ArnEquals: Record<string, unknown> };
    const groupNames = ofType('AWS::Logs::LogGroup')
      .map(([, g]) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${String(g.Properties.LogGroupName)}`)
      .sort();
    expect(Object.keys(condition)).toEqual(['ArnEquals']);
    expect(resolved(condition.ArnEquals['kms:EncryptionContext:aws:logs:arn']).split(' ').sort()).toEqual(
      groupNames,
    );
  });

  it('lets each state machine invoke exactly its own steps, which together are every step once', () => {
    // The design contract: which machine runs which Lambda step.
    const expected: Record<'StateMachine' | 'BatchStateMachine' | 'GroupStateMachine', StepFunctionName[]> = {
      StateMachine: ['Preflight', 'ShareAmi', 'UpdateLaunchTemplates', 'RollbackAmi', 'Notify'],
      BatchStateMachine: ['PlanBatch', 'CheckGate', 'FinishBatch'],
      GroupStateMachine: [
        'TriggerInstanceRefresh',
        'CheckRefreshStatus',
        'TriggerRollbackRefresh',
        'CheckRollbackRefresh',
      ],
    };
    expect(Object.values(expected).flat().sort()).toEqual([...stepFunctionNames].sort());
    for (const [owner, steps] of Object.entries(expected)) {
      const role = pipeline.rolePolicies[owner]!.role;
      const invoke = roleStatements(stack.getLogicalId(role.node.defaultChild as never)).filter(
        (s) => s.Action === 'lambda:InvokeFunction',
      );
      expect(invoke, owner).toHaveLength(1);
      expect(new Set(invoke[0]?.Resource as unknown[]), owner).toEqual(
        new Set(steps.map((step) => ({ 'Fn::GetAtt': [logicalId(pipeline.functions[step]), 'Arn'] }))),
      );
    }
  });

  it('lets rollout run only batch executions and batch only group executions, with what .sync:2 needs', () => {
    const syncRule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
    for (const [owner, child, childName] of [
      ['StateMachine', pipeline.batchStateMachine, 'ami-rollout-batch'],
      ['BatchStateMachine', pipeline.groupStateMachine, 'ami-rollout-group'],
    ] as const) {
      const role = pipeline.rolePolicies[owner]!.role;
      const statements = roleStatements(stack.getLogicalId(role.node.defaultChild as never));
      const onActions = (actions: string[]) =>
        statements.filter(
          (st) => JSON.stringify([st.Action].flat().sort()) === JSON.stringify(actions.sort()),
        );
      expect(
        onActions(['states:StartExecution']).map((st) => st.Resource),
        owner,
      ).toEqual([{ Ref: logicalId(child) }]);
      expect(
        onActions(['states:DescribeExecution', 'states:StopExecution']).map((st) => resolved(st.Resource)),
        owner,
      ).toEqual([`arn:aws:states:${REGION}:${ACCOUNT}:execution:${childName}:*`]);
      expect(
        onActions(['events:PutTargets', 'events:PutRule', 'events:DescribeRule']).map((st) =>
          resolved(st.Resource),
        ),
        owner,
      ).toEqual([syncRule]);
    }
    const group = pipeline.rolePolicies['GroupStateMachine']!.role;
    const groupActions = roleStatements(stack.getLogicalId(group.node.defaultChild as never)).flatMap((st) =>
      [st.Action].flat(),
    );
    expect(groupActions.filter((a) => /^(states|events):/.test(a))).toEqual([]);
  });

  it('refuses a definition placeholder nothing fills', () => {
    expect(() => definitionReferences({ States: { A: { Resource: '${SomethingArn}' } } })).toThrow(
      /placeholders nothing fills: \$\{SomethingArn\}/,
    );
    expect(
      definitionReferences({
        A: '${PreflightFunctionArn}',
        B: '${GroupStateMachineArn}',
        C: '${NotifyFunctionArn}',
      }),
    ).toEqual({ steps: ['Preflight', 'Notify'], children: ['group'] });
  });

  it('creates the ledger table: pk/sk strings, on demand, point-in-time recovery, encrypted, retained and protected', () => {
    const table = resources[logicalId(pipeline.ledgerTable)]! as unknown as {
      Properties: Record<string, unknown>;
      DeletionPolicy: string;
      UpdateReplacePolicy: string;
    };
    expect(table).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(table.Properties).toEqual({
      TableName: 'ami-rollout-ledger',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // SSEEnabled without a key: KMS with the AWS managed key aws/dynamodb (CloudFormation's SSESpecification;
      // false or absent would be an AWS owned key).
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(template.toJSON().Outputs.LedgerTableName).toEqual({
      Value: { Ref: logicalId(pipeline.ledgerTable) },
    });
  });

  it('names the table to exactly the functions that use it, and grants DynamoDB on that table only', () => {
    const tableRef = { Ref: logicalId(pipeline.ledgerTable) };
    const tableArn = { 'Fn::GetAtt': [logicalId(pipeline.ledgerTable), 'Arn'] };
    for (const id of [...stepFunctionNames, 'StartRollout' as const]) {
      const fn = id === 'StartRollout' ? pipeline.startFunction! : pipeline.functions[id];
      const variables = (
        resources[logicalId(fn)]!.Properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      expect(variables.AMI_ROLLOUT_LEDGER_TABLE, id).toEqual(
        ledgerActions[id].length > 0 ? tableRef : undefined,
      );
      for (const [action, statements] of actionsOf(id)) {
        if (!action.startsWith('dynamodb:')) continue;
        for (const statement of statements) expect(statement.Resource, `${id} ${action}`).toEqual(tableArn);
      }
    }
  });

  it('encrypts the topic with the KMS key and lets only the Notify function publish', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(pipeline.key), 'Arn'] },
    });
    const notifyRole = pipeline.functions.Notify.role;
    if (!notifyRole) throw new Error('no Notify role');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Sid: 'OnlyTheAmiRolloutPipelinePublishes',
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: { AWS: '*' },
            Condition: {
              ArnNotEquals: {
                'aws:PrincipalArn': {
                  'Fn::GetAtt': [stack.getLogicalId(notifyRole.node.defaultChild as never), 'Arn'],
                },
              },
            },
          }),
        ]),
      },
    });
    for (const step of stepFunctionNames.filter((s) => s !== 'Notify')) {
      expect(actionsOf(step).has('sns:Publish'), step).toBe(false);
    }
  });

  it('triggers on Image Builder images becoming AVAILABLE, into a start function decided one at a time', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.imagebuilder'],
        'detail-type': ['EC2 Image Builder Image State Change'],
        detail: { state: { status: ['AVAILABLE'] } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId(pipeline.startFunction!), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(pipeline.triggerDeadLetterQueue!), 'Arn'] } },
        }),
      ],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'ami-rollout-StartRollout',
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({
          AMI_ROLLOUT_STATE_MACHINE_ARN: { Ref: logicalId(pipeline.stateMachine) },
        }),
      },
    });
  });

  describe('least privilege', () => {
    for (const step of [...stepFunctionNames, 'StartRollout' as const]) {
      it(`grants ${step} only the actions it calls`, () => {
        const actions = [...actionsOf(step).keys()].sort();
        const own = ledger[step];
        expect(actions).toEqual([...expectedActions[step], ...own, ...everyFunctionMay].sort());
      });
    }

    it('matches the table in docs/iam.md: every grant documented, every unconditional one granted', () => {
      const documented = documentedActions();
      for (const step of [...stepFunctionNames, 'StartRollout' as const]) {
        const doc = documented.get(step);
        expect(doc, `docs/iam.md has no row for ${step}`).toBeDefined();
        const granted = [...actionsOf(step).keys()].filter((a) => !everyFunctionMay.includes(a));
        expect(
          [...doc!.always].filter((a) => !granted.includes(a)),
          `${step}: documented, not granted`,
        ).toEqual([]);
        expect(
          granted.filter((a) => !doc!.always.has(a) && !doc!.conditional.has(a)),
          `${step}: granted, not documented`,
        ).toEqual([]);
      }
    });

    it('allows "*" only for actions AWS does not scope, and RunInstances only from the configured templates', () => {
      for (const step of [...stepFunctionNames, 'StartRollout' as const]) {
        for (const [action, statements] of actionsOf(step)) {
          for (const statement of statements.filter((s) => s.Resource === '*')) {
            if (action === 'ec2:RunInstances') {
              const condition = statement.Condition as { ArnLike: Record<string, unknown> };
              expect(Object.keys(condition)).toEqual(['ArnLike']);
              expect(resolved(condition.ArnLike['ec2:LaunchTemplate'])).toBe(
                config.launchTemplateIds
                  .map((id) => `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/${id}`)
                  .join(' '),
              );
            } else if (action === 'ec2:CreateTags') {
              expect(statement.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'RunInstances' } });
            } else {
              expect(readOnlyOnStar.has(action), `${step} ${action} on *`).toBe(true);
            }
          }
        }
      }
    });

    it('scopes launch template changes to the configured templates', () => {
      for (const step of ['UpdateLaunchTemplates', 'RollbackAmi'] as const) {
        for (const action of ['ec2:CreateLaunchTemplateVersion', 'ec2:ModifyLaunchTemplate']) {
          const [statement] = actionsOf(step).get(action) ?? [];
          expect(resolved(statement?.Resource)).toBe(
            config.launchTemplateIds
              .map((id) => `arn:aws:ec2:${REGION}:${ACCOUNT}:launch-template/${id}`)
              .join(' '),
          );
        }
      }
    });

    it('scopes refreshes and group updates to the configured groups', () => {
      const groups = groupSelectors(config)
        .names.map(
          (name) =>
            `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/${name}`,
        )
        .join(' ');
      for (const [step, action] of [
        ['TriggerInstanceRefresh', 'autoscaling:StartInstanceRefresh'],
        ['TriggerInstanceRefresh', 'autoscaling:UpdateAutoScalingGroup'],
        ['TriggerRollbackRefresh', 'autoscaling:StartInstanceRefresh'],
        ['TriggerRollbackRefresh', 'autoscaling:CancelInstanceRefresh'],
        ['TriggerRollbackRefresh', 'autoscaling:UpdateAutoScalingGroup'],
        ['CheckRefreshStatus', 'autoscaling:CancelInstanceRefresh'],
        ['CheckRollbackRefresh', 'autoscaling:CancelInstanceRefresh'],
      ] as const) {
        expect(resolved(actionsOf(step).get(action)?.[0]?.Resource), `${step} ${action}`).toBe(groups);
      }
    });

    it('scopes the parameter reads and writes to {param} and {param}-previous', () => {
      const arn = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`;
      const parameters = [arn(config.amiParameterName), arn(`${config.amiParameterName}-previous`)].join(' ');
      for (const [step, action] of [
        ['Preflight', 'ssm:GetParameter'],
        ['ShareAmi', 'ssm:PutParameter'],
        ['RollbackAmi', 'ssm:GetParameter'],
        // {param} back to the rollback image, {param}-previous to what it held before the rollout.
        ['RollbackAmi', 'ssm:PutParameter'],
      ] as const) {
        expect(resolved(actionsOf(step).get(action)?.[0]?.Resource), `${step} ${action}`).toBe(parameters);
      }
    });

    it('shares snapshots only with the configured accounts and never publicly, images only of the region', () => {
      const share = actionsOf('ShareAmi');
      expect(resolved(share.get('ec2:ModifyImageAttribute')?.[0]?.Resource)).toBe(
        `arn:aws:ec2:${REGION}::image/*`,
      );
      const [snapshot] = share.get('ec2:ModifySnapshotAttribute') ?? [];
      expect(resolved(snapshot?.Resource)).toBe(`arn:aws:ec2:${REGION}::snapshot/*`);
      expect(snapshot?.Condition).toEqual({
        StringEquals: { 'ec2:Add/userId': config.shareWithAccountIds },
        Null: { 'ec2:Add/group': 'true' },
      });
    });

    it('reads only instance profiles of the account, and passes no role unless the configuration lists one', () => {
      expect(resolved(actionsOf('Preflight').get('iam:GetInstanceProfile')?.[0]?.Resource)).toBe(
        `arn:aws:iam::${ACCOUNT}:instance-profile/*`,
      );
      for (const step of [...stepFunctionNames, 'StartRollout' as const]) {
        expect(actionsOf(step).has('iam:PassRole'), step).toBe(false);
      }
    });

    it('scopes publishing to the topic and the start function to its state machine', () => {
      expect(actionsOf('Notify').get('sns:Publish')?.[0]?.Resource).toEqual({
        Ref: logicalId(pipeline.topic),
      });
      expect(actionsOf('StartRollout').get('states:StartExecution')?.[0]?.Resource).toEqual({
        Ref: logicalId(pipeline.stateMachine),
      });
      expect(resolved(actionsOf('StartRollout').get('states:DescribeExecution')?.[0]?.Resource)).toBe(
        `arn:aws:states:${REGION}:${ACCOUNT}:execution:ami-rollout:*`,
      );
    });
  });

  describe('cdk-nag AwsSolutionsChecks', () => {
    interface Report {
      pluginReports: {
        pluginName: string;
        conclusion: string;
        violations: { ruleName: string }[];
        suppressedViolations?: {
          ruleName: string;
          acknowledgedId: string;
          reason: string;
          acknowledgedAt: string;
        }[];
      }[];
    }
    const report = (): Report =>
      JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;

    it('leaves no finding unexplained', () => {
      const [nag] = report().pluginReports;
      expect(nag?.pluginName).toBe('AwsSolutions');
      expect(nag?.violations.map((v) => v.ruleName)).toEqual([]);
      expect(nag?.conclusion).toBe('success');
    });

    it('gives every acknowledgment a written reason, and acknowledges only findings that exist', () => {
      const suppressed = report().pluginReports[0]?.suppressedViolations ?? [];
      for (const s of suppressed) expect(s.reason.length, s.acknowledgedId).toBeGreaterThan(40);
      const used = new Set(suppressed.map((s) => `${s.acknowledgedAt} ${s.acknowledgedId}`));
      for (const { path, acknowledgments } of nagAcknowledgments(pipeline, config)) {
        for (const { finding } of acknowledgments) {
          expect(used.has(`${path} AwsSolutions::${finding}`), `${path} ${finding}`).toBe(true);
        }
      }
    });
  });
});

describe('cdk-nag acknowledgments cover only the statements they name', () => {
  const nagFindings = (mutate: (p: AmiRolloutPipeline) => void): { ruleName: string; paths: string[] }[] => {
    const dir = mkdtempSync(join(tmpdir(), 'ami-rollout-nag-'));
    const app = new App({ outdir: dir, context: skipBundling });
    const s = new Stack(app, 'Nag', { env: { account: ACCOUNT, region: REGION } });
    const p = new AmiRolloutPipeline(s, 'Pipeline', { config });
    mutate(p);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
    } catch {
      // A policy validation failure throws after writing the report, which is what this reads.
    }
    const report = JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        violations: {
          ruleName: string;
          violatingConstructs: { constructPath: string }[];
        }[];
      }[];
    };
    return (report.pluginReports[0]?.violations ?? []).map((v) => ({
      ruleName: v.ruleName,
      paths: v.violatingConstructs.map((c) => c.constructPath),
    }));
  };

  it('reports a mutation on "*" added to a role that already holds acknowledged "*" statements', () => {
    expect(nagFindings(() => undefined)).toEqual([]);
    const findings = nagFindings((p) => {
      for (const owner of ['Preflight', 'TriggerInstanceRefresh', 'ShareAmi']) {
        p.rolePolicies[owner]!.role.addToPrincipalPolicy(
          new PolicyStatement({ actions: ['ec2:TerminateInstances'], resources: ['*'] }),
        );
      }
    });
    expect(findings.map((f) => f.ruleName)).toEqual(['AwsSolutions-IAM5[Resource::*]']);
    expect(findings[0]?.paths.sort()).toEqual([
      'Nag/Pipeline/PreflightRole/DefaultPolicy/Resource',
      'Nag/Pipeline/ShareAmiRole/DefaultPolicy/Resource',
      'Nag/Pipeline/TriggerInstanceRefreshRole/DefaultPolicy/Resource',
    ]);
  });
});

describe('AmiRolloutPipeline options', () => {
  const synth = (props: Partial<ConstructorParameters<typeof AmiRolloutPipeline>[2]>, input: object = {}) => {
    const app = new App({ context: skipBundling });
    const s = new Stack(app, 'Options', { env: { account: ACCOUNT, region: REGION } });
    const c = parseConfig({
      amiParameterName: '/golden',
      launchTemplateIds: ['lt-0a1b2c3d4e5f60001'],
      autoScalingGroupNames: ['web'],
      trustedImageOwners: ['self'],
      notificationEmails: ['ops@example.com', 'oncall@example.com'],
      ...input,
    });
    new AmiRolloutPipeline(s, 'Pipeline', { config: c, ...props });
    return Template.fromStack(s);
  };

  it('subscribes the configured emails and passes the instance roles to EC2 only', () => {
    const t = synth({
      imageBuilderTrigger: false,
      instanceRoleArns: [`arn:aws:iam::${ACCOUNT}:role/web-instance`],
    });
    t.resourceCountIs('AWS::SNS::Subscription', 2);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    t.resourceCountIs('AWS::Events::Rule', 0);
    t.resourceCountIs('AWS::Lambda::Function', stepFunctionNames.length);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'iam:PassRole',
            Resource: `arn:aws:iam::${ACCOUNT}:role/web-instance`,
            Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
          }),
        ]),
      },
    });
  });

  it("passes the configuration's instanceRoleArns (and the deprecated prop's) to EC2 only, and hands preflight both", () => {
    const fromConfig = `arn:aws:iam::${ACCOUNT}:role/app/web-instance`;
    const fromProp = `arn:aws:iam::${ACCOUNT}:role/api-instance`;
    const t = synth(
      { imageBuilderTrigger: false, instanceRoleArns: [fromProp] },
      { instanceRoleArns: [fromConfig] },
    );
    const passers = new Set<string>();
    for (const [, policy] of Object.entries(t.findResources('AWS::IAM::Policy'))) {
      const document = (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
        .PolicyDocument;
      for (const statement of document.Statement.filter((st) => st.Action === 'iam:PassRole')) {
        expect(statement.Resource).toEqual([fromConfig, fromProp]);
        expect(statement.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
        passers.add(JSON.stringify((policy as { Properties: { Roles: unknown } }).Properties.Roles));
      }
    }
    // The two that create launch template versions, the two that point groups at them, and FinishBatch, which
    // gives pinned groups their own launch template setting back.
    expect(passers.size).toBe(5);
    const preflight = Object.values(t.findResources('AWS::Lambda::Function')).find(
      (f) =>
        (f as { Properties: { FunctionName: string } }).Properties.FunctionName === 'ami-rollout-Preflight',
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    expect(JSON.stringify(preflight.Properties.Environment.Variables.AMI_ROLLOUT_CONFIG)).toContain(
      `\\"instanceRoleArns\\":[\\"${fromConfig}\\",\\"${fromProp}\\"]`,
    );
  });

  it('grants no image or snapshot sharing when the configuration shares with no one', () => {
    const t = synth({ imageBuilderTrigger: false }, { shareWithAccountIds: [] });
    const actions = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(actions).not.toContain('ec2:ModifyImageAttribute');
    expect(actions).not.toContain('ec2:ModifySnapshotAttribute');
    expect(actions).toContain('ec2:EnableImageDeregistrationProtection');
  });

  it('fails when stateMachineName or an instance role ARN is malformed, naming the value', () => {
    expect(() => synth({ stateMachineName: 'ami rollout' })).toThrow(
      /stateMachineName "ami rollout" must be/,
    );
    expect(() => synth({ instanceRoleArns: ['web-instance'] })).toThrow(
      /instanceRoleArns "web-instance" must be/,
    );
  });

  it('fails when stateMachineName would make a function name longer than 64 characters', () => {
    // <name>-TriggerRollbackRefresh (22 characters) is the longest function name.
    expect(() => synth({ stateMachineName: 'a'.repeat(42) })).toThrow(
      /stateMachineName "a{42}" must be 1-41 letters.*at most 64 characters/,
    );
    const t = synth({ stateMachineName: 'a'.repeat(41), imageBuilderTrigger: false });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `${'a'.repeat(41)}-TriggerRollbackRefresh`,
    });
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: `${'a'.repeat(41)}-batch`,
    });
  });

  it('deletes the ledger table with the stack, unprotected, only when removalPolicy is DESTROY', () => {
    const table = (t: Template) =>
      Object.values(t.findResources('AWS::DynamoDB::Table'))[0] as {
        DeletionPolicy: string;
        Properties: { DeletionProtectionEnabled: boolean };
      };
    const destroyed = table(synth({ imageBuilderTrigger: false, removalPolicy: RemovalPolicy.DESTROY }));
    expect([destroyed.DeletionPolicy, destroyed.Properties.DeletionProtectionEnabled]).toEqual([
      'Delete',
      false,
    ]);
    const snapshot = table(synth({ imageBuilderTrigger: false, removalPolicy: RemovalPolicy.SNAPSHOT }));
    expect([snapshot.DeletionPolicy, snapshot.Properties.DeletionProtectionEnabled]).toEqual([
      'Retain',
      true,
    ]);
  });
});

/** cfn-lint, proven to run (a pyenv shim exists even when the active Python lacks the package). */
function cfnLintVersion(): string | undefined {
  const probe = spawnSync('cfn-lint', ['--version'], { env: TOOL_ENV, encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) {
    console.warn(
      'SKIPPED cfn-lint on the synthesized template: `cfn-lint` not found or not runnable; install it (`pip install cfn-lint`) so it is on PATH.',
    );
    return undefined;
  }
  return probe.stdout.trim();
}

describe.skipIf(cfnLintVersion() === undefined)('cfn-lint on the synthesized template', () => {
  it('reports no errors', () => {
    const file = join(outdir, `${stack.stackName}.template.json`);
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', file], {
      env: TOOL_ENV,
      encoding: 'utf8',
      timeout: 120_000,
    });
    // Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; anything else is cfn-lint failing.
    expect(run.status !== null && (run.status & ~(2 | 4 | 8)) === 0, run.stderr).toBe(true);
    const findings = JSON.parse(run.stdout || '[]') as {
      Level: string;
      Rule: { Id: string };
      Message: string;
    }[];
    const errors = findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id} ${f.Message}`);
    expect(errors).toEqual([]);
    // W3005 (an explicit DependsOn next to a GetAtt) is how CDK orders a function after its role's policy.
    const warnings = findings.filter((f) => f.Level === 'Warning' && f.Rule.Id !== 'W3005');
    expect(warnings.map((f) => `${f.Rule.Id} ${f.Message}`)).toEqual([]);
  });
});

describe('groupSelectors', () => {
  it('lists the groups of autoScalingGroupNames alone, in order', () => {
    expect(groupSelectors({ autoScalingGroupNames: ['web-1', 'web-2'] })).toEqual({
      names: ['web-1', 'web-2'],
      tags: [],
    });
  });

  it("lists every wave's named groups once and each distinct tag selector once, whatever its key order", () => {
    expect(
      groupSelectors({
        waves: [
          { autoScalingGroupNames: ['canary'] },
          { autoScalingGroupNames: ['web-1', 'canary'], autoScalingGroupTags: { team: 'web', wave: '2' } },
          { autoScalingGroupTags: { wave: '2', team: 'web' } },
          { autoScalingGroupTags: { wave: '3' } },
        ],
      }),
    ).toEqual({
      names: ['canary', 'web-1'],
      tags: [{ team: 'web', wave: '2' }, { wave: '3' }],
    });
  });
});

describe('groups selected by tags (waves)', () => {
  const base = {
    amiParameterName: '/golden',
    launchTemplateIds: ['lt-0a1b2c3d4e5f60001'],
    autoScalingGroupNames: ['placeholder'],
    trustedImageOwners: ['self'],
    notificationEmails: ['ops@example.com'],
  };
  // TEMPORARY (infra branch): parseConfig({ ...base, waves }) once the schema has waves.
  const withWaves = (waves: unknown[]): RolloutConfig =>
    ({ ...parseConfig(base), autoScalingGroupNames: undefined, waves }) as unknown as RolloutConfig;
  const synthWithNag = (c: RolloutConfig) => {
    const dir = mkdtempSync(join(tmpdir(), 'ami-rollout-waves-'));
    const app = new App({ outdir: dir, context: skipBundling });
    const s = new Stack(app, 'Waves', { env: { account: ACCOUNT, region: REGION } });
    const p = new AmiRolloutPipeline(s, 'Pipeline', { config: c, imageBuilderTrigger: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const t = Template.fromJSON(app.synth().getStackByName(s.stackName).template as Record<string, unknown>);
    const report = JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: { ruleName: string }[] }[];
    };
    return { t, p, s, violations: report.pluginReports[0]?.violations.map((v) => v.ruleName) ?? [] };
  };
  const anyGroup = `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*`;
  const mutations = {
    UpdateLaunchTemplates: ['autoscaling:UpdateAutoScalingGroup'],
    TriggerInstanceRefresh: ['autoscaling:StartInstanceRefresh', 'autoscaling:UpdateAutoScalingGroup'],
    TriggerRollbackRefresh: [
      'autoscaling:StartInstanceRefresh',
      'autoscaling:CancelInstanceRefresh',
      'autoscaling:UpdateAutoScalingGroup',
    ],
    CheckRefreshStatus: ['autoscaling:CancelInstanceRefresh'],
    CheckRollbackRefresh: ['autoscaling:CancelInstanceRefresh'],
  } as const;
  /** The statements of one of a role's policies, by the policy's construct. */
  const statementsOf = (t: Template, s: Stack, policy: { node: { defaultChild?: unknown } } | undefined) => {
    if (!policy) return [];
    const id = s.getLogicalId(policy.node.defaultChild as never);
    return (t.toJSON().Resources[id].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
  };

  it("scopes each selector's group changes by aws:ResourceTag conditions in a policy of their own, and names the named groups", () => {
    const { t, p, s, violations } = synthWithNag(
      withWaves([
        { name: 'canary', autoScalingGroupNames: ['web-canary'] },
        { name: 'web', autoScalingGroupTags: { team: 'web', 'rollout-wave': '2' } },
        { name: 'rest', autoScalingGroupTags: { 'rollout-wave': '3' } },
      ]),
    );
    expect(violations).toEqual([]);
    for (const [owner, actions] of Object.entries(mutations)) {
      const { role, policies } = p.rolePolicies[owner]!;
      const byTag = statementsOf(t, s, policies.groupsByTag);
      expect(
        byTag.map((st) => ({
          Action: [st.Action].flat().sort(),
          Resource: resolved(st.Resource),
          Condition: st.Condition,
        })),
        owner,
      ).toEqual([
        {
          Action: [...actions].sort(),
          Resource: anyGroup,
          Condition: { StringEquals: { 'aws:ResourceTag/rollout-wave': '2', 'aws:ResourceTag/team': 'web' } },
        },
        {
          Action: [...actions].sort(),
          Resource: anyGroup,
          Condition: { StringEquals: { 'aws:ResourceTag/rollout-wave': '3' } },
        },
      ]);
      // The named group by its ARN, in the role's default policy; no group change there without a name.
      const scoped = statementsOf(t, s, role.node.tryFindChild('DefaultPolicy') as never).filter((st) =>
        [st.Action].flat().some((a) => (actions as readonly string[]).includes(a)),
      );
      expect(
        scoped.map((st) => resolved(st.Resource)),
        owner,
      ).toEqual([
        `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/web-canary`,
      ]);
    }
  });

  it('grants group changes only behind tag conditions when no wave names a group', () => {
    const { t, p, s, violations } = synthWithNag(
      withWaves([{ name: 'all', autoScalingGroupTags: { app: 'web' } }]),
    );
    expect(violations).toEqual([]);
    for (const [owner, actions] of Object.entries(mutations)) {
      const { role, policies } = p.rolePolicies[owner]!;
      const defaultPolicy = role.node.tryFindChild('DefaultPolicy') as never;
      const unconditioned = [
        ...statementsOf(t, s, defaultPolicy),
        ...statementsOf(t, s, policies.readOnlyOnStar),
      ].filter((st) => [st.Action].flat().some((a) => (actions as readonly string[]).includes(a)));
      expect(unconditioned, owner).toEqual([]);
      expect(
        statementsOf(t, s, policies.groupsByTag).map((st) => st.Condition),
        owner,
      ).toEqual([{ StringEquals: { 'aws:ResourceTag/app': 'web' } }]);
    }
  });
});
