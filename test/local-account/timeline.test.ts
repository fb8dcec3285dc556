/**
 * One discrete-event timeline: Waits and retry intervals of every execution, and the fleet's own events, share
 * the account's virtual clock. Two executions waiting together wait together; a Task runs at the virtual time
 * it is reached; StopExecution ends a Wait where it stands.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { SIMULATION_TIMING } from '../../src/local-account/simulation/timing.ts';
import { retryDelaySeconds } from '../../src/local-account/step-functions/execution.ts';

const role = 'arn:aws:iam::123456789012:role/local';
const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
/** The virtual time a test starts at: once the seeded fleet has settled. */
let START = 0;
/** Virtual seconds since the test started. */
const sinceStart = (date: Date | undefined) => ((date?.getTime() ?? NaN) - START) / 1000;

/** Tick -> (enough?) -> Wait SecondsPath -> Tick ...: `times` ticks, `seconds` apart. */
const tickLoop = {
  StartAt: 'Tick',
  States: {
    Tick: {
      Type: 'Task',
      Resource: fn('tick'),
      Parameters: { 'who.$': '$.who', 'n.$': '$.n' },
      ResultPath: '$.n',
      Next: 'Enough',
    },
    Enough: {
      Type: 'Choice',
      Choices: [{ Variable: '$.n', NumericGreaterThanEqualsPath: '$.times', Next: 'Done' }],
      Default: 'Pause',
    },
    Pause: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Tick' },
    Done: { Type: 'Succeed' },
  },
};

let account: LocalAccount;
let sfn: SFNClient;
/** What happened, in the order it happened: Tasks of any execution and the fleet's markers. */
let log: { what: string; at: number }[];

async function machine(name: string, definition: unknown): Promise<string> {
  const { stateMachineArn = '' } = await sfn.send(
    new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: role }),
  );
  return stateMachineArn;
}

async function start(stateMachineArn: string, name: string, input: unknown): Promise<string> {
  const { executionArn = '' } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  return executionArn;
}

/** Polls (in real time, a few ms apart) until the execution has ended. */
async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (let i = 0; i < 2000; i++) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`execution ${executionArn} did not finish`);
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return events;
}

const at = (events: HistoryEvent[], type: string) =>
  events.filter((e) => e.type === type).map((e) => sinceStart(e.timestamp));

beforeEach(async () => {
  account = await createLocalAccountFromFleet(
    parseFleet({
      images: [{ imageId: 'ami-0000000000000a001', name: 'base' }],
      launchTemplates: [
        { launchTemplateId: 'lt-0000000000000a001', name: 'web', imageId: 'ami-0000000000000a001' },
      ],
      autoScalingGroups: [
        { name: 'web', launchTemplate: 'lt-0000000000000a001', minSize: 1, maxSize: 4, desiredCapacity: 1 },
      ],
    }),
  );
  // The seeded fleet has settled (its instances are in service): time is measured from here.
  START = account.clock.now();
  sfn = new SFNClient(inProcessClientConfig(account));
  log = [];
  account.lambdas.bind('tick', async (event) => {
    const { who, n } = event as { who: string; n: number };
    log.push({ what: `${who}${n}`, at: (account.clock.now() - START) / 1000 });
    return n + 1;
  });
});

describe('one timeline for every execution and the fleet', () => {
  it('runs two executions started together each at its own pace: A every 60 s, B every 100 s', async () => {
    const arn = await machine('ticks', tickLoop);
    const release = account.clock.hold();
    const a = await start(arn, 'a', { who: 'A', n: 0, times: 4, seconds: 60 });
    const b = await start(arn, 'b', { who: 'B', n: 0, times: 3, seconds: 100 });
    release();
    const [ra, rb] = [await finished(a), await finished(b)];
    expect([ra.status, rb.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const times = (who: string) => log.filter((l) => l.what.startsWith(who)).map((l) => l.at);
    expect(times('A')).toEqual([0, 60, 120, 180]);
    expect(times('B')).toEqual([0, 100, 200]);
    // One timeline: the Tasks of both, in the order of their virtual times.
    expect(log.map((l) => l.at)).toEqual([...log.map((l) => l.at)].sort((x, y) => x - y));
    expect([sinceStart(ra.stopDate), sinceStart(rb.stopDate)]).toEqual([180, 200]);
    // The account's clock went as far as the last event: not 3 x 60 + 2 x 100.
    expect((account.clock.now() - START) / 1000).toBe(200);
    // History: each WaitStateEntered at t, its WaitStateExited at t + Seconds.
    const events = await history(b);
    expect(at(events, 'WaitStateEntered')).toEqual([0, 100]);
    expect(at(events, 'WaitStateExited')).toEqual([100, 200]);
    expect(at(events, 'TaskStateEntered')).toEqual([0, 100, 200]);
  });

  it('interleaves the fleet’s scheduled events with the executions’ in virtual-time order', async () => {
    for (const second of [30, 90, 150, 199])
      account.clock.schedule(second, () => log.push({ what: `fleet@${second}`, at: second }));
    const arn = await machine('ticks', tickLoop);
    const release = account.clock.hold();
    const a = await start(arn, 'a', { who: 'A', n: 0, times: 4, seconds: 60 });
    const b = await start(arn, 'b', { who: 'B', n: 0, times: 3, seconds: 100 });
    release();
    await finished(a);
    await finished(b);
    expect(log.map((l) => `${l.what}@${l.at}`)).toEqual([
      'A0@0',
      'B0@0',
      'fleet@30@30',
      'A1@60',
      'fleet@90@90',
      'B1@100',
      'A2@120',
      'fleet@150@150',
      'A3@180',
      'fleet@199@199',
      'B2@200',
    ]);
  });

  it('lets a Task see the fleet as it is at the Task’s virtual time (an instance launching during a Wait)', async () => {
    const autoScaling = new AutoScalingClient(inProcessClientConfig(account));
    const seen: { at: number; states: string[] }[] = [];
    account.lambdas.bind('scale', async () => {
      await autoScaling.send(
        new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 }),
      );
      return null;
    });
    account.lambdas.bind('look', async () => {
      const { AutoScalingGroups = [] } = await autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }),
      );
      const states = (AutoScalingGroups[0]?.Instances ?? []).map((i) => i.LifecycleState ?? '').sort();
      seen.push({ at: (account.clock.now() - START) / 1000, states });
      return null;
    });
    const launch = SIMULATION_TIMING.instanceLaunchSeconds;
    const arn = await machine('scale', {
      StartAt: 'Scale',
      States: {
        Scale: { Type: 'Task', Resource: fn('scale'), ResultPath: null, Next: 'Soon' },
        Soon: { Type: 'Wait', Seconds: launch - 10, Next: 'Early' },
        Early: { Type: 'Task', Resource: fn('look'), ResultPath: null, Next: 'Later' },
        Later: { Type: 'Wait', Seconds: 20, Next: 'Late' },
        Late: { Type: 'Task', Resource: fn('look'), ResultPath: null, End: true },
      },
    });
    expect((await finished(await start(arn, 'scale', {}))).status).toBe('SUCCEEDED');
    expect(seen).toEqual([
      { at: launch - 10, states: ['InService', 'Pending'] },
      { at: launch + 10, states: ['InService', 'InService'] },
    ]);
  });

  it('ends a Wait at the virtual time of StopExecution, and the stopped execution holds no time', async () => {
    account.lambdas.bind('stop', async (event) => {
      const { target } = event as { target: string };
      await sfn.send(new StopExecutionCommand({ executionArn: target, error: 'Operator', cause: 'enough' }));
      return null;
    });
    const sleeper = await machine('sleeper', {
      StartAt: 'Long',
      States: { Long: { Type: 'Wait', Seconds: 3600, Next: 'After' }, After: { Type: 'Succeed' } },
    });
    const stopper = await machine('stopper', {
      StartAt: 'Pause',
      States: {
        Pause: { Type: 'Wait', Seconds: 100, Next: 'Stop' },
        Stop: { Type: 'Task', Resource: fn('stop'), ResultPath: null, End: true },
      },
    });
    const release = account.clock.hold();
    const target = await start(sleeper, 'sleeper', {});
    const by = await start(stopper, 'stopper', { target });
    release();
    expect((await finished(by)).status).toBe('SUCCEEDED');
    const stopped = await finished(target);
    expect(stopped).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'enough' });
    expect(sinceStart(stopped.stopDate)).toBe(100);
    const events = await history(target);
    expect(events.map((e) => `${e.type}@${sinceStart(e.timestamp)}`)).toEqual([
      'ExecutionStarted@0',
      'WaitStateEntered@0',
      'ExecutionAborted@100',
    ]);
    // The hour's wake-up is gone: nothing is left to run, and time stopped at the stop.
    expect(account.clock.pendingTasks).toBe(0);
    expect((account.clock.now() - START) / 1000).toBe(100);
  });

  it('stops a Wait under the manual driver at the time the clock was moved to', async () => {
    account.clock.driveBy('manual');
    const sleeper = await machine('sleeper', {
      StartAt: 'Long',
      States: { Long: { Type: 'Wait', Seconds: 3600, Next: 'After' }, After: { Type: 'Succeed' } },
    });
    const target = await start(sleeper, 'sleeper', {});
    for (let i = 0; i < 100 && (await history(target)).length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 2));
    // Under the manual driver, a sleeping execution does not move time.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(account.clock.now()).toBe(START);
    account.advance(90);
    await sfn.send(new StopExecutionCommand({ executionArn: target }));
    const events = await history(target);
    expect(events.map((e) => `${e.type}@${sinceStart(e.timestamp)}`)).toEqual([
      'ExecutionStarted@0',
      'WaitStateEntered@0',
      'ExecutionAborted@90',
    ]);
    account.advance(3600);
    expect((await history(target)).length).toBe(3);
  });

  it('passes a Timestamp wait in the past at once, and waits for one in the future until its time', async () => {
    const arn = await machine('stamps', {
      StartAt: 'Past',
      States: {
        Past: { Type: 'Wait', Timestamp: '2025-12-31T23:00:00Z', Next: 'First' },
        First: {
          Type: 'Task',
          Resource: fn('tick'),
          Parameters: { who: 'T', n: 1 },
          ResultPath: null,
          Next: 'Future',
        },
        Future: { Type: 'Wait', TimestampPath: '$.until', Next: 'Second' },
        Second: {
          Type: 'Task',
          Resource: fn('tick'),
          Parameters: { who: 'T', n: 2 },
          ResultPath: null,
          End: true,
        },
      },
    });
    const until = new Date(START + 600_000).toISOString();
    const done = await finished(await start(arn, 'stamps', { until }));
    expect(done.status).toBe('SUCCEEDED');
    expect(log).toEqual([
      { what: 'T1', at: 0 },
      { what: 'T2', at: 600 },
    ]);
    const events = await history(done.executionArn!);
    expect(at(events, 'WaitStateEntered')).toEqual([0, 0]);
    expect(at(events, 'WaitStateExited')).toEqual([0, 600]);
  });

  it('fails an execution whose SecondsPath holds no non-negative integer with States.Runtime', async () => {
    const arn = await machine('bad-wait', {
      StartAt: 'Pause',
      States: { Pause: { Type: 'Wait', SecondsPath: '$.seconds', End: true } },
    });
    const done = await finished(await start(arn, 'bad', { seconds: -5 }));
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(done.cause).toMatch(/SecondsPath.*\$\.seconds is -5/);
  });

  it('takes a retry interval in virtual time, while another execution goes on in it', async () => {
    let failures = 2;
    account.lambdas.bind('flaky', async () => {
      log.push({ what: 'flaky', at: (account.clock.now() - START) / 1000 });
      if (failures-- > 0) throw Object.assign(new Error('again'), { name: 'TransientError' });
      return null;
    });
    const flaky = await machine('flaky', {
      StartAt: 'Flaky',
      States: {
        Flaky: {
          Type: 'Task',
          Resource: fn('flaky'),
          Retry: [
            { ErrorEquals: ['TransientError'], IntervalSeconds: 5, BackoffRate: 3, MaxDelaySeconds: 10 },
          ],
          End: true,
        },
      },
    });
    const ticks = await machine('ticks', tickLoop);
    const release = account.clock.hold();
    const a = await start(flaky, 'flaky', {});
    const b = await start(ticks, 'ticks', { who: 'B', n: 0, times: 3, seconds: 7 });
    release();
    expect((await finished(a)).status).toBe('SUCCEEDED');
    await finished(b);
    // Retries after 5 s, then 5 x 3 = 15 s capped at MaxDelaySeconds 10: at 0, 5, 15.
    expect(log.map((l) => `${l.what}@${l.at}`)).toEqual([
      'flaky@0',
      'B0@0',
      'flaky@5',
      'B1@7',
      'B2@14',
      'flaky@15',
    ]);
    const events = await history(a);
    expect(at(events, 'LambdaFunctionFailed')).toEqual([0, 5]);
    expect(at(events, 'LambdaFunctionSucceeded')).toEqual([15]);
  });

  it('times an execution out after its TimeoutSeconds of virtual time', async () => {
    const arn = await machine('slow', {
      TimeoutSeconds: 300,
      StartAt: 'Long',
      States: { Long: { Type: 'Wait', Seconds: 3600, End: true } },
    });
    const done = await finished(await start(arn, 'slow', {}));
    expect(done.status).toBe('TIMED_OUT');
    expect(sinceStart(done.stopDate)).toBe(300);
    expect((await history(done.executionArn!)).at(-1)?.type).toBe('ExecutionTimedOut');
  });
});

describe('retry delays as the States Language defines them', () => {
  const retrier = { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 60 };

  it('grows by BackoffRate and stops at MaxDelaySeconds', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(retrier, n, 'x'))).toEqual([
      2, 4, 8, 16, 32, 60, 60,
    ]);
  });

  it('with JitterStrategy FULL, draws each delay from 0 to the backoff, the same for the same seed', () => {
    const full = { ...retrier, JitterStrategy: 'FULL' as const };
    const delays = Array.from({ length: 50 }, (_, n) => retryDelaySeconds(full, n % 7, `e/s/0/${n}`));
    delays.forEach((delay, n) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(retryDelaySeconds(retrier, n % 7, 'x'));
    });
    expect(new Set(delays).size).toBeGreaterThan(40);
    expect(retryDelaySeconds(full, 3, 'same')).toBe(retryDelaySeconds(full, 3, 'same'));
  });
});

describe('Step Functions names, as the API reference defines them', () => {
  const definition = JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });

  it('refuses every character class the reference lists, and nothing else', async () => {
    const refused = [
      ...' \t\n<>{}[]?*"#%\\^|~`$&,;:/',
      '\u0000',
      '\u001f',
      '\u007f',
      '\u009f',
      '\ufffe',
      '\uffff',
      '\ud800',
      '\u{10ffff}',
    ];
    for (const character of refused) {
      await expect(
        sfn.send(new CreateStateMachineCommand({ name: `a${character}b`, definition, roleArn: role })),
      ).rejects.toMatchObject({ name: 'InvalidName' });
    }
    for (const name of ['rollout-ami.1', 'a+b=c@d!', 'café', "it's", '(x)', 'x'.repeat(80)]) {
      await expect(
        sfn.send(new CreateStateMachineCommand({ name, definition, roleArn: role })),
      ).resolves.toMatchObject({ stateMachineArn: expect.stringContaining(`:stateMachine:${name}`) });
    }
  });
});
