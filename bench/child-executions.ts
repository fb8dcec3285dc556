// The cost of child executions on the local account: a parent whose Map starts N `.sync:2` children, each a
// 3-poll Wait/Task loop over a trivial Lambda, all in virtual time. Run alone: `npx tsx bench/child-executions.ts`.
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createLocalAccount, inProcessClientConfig, stepFunctionsOf } from '../src/local-account/index.ts';

export interface ChildExecutionsBench {
  readonly children: number;
  readonly maxConcurrency: number;
  readonly status: string;
  readonly wallMs: number;
  readonly simulatedSeconds: number;
  readonly parentEvents: number;
  readonly eventsPerChild: number;
  readonly heapUsedMb: number;
  readonly wallMsPerChild: number;
}

const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

export async function benchChildExecutions(
  children = 2000,
  maxConcurrency = 50,
): Promise<ChildExecutionsBench> {
  const account = createLocalAccount();
  const sfn = new SFNClient(inProcessClientConfig(account));
  account.lambdas.bind('check', async (event) => {
    const polls = ((event as { polls?: number }).polls ?? 0) + 1;
    return { polls, done: polls >= 3 };
  });
  const group = {
    StartAt: 'Wait',
    States: {
      Wait: { Type: 'Wait', Seconds: 60, Next: 'Check' },
      Check: { Type: 'Task', Resource: fn('check'), Next: 'Done?' },
      'Done?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Done' }],
        Default: 'Wait',
      },
      Done: { Type: 'Succeed' },
    },
  };
  const { stateMachineArn: groupArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: 'group',
      definition: JSON.stringify(group),
      roleArn: 'arn:aws:iam::123456789012:role/r',
    }),
  );
  const parent = {
    StartAt: 'Groups',
    States: {
      Groups: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrencyPath: '$.maxParallel',
        ItemSelector: { 'groupIndex.$': '$$.Map.Item.Value' },
        ItemProcessor: {
          StartAt: 'RunGroup',
          States: {
            RunGroup: {
              Type: 'Task',
              Resource: 'arn:aws:states:::states:startExecution.sync:2',
              Parameters: { StateMachineArn: groupArn, 'Input.$': '$' },
              ResultPath: null,
              End: true,
            },
          },
        },
        ResultPath: null,
        End: true,
      },
    },
  };
  const { stateMachineArn: parentArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: 'parent',
      definition: JSON.stringify(parent),
      roleArn: 'arn:aws:iam::123456789012:role/r',
    }),
  );
  global.gc?.();
  const started = performance.now();
  const { executionArn = '' } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: parentArn,
      input: JSON.stringify({
        items: Array.from({ length: children }, (_, i) => i),
        maxParallel: maxConcurrency,
      }),
    }),
  );
  const executions = stepFunctionsOf(account).executions;
  const execution = executions.get(executionArn)!;
  while (execution.status === 'RUNNING') await execution.done;
  const wallMs = performance.now() - started;
  const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;
  const childRuns = [...executions.values()].filter((e) => e.stateMachineArn === groupArn);
  return {
    children: childRuns.length,
    maxConcurrency,
    status: execution.status,
    wallMs,
    simulatedSeconds: (execution.stopDate!.getTime() - execution.startDate.getTime()) / 1000,
    parentEvents: execution.history.length,
    eventsPerChild: childRuns.reduce((n, e) => n + e.history.length, 0) / childRuns.length,
    heapUsedMb,
    wallMsPerChild: wallMs / childRuns.length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // A first small run pays for loading and compiling (the SDK, the validator): measured apart.
  const warm = await benchChildExecutions(10, 10);
  console.log(`warm-up: 10 children in ${warm.wallMs.toFixed(0)} ms (module loading, first compilation)`);
  const r = await benchChildExecutions(Number(process.argv[2] ?? 2000), Number(process.argv[3] ?? 50));
  console.log(
    `child executions: a Map of ${r.children} .sync:2 children, MaxConcurrency ${r.maxConcurrency} (Inline Map runs at most 40)`,
  );
  console.log(`  result:            ${r.status}, ${(r.simulatedSeconds / 3600).toFixed(2)} h simulated`);
  console.log(`  wall time:         ${r.wallMs.toFixed(0)} ms (${r.wallMsPerChild.toFixed(2)} ms per child)`);
  console.log(
    `  history events:    parent ${r.parentEvents} (${(r.parentEvents / r.children).toFixed(1)} per child), each child ${r.eventsPerChild.toFixed(0)}`,
  );
  console.log(`  heap after run:    ${r.heapUsedMb.toFixed(1)} MiB`);
}
