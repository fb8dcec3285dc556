/**
 * TEMPORARY STUB, infra branch only: the lead replaces this file with src/statemachine/definition.ts (and
 * src/steps) on merge. It mirrors the design contract's exports so src/infra compiles and synthesizes before
 * they land. Every import of this file in src/infra and test/infra becomes an import of the real module:
 *   stepFunctionNames, StepFunctionName, arnPlaceholder, childMachinePlaceholders, buildDefinitions,
 *   renderDefinition                          -> src/statemachine/definition.ts
 *   stepEntry(step)                           -> steps[step].entry (src/steps/index.ts)
 *   LEDGER_TABLE_ENV                          -> src/steps/dependencies.ts
 *   pendingInThisBranch                       -> delete it, and the code in test/infra/permissions.test.ts using it
 * The definitions below only have the contract's shape (which Lambda each machine invokes, the .sync:2 Tasks,
 * the Map); they do nothing useful.
 */
import { steps } from '../steps/index.ts';

export const stepFunctionNames = [
  'Preflight',
  'ShareAmi',
  'UpdateLaunchTemplates',
  'PlanBatch',
  'FinishBatch',
  'TriggerInstanceRefresh',
  'CheckRefreshStatus',
  'RollbackAmi',
  'TriggerRollbackRefresh',
  'CheckRollbackRefresh',
  'Notify',
] as const;
export type StepFunctionName = (typeof stepFunctionNames)[number];
export const arnPlaceholder = (step: StepFunctionName): string => `${step}FunctionArn`;
export const childMachinePlaceholders = {
  batch: 'BatchStateMachineArn',
  group: 'GroupStateMachineArn',
} as const;
export const LEDGER_TABLE_ENV = 'AMI_ROLLOUT_LEDGER_TABLE';

export interface Definitions {
  readonly rollout: Record<string, unknown>;
  readonly batch: Record<string, unknown>;
  readonly group: Record<string, unknown>;
}

/** The bundle entry of a step: `steps[step].entry`, and the contract's file for the two steps not on main yet. */
export function stepEntry(step: StepFunctionName): string {
  const onMain = (steps as Partial<Record<string, { entry: string }>>)[step];
  const landing: Partial<Record<string, string>> = {
    PlanBatch: 'src/steps/plan-batch.ts',
    FinishBatch: 'src/steps/finish-batch.ts',
  };
  return onMain?.entry ?? landing[step]!;
}

/**
 * What the core branch's steps call and this branch's do not (test/infra/permissions.test.ts adds it): the steps
 * not on main, calls beyond main's, and (`ledgerCallsBundled: false`) every `ledgerActions` list.
 */
export const pendingInThisBranch: {
  readonly entries: readonly StepFunctionName[];
  readonly calls: Partial<Record<StepFunctionName, readonly string[]>>;
  readonly ledgerCallsBundled: boolean;
} = {
  entries: ['PlanBatch', 'FinishBatch'],
  ledgerCallsBundled: false,
  calls: { Preflight: ['states:DescribeExecution'], PlanBatch: ['states:DescribeExecution'] },
};

type State = Record<string, unknown>;
const lambda = (step: StepFunctionName, next?: string): State => ({
  Type: 'Task',
  Resource: `\${${arnPlaceholder(step)}}`,
  ...(next ? { Next: next } : { End: true }),
});
const child = (placeholder: string, next?: string): State => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::states:startExecution.sync:2',
  Parameters: {
    StateMachineArn: `\${${placeholder}}`,
    Input: { 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id' },
  },
  ...(next ? { Next: next } : { End: true }),
});
const chain = (states: [string, (next?: string) => State][]): State => ({
  StartAt: states[0]![0],
  States: Object.fromEntries(states.map(([name, make], i) => [name, make(states[i + 1]?.[0])])),
});

export function buildDefinitions(options: { readonly pollIntervalSeconds: number }): Definitions {
  return {
    rollout: chain([
      ['Preflight', (n) => lambda('Preflight', n)],
      ['ShareAmi', (n) => lambda('ShareAmi', n)],
      ['UpdateLaunchTemplates', (n) => lambda('UpdateLaunchTemplates', n)],
      ['RunBatch', (n) => child(childMachinePlaceholders.batch, n)],
      ['RollbackAmi', (n) => lambda('RollbackAmi', n)],
      ['Notify', (n) => lambda('Notify', n)],
    ]),
    batch: chain([
      ['PlanBatch', (n) => lambda('PlanBatch', n)],
      [
        'Groups',
        (n) => ({
          Type: 'Map',
          ItemsPath: '$.plan.items',
          ItemProcessor: chain([['RunGroup', (m) => child(childMachinePlaceholders.group, m)]]),
          ResultPath: null,
          Next: n,
        }),
      ],
      ['FinishBatch', (n) => lambda('FinishBatch', n)],
    ]),
    group: chain([
      ['TriggerInstanceRefresh', (n) => lambda('TriggerInstanceRefresh', n)],
      ['Wait', (n) => ({ Type: 'Wait', Seconds: options.pollIntervalSeconds, Next: n })],
      ['CheckRefreshStatus', (n) => lambda('CheckRefreshStatus', n)],
      ['TriggerRollbackRefresh', (n) => lambda('TriggerRollbackRefresh', n)],
      ['CheckRollbackRefresh', (n) => lambda('CheckRollbackRefresh', n)],
    ]),
  };
}

export function renderDefinition(
  definition: Record<string, unknown>,
  functionArns: Readonly<Record<StepFunctionName, string>>,
  stateMachineArns?: Readonly<{ batch?: string; group?: string }>,
): string {
  return JSON.stringify(definition, null, 2).replace(
    /\$\{([A-Za-z]+)(FunctionArn|StateMachineArn)\}/g,
    (placeholder, name: string, kind: string) => {
      const arn =
        kind === 'FunctionArn'
          ? (functionArns as Record<string, string>)[name]
          : stateMachineArns?.[name.toLowerCase() as 'batch' | 'group'];
      if (!arn) throw new Error(`renderDefinition: no ARN for ${placeholder}`);
      return arn;
    },
  );
}
