import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  arnPlaceholder,
  buildDefinitions,
  renderDefinition,
  stepFunctionNames,
  type StepFunctionName,
} from '../../src/statemachine/definition.ts';
import { steps } from '../../src/steps/index.ts';

interface AslValidation {
  readonly isValid: boolean;
  readonly errors: readonly { readonly message?: string; readonly 'Error code'?: string }[];
  errorsText(separator?: string): string;
}
/** asl-validator is CommonJS without type declarations; its documented API is this one function. */
const validateAsl = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => AslValidation;

interface State {
  readonly Type: string;
  readonly Parameters?: { readonly StateMachineArn?: string };
  readonly Branches?: readonly Machine[];
  readonly ItemProcessor?: Machine;
  readonly MaxConcurrencyPath?: string;
  readonly Resource?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly End?: boolean;
  readonly Seconds?: number;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
}

interface Machine extends Record<string, unknown> {
  readonly StartAt: string;
  readonly States: Record<string, State>;
}
type Kind = 'rollout' | 'batch' | 'group';
const kinds: readonly Kind[] = ['rollout', 'batch', 'group'];
const machines = (pollIntervalSeconds = 60) =>
  buildDefinitions({ pollIntervalSeconds }) as unknown as Record<Kind, Machine>;
const definition = (pollIntervalSeconds = 60) => machines(pollIntervalSeconds).rollout;
const childArns = {
  batch: 'arn:aws:states:us-east-1:111122223333:stateMachine:ami-rollout-batch',
  group: 'arn:aws:states:us-east-1:111122223333:stateMachine:ami-rollout-group',
};

/** Every state of a machine, with those inside Parallel branches and Map processors. */
function* allStates(machine: Machine): Generator<[string, State]> {
  for (const [name, state] of Object.entries(machine.States)) {
    yield [name, state];
    for (const nested of [...(state.Branches ?? []), ...(state.ItemProcessor ? [state.ItemProcessor] : [])])
      yield* allStates(nested);
  }
}

const functionArns = Object.fromEntries(
  stepFunctionNames.map((step) => [
    step,
    `arn:aws:lambda:us-east-1:111122223333:function:ami-rollout-${step}`,
  ]),
) as Record<StepFunctionName, string>;

/** The states a state can go to next. */
const successors = (state: State): string[] => [
  ...(state.Next ? [state.Next] : []),
  ...(state.Default ? [state.Default] : []),
  ...(state.Choices ?? []).map((c) => c.Next),
  ...(state.Catch ?? []).map((c) => c.Next),
];

describe('the rollout state machine definition', () => {
  it.each(kinds)(
    'the %s machine is valid Amazon States Language as deployed (ARNs substituted), paths and ARNs checked',
    (kind) => {
      const rendered: unknown = JSON.parse(renderDefinition(machines()[kind], functionArns, childArns));
      const result = validateAsl(rendered, { checkPaths: true, checkArn: true });
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    },
  );

  it('starts each child machine with .sync:2 from its parent: rollout -> batch -> group', () => {
    const started = (machine: Machine) =>
      [...allStates(machine)]
        .filter(([, s]) => s.Resource === 'arn:aws:states:::states:startExecution.sync:2')
        .map(([, s]) => s.Parameters?.StateMachineArn);
    expect(new Set(started(machines().rollout))).toEqual(new Set(['${BatchStateMachineArn}']));
    expect(new Set(started(machines().batch))).toEqual(new Set(['${GroupStateMachineArn}']));
    expect(started(machines().group)).toEqual([]);
  });

  it('bounds each lane of a batch by Inline Map concurrency read from the plan', () => {
    const maps = Object.fromEntries([...allStates(machines().batch)].filter(([, s]) => s.Type === 'Map'));
    expect(Object.keys(maps).sort()).toEqual(['Groups', 'Lanes']);
    expect(maps['Lanes']).toMatchObject({ ItemsPath: '$.plan.lanes', MaxConcurrency: 5 });
    expect(maps['Groups']).toMatchObject({
      ItemsPath: '$.lane.items',
      MaxConcurrencyPath: '$.lane.maxConcurrency',
    });
  });

  it('would be rejected by asl-validator with a Catch to a state that does not exist', () => {
    // The control for the test above: the validator does look at this definition's transitions. (The
    // placeholder form itself cannot be checked: asl-validator reads `${...}` as both an ARN and JSONata.)
    const broken = definition();
    broken.States['ShareAmi'] = {
      ...broken.States['ShareAmi']!,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RollbakAmi' }],
    };
    const result = validateAsl(JSON.parse(renderDefinition(broken, functionArns, childArns)), {
      checkPaths: true,
      checkArn: true,
    });
    expect(result.isValid).toBe(false);
    expect(result.errorsText('\n')).toMatch(/MISSING_TRANSITION_TARGET.*RollbakAmi/);
  });

  it("gives every Task state's Resource placeholder a step handler, and every step handler a Task", () => {
    const tasks = kinds
      .flatMap((kind) => [...allStates(machines()[kind])])
      .filter(([, s]) => s.Type === 'Task' && !s.Resource?.startsWith('arn:aws:states:::states:'));
    const used = new Set<string>();
    for (const [name, state] of tasks) {
      const step = /^\$\{([A-Za-z]+)FunctionArn\}$/.exec(state.Resource ?? '')?.[1];
      expect(step, `${name}.Resource ${state.Resource}`).toBeDefined();
      expect(Object.keys(steps), `${name}.Resource ${state.Resource}`).toContain(step);
      expect(state.Resource).toBe(`\${${arnPlaceholder(step as StepFunctionName)}}`);
      used.add(step!);
    }
    expect([...used].sort()).toEqual(Object.keys(steps).sort());
    expect([...stepFunctionNames].sort()).toEqual(Object.keys(steps).sort());
  });

  it('names, for each step, a source file the CDK app can bundle', () => {
    for (const [step, { entry }] of Object.entries(steps)) {
      expect(entry, step).toMatch(/^src\/steps\/[a-z-]+\.ts$/);
    }
  });

  it.each(kinds)('reaches every state of the %s machine from StartAt (no dead states)', (kind) => {
    const { StartAt, States } = machines()[kind];
    const seen = new Set<string>();
    const queue = [StartAt];
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      seen.add(name);
      queue.push(...successors(States[name]!));
    }
    expect([...seen].sort()).toEqual(Object.keys(States).sort());
  });

  it('catches every error of every Task state of the rollout, so no failure ends it without a notification', () => {
    // A batch's or a group's failure fails its execution, and with it the rollout's RunBatch Task, which catches.
    for (const [name, state] of Object.entries(definition().States)) {
      if (state.Type !== 'Task') continue;
      expect(
        state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')),
        `${name} has no States.ALL Catch`,
      ).toBe(true);
    }
  });

  it('ends a failed rollout only in Fail states reached through a notification', () => {
    const { States } = definition();
    const fails = Object.keys(States).filter((name) => States[name]!.Type === 'Fail');
    expect(fails.sort()).toEqual([
      'NotifyFailure',
      'PreflightFailed',
      'RollbackFailed',
      'RolledBackOnRequest',
    ]);
    // A Choice between the notification and its Fail state (RolledBackWhy) counts as on the way from it.
    const predecessors = (state: string): string[] =>
      Object.keys(States)
        .filter((name) => successors(States[name]!).includes(state))
        .flatMap((name) => (States[name]!.Type === 'Choice' ? predecessors(name) : [name]));
    for (const fail of fails) {
      const from = predecessors(fail);
      expect(from.length, fail).toBeGreaterThan(0);
      for (const name of from)
        expect(States[name]!.Resource, `${name} -> ${fail}`).toBe('${NotifyFunctionArn}');
    }
  });

  it('waits pollIntervalSeconds between two status checks', () => {
    const { States } = machines(45).group;
    expect(States['WaitForRefresh']).toMatchObject({ Type: 'Wait', Seconds: 45 });
    expect(States['WaitForRollbackRefresh']).toMatchObject({ Type: 'Wait', Seconds: 45 });
  });

  it('fails when pollIntervalSeconds is not a whole number of seconds, 1 or more', () => {
    expect(() => buildDefinitions({ pollIntervalSeconds: 0 })).toThrow(
      'pollIntervalSeconds 0: must be a whole number of seconds, 1 or more',
    );
    expect(() => buildDefinitions({ pollIntervalSeconds: 1.5 })).toThrow(RangeError);
  });

  it('fails to render when a step has no function ARN, naming the placeholder', () => {
    const { Notify: _notify, ...withoutNotify } = functionArns;
    expect(() =>
      renderDefinition(definition(), withoutNotify as Record<StepFunctionName, string>, childArns),
    ).toThrow('renderDefinition: no ARN for ${NotifyFunctionArn}');
    expect(() => renderDefinition(definition(), functionArns)).toThrow(
      'renderDefinition: no ARN for ${BatchStateMachineArn}',
    );
  });
});
