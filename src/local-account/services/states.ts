import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import { parseJsonDocument } from '../protocols/json.ts';
import { Input as RequestInput } from '../protocols/input.ts';
import { compile, ExecutionDefinitionError } from '../step-functions/compiled.ts';
import { LocalExecution, MAX_HISTORY_EVENTS, type ExecutionHost } from '../step-functions/execution.ts';
import type { ServiceDefinition } from './service.ts';

export interface LocalStateMachine {
  readonly stateMachineArn: string;
  readonly name: string;
  definition: string;
  roleArn: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly creationDate: Date;
  loggingConfiguration?: unknown;
  tracingConfiguration?: unknown;
}

/** What the Step Functions service holds in one local account. */
export interface StepFunctionsState {
  readonly stateMachines: Map<string, LocalStateMachine>;
  /** Every execution, oldest first. */
  readonly executions: Map<string, LocalExecution>;
}

const registry = new WeakMap<LocalAccount, StepFunctionsState>();

/** The Step Functions state of `account` (state machines and executions), for tests and the rehearsal. */
export function stepFunctionsOf(account: LocalAccount): StepFunctionsState {
  let state = registry.get(account);
  if (!state) {
    state = { stateMachines: new Map(), executions: new Map() };
    registry.set(account, state);
  }
  return state;
}

/**
 * State machine and execution names (API reference, CreateStateMachine and StartExecution `name`; botocore shape
 * Name: 1-80 characters): none of white space, brackets < > { } [ ], wildcards ? *, the characters
 * " # % \\ ^ | ~ ` $ & , ; : /, control characters (U+0000-001F, U+007F-009F, U+FFFE-FFFF), surrogates
 * (U+D800-DFFF, unpaired: a string here is UTF-16) or the invalid character U+10FFFF. So
 * `rollout-ami.1` is a valid name. (Only 0-9, A-Z, a-z, - and _ keep CloudWatch Logs logging possible: a
 * recommendation, not a rule.)
 */
const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\ufffe\uffff\ud800-\udfff\u{10ffff}]/u;
/** Control characters U+0000-001F and U+007F-009F, checked by code point (a regex of them trips no-control-regex). */
const isControl = (c: string): boolean => {
  const code = c.codePointAt(0)!;
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
};
const NAME = {
  test: (name: string): boolean => {
    const characters = [...name];
    return (
      characters.length >= 1 &&
      characters.length <= 80 &&
      !NAME_FORBIDDEN.test(name) &&
      !characters.some(isControl)
    );
  },
};

/** StartExecution's `input`: at most 262,144 bytes of UTF-8 (botocore: SensitiveData, max 262144, in bytes). */
const MAX_INPUT_BYTES = 262_144;

/** RedriveExecution: within 14 days of the execution's end (API reference, RedriveExecution). */
const REDRIVABLE_PERIOD_MS = 14 * 24 * 3600 * 1000;
/** Client tokens: the last 10 that redrove an execution answer idempotently, for 15 minutes (botocore ClientToken). */
const CLIENT_TOKENS_KEPT = 10;
const CLIENT_TOKEN_TTL_MS = 15 * 60 * 1000;
const CLIENT_TOKEN = /^[!-~]{1,64}$/;

/**
 * Whether RedriveExecution would redrive `e` now, and AWS's reason when it would not (API reference,
 * DescribeExecution `redriveStatusReason`): not RUNNING, not SUCCEEDED, fewer than 24,999 history events (room for
 * ExecutionRedriven and one more), and within 14 days of its end.
 */
export function redriveStatus(
  e: LocalExecution,
  now: Date,
): { status: 'REDRIVABLE' } | { status: 'NOT_REDRIVABLE'; reason: string } {
  const no = (reason: string) => ({ status: 'NOT_REDRIVABLE' as const, reason });
  if (e.status === 'RUNNING') return no('Execution is RUNNING and cannot be redriven');
  if (e.status === 'SUCCEEDED') return no('Execution is SUCCEEDED and cannot be redriven');
  if (e.history.length >= MAX_HISTORY_EVENTS - 1) return no('Execution history event limit exceeded');
  if (e.stopDate && now.getTime() - e.stopDate.getTime() > REDRIVABLE_PERIOD_MS)
    return no('Execution redrivable period exceeded');
  return { status: 'REDRIVABLE' };
}

/**
 * Step Functions (JSON 1.0): enough of the API to create a state machine and run, watch and stop executions.
 * Executions run the definition in aws-local-stepfunctions, with Lambda tasks bound to local code.
 */
export function statesService(account: LocalAccount): ServiceDefinition {
  const state = stepFunctionsOf(account);
  const arnPrefix = `arn:aws:states:${account.region}:${account.accountId}`;

  const machine = (input: RequestInput): LocalStateMachine => {
    const arn = input.string('stateMachineArn');
    if (!arn.startsWith('arn:')) throw new AwsApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const found = state.stateMachines.get(arn);
    if (!found) throw new AwsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return found;
  };
  const execution = (input: RequestInput): LocalExecution => {
    const arn = input.string('executionArn');
    if (!arn.startsWith('arn:')) throw new AwsApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const found = state.executions.get(arn);
    if (!found) throw new AwsApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return found;
  };
  const checkDefinition = (text: string): void => {
    let parsed: unknown;
    try {
      parsed = parseJsonDocument(text);
    } catch (error) {
      throw new AwsApiError(
        'InvalidDefinition',
        `Invalid State Machine Definition: '${(error as Error).message}'`,
      );
    }
    const definition = (parsed ?? {}) as { StartAt?: unknown; States?: unknown };
    // Own members only: a StartAt of `toString` or `__proto__` names no state, whatever `in` would say.
    if (
      typeof definition.StartAt !== 'string' ||
      definition.States === null ||
      typeof definition.States !== 'object' ||
      !Object.hasOwn(definition.States, definition.StartAt)
    ) {
      throw new AwsApiError(
        'InvalidDefinition',
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET or StartAt not found'",
      );
    }
    // As AWS does, the whole definition is validated when the state machine is created or updated, not when it
    // first runs (the interpreter's validator, asl-validator; compiled once per definition text, so the first
    // execution finds it ready).
    try {
      compile(text);
    } catch (error) {
      // What the local account cannot run (a Distributed Map, ...) is valid ASL: refused when it runs, naming why.
      if (error instanceof ExecutionDefinitionError) return;
      throw new AwsApiError(
        'InvalidDefinition',
        `Invalid State Machine Definition: '${(error as Error).message.replace(/\s+/g, ' ').trim()}'`,
      );
    }
  };
  const summary = (e: LocalExecution) => ({
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: e.startDate,
    ...(e.stopDate ? { stopDate: e.stopDate } : {}),
    redriveCount: e.redriveCount,
    ...(e.redriveDate ? { redriveDate: e.redriveDate } : {}),
  });
  const describe = (e: LocalExecution): Record<string, unknown> => {
    const redrive = redriveStatus(e, account.now());
    return {
      ...summary(e),
      input: e.input,
      ...(e.output !== undefined ? { output: e.output } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}),
      ...(e.cause !== undefined ? { cause: e.cause } : {}),
      redriveStatus: redrive.status,
      ...(redrive.status === 'NOT_REDRIVABLE' ? { redriveStatusReason: redrive.reason } : {}),
    };
  };
  /** The client tokens that redrove each execution, newest last, with when they were first used. */
  const redriveTokens = new WeakMap<LocalExecution, { token: string; at: number; redriveDate: Date }[]>();

  /** StartExecution, for the API and for `states:startExecution` Tasks alike. */
  const startExecution = (input: RequestInput): LocalExecution => {
    const found = machine(input);
    const name = input.optString('name') ?? account.ids.uuid('execution');
    const executionInput = input.optString('input') ?? '{}';
    if (!NAME.test(name)) throw new AwsApiError('InvalidName', `Invalid Name: '${name}'`);
    if (Buffer.byteLength(executionInput) > MAX_INPUT_BYTES) {
      throw new AwsApiError(
        'ValidationException',
        "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have " +
          `length less than or equal to ${MAX_INPUT_BYTES}`,
      );
    }
    try {
      const parsed: unknown = parseJsonDocument(executionInput);
      if (parsed === null || typeof parsed !== 'object') throw new Error('must be a JSON object');
    } catch (error) {
      throw new AwsApiError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const executionArn = `${arnPrefix}:execution:${found.name}:${name}`;
    const existing = state.executions.get(executionArn);
    if (existing) {
      // AWS: a running execution with the same name and input is the same request; anything else is refused.
      if (existing.status === 'RUNNING' && existing.input === executionInput) return existing;
      throw new AwsApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const started = new LocalExecution(
      account,
      host,
      executionArn,
      found.stateMachineArn,
      name,
      executionInput,
      found.definition,
      found.roleArn,
    );
    state.executions.set(executionArn, started);
    return started;
  };
  const host: ExecutionHost = {
    lambdas: account.lambdas,
    startExecution: (request) => startExecution(new RequestInput(request)),
    describe,
  };
  const page = <T>(items: T[], input: RequestInput): { items: T[]; nextToken?: string } => {
    const max = input.optInt('maxResults', 0, 1000) || 100;
    const start = Number(input.optString('nextToken') ?? '0');
    if (!Number.isInteger(start) || start < 0 || start > items.length)
      throw new AwsApiError('InvalidToken', 'Invalid Token');
    const slice = items.slice(start, start + max);
    return { items: slice, ...(start + max < items.length ? { nextToken: String(start + max) } : {}) };
  };

  return {
    name: 'states',
    protocol: 'json',
    targetPrefix: 'AWSStepFunctions',
    jsonVersion: '1.0',
    throttling: { code: 'ThrottlingException', httpStatus: 400 },
    operations: {
      CreateStateMachine(input) {
        const name = input.string('name');
        const definition = input.string('definition');
        const roleArn = input.string('roleArn');
        const type = (input.optString('type') ?? 'STANDARD') as 'STANDARD' | 'EXPRESS';
        if (!NAME.test(name)) throw new AwsApiError('InvalidName', `Invalid Name: '${name}'`);
        if (type !== 'STANDARD' && type !== 'EXPRESS')
          throw new AwsApiError('ValidationException', `Invalid type: '${String(type)}'`);
        checkDefinition(definition);
        const stateMachineArn = `${arnPrefix}:stateMachine:${name}`;
        const existing = state.stateMachines.get(stateMachineArn);
        if (existing) {
          // AWS: the same name with the same definition and role is idempotent; anything else is a conflict.
          if (existing.definition === definition && existing.roleArn === roleArn) {
            return { stateMachineArn, creationDate: existing.creationDate };
          }
          throw new AwsApiError(
            'StateMachineAlreadyExists',
            `State Machine Already Exists: '${stateMachineArn}'`,
          );
        }
        const created: LocalStateMachine = {
          stateMachineArn,
          name,
          definition,
          roleArn,
          type,
          creationDate: account.now(),
        };
        if (input.has('loggingConfiguration')) created.loggingConfiguration = input.raw.loggingConfiguration;
        if (input.has('tracingConfiguration')) created.tracingConfiguration = input.raw.tracingConfiguration;
        state.stateMachines.set(stateMachineArn, created);
        return { stateMachineArn, creationDate: created.creationDate };
      },
      UpdateStateMachine(input) {
        const found = machine(input);
        const definition = input.optString('definition');
        if (definition !== undefined) checkDefinition(definition);
        if (definition !== undefined) found.definition = definition;
        const roleArn = input.optString('roleArn');
        if (roleArn !== undefined) found.roleArn = roleArn;
        return { updateDate: account.now() };
      },
      DescribeStateMachine(input) {
        const found = machine(input);
        return {
          stateMachineArn: found.stateMachineArn,
          name: found.name,
          status: 'ACTIVE',
          definition: found.definition,
          roleArn: found.roleArn,
          type: found.type,
          creationDate: found.creationDate,
        };
      },
      ListStateMachines(input) {
        const { items, nextToken } = page([...state.stateMachines.values()], input);
        return {
          stateMachines: items.map((m) => ({
            stateMachineArn: m.stateMachineArn,
            name: m.name,
            type: m.type,
            creationDate: m.creationDate,
          })),
          ...(nextToken ? { nextToken } : {}),
        };
      },
      DeleteStateMachine(input) {
        const found = machine(input);
        state.stateMachines.delete(found.stateMachineArn);
        return {};
      },
      StartExecution(input) {
        const started = startExecution(input);
        return { executionArn: started.executionArn, startDate: started.startDate };
      },
      DescribeExecution(input) {
        return describe(execution(input));
      },
      ListExecutions(input) {
        const arn = input.optString('stateMachineArn');
        if (arn !== undefined) machine(input);
        const status = input.optString('statusFilter');
        const redriveFilter = input.optString('redriveFilter');
        if (redriveFilter !== undefined && redriveFilter !== 'REDRIVEN' && redriveFilter !== 'NOT_REDRIVEN')
          throw new AwsApiError(
            'ValidationException',
            `1 validation error detected: Value '${redriveFilter}' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]`,
          );
        const all = [...state.executions.values()]
          .filter(
            (e) =>
              (arn === undefined || e.stateMachineArn === arn) &&
              (status === undefined || e.status === status) &&
              (redriveFilter === undefined || (redriveFilter === 'REDRIVEN') === e.redriveCount > 0),
          )
          .reverse();
        const { items, nextToken } = page(all, input);
        return { executions: items.map(summary), ...(nextToken ? { nextToken } : {}) };
      },
      GetExecutionHistory(input) {
        const e = execution(input);
        const includeData = input.optBoolean('includeExecutionData') ?? true;
        const max = input.optInt('maxResults', 0, 1000) || 100;
        const start = Number(input.optString('nextToken') ?? '0');
        if (!Number.isInteger(start) || start < 0 || start > e.history.length)
          throw new AwsApiError('InvalidToken', 'Invalid Token');
        // Pages are cut from the end when reverseOrder is set, without copying the whole history.
        const reverse = input.optBoolean('reverseOrder') ?? false;
        const total = e.history.length;
        const slice = reverse
          ? e.history.slice(Math.max(0, total - start - max), total - start).reverse()
          : e.history.slice(start, start + max);
        const events = includeData ? slice : slice.map(withoutData);
        return { events, ...(start + max < total ? { nextToken: String(start + max) } : {}) };
      },
      /**
       * RedriveExecution (API reference): a FAILED, ABORTED or TIMED_OUT Standard execution runs again from the
       * state that failed or was running, in the same history. ExecutionNotRedrivable with AWS's reason otherwise.
       * A client token that redrove this execution in the last 15 minutes (one of its last 10) answers the same
       * redriveDate and redrives nothing.
       */
      RedriveExecution(input) {
        const e = execution(input);
        const token = input.optString('clientToken');
        if (token !== undefined && !CLIENT_TOKEN.test(token))
          throw new AwsApiError(
            'ValidationException',
            `1 validation error detected: Value '${token}' at 'clientToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [!-~]+ and have length between 1 and 64`,
          );
        const now = account.now();
        const tokens = (redriveTokens.get(e) ?? []).filter(
          (t) => now.getTime() - t.at <= CLIENT_TOKEN_TTL_MS,
        );
        redriveTokens.set(e, tokens);
        const seen = token === undefined ? undefined : tokens.find((t) => t.token === token);
        if (seen) return { redriveDate: seen.redriveDate };
        const machineType = state.stateMachines.get(e.stateMachineArn)?.type;
        if (machineType === 'EXPRESS')
          throw new AwsApiError(
            'ExecutionNotRedrivable',
            'Redrive is not supported for EXPRESS state machines',
          );
        const redrive = redriveStatus(e, now);
        if (redrive.status === 'NOT_REDRIVABLE')
          throw new AwsApiError('ExecutionNotRedrivable', redrive.reason);
        e.redrive();
        const redriveDate = e.redriveDate ?? now;
        if (token !== undefined) {
          tokens.push({ token, at: now.getTime(), redriveDate });
          if (tokens.length > CLIENT_TOKENS_KEPT) tokens.shift();
        }
        return { redriveDate };
      },
      StopExecution(input) {
        const e = execution(input);
        const error = input.optString('error');
        const cause = input.optString('cause');
        e.stop(error, cause);
        return { stopDate: e.stopDate ?? account.now() };
      },
    },
  };
}

/** includeExecutionData=false: AWS leaves out inputs and outputs. */
function withoutData<T extends Record<string, unknown>>(event: T): T {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (
      value &&
      typeof value === 'object' &&
      !(value instanceof Date) &&
      ('input' in value || 'output' in value)
    ) {
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      copy[key] = rest;
    } else copy[key] = value;
  }
  return copy as T;
}
