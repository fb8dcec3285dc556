import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type StateDefinition = Record<string, unknown> & { Type: string };
export type Definition = {
  StartAt: string;
  States: Record<string, StateDefinition>;
  TimeoutSeconds?: unknown;
};

export class ExecutionDefinitionError extends Error {
  override readonly name = 'ExecutionDefinitionError';
}

/**
 * The interpreter counts a Task's TimeoutSeconds in real time; the local account sets it to this, under the
 * 2^31 ms a Node timer can hold, so only virtual time matters.
 */
export const REAL_TIME_OUT_OF_REACH_SECONDS = 2_000_000;

/** The Resource a Map state becomes in the interpreted definition: the local account runs Map itself. */
export const LOCAL_MAP_RESOURCE = 'arn:aws:states:::local:map';

/**
 * One definition (or one Map state's ItemProcessor), prepared once for aws-local-stepfunctions and shared by every
 * execution of it: parsing, the rewrite below and the interpreter's validation (asl-validator, the costly part) run
 * once per definition text, and each execution is one `run()` of a cached StateMachine with its own overrides.
 *
 * The rewrite: every Wait and retry interval is overridden to 0 at run time (the history recorder keeps time), every
 * Task's TimeoutSeconds is set out of reach of real time, and every Map state becomes a Task bound to the local
 * account's Map (execution.ts), which runs each iteration as its own run on the virtual timeline: the interpreter's
 * own Map would run all iterations through one recorder, so their Waits would add up instead of overlapping.
 */
export class CompiledDefinition {
  /** The definition as written: states by name, in this scope and in nested Parallel branches. */
  readonly states = new Map<string, StateDefinition>();
  /** Each Map state's ItemProcessor (or Iterator), compiled the same way. */
  readonly iterators = new Map<string, CompiledDefinition>();
  /** Names of the states bound to local handlers: Tasks and Maps. */
  readonly taskStates: string[] = [];
  readonly waitStates: string[] = [];
  readonly retryStates: string[] = [];
  readonly timeoutSeconds: number | undefined;
  readonly startAt: string;
  /** The states at this definition's top level (not in Parallel branches): where a redrive can start. */
  readonly topLevel: ReadonlySet<string>;
  private readonly interpreted: Definition;
  private readonly machines = new Map<string, StateMachine>();

  constructor(definition: Definition, isTopLevel: boolean) {
    this.startAt = definition.StartAt;
    this.topLevel = new Set(Object.keys(definition.States));
    this.timeoutSeconds =
      isTopLevel && typeof definition.TimeoutSeconds === 'number' ? definition.TimeoutSeconds : undefined;
    // The definition as written, with its Map states' ItemProcessors (the validator checks every nested
    // States), is validated once, by the interpreter's own validator; the rewrites of it are not again. Each
    // validation compiles the ASL JSON schemas anew (asl-validator makes a new Ajv per call, 150 to 700 ms here).
    // (The validator writes a QueryLanguage into every state it checks: it is given a copy.)
    if (isTopLevel) {
      new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition, {
        validationOptions: { checkArn: false },
      });
    }
    this.interpreted = this.rewrite(definition);
  }

  private rewrite(definition: Definition): Definition {
    const states: Record<string, StateDefinition> = {};
    for (const [name, state] of Object.entries(definition.States)) {
      this.states.set(name, state);
      if (Array.isArray(state.Retry)) this.retryStates.push(name);
      if (state.Type === 'Wait') this.waitStates.push(name);
      if (state.Type === 'Map') {
        states[name] = this.rewriteMap(name, state);
        continue;
      }
      const copy: StateDefinition = { ...state };
      if (state.Type === 'Task') {
        this.taskStates.push(name);
        // The interpreter times a Task in real time (60 s by default), and a Task's gate can wait a long Wait
        // out in real time under the emulator's --speed: so the interpreter's limit is set out of reach.
        delete copy.TimeoutSecondsPath;
        copy.TimeoutSeconds = REAL_TIME_OUT_OF_REACH_SECONDS;
      }
      if (state.Type === 'Parallel' && Array.isArray(state.Branches))
        copy.Branches = (state.Branches as Definition[]).map((branch) => this.rewrite(branch));
      states[name] = copy;
    }
    // The execution's own TimeoutSeconds runs in virtual time (execution.ts); the interpreter would time it in
    // real time.
    const {
      TimeoutSeconds: _timeout,
      ProcessorConfig: _config,
      ...rest
    } = definition as Definition & { ProcessorConfig?: unknown };
    return { ...rest, States: states };
  }

  private rewriteMap(name: string, state: StateDefinition): StateDefinition {
    const processor = (state.ItemProcessor ?? state.Iterator) as
      (Definition & { ProcessorConfig?: { Mode?: string } }) | undefined;
    if (!processor || typeof processor !== 'object')
      throw new ExecutionDefinitionError(`Map state ${name} has no ItemProcessor.`);
    if (processor.ProcessorConfig?.Mode === 'DISTRIBUTED' || state.ItemReader !== undefined)
      throw new ExecutionDefinitionError(
        `Map state ${name} is a Distributed Map: the local account runs Inline Map states only.`,
      );
    this.iterators.set(name, new CompiledDefinition(processor, false));
    this.taskStates.push(name);
    const task: StateDefinition = { Type: 'Task', Resource: LOCAL_MAP_RESOURCE };
    // What the interpreter's Task does the same way as a Map: InputPath before, ResultSelector, ResultPath and
    // OutputPath after, Retry and Catch. ItemsPath, ItemSelector (or the older Parameters) and MaxConcurrency are
    // the local Map's to apply.
    for (const key of [
      'Comment',
      'InputPath',
      'ResultSelector',
      'ResultPath',
      'OutputPath',
      'Retry',
      'Catch',
      'Next',
      'End',
    ])
      if (key in state) task[key] = state[key];
    task.TimeoutSeconds = REAL_TIME_OUT_OF_REACH_SECONDS;
    return task;
  }

  /** The interpreter for this definition, starting at `startAt` (a redrive starts at the state that failed). */
  machine(startAt = this.startAt): StateMachine {
    let machine = this.machines.get(startAt);
    if (!machine) {
      if (!this.states.has(startAt) || !Object.hasOwn(this.interpreted.States, startAt))
        throw new ExecutionDefinitionError(`No top-level state ${startAt} to start at.`);
      machine = new StateMachine(
        { ...this.interpreted, StartAt: startAt } as unknown as StateMachineDefinition,
        {
          // The definition as written was validated once, in the constructor; this is the rewrite of it.
          validationOptions: { noValidate: true },
        },
      );
      this.machines.set(startAt, machine);
    }
    return machine;
  }
}

/** Compiled definitions by definition text: one rollout starts thousands of executions of three definitions. */
const cache = new Map<string, CompiledDefinition>();
const CACHE_LIMIT = 64;

export function compile(definitionText: string): CompiledDefinition {
  let compiled = cache.get(definitionText);
  if (compiled) {
    // Most recently used last, so the oldest is the one dropped.
    cache.delete(definitionText);
    cache.set(definitionText, compiled);
    return compiled;
  }
  compiled = new CompiledDefinition(JSON.parse(definitionText) as Definition, true);
  cache.set(definitionText, compiled);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return compiled;
}

/**
 * Evaluates a payload template (`{ "a.$": "$.x", "b.$": "$$.Map.Item.Value" }`, intrinsic functions included) the
 * way the interpreter does, by running it as a Pass state's Parameters: for ItemSelector, ItemsPath and
 * MaxConcurrencyPath, which the local Map applies itself.
 */
const templates = new Map<string, StateMachine>();
export async function evaluateTemplate(
  template: Json,
  input: Json,
  context: Record<string, unknown>,
): Promise<Json> {
  const key = JSON.stringify(template);
  let machine = templates.get(key);
  if (!machine) {
    machine = new StateMachine(
      {
        StartAt: 'T',
        States: { T: { Type: 'Pass', Parameters: template, End: true } },
      } as unknown as StateMachineDefinition,
      { validationOptions: { noValidate: true } },
    );
    if (templates.size > 256) templates.clear();
    templates.set(key, machine);
  }
  const run = machine.run(input, { context });
  // The event log is not read: drain it so it holds nothing.
  void (async () => {
    for await (const _ of run.eventLogs);
  })();
  try {
    return (await run.result) as Json;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw new ExecutionDefinitionError(
      cause instanceof Error ? cause.message : String((error as Error).message),
    );
  }
}
