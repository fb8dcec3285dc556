import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  stepFunctionsOf,
  type LocalAccount,
} from '../../src/local-account/index.ts';

const role = 'arn:aws:iam::123456789012:role/local';
const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

/** Polls a poll loop: Count -> Wait(SecondsPath) -> Check -> Choice, with a retried flaky step and a Catch. */
const pollDefinition = {
  StartAt: 'Count',
  States: {
    Count: { Type: 'Task', Resource: fn('count'), ResultPath: '$.count', Next: 'Wait' },
    Wait: { Type: 'Wait', SecondsPath: '$.pollSeconds', Next: 'Flaky' },
    Flaky: {
      Type: 'Task',
      Resource: fn('flaky'),
      ResultPath: null,
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3 }],
      Catch: [{ ErrorEquals: ['FatalError'], ResultPath: '$.error', Next: 'Failed' }],
      Next: 'Enough',
    },
    Enough: {
      Type: 'Choice',
      Choices: [{ Variable: '$.count.n', NumericGreaterThanEquals: 3, Next: 'Done' }],
      Default: 'Count',
    },
    Done: { Type: 'Succeed' },
    Failed: { Type: 'Fail', Error: 'RolloutFailed', Cause: 'caught' },
  },
};

async function finished(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 1000; i++) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`execution ${executionArn} did not finish`);
}

describe('Step Functions on the local account', () => {
  let account: LocalAccount;
  let sfn: SFNClient;
  let stateMachineArn: string;
  const seen: { name: string; at: string }[] = [];
  let flakyFailures = 0;
  let fatal = false;

  beforeEach(async () => {
    account = createLocalAccount();
    sfn = new SFNClient(inProcessClientConfig(account));
    seen.length = 0;
    flakyFailures = 0;
    fatal = false;
    let n = 0;
    account.lambdas.bind(fn('count'), async () => {
      seen.push({ name: 'count', at: account.now().toISOString() });
      return { n: ++n };
    });
    account.lambdas.bind('flaky', async () => {
      seen.push({ name: 'flaky', at: account.now().toISOString() });
      if (fatal) throw Object.assign(new Error('image is bad'), { name: 'FatalError' });
      if (flakyFailures-- > 0) throw Object.assign(new Error('try again'), { name: 'TransientError' });
      return {};
    });
    ({ stateMachineArn = '' } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'poll',
        definition: JSON.stringify(pollDefinition),
        roleArn: role,
      }),
    ));
  });

  it('runs the definition with Lambda tasks bound to local code, in virtual time', async () => {
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'run-1',
        input: JSON.stringify({ pollSeconds: 60 }),
      }),
    );
    const result = await finished(sfn, executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '{}')).toMatchObject({ count: { n: 3 }, pollSeconds: 60 });
    // Three polls, each after a 60-second wait: no real sleeping, the virtual clock moved.
    expect(seen.filter((s) => s.name === 'count').map((s) => s.at)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:02:00.000Z',
    ]);
    expect(result.stopDate?.toISOString()).toBe('2026-01-01T00:03:00.000Z');
  });

  it('records the history AWS records: a Lambda task is five events, a wait two', async () => {
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"pollSeconds":5}' }),
    );
    await finished(sfn, executionArn);
    const { events = [] } = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
    );
    expect(events.slice(0, 8).map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'WaitStateEntered',
      'WaitStateExited',
    ]);
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events[2]?.lambdaFunctionScheduledEventDetails?.resource).toBe(fn('count'));
  });

  it('records TaskScheduled (resourceType lambda, resource invoke) for arn:aws:states:::lambda:invoke, with the Parameters it sent', async () => {
    const definition = {
      StartAt: 'Invoke',
      States: {
        Invoke: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: fn('count'), 'Payload.$': '$.payload' },
          ResultSelector: { 'n.$': '$.Payload.n' },
          End: true,
        },
      },
    };
    const { stateMachineArn: arn = '' } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'invoke',
        definition: JSON.stringify(definition),
        roleArn: role,
      }),
    );
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"payload":{"a":1},"other":2}' }),
    );
    expect(JSON.parse((await finished(sfn, executionArn)).output ?? '{}')).toEqual({ n: 1 });
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    const scheduled = events[2]!.taskScheduledEventDetails!;
    expect(scheduled).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: 'us-east-1' });
    expect(JSON.parse(scheduled.parameters ?? '{}')).toEqual({
      FunctionName: fn('count'),
      Payload: { a: 1 },
    });
    expect(JSON.parse(events[4]!.taskSucceededEventDetails!.output ?? '{}')).toMatchObject({
      Payload: { n: 1 },
    });
  });

  it('records a Lambda function Task’s effective input (after Parameters) in LambdaFunctionScheduled', async () => {
    const definition = {
      StartAt: 'Count',
      States: {
        Count: { Type: 'Task', Resource: fn('count'), Parameters: { 'only.$': '$.keep' }, End: true },
      },
    };
    const { stateMachineArn: arn = '' } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'params',
        definition: JSON.stringify(definition),
        roleArn: role,
      }),
    );
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{"keep":"x","drop":"y"}' }),
    );
    await finished(sfn, executionArn);
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const scheduled = events.find((e) => e.type === 'LambdaFunctionScheduled');
    expect(JSON.parse(scheduled?.lambdaFunctionScheduledEventDetails?.input ?? '{}')).toEqual({ only: 'x' });
  });

  it('retries with the definition’s backoff in virtual time, then goes on', async () => {
    flakyFailures = 2;
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"pollSeconds":60}' }),
    );
    expect((await finished(sfn, executionArn)).status).toBe('SUCCEEDED');
    const flaky = seen.filter((s) => s.name === 'flaky').map((s) => s.at);
    expect(flaky.slice(0, 3)).toEqual([
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:01:02.000Z',
      '2026-01-01T00:01:06.000Z',
    ]);
  });

  it('passes a Lambda error to Catch by its name, with AWS’s JSON cause', async () => {
    fatal = true;
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"pollSeconds":1}' }),
    );
    const result = await finished(sfn, executionArn);
    expect(result).toMatchObject({ status: 'FAILED', error: 'RolloutFailed', cause: 'caught' });
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const failed = events.find((e) => e.type === 'LambdaFunctionFailed');
    expect(failed?.lambdaFunctionFailedEventDetails?.error).toBe('FatalError');
    expect(JSON.parse(failed?.lambdaFunctionFailedEventDetails?.cause ?? '{}')).toMatchObject({
      errorType: 'FatalError',
      errorMessage: 'image is bad',
    });
  });

  it('fails a Task whose Lambda is not bound, and never calls AWS', async () => {
    const definition = { StartAt: 'T', States: { T: { Type: 'Task', Resource: fn('nobody'), End: true } } };
    const { stateMachineArn: arn = '' } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'unbound',
        definition: JSON.stringify(definition),
        roleArn: role,
      }),
    );
    const { executionArn = '' } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    const result = await finished(sfn, executionArn);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.TaskFailed');
    expect(result.cause).toMatch(/Task T: .*function:nobody is not bound to local code/);
  });

  it('treats a repeated StartExecution with the same name and input as the same request, and refuses other input', async () => {
    account.lambdas.bind('count', () => new Promise(() => undefined)); // never finishes: the execution stays RUNNING
    const input = '{"pollSeconds":60}';
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same', input }));
    const second = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same', input }));
    expect(second.executionArn).toBe(first.executionArn);
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'same', input: '{"pollSeconds":1}' })),
    ).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    expect(stepFunctionsOf(account).executions.size).toBe(1);
  });

  it('stops a running execution as ABORTED and lists it', async () => {
    account.lambdas.bind('count', () => new Promise(() => undefined));
    const { executionArn = '' } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped by hand' }));
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({
      status: 'ABORTED',
      error: 'Operator',
    });
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'ABORTED' }),
    );
    expect(executions.map((e) => e.executionArn)).toEqual([executionArn]);
  });

  it('answers AWS’s errors for unknown executions and bad definitions', async () => {
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: 'arn:aws:states:us-east-1:123456789012:execution:poll:nope',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    await expect(
      sfn.send(
        new CreateStateMachineCommand({
          name: 'bad',
          definition: '{"StartAt":"X","States":{}}',
          roleArn: role,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidDefinition',
    });
    // The whole definition is validated at creation, as on AWS: a Task without a Resource, a Choice whose
    // target is missing, a Map whose ItemProcessor has no States.
    for (const states of [
      { X: { Type: 'Task', End: true } },
      {
        X: { Type: 'Choice', Choices: [{ Variable: '$.a', IsPresent: true, Next: 'Nowhere' }], Default: 'X' },
      },
      { X: { Type: 'Map', ItemProcessor: { StartAt: 'Y' }, End: true } },
    ]) {
      await expect(
        sfn.send(
          new CreateStateMachineCommand({
            name: 'bad',
            definition: JSON.stringify({ StartAt: 'X', States: states }),
            roleArn: role,
          }),
        ),
        JSON.stringify(states),
      ).rejects.toMatchObject({ name: 'InvalidDefinition' });
    }
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn, input: 'not json' })),
    ).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
  });

  it('fails an execution whose state grows past 256 KiB with States.DataLimitExceeded, as AWS does', async () => {
    account.lambdas.bind('big', async () => ({ blob: 'x'.repeat(300 * 1024) }));
    const definition = { StartAt: 'Big', States: { Big: { Type: 'Task', Resource: fn('big'), End: true } } };
    const { stateMachineArn: arn = '' } = await sfn.send(
      new CreateStateMachineCommand({ name: 'big', definition: JSON.stringify(definition), roleArn: role }),
    );
    const { executionArn = '' } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
    expect(await finished(sfn, executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
    });
  });

  it('fails an execution past 25,000 history events, as AWS does', async () => {
    const definition = {
      StartAt: 'Spin',
      States: {
        Spin: { Type: 'Pass', Next: 'Again' },
        Again: {
          Type: 'Choice',
          Choices: [{ Variable: '$.stop', IsPresent: true, Next: 'Done' }],
          Default: 'Spin',
        },
        Done: { Type: 'Succeed' },
      },
    };
    const { stateMachineArn: arn = '' } = await sfn.send(
      new CreateStateMachineCommand({ name: 'spin', definition: JSON.stringify(definition), roleArn: role }),
    );
    const { executionArn = '' } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, input: '{}' }),
    );
    const result = await finished(sfn, executionArn);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(result.cause).toMatch(/maximum number of history events \(25000\)/);
    expect(stepFunctionsOf(account).executions.get(executionArn)!.history).toHaveLength(25_000);
  });
});
