import type { LocalAccount } from '../account.ts';
import type { TimelineParticipant, VirtualClock } from '../clock.ts';
import { AwsApiError } from '../errors.ts';
import {
  compile,
  evaluateTemplate,
  ExecutionDefinitionError,
  type CompiledDefinition,
  type Json,
  type StateDefinition,
} from './compiled.ts';
import type { LambdaRegistry } from './lambdas.ts';

export { ExecutionDefinitionError } from './compiled.ts';

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
/** An Inline Map state runs at most 40 iterations at once (Developer Guide, "Using Map state in Inline mode"). */
export const INLINE_MAP_MAX_CONCURRENCY = 40;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A Step Functions history event, with the member names of the GetExecutionHistory API. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

/** What an execution needs from the account's Step Functions service: its Lambdas, and its own API for children. */
export interface ExecutionHost {
  readonly lambdas: LambdaRegistry;
  /** StartExecution exactly as the API answers it (validation, names, idempotency); throws AwsApiError. */
  startExecution(request: Record<string, unknown>): LocalExecution;
  /** DescribeExecution's response for `execution` (API member names, Date timestamps). */
  describe(execution: LocalExecution): Record<string, unknown>;
}

/**
 * The StopExecution cause Step Functions gives a child execution whose managing `.sync` Task was aborted (the
 * parent stopped, timed out or failed, or the Map iteration running it was aborted).
 */
export const managedResourceAborted = (parentArn: string): string =>
  `The Task state in AWS Step Functions execution [${parentArn}] which was managing this resource was aborted`;

type Outcome = { status: 'SUCCEEDED'; output: Json } | { status: 'FAILED'; error: string; cause: string };

/**
 * One execution of a state machine on the local account, run by aws-local-stepfunctions, on the account's
 * discrete-event timeline (clock.ts).
 *
 * The interpreter offers no timer hook, only overrides in real milliseconds, so every Wait and every retry
 * interval is overridden to 0 and a history recorder (a Run, below) is the execution's place in virtual time: it
 * reads the interpreter's event log in order, and when it records a Wait state entered (at t) or a failure a Retry
 * will catch, it sleeps on a wake-up at t + the state's time (Seconds, SecondsPath, Timestamp, TimestampPath; the
 * retry interval with BackoffRate, MaxDelaySeconds and JitterStrategy). The interpreter may run ahead through Pass
 * and Choice states, which read no time; each Task waits at its gate until the recorder has recorded its start, so
 * it runs at the virtual time it is reached, and the events after a wait carry the wake-up's time. While the
 * recorder sleeps, the execution holds no time still: the clock's driver moves time to the next event of any
 * execution or of the fleet.
 *
 * A Map state runs each iteration as its own Run with its own recorder, so iterations wait on the one timeline side
 * by side, at most MaxConcurrency (and 40) at a time. A `states:startExecution.sync` Task starts its child through
 * the host (the StartExecution API) and steps off the timeline until the child ends; so does a Map state while its
 * iterations run. A redrive (RedriveExecution) runs the definition again from the top-level state that was running
 * when the execution ended, with that state's recorded input, appending to the same history.
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
  redriveCount = 0;
  redriveDate?: Date;
  /** The top-level state running when the execution ended, and its input: where a redrive starts. */
  resumeAt?: { readonly name: string; readonly input: Json };
  /** Outputs of the iterations that succeeded, per top-level Map state: a redrive runs only the others again. */
  readonly mapResults = new Map<string, Map<number, Json>>();
  readonly clock: VirtualClock;
  readonly compiled: CompiledDefinition;
  private settled!: Promise<void>;
  private settle!: () => void;
  private top: Run | undefined;
  private readonly endListeners = new Set<() => void>();
  /** The definition's TimeoutSeconds, kept in virtual time (the interpreter would count real time). */
  private timeoutTask: number | undefined;

  constructor(
    readonly account: LocalAccount,
    readonly host: ExecutionHost,
    readonly executionArn: string,
    readonly stateMachineArn: string,
    readonly name: string,
    readonly input: string,
    definitionText: string,
    readonly roleArn: string,
  ) {
    this.startDate = account.now();
    this.clock = account.clock;
    this.compiled = compile(definitionText);
    this.begin(this.compiled.startAt, JSON.parse(input) as Json, false);
  }

  /** Resolves when the execution (or its latest redrive) has ended and its whole history is recorded. */
  get done(): Promise<void> {
    return this.settled;
  }

  /** Calls `listener` once, synchronously, when the execution next ends (at once if it is not running). */
  whenEnded(listener: () => void): void {
    if (this.status !== 'RUNNING') listener();
    else this.endListeners.add(listener);
  }

  /** The context object's Execution and StateMachine members. */
  context(): Record<string, unknown> {
    return {
      Execution: {
        Id: this.executionArn,
        Name: this.name,
        Input: JSON.parse(this.input) as Json,
        StartTime: this.startDate.toISOString(),
        RoleArn: this.roleArn,
        RedriveCount: this.redriveCount,
      },
      StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineArn.split(':').pop() },
    };
  }

  private begin(startAt: string, input: Json, redriven: boolean): void {
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
    if (this.compiled.timeoutSeconds !== undefined)
      this.timeoutTask = this.clock.schedule(this.compiled.timeoutSeconds, () => this.timeOut());
    let run: Run;
    try {
      run = new Run(this, this.compiled, input, { kind: 'top', startAt, redriven }, (outcome) =>
        this.ended(outcome),
      );
    } catch (error) {
      this.failHard('States.Runtime', error instanceof Error ? error.message : String(error));
      return;
    }
    this.top = run;
    void run.recorded.then(() => {
      if (this.top === run && this.status !== 'RUNNING') this.settle();
    });
  }

  private ended(outcome: Outcome): void {
    if (this.status !== 'RUNNING') return;
    if (outcome.status === 'SUCCEEDED') {
      const output = JSON.stringify(outcome.output ?? null);
      this.addEvent('ExecutionSucceeded', { executionSucceededEventDetails: { output } });
      this.finish('SUCCEEDED', { output });
    } else {
      this.addEvent('ExecutionFailed', {
        executionFailedEventDetails: { error: outcome.error, cause: outcome.cause },
      });
      this.finish('FAILED', { error: outcome.error, cause: outcome.cause });
    }
  }

  /**
   * RedriveExecution: RUNNING again from the top-level state that failed or was running when the execution ended,
   * with its recorded input; ExecutionRedriven is appended to the same history, and the TimeoutSeconds counts
   * afresh. The caller (services/states.ts) has checked that the execution is redrivable.
   */
  redrive(): void {
    const from = this.resumeAt ?? { name: this.compiled.startAt, input: JSON.parse(this.input) as Json };
    this.status = 'RUNNING';
    this.stopDate = undefined;
    this.output = undefined;
    this.error = undefined;
    this.cause = undefined;
    this.redriveCount++;
    this.redriveDate = this.account.now();
    this.addEvent('ExecutionRedriven', {
      executionRedrivenEventDetails: { redriveCount: this.redriveCount },
    });
    this.begin(from.name, from.input, true);
  }

  /** StopExecution: ends the execution as ABORTED, at the present virtual time (a Wait ends there). */
  stop(error?: string, cause?: string): void {
    if (this.status !== 'RUNNING') return;
    this.finish('ABORTED', { ...(error ? { error } : {}), ...(cause ? { cause } : {}) });
    this.addEvent('ExecutionAborted', {
      executionAbortedEventDetails: { ...(error ? { error } : {}), ...(cause ? { cause } : {}) },
    });
    this.settleIfIdle();
  }

  /** The definition's TimeoutSeconds passed in virtual time: TIMED_OUT, as AWS ends it. */
  private timeOut(): void {
    this.timeoutTask = undefined;
    if (this.status !== 'RUNNING') return;
    this.addEvent('ExecutionTimedOut', { executionTimedOutEventDetails: {} });
    this.finish('TIMED_OUT', {});
    this.settleIfIdle();
  }

  /** An execution ended from outside its recorder (stop, time-out, a hard limit) is settled once the run is down. */
  private settleIfIdle(): void {
    const top = this.top;
    if (!top) this.settle();
    else void top.recorded.then(() => this.settle());
  }

  private finish(
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    outcome: { output?: string; error?: string; cause?: string },
  ): void {
    this.status = status;
    this.stopDate = this.account.now();
    if (outcome.output !== undefined) this.output = outcome.output;
    if (outcome.error !== undefined) this.error = outcome.error;
    if (outcome.cause !== undefined) this.cause = outcome.cause;
    if (this.timeoutTask !== undefined) this.clock.cancel(this.timeoutTask);
    this.timeoutTask = undefined;
    // Whatever still runs is aborted: Map iterations, and the children that running .sync Tasks manage.
    this.top?.abort(this.executionArn);
    const listeners = [...this.endListeners];
    this.endListeners.clear();
    for (const listener of listeners) listener();
  }

  addEvent(type: string, details: Record<string, unknown> = {}): void {
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
      for (const key of ['input', 'output', 'parameters'] as const) {
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
  failHard(error: string, cause: string): void {
    if (this.status !== 'RUNNING') return;
    this.finish('FAILED', { error, cause });
    this.history.push({
      id: this.history.length + 1,
      previousEventId: this.history.length,
      timestamp: this.account.now(),
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error, cause },
    });
    this.settleIfIdle();
  }
}

/**
 * One place on the timeline: joined while a run is awake (running a state, or between states), asleep on a
 * wake-up through a Wait or a retry interval, and away (holding no time) while a Map's iterations or a .sync child
 * run, so that they, not it, decide when time moves.
 */
class Presence {
  private participant: TimelineParticipant | undefined;
  private left = false;

  constructor(private readonly clock: VirtualClock) {
    this.participant = clock.join();
  }

  sleepUntil(atMs: number): Promise<void> {
    return this.participant ? this.participant.sleepUntil(atMs) : Promise.resolve();
  }

  away(): void {
    this.participant?.leave();
    this.participant = undefined;
  }

  /** Back on the timeline, awake: called synchronously when what it waited for ends, before time can move. */
  back(): void {
    if (!this.left && !this.participant) this.participant = this.clock.join();
  }

  leave(): void {
    this.left = true;
    this.away();
  }
}

type RunRole =
  | { readonly kind: 'top'; readonly startAt: string; readonly redriven: boolean }
  | { readonly kind: 'iteration'; readonly map: string; readonly index: number };

const STATES_START_EXECUTION =
  /^arn:aws[a-z-]*:states:::states:startExecution(\.sync(?::2)?|\.waitForTaskToken)?$/;
const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:::lambda:invoke$/;

/**
 * One run of the interpreter: the execution's top level, or one iteration of a Map state. It records its events in
 * the execution's history, in virtual time, and binds its Task states to local code.
 */
class Run {
  /** Resolves when this run's event log has been read to its end. */
  readonly recorded: Promise<void>;
  private ended = false;
  private readonly presence: Presence;
  private readonly abortRun: () => void;
  /** Task starts (entries and retries) the recorder has recorded, and the Task invocations waiting for theirs. */
  private readonly taskStarts = new Map<string, { recorded: number; invoked: number }>();
  private readonly gates = new Map<string, { n: number; open: () => void }[]>();
  /** Attempts used per retrier of the state now running; a state entered afresh starts again from zero. */
  private readonly retryAttempts = new Map<string, number[]>();
  /** Map iterations running now, and the child executions that this run's .sync Tasks wait for. */
  private readonly iterations = new Set<Run>();
  private readonly children = new Set<LocalExecution>();

  constructor(
    private readonly execution: LocalExecution,
    private readonly compiled: CompiledDefinition,
    input: Json,
    private readonly role: RunRole,
    private readonly onEnd: (outcome: Outcome) => void,
  ) {
    const machine = compiled.machine(role.kind === 'top' ? role.startAt : undefined);
    this.presence = new Presence(execution.clock);
    const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
    for (const name of compiled.taskStates) taskResourceLocalHandlers[name] = this.handlerFor(name);
    const waitTimeOverrides = Object.fromEntries(compiled.waitStates.map((name) => [name, 0]));
    const retryIntervalOverrides = Object.fromEntries(compiled.retryStates.map((name) => [name, 0]));
    const run = machine.run(input, {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      noThrowOnAbort: true,
      context: execution.context(),
    });
    this.abortRun = run.abort;
    const finished = run.result.then(
      () => undefined,
      (error: unknown) => error,
    );
    this.recorded = Promise.all([this.record(run.eventLogs), finished]).then(([, error]) => {
      // The event log normally ends the run; this covers an interpreter error that logged nothing.
      if (this.ended) return;
      this.end({
        status: 'FAILED',
        error: 'States.Runtime',
        cause: error instanceof Error ? error.message : String(error ?? 'The run ended without an outcome.'),
      });
    });
  }

  private get live(): boolean {
    return !this.ended && this.execution.status === 'RUNNING';
  }

  private event(type: string, details: Record<string, unknown> = {}): void {
    if (this.live) this.execution.addEvent(type, details);
  }

  private end(outcome: Outcome): void {
    if (this.ended) return;
    this.ended = true;
    this.presence.leave();
    this.gates.clear();
    this.onEnd(outcome);
  }

  /**
   * Aborts this run and what it started: its Map iterations, and the child executions its .sync Tasks manage,
   * stopped with the cause Step Functions gives them. `parentArn` is the execution the run belongs to.
   */
  abort(parentArn: string): void {
    if (this.ended) return;
    this.ended = true;
    this.presence.leave();
    this.gates.clear();
    this.abortRun();
    for (const iteration of this.iterations) iteration.abort(parentArn);
    this.iterations.clear();
    for (const child of this.children) child.stop(undefined, managedResourceAborted(parentArn));
    this.children.clear();
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

  /** Records the interpreter's events in order, sleeping on the timeline through waits and retry intervals. */
  private async record(events: AsyncGenerator<LoggedEvent>): Promise<void> {
    for await (const event of events) {
      if (!this.live) continue;
      const wakeAt = this.translate(event);
      if (wakeAt !== undefined && this.live) await this.presence.sleepUntil(wakeAt);
    }
  }

  private typeOf(state: { name: string; type: string }): string {
    return this.compiled.states.get(state.name)?.Type ?? state.type;
  }

  /**
   * Turns the interpreter's events into the events AWS records. Returns the virtual time (epoch ms) the run
   * sleeps until before its next event, for a Wait entered or a failure a Retry will catch. Task events
   * (LambdaFunction*, Task*) are recorded by the Task's handler, which sees the parameters and the raw result.
   */
  private translate(event: LoggedEvent): number | undefined {
    const json = (value: unknown) => JSON.stringify(value ?? null);
    const top = this.role.kind === 'top';
    const iteration =
      this.role.kind === 'iteration' ? { name: this.role.map, index: this.role.index } : undefined;
    switch (event.type) {
      case 'ExecutionStarted':
        if (iteration) this.event('MapIterationStarted', { mapIterationStartedEventDetails: iteration });
        else if (top && !(this.role as { redriven: boolean }).redriven)
          this.event('ExecutionStarted', {
            executionStartedEventDetails: { input: this.execution.input, roleArn: this.execution.roleArn },
          });
        return undefined;
      case 'ExecutionSucceeded':
        if (iteration) this.event('MapIterationSucceeded', { mapIterationSucceededEventDetails: iteration });
        this.end({ status: 'SUCCEEDED', output: (event.output ?? null) as Json });
        return undefined;
      case 'ExecutionFailed': {
        const error = String(event.Error ?? 'States.Runtime');
        const cause = typeof event.Cause === 'string' ? event.Cause : json(event.Cause);
        if (iteration) this.event('MapIterationFailed', { mapIterationFailedEventDetails: iteration });
        this.end({ status: 'FAILED', error, cause });
        return undefined;
      }
      case 'StateEntered': {
        const state = event.state!;
        const type = this.typeOf(state);
        this.execution.stateTransitions++;
        this.retryAttempts.delete(state.name);
        if (top && this.compiled.topLevel.has(state.name))
          this.execution.resumeAt = { name: state.name, input: (state.input ?? null) as Json };
        this.event(`${type}StateEntered`, {
          stateEnteredEventDetails: { name: state.name, input: json(state.input) },
        });
        if ((type === 'Task' || type === 'Map') && this.live) this.taskStarted(state.name);
        if (type === 'Wait') return this.wakeUpAt(state.name, state.input);
        return undefined;
      }
      case 'StateExited': {
        const state = event.state!;
        const type = this.typeOf(state);
        if (type === 'Fail') return undefined;
        if (type === 'Map') this.event('MapStateSucceeded');
        this.event(`${type}StateExited`, {
          stateExitedEventDetails: { name: state.name, output: json(state.output) },
        });
        return undefined;
      }
      case 'StateFailed': {
        const state = event.state!;
        const type = this.typeOf(state);
        if (type === 'Map') this.event('MapStateFailed');
        // The interpreter's retry sleep is overridden to 0: the interval is decided here, with the States
        // Language's rules, and the recorder sleeps it out before it records the retry (and opens its gate).
        const interval = this.retryInterval(state.name, type, String(event.Error));
        return interval === undefined ? undefined : this.execution.clock.now() + interval * 1000;
      }
      case 'StateRetried': {
        this.execution.stateTransitions++;
        const state = event.state!;
        const type = this.typeOf(state);
        if (type === 'Task' || type === 'Map') this.taskStarted(state.name);
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * Seconds before the retry of `stateName` after `error`, or undefined when it will not be retried (States
   * Language, "Retrying after error"): IntervalSeconds x BackoffRate^attempt, at most MaxDelaySeconds; with
   * JitterStrategy FULL, a random time from 0 to that, drawn from a seed of the execution, state and attempt so
   * the same rehearsal waits the same.
   */
  private retryInterval(stateName: string, stateType: string, error: string): number | undefined {
    const retriers = (this.compiled.states.get(stateName)?.Retry ?? []) as Retrier[];
    const attempts = this.retryAttempts.get(stateName) ?? retriers.map(() => 0);
    this.retryAttempts.set(stateName, attempts);
    const index = retriers.findIndex((r) =>
      r.ErrorEquals.some(
        (e) =>
          e === error ||
          e === 'States.ALL' ||
          (e === 'States.TaskFailed' &&
            (stateType === 'Task' || stateType === 'Map') &&
            error !== 'States.Timeout'),
      ),
    );
    if (index < 0) return undefined;
    const retrier = retriers[index]!;
    const attempt = attempts[index]!;
    if (attempt >= (retrier.MaxAttempts ?? 3)) return undefined;
    attempts[index]!++;
    const seed = `${this.execution.executionArn}/${this.role.kind === 'iteration' ? `${this.role.index}/` : ''}${stateName}/${index}/${attempt}`;
    return retryDelaySeconds(retrier, attempt, seed);
  }

  /**
   * When a Wait state entered now ends (epoch ms): now + Seconds or SecondsPath, or the Timestamp or
   * TimestampPath (one in the past ends at once). Paths read the state's effective input (after InputPath).
   * A path that does not hold a non-negative integer or an RFC 3339 timestamp fails the execution with
   * States.Runtime, as AWS does (a Wait has no Catch).
   */
  private wakeUpAt(stateName: string, rawInput: unknown): number | undefined {
    const state = this.compiled.states.get(stateName) ?? { Type: 'Wait' };
    const now = this.execution.clock.now();
    const input = typeof state.InputPath === 'string' ? readPath(rawInput, state.InputPath) : rawInput;
    if (typeof state.Seconds === 'number') return now + state.Seconds * 1000;
    if (typeof state.SecondsPath === 'string') {
      const seconds = readPath(input, state.SecondsPath);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        this.execution.failHard(
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
      this.execution.failHard(
        'States.Runtime',
        `An error occurred while executing the state '${stateName}'. The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: ${String(state.TimestampPath)} is ${JSON.stringify(timestamp ?? null)}`,
      );
      return undefined;
    }
    // "Step Functions considers the time value up to seconds and truncates milliseconds" (the same guide).
    return Math.floor(at / 1000) * 1000;
  }

  /** The local code a Task (or Map) state runs: by its Resource. */
  private handlerFor(stateName: string): (input: Json) => Promise<Json> {
    const state = this.compiled.states.get(stateName)!;
    if (state.Type === 'Map') return (input) => this.runMap(stateName, state, input);
    const resource = String(state.Resource);
    const startExecution = STATES_START_EXECUTION.exec(resource);
    if (startExecution) return (input) => this.runStartExecution(stateName, startExecution[1] ?? '', input);
    if (LAMBDA_INVOKE.test(resource)) return (input) => this.runLambda(stateName, resource, input, true);
    return (input) => this.runLambda(stateName, resource, input, false);
  }

  /**
   * A Lambda Task. A Resource naming the function records LambdaFunctionScheduled, LambdaFunctionStarted and
   * LambdaFunctionSucceeded (or LambdaFunctionFailed); `arn:aws:states:::lambda:invoke` with
   * Parameters.FunctionName records TaskScheduled, TaskStarted and TaskSucceeded (or TaskFailed) with
   * resourceType `lambda` and resource `invoke`, and its result is wrapped in `Payload` (Developer Guide, "Invoke an
   * AWS Lambda function with Step Functions"; "Step Functions execution history events"). A Lambda with no local code
   * fails the Task with a message naming the state: the local account never calls real AWS.
   */
  private async runLambda(stateName: string, resource: string, input: Json, invoke: boolean): Promise<Json> {
    await this.gate(stateName);
    const json = (value: unknown) => JSON.stringify(value ?? null);
    const service = { resourceType: 'lambda', resource: 'invoke' };
    if (invoke) {
      this.event('TaskScheduled', {
        taskScheduledEventDetails: {
          ...service,
          region: this.execution.account.region,
          parameters: json(input),
        },
      });
      this.event('TaskStarted', { taskStartedEventDetails: service });
    } else {
      this.event('LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: { resource, input: json(input) },
      });
      this.event('LambdaFunctionStarted');
    }
    const fail = (error: string, cause: string): never => {
      if (invoke) this.event('TaskFailed', { taskFailedEventDetails: { ...service, error, cause } });
      else this.event('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error, cause } });
      throw Object.assign(new Error(cause), { name: error });
    };
    const target = invoke
      ? String((input as { FunctionName?: unknown } | null)?.FunctionName ?? '')
      : resource;
    const handler = this.execution.host.lambdas.find(target);
    if (!handler)
      return fail(
        'States.TaskFailed',
        `Task ${stateName}: ${target || resource} is not bound to local code; the local account never calls real AWS. Bind it with account.lambdas.bind().`,
      );
    const event = invoke ? (input as { Payload?: unknown } | null)?.Payload : input;
    let result: Json;
    try {
      result = (await handler(event)) as Json;
    } catch (error) {
      // AWS reports a Lambda error as Error = the error's name, Cause = a JSON document the Catch output carries.
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return fail(name, JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
    }
    // lambda:invoke returns Lambda's Invoke response (LocalStack's AWS-recorded snapshot test_lambda_task_service):
    // the SDK's HTTP metadata is reduced to its status code.
    const output = invoke
      ? {
          ExecutedVersion: '$LATEST',
          Payload: result,
          SdkHttpMetadata: { HttpStatusCode: 200 },
          StatusCode: 200,
        }
      : result;
    if (invoke)
      this.event('TaskSucceeded', { taskSucceededEventDetails: { ...service, output: json(output) } });
    else
      this.event('LambdaFunctionSucceeded', {
        lambdaFunctionSucceededEventDetails: { output: json(output) },
      });
    return output;
  }

  /**
   * `arn:aws:states:::states:startExecution[.sync|.sync:2]` (Developer Guide, "Start a new AWS Step Functions state
   * machine from a running execution"): Parameters StateMachineArn, Input (an object, or a JSON string), Name. The
   * child starts exactly as the StartExecution API starts it. Request-response returns StartExecution's response;
   * `.sync` waits for the child and returns DescribeExecution's response with Input and Output as JSON strings,
   * `.sync:2` with them as JSON. A StartExecution error fails the Task with `StepFunctions.<Code>Exception`; a child
   * that ends FAILED, TIMED_OUT or ABORTED fails it with States.TaskFailed and the child's DescribeExecution
   * response as the Cause.
   */
  private async runStartExecution(stateName: string, mode: string, input: Json): Promise<Json> {
    await this.gate(stateName);
    const resource = `startExecution${mode}`;
    const service = { resourceType: 'states', resource };
    this.event('TaskScheduled', {
      taskScheduledEventDetails: {
        ...service,
        region: this.execution.account.region,
        parameters: JSON.stringify(input ?? null),
      },
    });
    this.event('TaskStarted', { taskStartedEventDetails: service });
    const fail = (error: string, cause: string): never => {
      this.event('TaskFailed', { taskFailedEventDetails: { ...service, error, cause } });
      throw Object.assign(new Error(cause), { name: error });
    };
    if (mode === '.waitForTaskToken')
      return fail(
        'States.TaskFailed',
        `Task ${stateName}: ${resource} is not modelled by the local account (only startExecution, .sync and .sync:2).`,
      );
    const parameters = (input && typeof input === 'object' && !Array.isArray(input) ? input : {}) as Record<
      string,
      Json
    >;
    const childInput = parameters.Input;
    let child: LocalExecution;
    try {
      child = this.execution.host.startExecution({
        stateMachineArn: parameters.StateMachineArn,
        input: typeof childInput === 'string' ? childInput : JSON.stringify(childInput ?? {}),
        ...(parameters.Name !== undefined ? { name: parameters.Name } : {}),
      });
    } catch (error) {
      const api =
        error instanceof AwsApiError ? error : new AwsApiError('InternalFailure', String(error), 500);
      const code =
        api.code === 'MissingParameter' || api.code === 'ValidationError' ? 'ValidationException' : api.code;
      const requestId = this.execution.account.ids.uuid('request');
      return fail(
        `StepFunctions.${code.endsWith('Exception') ? code : `${code}Exception`}`,
        `${api.message} (Service: AWSStepFunctions; Status Code: ${api.httpStatus}; Error Code: ${code}; Request ID: ${requestId}; Proxy: null)`,
      );
    }
    const started = { ExecutionArn: child.executionArn, StartDate: child.startDate.getTime() };
    if (mode === '') {
      const output = {
        ...started,
        SdkHttpMetadata: { HttpStatusCode: 200 },
        SdkResponseMetadata: { RequestId: this.execution.account.ids.uuid('request') },
      };
      this.event('TaskSucceeded', {
        taskSucceededEventDetails: { ...service, output: JSON.stringify(output) },
      });
      return output;
    }
    this.event('TaskSubmitted', {
      taskSubmittedEventDetails: { ...service, output: JSON.stringify(started) },
    });
    if (child.status === 'RUNNING') {
      this.children.add(child);
      this.presence.away();
      await new Promise<void>((resolve) =>
        child.whenEnded(() => {
          // Back on the timeline before time can move on: the child ended at this virtual instant.
          this.presence.back();
          resolve();
        }),
      );
      this.children.delete(child);
    }
    if (!this.live) return new Promise<Json>(() => undefined);
    const described = syncOutput(this.execution.host.describe(child), mode === '.sync:2');
    if (child.status !== 'SUCCEEDED') return fail('States.TaskFailed', JSON.stringify(described));
    this.event('TaskSucceeded', {
      taskSucceededEventDetails: { ...service, output: JSON.stringify(described) },
    });
    return described;
  }

  /**
   * An Inline Map state (Developer Guide, "Using Map state in Inline mode"): ItemsPath selects the items from the
   * effective input, ItemSelector (or the older Parameters) builds each iteration's input with `$$.Map.Item`, and
   * at most MaxConcurrency (MaxConcurrencyPath; 0 for no limit) and never more than 40 iterations run at once.
   * Records MapStateStarted {length}, and each iteration's MapIterationStarted / Succeeded / Failed {name, index}.
   * An iteration that fails fails the Map with its Error and Cause, and the iterations still running are aborted
   * (MapIterationAborted), with the children their .sync Tasks manage ("any iteration failure causes the Map state
   * to fail ... all iterations stop"). On a redrive, only the iterations that did not succeed run again.
   */
  private async runMap(stateName: string, state: StateDefinition, input: Json): Promise<Json> {
    await this.gate(stateName);
    const context = this.execution.context();
    const runtime = (message: string): Promise<Json> => {
      this.execution.failHard(
        'States.Runtime',
        `An error occurred while executing the state '${stateName}'. ${message}`,
      );
      return new Promise<Json>(() => undefined);
    };
    let items: Json;
    let limit: Json;
    try {
      items =
        typeof state.ItemsPath === 'string'
          ? ((await evaluateTemplate({ 'v.$': state.ItemsPath }, input, context)) as { v: Json }).v
          : input;
      limit =
        typeof state.MaxConcurrencyPath === 'string'
          ? ((await evaluateTemplate({ 'v.$': state.MaxConcurrencyPath }, input, context)) as { v: Json }).v
          : ((state.MaxConcurrency ?? 0) as Json);
    } catch (error) {
      return runtime((error as Error).message);
    }
    if (!Array.isArray(items))
      return runtime(
        `The ItemsPath '${String(state.ItemsPath ?? '$')}' did not select an array: ${JSON.stringify(items)}`,
      );
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
      return runtime(
        `The MaxConcurrencyPath '${String(state.MaxConcurrencyPath)}' does not reference a non-negative integer: ${JSON.stringify(limit)}`,
      );
    if (!this.live) return new Promise<Json>(() => undefined);
    const concurrency = Math.min(limit || INLINE_MAP_MAX_CONCURRENCY, INLINE_MAP_MAX_CONCURRENCY);
    const selector = (state.ItemSelector ?? state.Parameters) as Json | undefined;
    const iterator = this.compiled.iterators.get(stateName)!;
    // A top-level Map keeps its iterations' outputs for a redrive; entered afresh, it starts from none.
    const redriving = this.role.kind === 'top' && this.role.redriven && this.role.startAt === stateName;
    const memory =
      this.role.kind === 'top'
        ? redriving
          ? (this.execution.mapResults.get(stateName) ?? new Map<number, Json>())
          : new Map<number, Json>()
        : undefined;
    if (memory && this.role.kind === 'top') {
      this.execution.mapResults.set(stateName, memory);
      if (redriving) (this.role as { redriven: boolean }).redriven = false;
    }
    this.event('MapStateStarted', { mapStateStartedEventDetails: { length: items.length } });
    const results: Json[] = new Array<Json>(items.length).fill(null);
    const inputs: Json[] = new Array<Json>(items.length);
    try {
      for (let i = 0; i < items.length; i++) {
        if (memory?.has(i)) continue;
        inputs[i] = selector
          ? await evaluateTemplate(selector, input, {
              ...context,
              Map: { Item: { Index: i, Value: items[i]! } },
            })
          : items[i]!;
      }
    } catch (error) {
      return runtime((error as Error).message);
    }
    if (!this.live) return new Promise<Json>(() => undefined);
    return new Promise<Json>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let failure: { error: string; cause: string } | undefined;
      const running_ = new Map<Run, number>();
      const settle = () => {
        this.presence.back();
        if (failure) reject(Object.assign(new Error(failure.cause), { name: failure.error }));
        else resolve(results);
      };
      const startMore = (): void => {
        while (!failure && this.live && running < concurrency && next < items.length) {
          const index = next++;
          const kept = memory?.get(index);
          if (kept !== undefined || memory?.has(index)) {
            results[index] = kept ?? null;
            continue;
          }
          running++;
          const iteration: Run = new Run(
            this.execution,
            iterator,
            inputs[index]!,
            { kind: 'iteration', map: stateName, index },
            (outcome) => {
              running--;
              running_.delete(iteration);
              this.iterations.delete(iteration);
              if (outcome.status === 'SUCCEEDED') {
                results[index] = outcome.output;
                memory?.set(index, outcome.output);
              } else if (!failure) {
                failure = { error: outcome.error, cause: outcome.cause };
                for (const [other, otherIndex] of running_) {
                  this.event('MapIterationAborted', {
                    mapIterationAbortedEventDetails: { name: stateName, index: otherIndex },
                  });
                  other.abort(this.execution.executionArn);
                  this.iterations.delete(other);
                  running--;
                }
                running_.clear();
              }
              startMore();
            },
          );
          running_.set(iteration, index);
          this.iterations.add(iteration);
        }
        if (running === 0 && (failure || next >= items.length) && this.live) settle();
      };
      this.presence.away();
      startMore();
    });
  }
}

/**
 * DescribeExecution's response as a `.sync` Task returns it: member names in PascalCase, in alphabetical order,
 * dates in epoch milliseconds, Input and Output as JSON strings (`.sync`) or as JSON (`.sync:2`), with
 * InputDetails / OutputDetails `{ Included: true }`.
 */
function syncOutput(described: Record<string, unknown>, parsed: boolean): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(described)) {
    if (value === undefined) continue;
    const name = key.charAt(0).toUpperCase() + key.slice(1);
    if (value instanceof Date) out[name] = value.getTime();
    else if ((key === 'input' || key === 'output') && typeof value === 'string') {
      out[name] = parsed ? (JSON.parse(value) as Json) : value;
      out[`${name}Details`] = { Included: true };
    } else out[name] = value as Json;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

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
