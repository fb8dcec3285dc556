/**
 * Child executions (`states:startExecution`, `.sync`, `.sync:2`), Inline Map states and RedriveExecution on the
 * local account, through real SFN SDK clients: a parent whose Map runs one child execution per item, each child a
 * Wait/Task poll loop over trivial Lambdas, all on the one virtual timeline.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  serve,
  stepFunctionsOf,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import type { RunningEmulator } from '../../src/local-account/server.ts';
import { managedResourceAborted } from '../../src/local-account/step-functions/execution.ts';
import { missing, runAws } from '../support/tools.ts';

const role = 'arn:aws:iam::123456789012:role/local';
const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const machineArn = (name: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`;
const T0 = Date.UTC(2026, 0, 1);
const seconds = (date: Date | undefined) => ((date?.getTime() ?? NaN) - T0) / 1000;

/** One group: Trigger, then Wait 60 s and Check until Check says done (after 3 polls). */
const groupDefinition = {
  StartAt: 'Trigger',
  States: {
    Trigger: { Type: 'Task', Resource: fn('trigger'), ResultPath: null, Next: 'Wait' },
    Wait: { Type: 'Wait', Seconds: 60, Next: 'Check' },
    Check: { Type: 'Task', Resource: fn('check'), ResultPath: '$.check', Next: 'Done?' },
    'Done?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.done', BooleanEquals: true, Next: 'Done' }],
      Default: 'Wait',
    },
    Done: { Type: 'Succeed' },
  },
};

/** A batch: a Map over `items`, at most `maxParallel` at once, each item a `.sync:2` group execution. */
const batchDefinition = {
  StartAt: 'Groups',
  States: {
    Groups: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrencyPath: '$.maxParallel',
      ItemSelector: {
        'groupIndex.$': '$$.Map.Item.Value',
        'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
      },
      ItemProcessor: {
        StartAt: 'RunGroup',
        States: {
          RunGroup: {
            Type: 'Task',
            Resource: 'arn:aws:states:::states:startExecution.sync:2',
            Parameters: {
              StateMachineArn: machineArn('group'),
              Input: {
                'groupIndex.$': '$.groupIndex',
                'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$':
                  '$.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID',
              },
            },
            ResultSelector: { 'groupIndex.$': '$.Output.groupIndex', 'polls.$': '$.Output.check.polls' },
            End: true,
          },
        },
      },
      ResultPath: '$.groups',
      Next: 'Finished',
    },
    Finished: { Type: 'Succeed' },
  },
};

async function settled(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 5000; i++) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`execution ${executionArn} did not finish`);
}

async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

const childrenOf = (account: LocalAccount, machine: string) =>
  [...stepFunctionsOf(account).executions.values()].filter((e) => e.stateMachineArn === machineArn(machine));

describe('child executions, Map states and redrive on the local account', () => {
  let account: LocalAccount;
  let sfn: SFNClient;
  /** Group indexes whose Check throws FatalError, and how many more times (Infinity: always). */
  let failing: Map<number, number>;
  let triggers: number[];

  beforeEach(async () => {
    account = createLocalAccount();
    sfn = new SFNClient(inProcessClientConfig(account));
    failing = new Map();
    triggers = [];
    account.lambdas.bind('trigger', async (event) => {
      triggers.push((event as { groupIndex: number }).groupIndex);
      return {};
    });
    account.lambdas.bind('check', async (event) => {
      const { groupIndex, check } = event as { groupIndex: number; check?: { polls: number } };
      const left = failing.get(groupIndex) ?? 0;
      if (left > 0) {
        failing.set(groupIndex, left - 1);
        throw Object.assign(new Error(`group ${groupIndex} refresh failed`), { name: 'FatalError' });
      }
      const polls = (check?.polls ?? 0) + 1;
      return { polls, done: polls >= 3 };
    });
    for (const [name, definition] of [
      ['group', groupDefinition],
      ['batch', batchDefinition],
    ] as const)
      await sfn.send(
        new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: role }),
      );
  });

  const startBatch = async (items: number[], maxParallel: number, name?: string) => {
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machineArn('batch'),
        ...(name ? { name } : {}),
        input: JSON.stringify({ items, maxParallel }),
      }),
    );
    return executionArn;
  };

  it('runs a Map of .sync:2 children and returns each child’s parsed Output through ResultSelector', async () => {
    const executionArn = await startBatch([0, 1, 2], 3);
    const result = await settled(sfn, executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}').groups).toEqual([
      { groupIndex: 0, polls: 3 },
      { groupIndex: 1, polls: 3 },
      { groupIndex: 2, polls: 3 },
    ]);
    const children = childrenOf(account, 'group');
    expect(children.map((c) => c.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    // Each child got the parent's execution ARN, as AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.
    for (const child of children)
      expect(JSON.parse(child.input)).toMatchObject({
        AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: executionArn,
      });
    // Three groups side by side: 3 polls of 60 s each, not 9.
    expect(seconds(result.stopDate)).toBe(180);
  });

  it('runs at most MaxConcurrencyPath children at once, in virtual time', async () => {
    const executionArn = await startBatch([0, 1, 2, 3, 4, 5], 2);
    const result = await settled(sfn, executionArn);
    expect(result.status).toBe('SUCCEEDED');
    const children = childrenOf(account, 'group');
    expect(children.map((c) => seconds(c.startDate)).sort((a, b) => a - b)).toEqual([
      0, 0, 180, 180, 360, 360,
    ]);
    // No instant with more than two children running.
    for (const c of children) {
      const at = c.startDate.getTime();
      const running = children.filter((o) => o.startDate.getTime() <= at && o.stopDate!.getTime() > at);
      expect(running.length).toBeLessThanOrEqual(2);
    }
    expect(seconds(result.stopDate)).toBe(540);
  });

  it('runs no more than 40 iterations of an Inline Map at once, whatever MaxConcurrency says', async () => {
    const executionArn = await startBatch(
      Array.from({ length: 45 }, (_, i) => i),
      50,
    );
    expect((await settled(sfn, executionArn)).status).toBe('SUCCEEDED');
    const starts = childrenOf(account, 'group').map((c) => seconds(c.startDate));
    expect(starts.filter((s) => s === 0)).toHaveLength(40);
    expect(starts.filter((s) => s === 180)).toHaveLength(5);
  });

  it('fails the Task with States.TaskFailed and the child’s DescribeExecution as the Cause, and aborts the other iterations and their children', async () => {
    failing.set(1, Infinity);
    const executionArn = await startBatch([0, 1, 2], 3);
    const result = await settled(sfn, executionArn);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.TaskFailed');
    const cause = JSON.parse(result.cause ?? '{}') as Record<string, unknown>;
    const [first, failed, third] = childrenOf(account, 'group');
    expect(cause).toMatchObject({
      ExecutionArn: failed!.executionArn,
      StateMachineArn: machineArn('group'),
      Status: 'FAILED',
      Error: 'FatalError',
      Input: { groupIndex: 1, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: executionArn },
      StartDate: T0,
      StopDate: T0 + 60_000,
    });
    expect(JSON.parse(String(cause.Cause))).toMatchObject({ errorType: 'FatalError' });
    expect(Object.keys(cause)).toEqual([...Object.keys(cause)].sort());
    // The iterations still running were aborted with the Map, and their children stopped as AWS stops them.
    for (const child of [first!, third!]) {
      expect(child.status).toBe('ABORTED');
      expect(child.cause).toBe(managedResourceAborted(executionArn));
      expect(seconds(child.stopDate)).toBe(60);
    }
    const types = (await historyOf(sfn, executionArn)).map((e) => e.type);
    const tail = types.slice(types.indexOf('MapIterationFailed'));
    expect(tail).toEqual([
      'MapIterationFailed',
      'MapIterationAborted',
      'MapIterationAborted',
      'MapStateFailed',
      'ExecutionFailed',
    ]);
    const failedTask = (await historyOf(sfn, executionArn)).find((e) => e.type === 'TaskFailed');
    expect(failedTask?.taskFailedEventDetails).toMatchObject({
      resourceType: 'states',
      resource: 'startExecution.sync:2',
      error: 'States.TaskFailed',
    });
  });

  it('StopExecution of the parent stops the children its running .sync Tasks started', async () => {
    account.clock.driveBy('manual');
    const executionArn = await startBatch([0, 1], 2);
    for (let i = 0; i < 200 && childrenOf(account, 'group').length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 2));
    account.advance(30);
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by hand' }));
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('ABORTED');
    const children = childrenOf(account, 'group');
    expect(children).toHaveLength(2);
    for (const child of children) {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: child.executionArn }));
      expect(described).toMatchObject({ status: 'ABORTED', cause: managedResourceAborted(executionArn) });
      expect(seconds(described.stopDate)).toBe(30);
    }
  });

  it('records the history AWS records for a Map of .sync:2 Tasks, in order', async () => {
    const executionArn = await startBatch([7], 1);
    await settled(sfn, executionArn);
    const events = await historyOf(sfn, executionArn);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    const byType = (type: string) => events.find((e) => e.type === type)!;
    expect(byType('MapStateStarted').mapStateStartedEventDetails).toEqual({ length: 1 });
    expect(byType('MapIterationStarted').mapIterationStartedEventDetails).toEqual({
      name: 'Groups',
      index: 0,
    });
    const scheduled = byType('TaskScheduled').taskScheduledEventDetails!;
    expect(scheduled).toMatchObject({
      resourceType: 'states',
      resource: 'startExecution.sync:2',
      region: 'us-east-1',
    });
    expect(JSON.parse(scheduled.parameters ?? '{}')).toEqual({
      StateMachineArn: machineArn('group'),
      Input: { groupIndex: 7, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: executionArn },
    });
    const [child] = childrenOf(account, 'group');
    expect(JSON.parse(byType('TaskSubmitted').taskSubmittedEventDetails!.output ?? '{}')).toEqual({
      ExecutionArn: child!.executionArn,
      StartDate: T0,
    });
    expect(seconds(byType('TaskSucceeded').timestamp)).toBe(180);
    // The child's own history: Lambda function ARNs as Resource record LambdaFunction* events.
    const childTypes = (await historyOf(sfn, child!.executionArn)).map((e) => e.type);
    expect(childTypes.slice(0, 6)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
    ]);
  });

  it('redrives a failed Map: only the iterations that did not succeed run again, and the parent succeeds', async () => {
    failing.set(1, 1);
    const executionArn = await startBatch([0, 1, 2], 1);
    const failed = await settled(sfn, executionArn);
    expect(failed).toMatchObject({
      status: 'FAILED',
      error: 'States.TaskFailed',
      redriveStatus: 'REDRIVABLE',
    });
    expect(triggers).toEqual([0, 1]);

    const { redriveDate } = await sfn.send(new RedriveExecutionCommand({ executionArn }));
    expect(redriveDate).toBeInstanceOf(Date);
    const result = await settled(sfn, executionArn);
    expect(result.status).toBe('SUCCEEDED');
    // Group 0 succeeded before the failure and was not run again; group 1 ran again as a new child; group 2 ran.
    expect(triggers).toEqual([0, 1, 1, 2]);
    expect(JSON.parse(result.output ?? '{}').groups).toEqual([
      { groupIndex: 0, polls: 3 },
      { groupIndex: 1, polls: 3 },
      { groupIndex: 2, polls: 3 },
    ]);
    expect(childrenOf(account, 'group').map((c) => c.status)).toEqual([
      'SUCCEEDED',
      'FAILED',
      'SUCCEEDED',
      'SUCCEEDED',
    ]);
    expect(result).toMatchObject({
      redriveCount: 1,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
    });
    expect(result.redriveDate?.getTime()).toBe(redriveDate?.getTime());
    const types = (await historyOf(sfn, executionArn)).map((e) => e.type);
    const redriven = types.indexOf('ExecutionRedriven');
    expect(types[redriven - 1]).toBe('ExecutionFailed');
    expect(types.slice(redriven, redriven + 4)).toEqual([
      'ExecutionRedriven',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
    ]);
    expect(types.filter((t) => t === 'MapIterationStarted')).toHaveLength(2 + 2);
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn('batch'), redriveFilter: 'REDRIVEN' }),
    );
    expect(executions.map((e) => [e.executionArn, e.redriveCount])).toEqual([[executionArn, 1]]);
  });

  it('redrives a failed top-level .sync Task from its recorded input: the states before it do not run again, a new child does', async () => {
    let prepared = 0;
    account.lambdas.bind('prepare', async () => ({ groupIndex: 5, run: ++prepared }));
    const parent = {
      StartAt: 'Prepare',
      States: {
        Prepare: { Type: 'Task', Resource: fn('prepare'), Next: 'RunGroup' },
        RunGroup: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync',
          Parameters: { StateMachineArn: machineArn('group'), 'Input.$': 'States.JsonToString($)' },
          OutputPath: '$.Output',
          End: true,
        },
      },
    };
    await sfn.send(
      new CreateStateMachineCommand({ name: 'parent', definition: JSON.stringify(parent), roleArn: role }),
    );
    failing.set(5, 1);
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('parent'), name: 'p1' }),
    );
    expect(await settled(sfn, executionArn)).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    await sfn.send(new RedriveExecutionCommand({ executionArn }));
    const result = await settled(sfn, executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(prepared).toBe(1);
    // .sync returns Output as a JSON string.
    expect(JSON.parse(JSON.parse(result.output ?? '""') as string)).toMatchObject({ groupIndex: 5, run: 1 });
    expect(childrenOf(account, 'group').map((c) => c.status)).toEqual(['FAILED', 'SUCCEEDED']);
  });

  it('refuses to redrive a SUCCEEDED or RUNNING execution with AWS’s ExecutionNotRedrivable, and answers a repeated client token idempotently', async () => {
    account.clock.driveBy('manual');
    const running = await startBatch([0], 1, 'still-running');
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn: running }))).rejects.toMatchObject({
      name: 'ExecutionNotRedrivable',
      message: 'Execution is RUNNING and cannot be redriven',
    });
    account.clock.driveBy('idle');
    account.clock.runUntilIdle();
    await settled(sfn, running);
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn: running }))).rejects.toMatchObject({
      name: 'ExecutionNotRedrivable',
      message: 'Execution is SUCCEEDED and cannot be redriven',
    });
    await expect(
      sfn.send(
        new RedriveExecutionCommand({
          executionArn: 'arn:aws:states:us-east-1:123456789012:execution:batch:nope',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });

    failing.set(0, 1);
    const failed = await startBatch([0], 1, 'fails-once');
    await settled(sfn, failed);
    const first = await sfn.send(
      new RedriveExecutionCommand({ executionArn: failed, clientToken: 'token-1' }),
    );
    await settled(sfn, failed);
    const again = await sfn.send(
      new RedriveExecutionCommand({ executionArn: failed, clientToken: 'token-1' }),
    );
    expect(again.redriveDate?.getTime()).toBe(first.redriveDate?.getTime());
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: failed }))).redriveCount).toBe(1);
  });

  it('fails a Task whose state machine does not exist with StepFunctions.StateMachineDoesNotExistException', async () => {
    const parent = {
      StartAt: 'Run',
      States: {
        Run: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution',
          Parameters: { StateMachineArn: machineArn('missing'), Input: {} },
          End: true,
        },
      },
    };
    await sfn.send(
      new CreateStateMachineCommand({ name: 'orphan', definition: JSON.stringify(parent), roleArn: role }),
    );
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('orphan') }),
    );
    const result = await settled(sfn, executionArn);
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'StepFunctions.StateMachineDoesNotExistException',
    });
    expect(result.cause).toMatch(
      /^State Machine Does Not Exist: '.*stateMachine:missing' \(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: [^;]+; Proxy: null\)$/,
    );
  });

  it('returns StartExecution’s response from a request-response startExecution Task, and starts the child as the API would', async () => {
    const parent = {
      StartAt: 'Run',
      States: {
        Run: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution',
          Parameters: {
            StateMachineArn: machineArn('group'),
            Name: 'named-child',
            Input: '{"groupIndex":3}',
          },
          ResultSelector: { 'ExecutionArn.$': '$.ExecutionArn', 'StartDate.$': '$.StartDate' },
          End: true,
        },
      },
    };
    await sfn.send(
      new CreateStateMachineCommand({ name: 'fire', definition: JSON.stringify(parent), roleArn: role }),
    );
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('fire') }),
    );
    const result = await settled(sfn, executionArn);
    expect(JSON.parse(result.output ?? '{}')).toEqual({
      ExecutionArn: 'arn:aws:states:us-east-1:123456789012:execution:group:named-child',
      StartDate: T0,
    });
    // The parent did not wait; a second parent asking for the same name finds it closed: ExecutionAlreadyExists.
    await settled(sfn, 'arn:aws:states:us-east-1:123456789012:execution:group:named-child');
    const { executionArn: second = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('fire') }),
    );
    expect(await settled(sfn, second)).toMatchObject({
      status: 'FAILED',
      error: 'StepFunctions.ExecutionAlreadyExistsException',
    });
  });
});

const noCli = missing(
  'aws',
  'aws stepfunctions redrive-execution (test/local-account/child-executions.test.ts)',
);

describe('RedriveExecution over HTTP', () => {
  let account: LocalAccount;
  let emulator: RunningEmulator;
  let sfn: SFNClient;
  let failures = 0;

  beforeAll(async () => {
    account = createLocalAccount();
    emulator = await serve(account, 0);
    sfn = new SFNClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    account.lambdas.bind('flaky', async () => {
      if (failures-- > 0) throw Object.assign(new Error('not yet'), { name: 'NotYet' });
      return { ok: true };
    });
    const definition = { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('flaky'), End: true } } };
    await sfn.send(
      new CreateStateMachineCommand({ name: 'flaky', definition: JSON.stringify(definition), roleArn: role }),
    );
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('redrives with the SDK’s RedriveExecutionCommand against the emulator', async () => {
    failures = 1;
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('flaky'), name: 'sdk' }),
    );
    expect((await settled(sfn, executionArn)).status).toBe('FAILED');
    const { redriveDate } = await sfn.send(new RedriveExecutionCommand({ executionArn }));
    expect(redriveDate).toBeInstanceOf(Date);
    expect(await settled(sfn, executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
  });

  it.skipIf(noCli)('redrives with `aws stepfunctions redrive-execution`', async () => {
    failures = 1;
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn('flaky'), name: 'cli' }),
    );
    expect((await settled(sfn, executionArn)).status).toBe('FAILED');
    const redriven = await runAws(emulator.endpoint, [
      'stepfunctions',
      'redrive-execution',
      '--execution-arn',
      executionArn,
    ]);
    expect(redriven.exitCode).toBe(0);
    expect(redriven.json).toHaveProperty('redriveDate');
    expect(await settled(sfn, executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    const refused = await runAws(emulator.endpoint, [
      'stepfunctions',
      'redrive-execution',
      '--execution-arn',
      executionArn,
    ]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('ExecutionNotRedrivable');
  });
});
