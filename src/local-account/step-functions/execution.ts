import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LocalAccount } from '../account.ts';
import type { LambdaRegistry } from './lambdas.ts';

// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22+). Node 20 lacks it; this is the spec's behaviour.
if (!('withResolvers' in Promise)) {
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (value: T) => void;
      let reject!: (reason: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** Step Functions Standard: at most 25,000 history events per execution; 256 KiB per state input or output. */
export const MAX_HISTORY_EVENTS = 25_000;
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A Step Functions history event, with the member names of the GetExecutionHistory API. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StateDefinition = Record<string, unknown> & { Type: string };
type Definition = { StartAt: string; States: Record<string, StateDefinition> };

export class ExecutionDefinitionError extends Error {
  override readonly name = 'ExecutionDefinitionError';
}

/**
 * One execution of a state machine on the local account, run by aws-local-stepfunctions.
 *
 * Virtual time: every Wait state (and every retry interval) is overridden to take no real time. The history
 * recorder, which reads the interpreter's event log on microtasks, moves the account's clock forward by the time
 * the state asked for when it sees the state's entry. Only Tasks read the clock, and each Task first yields one
 * macrotask (setImmediate), by which time every microtask, and so the recorder, has caught up: a Wait of 60 s
 * takes 60 virtual seconds, the fleet simulation runs during them, and the next Task sees the later time.
 */
export class LocalExecution {
  status: ExecutionStatus = 'RUNNING';
  readonly startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  readonly history: HistoryEvent[] = [];
  /** Counts what Step Functions bills: one per state entered, plus retries. */
  stateTransitions = 0;
  /** Resolves when the execution has ended and its whole history is recorded. */
  readonly done: Promise<void>;
  private readonly abort: () => void;
  private readonly definition: Definition;

  constructor(
    private readonly account: LocalAccount,
    readonly executionArn: string,
    readonly stateMachineArn: string,
    readonly name: string,
    readonly input: string,
    definitionText: string,
    lambdas: LambdaRegistry,
    readonly roleArn: string,
  ) {
    this.startDate = account.now();
    this.definition = JSON.parse(definitionText) as Definition;
    const taskResourceLocalHandlers = bindTasks(this.definition, lambdas);
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [stateName, state] of allStates(this.definition)) {
      if (state.Type === 'Wait') waitTimeOverrides[stateName] = 0;
      if (Array.isArray(state.Retry)) retryIntervalOverrides[stateName] = 0;
    }
    const machine = new StateMachine(this.definition as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false },
    });
    const run = machine.run(JSON.parse(input) as Json, {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          Input: JSON.parse(input) as Json,
          StartTime: this.startDate.toISOString(),
          RoleArn: roleArn,
        },
        StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
      },
    });
    this.abort = run.abort;
    const recorded = this.record(run.eventLogs);
    const finished = run.result.then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    this.done = Promise.all([recorded, finished]).then(([, outcome]) => {
      if (this.status !== 'RUNNING') return;
      // The event log normally ends the execution; this covers an interpreter error that logged nothing.
      if (outcome.ok) this.finish('SUCCEEDED', { output: JSON.stringify(outcome.result ?? null) });
      else
        this.finish('FAILED', {
          error: 'States.Runtime',
          cause: outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
        });
    });
  }

  /** StopExecution: ends the execution as ABORTED. */
  stop(error?: string, cause?: string): void {
    if (this.status !== 'RUNNING') return;
    this.finish('ABORTED', { ...(error ? { error } : {}), ...(cause ? { cause } : {}) });
    this.addEvent('ExecutionAborted', {
      executionAbortedEventDetails: { ...(error ? { error } : {}), ...(cause ? { cause } : {}) },
    });
    this.abort();
  }

  private finish(
    status: ExecutionStatus,
    outcome: { output?: string; error?: string; cause?: string },
  ): void {
    this.status = status;
    this.stopDate = this.account.now();
    if (outcome.output !== undefined) this.output = outcome.output;
    if (outcome.error !== undefined) this.error = outcome.error;
    if (outcome.cause !== undefined) this.cause = outcome.cause;
  }

  private addEvent(type: string, details: Record<string, unknown> = {}): void {
    const id = this.history.length + 1;
    this.history.push({ id, previousEventId: id - 1, timestamp: this.account.now(), type, ...details });
    if (this.status !== 'RUNNING') return;
    // Step Functions' hard limits, so a rehearsal fails where AWS would instead of passing on a laptop.
    if (this.history.length >= MAX_HISTORY_EVENTS - 1) {
      this.failHard(
        'States.Runtime',
        `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`,
      );
      return;
    }
    for (const detail of Object.values(details)) {
      if (!detail || typeof detail !== 'object') continue;
      for (const key of ['input', 'output'] as const) {
        const text = (detail as Record<string, unknown>)[key];
        if (typeof text === 'string' && Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
          this.failHard(
            'States.DataLimitExceeded',
            `The state/task '${type}' returned a result with a size exceeding the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES}).`,
          );
          return;
        }
      }
    }
  }

  /** Ends the execution as AWS does when a hard limit is crossed: FAILED, with no Catch running. */
  private failHard(error: string, cause: string): void {
    this.finish('FAILED', { error, cause });
    this.history.push({
      id: this.history.length + 1,
      previousEventId: this.history.length,
      timestamp: this.account.now(),
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error, cause },
    });
    this.abort();
  }

  private async record(events: AsyncGenerator<LoggedEvent>): Promise<void> {
    for await (const event of events) {
      if (this.status !== 'RUNNING') continue;
      this.translate(event);
    }
  }

  /** Turns the interpreter's events into the events AWS records, and moves virtual time for waits and retries. */
  private translate(event: LoggedEvent): void {
    const json = (value: unknown) => JSON.stringify(value ?? null);
    switch (event.type) {
      case 'ExecutionStarted':
        return this.addEvent('ExecutionStarted', {
          executionStartedEventDetails: { input: this.input, roleArn: this.roleArn },
        });
      case 'ExecutionSucceeded': {
        const output = json(event.output);
        this.addEvent('ExecutionSucceeded', { executionSucceededEventDetails: { output } });
        return this.finish('SUCCEEDED', { output });
      }
      case 'ExecutionFailed': {
        const error = String(event.Error ?? 'States.Runtime');
        const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
        this.addEvent('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
        return this.finish('FAILED', { error, cause });
      }
      case 'ExecutionTimeout':
        this.addEvent('ExecutionTimedOut', { executionTimedOutEventDetails: {} });
        return this.finish('TIMED_OUT', {});
      case 'ExecutionAborted':
        return;
      case 'StateEntered': {
        const state = event.state!;
        this.stateTransitions++;
        this.retryAttempts.delete(state.name);
        this.addEvent(`${state.type}StateEntered`, {
          stateEnteredEventDetails: { name: state.name, input: json(state.input) },
        });
        if (state.type === 'Task') {
          const resource = String(this.stateDefinition(state.name)?.Resource ?? '');
          this.addEvent('LambdaFunctionScheduled', {
            lambdaFunctionScheduledEventDetails: { resource, input: json(state.input) },
          });
          this.addEvent('LambdaFunctionStarted');
        }
        if (state.type === 'Wait') this.account.advance(this.waitSeconds(state.name, state.input));
        return;
      }
      case 'StateExited': {
        const state = event.state!;
        if (state.type === 'Fail') return;
        if (state.type === 'Task')
          this.addEvent('LambdaFunctionSucceeded', {
            lambdaFunctionSucceededEventDetails: { output: json(state.output) },
          });
        this.addEvent(`${state.type}StateExited`, {
          stateExitedEventDetails: { name: state.name, output: json(state.output) },
        });
        return;
      }
      case 'StateFailed': {
        const state = event.state!;
        if (state.type === 'Task') {
          const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
          this.addEvent('LambdaFunctionFailed', {
            lambdaFunctionFailedEventDetails: { error: String(event.Error), cause },
          });
        }
        // The interpreter retries right after its (overridden) sleep, before it logs StateRetried; so the retry
        // interval is decided here, with the interpreter's own rules, and the clock moves before the retry runs.
        const interval = this.retryInterval(state.name, state.type, String(event.Error));
        if (interval !== undefined) this.account.advance(interval);
        return;
      }
      case 'StateRetried':
        this.stateTransitions++;
        return;
      default:
        return;
    }
  }

  /** Attempts used per retrier of the state now running; a state entered afresh starts again from zero. */
  private readonly retryAttempts = new Map<string, number[]>();

  /** Seconds before the retry of `stateName` after `error`, or undefined when it will not be retried (ASL rules). */
  private retryInterval(stateName: string, stateType: string, error: string): number | undefined {
    const retriers = (this.stateDefinition(stateName)?.Retry ?? []) as Retrier[];
    const attempts = this.retryAttempts.get(stateName) ?? retriers.map(() => 0);
    this.retryAttempts.set(stateName, attempts);
    const index = retriers.findIndex((r) =>
      r.ErrorEquals.some(
        (e) =>
          e === error ||
          e === 'States.ALL' ||
          (e === 'States.TaskFailed' && stateType === 'Task' && error !== 'States.Timeout'),
      ),
    );
    if (index < 0) return undefined;
    const retrier = retriers[index]!;
    if (attempts[index]! >= (retrier.MaxAttempts ?? 3)) return undefined;
    const interval = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, attempts[index]!);
    attempts[index]!++;
    return Math.min(interval, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
  }

  private stateDefinition(name: string): StateDefinition | undefined {
    for (const [stateName, state] of allStates(this.definition)) if (stateName === name) return state;
    return undefined;
  }

  /** The virtual seconds a Wait state asks for: Seconds, SecondsPath, Timestamp or TimestampPath. */
  private waitSeconds(stateName: string, input: unknown): number {
    const state = this.stateDefinition(stateName) ?? { Type: 'Wait' };
    if (typeof state.Seconds === 'number') return state.Seconds;
    if (typeof state.SecondsPath === 'string') return Number(readPath(input, state.SecondsPath)) || 0;
    const timestamp =
      typeof state.Timestamp === 'string'
        ? state.Timestamp
        : typeof state.TimestampPath === 'string'
          ? String(readPath(input, state.TimestampPath))
          : undefined;
    if (timestamp === undefined) return 0;
    return Math.max(0, (Date.parse(timestamp) - this.account.now().getTime()) / 1000);
  }
}

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
}

interface LoggedEvent {
  type: string;
  output?: unknown;
  Error?: unknown;
  Cause?: unknown;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  retry?: {
    retrier: { IntervalSeconds?: number; BackoffRate?: number; MaxDelaySeconds?: number };
    attempt: number;
  };
}

/** Every state of the definition, including those inside Parallel branches and Map iterators. */
function* allStates(definition: Definition): Generator<[string, StateDefinition]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state];
    const nested = [
      ...(Array.isArray(state.Branches) ? (state.Branches as Definition[]) : []),
      ...(state.Iterator ? [state.Iterator as Definition] : []),
      ...(state.ItemProcessor ? [state.ItemProcessor as Definition] : []),
    ];
    for (const branch of nested) yield* allStates(branch);
  }
}

/** Reads a simple JSONPath (`$.a.b`) from a state's input. */
function readPath(input: unknown, path: string): unknown {
  if (!/^\$(\.[A-Za-z0-9_]+)*$/.test(path))
    throw new ExecutionDefinitionError(`The local account reads only simple paths like $.a.b, not ${path}`);
  return path
    .split('.')
    .slice(1)
    .reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      input,
    );
}

/**
 * Binds every Task state to local code. A Lambda resource is either the function ARN itself or
 * `arn:aws:states:::lambda:invoke` with Parameters.FunctionName (whose result AWS wraps in `Payload`). Any other
 * resource, or a Lambda with no local code, fails the execution with a message naming the state.
 */
function bindTasks(definition: Definition, lambdas: LambdaRegistry) {
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const [stateName, state] of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    const invoke = /^arn:aws[a-z-]*:states:::lambda:invoke$/.test(resource);
    handlers[stateName] = async (input) => {
      // Let the history recorder catch up (and move the clock) before the task reads the time; see LocalExecution.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const target = invoke ? String((input as { FunctionName?: unknown }).FunctionName ?? '') : resource;
      const handler = lambdas.find(target);
      if (!handler) {
        throw Object.assign(
          new Error(
            `Task ${stateName}: ${target || resource} is not bound to local code; the local account never calls real AWS. Bind it with account.lambdas.bind().`,
          ),
          {
            name: 'States.TaskFailed',
          },
        );
      }
      const event = invoke ? (input as { Payload?: unknown }).Payload : input;
      try {
        const result = (await handler(event)) as Json;
        return invoke ? { Payload: result, StatusCode: 200 } : result;
      } catch (error) {
        // AWS reports a Lambda error as Error = the error's name, Cause = a JSON document the Catch output carries.
        const name = error instanceof Error ? error.name : 'Error';
        const message = error instanceof Error ? error.message : String(error);
        throw Object.assign(
          new Error(JSON.stringify({ errorType: name, errorMessage: message, trace: [] })),
          { name },
        );
      }
    };
  }
  return handlers;
}
