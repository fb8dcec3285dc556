import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  arnPlaceholder,
  buildDefinition,
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
  readonly Resource?: string;
  readonly Next?: string;
  readonly Default?: string;
  readonly End?: boolean;
  readonly Seconds?: number;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
}

const definition = (pollIntervalSeconds = 60) =>
  buildDefinition({ pollIntervalSeconds }) as { StartAt: string; States: Record<string, State> };

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
  it('is valid Amazon States Language as deployed (function ARNs substituted), paths and ARNs checked', () => {
    const rendered: unknown = JSON.parse(renderDefinition(definition(), functionArns));
    const result = validateAsl(rendered, { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('would be rejected by asl-validator with a Catch to a state that does not exist', () => {
    // The control for the test above: the validator does look at this definition's transitions. (The
    // placeholder form itself cannot be checked: asl-validator reads `${...}` as both an ARN and JSONata.)
    const broken = definition();
    broken.States['ShareAmi'] = {
      ...broken.States['ShareAmi']!,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'RollbakAmi' }],
    };
    const result = validateAsl(JSON.parse(renderDefinition(broken, functionArns)), {
      checkPaths: true,
      checkArn: true,
    });
    expect(result.isValid).toBe(false);
    expect(result.errorsText('\n')).toMatch(/MISSING_TRANSITION_TARGET.*RollbakAmi/);
  });

  it("gives every Task state's Resource placeholder a step handler, and every step handler a Task", () => {
    const tasks = Object.entries(definition().States).filter(([, s]) => s.Type === 'Task');
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

  it('reaches every state from StartAt (no dead states)', () => {
    const { StartAt, States } = definition();
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

  it('catches every error of every Task state, so no failure ends the execution without a notification', () => {
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
    expect(fails.sort()).toEqual(['NotifyFailure', 'PreflightFailed', 'RollbackFailed']);
    for (const fail of fails) {
      const from = Object.keys(States).filter((name) => successors(States[name]!).includes(fail));
      expect(from.length, fail).toBeGreaterThan(0);
      for (const name of from)
        expect(States[name]!.Resource, `${name} -> ${fail}`).toBe('${NotifyFunctionArn}');
    }
  });

  it('waits pollIntervalSeconds between two status checks', () => {
    const { States } = definition(45);
    expect(States['WaitForRefresh']).toMatchObject({ Type: 'Wait', Seconds: 45 });
    expect(States['WaitForRollbackRefresh']).toMatchObject({ Type: 'Wait', Seconds: 45 });
  });

  it('fails when pollIntervalSeconds is not a whole number of seconds, 1 or more', () => {
    expect(() => buildDefinition({ pollIntervalSeconds: 0 })).toThrow(
      'pollIntervalSeconds 0: must be a whole number of seconds, 1 or more',
    );
    expect(() => buildDefinition({ pollIntervalSeconds: 1.5 })).toThrow(RangeError);
  });

  it('fails to render when a step has no function ARN, naming the placeholder', () => {
    const { Notify: _notify, ...withoutNotify } = functionArns;
    expect(() => renderDefinition(definition(), withoutNotify as Record<StepFunctionName, string>)).toThrow(
      'renderDefinition: no ARN for ${NotifyFunctionArn}',
    );
  });
});
