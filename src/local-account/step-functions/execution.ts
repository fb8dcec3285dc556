import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LocalAccount } from '../account.ts';
import type { TimelineParticipant } from '../clock.ts';
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
type Definition = { StartAt: string; States: Record<string, StateDefinition>; TimeoutSeconds?: unknown };

export class ExecutionDefinitionError extends Error {
  override readonly name = 'ExecutionDefinitionError';
}

/**
 * One execution of a state machine on the local account, run by aws-local-stepfunctions, on the account's
 * discrete-event timeline (clock.ts).
 *
 * The interpreter offers no timer hook, only overrides in real milliseconds, so every Wait and every retry
 * interval is overridden to 0 and the history recorder is this execution's place in virtual time: it reads the
 * interpreter's event log in order, and when it records a Wait state entered (at t) or a failure a Retry will
 * catch, it sleeps on a wake-up at t + the state's time (Seconds, SecondsPath, Timestamp, TimestampPath; the
 * retry interval with BackoffRate, MaxDelaySeconds and JitterStrategy). The interpreter may run ahead through
 * Pass and Choice states, which read no time; each Task waits at its gate until the recorder has recorded its
 * start, so it runs at the virtual time it is reached, and the events after a wait carry the wake-up's time.
 * While the recorder sleeps, the execution holds no time still: the clock's driver moves time to the next
 * event of any execution or of the fleet.
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
  private readonly timeline: TimelineParticipant;
  /** Task starts (entries and retries) the recorder has recorded, and the Task invocations waiting for theirs. */
  private readonly taskStarts = new Map<string, { recorded: number; invoked: number }>();
  private readonly gates = new Map<string, { n: number; open: () => void }[]>();
  /** The definition's TimeoutSeconds, kept in virtual time (the interpreter would count real time). */
  private timeoutTask: number | undefined;

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
    this.timeline = account.clock.join();
    this.definition = JSON.parse(definitionText) as Definition;
    const interpreted = JSON.parse(definitionText) as Definition;
    const taskResourceLocalHandlers = bindTasks(interpreted, lambdas, (state) => this.gate(state));
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [stateName, state] of allStates(interpreted)) {
      if (state.Type === 'Wait') waitTimeOverrides[stateName] = 0;
      if (Array.isArray(state.Retry)) retryIntervalOverrides[stateName] = 0;
      if (state.Type === 'Task') {
        // The interpreter times a Task in real time (60 s by default), and a Task's gate can wait a long
        // Wait out in real time under the emulator's --speed: so the interpreter's limit is set out of reach.
        delete state.TimeoutSecondsPath;
        state.TimeoutSeconds = REAL_TIME_OUT_OF_REACH_SECONDS;
      }
    }
    // The execution's own TimeoutSeconds runs in virtual time, below; the interpreter would time it in real time.
    const timeoutSeconds = interpreted.TimeoutSeconds;
    delete interpreted.TimeoutSeconds;
    const machine = new StateMachine(interpreted as unknown as StateMachineDefinition, {
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
    if (typeof timeoutSeconds === 'number')
      this.timeoutTask = account.clock.schedule(timeoutSeconds, () => this.timeOut());
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

  /** StopExecution: ends the execution as ABORTED, at the present virtual time (a Wait ends there). */
  stop(error?: string, cause?: string): void {
    if (this.status !== 'RUNNING') return;
    this.finish('ABORTED', { ...(error ? { error } : {}), ...(cause ? { cause } : {}) });
    this.addEvent('ExecutionAborted', {
      executionAbortedEventDetails: { ...(error ? { error } : {}), ...(cause ? { cause } : {}) },
    });
    this.abort();
  }

  /** The definition's TimeoutSeconds passed in virtual time: TIMED_OUT, as AWS ends it. */
  private timeOut(): void {
    this.timeoutTask = undefined;
    if (this.status !== 'RUNNING') return;
    this.addEvent('ExecutionTimedOut', { executionTimedOutEventDetails: {} });
    this.finish('TIMED_OUT', {});
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
    if (this.timeoutTask !== undefined) this.account.clock.cancel(this.timeoutTask);
    this.timeoutTask = undefined;
    // An ended execution holds no time still; Tasks still waiting at their gates never run.
    this.gates.clear();
    this.timeline.leave();
  }

  /**
   * Resolves when the recorder has recorded the start (entry or retry) of this invocation of Task `stateName`:
   * the Task then runs at the virtual time of that event.
   */
  private gate(stateName: string): Promise<void> {
    const starts = this.taskStarts.get(stateName) ?? { recorded: 0, invoked: 0 };
    this.taskStarts.set(stateName, starts);
    const n = ++starts.invoked;
    if (starts.recorded >= n) return Promise.resolve();
    return new Promise<void>((open) => {
      const waiting = this.gates.get(stateName) ?? [];
      waiting.push({ n, open });
      this.gates.set(stateName, waiting);
    });
  }

  private taskStarted(stateName: string): void {
    const starts = this.taskStarts.get(stateName) ?? { recorded: 0, invoked: 0 };
    this.taskStarts.set(stateName, starts);
    starts.recorded++;
    const waiting = this.gates.get(stateName);
    if (!waiting) return;
    for (const gate of waiting.filter((g) => g.n <= starts.recorded)) gate.open();
    const rest = waiting.filter((g) => g.n > starts.recorded);
    if (rest.length > 0) this.gates.set(stateName, rest);
    else this.gates.delete(stateName);
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

  /** Records the interpreter's events in order, sleeping on the timeline through waits and retry intervals. */
  private async record(events: AsyncGenerator<LoggedEvent>): Promise<void> {
    for await (const event of events) {
      if (this.status !== 'RUNNING') continue;
      const wakeAt = this.translate(event);
      if (wakeAt !== undefined && this.status === 'RUNNING') await this.timeline.sleepUntil(wakeAt);
    }
  }

  /**
   * Turns the interpreter's events into the events AWS records. Returns the virtual time (epoch ms) the
   * execution sleeps until before its next event, for a Wait entered or a failure a Retry will catch.
   */
  private translate(event: LoggedEvent): number | undefined {
    const json = (value: unknown) => JSON.stringify(value ?? null);
    switch (event.type) {
      case 'ExecutionStarted':
        this.addEvent('ExecutionStarted', {
          executionStartedEventDetails: { input: this.input, roleArn: this.roleArn },
        });
        return undefined;
      case 'ExecutionSucceeded': {
        const output = json(event.output);
        this.addEvent('ExecutionSucceeded', { executionSucceededEventDetails: { output } });
        this.finish('SUCCEEDED', { output });
        return undefined;
      }
      case 'ExecutionFailed': {
        const error = String(event.Error ?? 'States.Runtime');
        const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
        this.addEvent('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
        this.finish('FAILED', { error, cause });
        return undefined;
      }
      case 'ExecutionTimeout':
        this.addEvent('ExecutionTimedOut', { executionTimedOutEventDetails: {} });
        this.finish('TIMED_OUT', {});
        return undefined;
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
          if (this.status === 'RUNNING') this.taskStarted(state.name);
        }
        if (state.type === 'Wait') return this.wakeUpAt(state.name, state.input);
        return undefined;
      }
      case 'StateExited': {
        const state = event.state!;
        if (state.type === 'Fail') return undefined;
        if (state.type === 'Task')
          this.addEvent('LambdaFunctionSucceeded', {
            lambdaFunctionSucceededEventDetails: { output: json(state.output) },
          });
        this.addEvent(`${state.type}StateExited`, {
          stateExitedEventDetails: { name: state.name, output: json(state.output) },
        });
        return undefined;
      }
      case 'StateFailed': {
        const state = event.state!;
        if (state.type === 'Task') {
          const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
          this.addEvent('LambdaFunctionFailed', {
            lambdaFunctionFailedEventDetails: { error: String(event.Error), cause },
          });
        }
        // The interpreter's retry sleep is overridden to 0: the interval is decided here, with the States
        // Language's rules, and the recorder sleeps it out before it records the retry (and opens its gate).
        const interval = this.retryInterval(state.name, state.type, String(event.Error));
        return interval === undefined ? undefined : this.account.clock.now() + interval * 1000;
      }
      case 'StateRetried': {
        this.stateTransitions++;
        const state = event.state!;
        if (state.type === 'Task') this.taskStarted(state.name);
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** Attempts used per retrier of the state now running; a state entered afresh starts again from zero. */
  private readonly retryAttempts = new Map<string, number[]>();

  /**
   * Seconds before the retry of `stateName` after `error`, or undefined when it will not be retried (States
   * Language, "Retrying after error"): IntervalSeconds x BackoffRate^attempt, at most MaxDelaySeconds; with
   * JitterStrategy FULL, a random time from 0 to that, drawn from a seed of the execution, state and attempt so
   * the same rehearsal waits the same.
   */
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
    const attempt = attempts[index]!;
    if (attempt >= (retrier.MaxAttempts ?? 3)) return undefined;
    attempts[index]!++;
    return retryDelaySeconds(retrier, attempt, `${this.executionArn}/${stateName}/${index}/${attempt}`);
  }

  private stateDefinition(name: string): StateDefinition | undefined {
    for (const [stateName, state] of allStates(this.definition)) if (stateName === name) return state;
    return undefined;
  }

  /**
   * When a Wait state entered now ends (epoch ms): now + Seconds or SecondsPath, or the Timestamp or
   * TimestampPath (one in the past ends at once). Paths read the state's effective input (after InputPath).
   * A path that does not hold a non-negative integer or an RFC 3339 timestamp fails the execution with
   * States.Runtime, as AWS does (a Wait has no Catch).
   */
  private wakeUpAt(stateName: string, rawInput: unknown): number | undefined {
    const state = this.stateDefinition(stateName) ?? { Type: 'Wait' };
    const now = this.account.clock.now();
    const input = typeof state.InputPath === 'string' ? readPath(rawInput, state.InputPath) : rawInput;
    if (typeof state.Seconds === 'number') return now + state.Seconds * 1000;
    if (typeof state.SecondsPath === 'string') {
      const seconds = readPath(input, state.SecondsPath);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        this.failHard(
          'States.Runtime',
          `An error occurred while executing the state '${stateName}'. The SecondsPath parameter does not reference a non-negative integer: ${state.SecondsPath} is ${JSON.stringify(seconds ?? null)}`,
        );
        return undefined;
      }
      return now + seconds * 1000;
    }
    const timestamp =
      typeof state.Timestamp === 'string'
        ? state.Timestamp
        : typeof state.TimestampPath === 'string'
          ? readPath(input, state.TimestampPath)
          : undefined;
    if (timestamp === undefined && state.TimestampPath === undefined) return undefined;
    const at = typeof timestamp === 'string' && RFC3339.test(timestamp) ? Date.parse(timestamp) : NaN;
    if (Number.isNaN(at)) {
      this.failHard(
        'States.Runtime',
        `An error occurred while executing the state '${stateName}'. The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${String(state.TimestampPath)} is ${JSON.stringify(timestamp ?? null)}`,
      );
      return undefined;
    }
    // "Step Functions considers the time value up to seconds and truncates milliseconds" (the same guide).
    return Math.floor(at / 1000) * 1000;
  }
}

/**
 * The interpreter counts a Task's TimeoutSeconds in real time; the local account sets it to this, under the
 * 2^31 ms a Node timer can hold, so only virtual time matters.
 */
const REAL_TIME_OUT_OF_REACH_SECONDS = 2_000_000;

/**
 * A Wait's Timestamp: RFC 3339 with an uppercase T between date and time and an uppercase Z for no offset, e.g.
 * 2026-01-01T00:01:00Z (Step Functions Developer Guide, "Wait workflow state").
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A retrier's delay before retry `attempt` (0 for the first): IntervalSeconds (default 1) x BackoffRate
 * (default 2.0) ^ attempt, capped at MaxDelaySeconds; JitterStrategy FULL draws it uniformly from 0 to that
 * ("a random number between 0 and the computed backoff"), from `seed`, so it is the same on every run.
 */
export function retryDelaySeconds(retrier: Retrier, attempt: number, seed: string): number {
  const backoff = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, attempt);
  const capped = Math.min(backoff, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
  return retrier.JitterStrategy === 'FULL' ? capped * unitInterval(seed) : capped;
}

/** A number in [0, 1) from a string (FNV-1a, then a 32-bit mix): deterministic jitter. */
function unitInterval(seed: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) hash = Math.imul(hash ^ seed.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) / 2 ** 32;
}

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
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
function bindTasks(
  definition: Definition,
  lambdas: LambdaRegistry,
  gate: (stateName: string) => Promise<void>,
) {
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  for (const [stateName, state] of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    const invoke = /^arn:aws[a-z-]*:states:::lambda:invoke$/.test(resource);
    handlers[stateName] = async (input) => {
      // Run at the virtual time the Task is reached: once the recorder has recorded its start (LocalExecution).
      await gate(stateName);
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
