/**
 * The test that ties code to IAM. For each function, the AWS operations its handler can call are read from its
 * bundle (esbuild, the same entry and module resolution as the deployed one, tree-shaken: an SDK command
 * module is in the bundle only when code reachable from the handler sends it), mapped to IAM actions, and
 * completed with what AWS checks on the side (`impliedPermissions`). The function's role in the synthesized
 * template must grant exactly that: a call with no permission fails, and so does a permission no call uses.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { RolloutConfigInput } from '../../src/config/schema.ts';
import { bundleFunction } from '../../src/infra/bundle.ts';
import { configuredOperations, impliedPermissions, tracingActions } from '../../src/infra/permissions.ts';
import { AmiRolloutPipeline, defaultBundling, projectRoot } from '../../src/infra/pipeline.ts';
import { buildDefinitions, stepFunctionNames } from '../../src/statemachine/definition.ts';
import { steps } from '../../src/steps/index.ts';

const ACCOUNT = '111122223333';
const functionIds = [...stepFunctionNames, 'StartRollout'] as const;
type FunctionId = (typeof functionIds)[number];
const entries: Record<FunctionId, string> = {
  ...(Object.fromEntries(stepFunctionNames.map((s) => [s, steps[s].entry])) as Record<
    (typeof stepFunctionNames)[number],
    string
  >),
  StartRollout: 'src/steps/start-rollout.ts',
};

/** The IAM service prefix of each SDK client package. */
const iamPrefix: Readonly<Record<string, string>> = {
  'auto-scaling': 'autoscaling',
  cloudwatch: 'cloudwatch',
  dynamodb: 'dynamodb',
  ec2: 'ec2',
  iam: 'iam',
  imagebuilder: 'imagebuilder',
  sfn: 'states',
  sns: 'sns',
  ssm: 'ssm',
};

/** Every function writes its own log group and its traces; neither is a call its code makes. */
const runtimeActions = new Set(['logs:CreateLogStream', 'logs:PutLogEvents', ...tracingActions]);

/**
 * Commands an SDK client bundles for itself, never sent unless configured: DynamoDB's endpoint discovery
 * (DescribeEndpoints) runs only with `endpointDiscoveryEnabled`, which the steps never set.
 */
const clientInternalOperations = new Set(['dynamodb:DescribeEndpoints']);

/** `service:Operation` for each SDK command module a bundle holds: the deployed bundling, unminified. */
async function operationsByFunction(): Promise<Map<FunctionId, Set<string>>> {
  const byFunction = new Map<FunctionId, Set<string>>();
  const bundles = await Promise.all(
    functionIds.map(async (id) => {
      const outdir = mkdtempSync(join(tmpdir(), 'ami-rollout-iam-'));
      const { metafile } = await bundleFunction(join(projectRoot, entries[id]), outdir, {
        ...defaultBundling,
        minify: false,
        sourceMap: false,
      });
      return [id, metafile] as const;
    }),
  );
  for (const [id, metafile] of bundles) {
    const operations = new Set<string>();
    for (const output of Object.values(metafile.outputs)) {
      for (const [path, input] of Object.entries(output.inputs)) {
        if (input.bytesInOutput === 0) continue;
        const command = /@aws-sdk\/client-([a-z0-9-]+)\/dist-[a-z]+\/commands\/(\w+)Command\.js$/.exec(path);
        if (!command) continue;
        const prefix = iamPrefix[command[1]!];
        if (!prefix)
          throw new Error(`${id} bundles @aws-sdk/client-${command[1]}: add its IAM prefix to iamPrefix`);
        if (clientInternalOperations.has(`${prefix}:${command[2]}`)) continue;
        operations.add(`${prefix}:${command[2]}`);
      }
    }
    byFunction.set(id, operations);
  }
  return byFunction;
}

/** The permissions a set of calls needs: the calls, and what AWS checks beside them. */
function neededPermissions(
  operations: ReadonlySet<string>,
  options: { instanceRoles: boolean; sharing: { image: boolean; snapshots: boolean } },
): Set<string> {
  const needed = new Set<string>();
  for (const operation of operations) {
    if (operation === 'ec2:ModifyImageAttribute' && !options.sharing.image) continue;
    if (operation === 'ec2:ModifySnapshotAttribute' && !options.sharing.snapshots) continue;
    needed.add(operation);
  }
  for (const implied of impliedPermissions) {
    if (!operations.has(implied.operation)) continue;
    if (implied.onlyWith === 'instanceRoleArns' && !options.instanceRoles) continue;
    for (const action of implied.needs) needed.add(action);
  }
  return needed;
}

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
const templates = new WeakMap<AmiRolloutPipeline, Template>();

function templateOf(pipeline: AmiRolloutPipeline): Template {
  let template = templates.get(pipeline);
  if (!template) {
    const stack = Stack.of(pipeline);
    template = (App.of(pipeline) as App).synth().getStackByName(stack.stackName).template as Template;
    templates.set(pipeline, template);
  }
  return template;
}

/** What a role grants beyond its runtime needs, from the synthesized template. */
function grantedActions(pipeline: AmiRolloutPipeline, id: FunctionId): Set<string> {
  const stack = Stack.of(pipeline);
  const role = pipeline.rolePolicies[id]?.role;
  if (!role) throw new Error(`no role for ${id}`);
  const roleRef = JSON.stringify([{ Ref: stack.getLogicalId(role.node.defaultChild as never) }]);
  const template = templateOf(pipeline);
  const granted = new Set<string>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' || JSON.stringify(resource.Properties.Roles) !== roleRef)
      continue;
    const { Statement } = resource.Properties.PolicyDocument as {
      Statement: { Action: string | string[] }[];
    };
    for (const statement of Statement) for (const action of [statement.Action].flat()) granted.add(action);
  }
  for (const action of runtimeActions) granted.delete(action);
  return granted;
}

/** The difference both ways, as the failure message names it. */
function compare(needed: ReadonlySet<string>, granted: ReadonlySet<string>) {
  return {
    callsWithoutPermission: [...needed].filter((a) => !granted.has(a)).sort(),
    permissionsNoCallUses: [...granted].filter((a) => !needed.has(a)).sort(),
  };
}

const baseConfig: RolloutConfigInput = {
  amiParameterName: '/ami-rollout/golden-ami',
  launchTemplateIds: ['lt-0a1b2c3d4e5f60001'],
  autoScalingGroupNames: ['web'],
  trustedImageOwners: ['self'],
  notificationEmails: ['ops@example.com'],
};

function synthesize(input: RolloutConfigInput): AmiRolloutPipeline {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Iam', { env: { account: ACCOUNT, region: 'us-east-1' } });
  return new AmiRolloutPipeline(stack, 'Pipeline', { config: parseConfig(input) });
}

let operations: Map<FunctionId, Set<string>>;
let everything: AmiRolloutPipeline;
let nothingOptional: AmiRolloutPipeline;
let imageOnly: AmiRolloutPipeline;

beforeAll(async () => {
  operations = await operationsByFunction();
  everything = synthesize({
    ...baseConfig,
    shareWithAccountIds: ['444455556666'],
    shareWithOrganizationArns: ['arn:aws:organizations::111122223333:organization/o-abcde12345'],
    instanceRoleArns: [`arn:aws:iam::${ACCOUNT}:role/web-instance`],
  });
  nothingOptional = synthesize(baseConfig);
  imageOnly = synthesize({
    ...baseConfig,
    shareWithOrganizationArns: ['arn:aws:organizations::111122223333:organization/o-abcde12345'],
  });
}, 300_000);

describe('each function may make exactly the calls its code makes', () => {
  it('finds SDK commands in every bundle (the derivation itself works)', () => {
    expect([...operations.keys()].sort()).toEqual([...functionIds].sort());
    expect(operations.get('Notify')).toContain('sns:Publish');
    expect(operations.get('Preflight')).toContain('autoscaling:DescribeAutoScalingGroups');
    expect(operations.get('Preflight')).toContain('iam:GetInstanceProfile');
  });

  for (const id of functionIds) {
    it(`${id}: with every optional feature configured`, () => {
      const needed = neededPermissions(operations.get(id)!, {
        instanceRoles: true,
        sharing: { image: true, snapshots: true },
      });
      expect(compare(needed, grantedActions(everything, id))).toEqual({
        callsWithoutPermission: [],
        permissionsNoCallUses: [],
      });
    });

    it(`${id}: with none configured, and with only an organization to share with`, () => {
      for (const [pipeline, sharing] of [
        [nothingOptional, { image: false, snapshots: false }],
        [imageOnly, { image: true, snapshots: false }],
      ] as const) {
        const needed = neededPermissions(operations.get(id)!, { instanceRoles: false, sharing });
        expect(compare(needed, grantedActions(pipeline, id))).toEqual({
          callsWithoutPermission: [],
          permissionsNoCallUses: [],
        });
      }
    });
  }

  it('names the configuration behind every grant that depends on it', () => {
    expect(Object.keys(configuredOperations).sort()).toEqual([
      'ec2:ModifyImageAttribute',
      'ec2:ModifySnapshotAttribute',
    ]);
    for (const implied of impliedPermissions) expect(implied.reason.length).toBeGreaterThan(40);
  });

  it('reports a call with no permission and a permission no call uses', () => {
    expect(
      compare(
        new Set(['ssm:PutParameter', 'ssm:GetParameter']),
        new Set(['ssm:GetParameter', 'ssm:DeleteParameter']),
      ),
    ).toEqual({
      callsWithoutPermission: ['ssm:PutParameter'],
      permissionsNoCallUses: ['ssm:DeleteParameter'],
    });
  });
});

/**
 * The same tie for the state machines: what each Task of a definition needs (Step Functions developer guide,
 * "IAM policies for Step Functions": a Lambda function ARN is invoked; `states:startExecution.sync` and
 * `.sync:2` start the child, describe and stop its executions, and keep the managed EventBridge rule), against
 * what the machine's role grants besides logging and tracing.
 */
const machineRuntimeActions = new Set([
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  ...tracingActions,
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
]);
const syncChild = [
  'states:StartExecution',
  'states:DescribeExecution',
  'states:StopExecution',
  'events:PutTargets',
  'events:PutRule',
  'events:DescribeRule',
];

/** Every Task's Resource in a definition, through Map item processors (and iterators) and Parallel branches. */
function taskResources(machine: { States?: Record<string, Record<string, unknown>> }): string[] {
  return Object.values(machine.States ?? {}).flatMap((state) => {
    if (state.Type === 'Task') return [String(state.Resource)];
    if (state.Type === 'Map') return taskResources((state.ItemProcessor ?? state.Iterator) as never);
    if (state.Type === 'Parallel') return (state.Branches as never[]).flatMap((b) => taskResources(b));
    return [];
  });
}

function taskNeeds(resource: string): string[] {
  if (/^\$\{[A-Za-z]+FunctionArn\}$/.test(resource) || resource === 'arn:aws:states:::lambda:invoke')
    return ['lambda:InvokeFunction'];
  if (/^arn:aws:states:::states:startExecution\.sync(:2)?$/.test(resource)) return syncChild;
  if (resource === 'arn:aws:states:::states:startExecution') return ['states:StartExecution'];
  throw new Error(`a Task with Resource ${resource}: add what it needs to taskNeeds`);
}

describe('each state machine may do exactly what its Tasks need', () => {
  const definitions = buildDefinitions({ pollIntervalSeconds: 30 });
  const machines = [
    ['StateMachine', 'rollout'],
    ['BatchStateMachine', 'batch'],
    ['GroupStateMachine', 'group'],
  ] as const;

  it('finds the Tasks of every definition, inside a Map too', () => {
    expect(taskResources(definitions.batch as never)).toContain(
      'arn:aws:states:::states:startExecution.sync:2',
    );
    expect(taskResources(definitions.group as never).length).toBeGreaterThan(0);
  });

  for (const [owner, which] of machines) {
    it(`${owner} (${which})`, () => {
      const needed = new Set(taskResources(definitions[which] as never).flatMap(taskNeeds));
      const granted = new Set(
        [...grantedActions(everything, owner as never)].filter((a) => !machineRuntimeActions.has(a)),
      );
      expect(compare(needed, granted)).toEqual({ callsWithoutPermission: [], permissionsNoCallUses: [] });
    });
  }

  it('reports a Task it does not know', () => {
    expect(() => taskNeeds('arn:aws:states:::sqs:sendMessage')).toThrow(/add what it needs/);
  });
});
