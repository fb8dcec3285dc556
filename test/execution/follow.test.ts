import { SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { followExecution, historySince } from '../../src/execution/follow.ts';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  readFleetFile,
  stepFunctionsOf,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import type { LocalExecution } from '../../src/local-account/step-functions/execution.ts';
import { deployToLocalAccount } from '../../src/rehearsal/pipeline.ts';

/**
 * Holds every CheckRefreshStatus invocation until the test lets it through, so the execution's history grows
 * exactly when the test says: between two pages of one history read, as it does when a rollout on the emulator
 * runs in real time while `start --watch` reads its history.
 */
class Gate {
  private readonly held: (() => void)[] = [];
  private readonly arrivals: (() => void)[] = [];

  pass(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.held.push(resolve);
      this.arrivals.shift()?.();
    });
  }

  /** Lets one held invocation through and resolves once the execution is held again (or has ended). */
  async release(execution: LocalExecution): Promise<void> {
    const next = this.held.shift();
    if (!next) return;
    const heldAgain = new Promise<void>((resolve) => this.arrivals.push(resolve));
    next();
    await Promise.race([heldAgain, execution.done]);
    // The history recorder runs on microtasks: let it write what the execution did before it was held.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async arrived(): Promise<void> {
    if (this.held.length === 0) await new Promise<void>((resolve) => this.arrivals.push(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

const NEW_IMAGE = 'ami-0a1b2c3d4e5f60002';

/** The example pipeline on the example fleet, with its refresh checks held by `gate`; one execution started. */
async function heldRollout(gate: Gate) {
  const account: LocalAccount = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
  const { stateMachineArn } = await deployToLocalAccount(
    account,
    await loadConfig('examples/rollout.config.json'),
    {
      wrapStep: (step, handler) =>
        step === 'CheckRefreshStatus' ? async (event) => gate.pass().then(() => handler(event)) : handler,
    },
  );
  const sfn = new SFNClient(inProcessClientConfig(account));
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name: 'follow-test',
      input: JSON.stringify({ rolloutId: 'follow-test', imageId: NEW_IMAGE }),
    }),
  );
  const executions = stepFunctionsOf(account).executions;
  const execution = executions.get(executionArn!)!;
  /** The group execution whose refresh checks the gate holds (the refresh loop runs in a child of a batch). */
  const groupExecution = (): LocalExecution => {
    const running = [...executions.values()].filter((e) => e.stateMachineArn.endsWith('-group'));
    const held = running.at(-1);
    if (!held) throw new Error('no group execution has started yet: await gate.arrived() first');
    return held;
  };
  return { account, sfn, executionArn: executionArn!, execution, groupExecution };
}

/**
 * Calls `between` after each page of a history read that has a next page: the moment a running execution on the
 * emulator appends events while a follower pages backwards through its history.
 */
function onPageWithMore(sfn: SFNClient, between: () => Promise<void>): void {
  sfn.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = result.output as { nextToken?: string };
      if (context.commandName === 'GetExecutionHistoryCommand' && output.nextToken) await between();
      return result;
    },
    { step: 'initialize', name: 'growHistoryBetweenPages' },
  );
}

const ids = (events: readonly HistoryEvent[]) => events.map((e) => e.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('historySince', () => {
  let gate: Gate;
  beforeEach(() => {
    gate = new Gate();
  });

  it('returns each new event once, oldest first, when the history grows between two of its pages', async () => {
    const { sfn, groupExecution } = await heldRollout(gate);
    // Let a few refresh checks through, so that more than one page (25 events) is new since event 10 of the
    // group execution that polls them.
    await gate.arrived();
    const execution = groupExecution();
    const executionArn = execution.executionArn;
    for (let i = 0; i < 6; i++) await gate.release(execution);
    const before = execution.history.length;
    expect(before - 10).toBeGreaterThan(25);

    let grown = false;
    onPageWithMore(sfn, async () => {
      if (grown) return;
      grown = true;
      await gate.release(execution);
    });
    const events = await historySince(sfn, executionArn, 10);

    expect(grown).toBe(true);
    expect(execution.history.length).toBeGreaterThan(before);
    const newest = events.at(-1)?.id ?? 0;
    expect(newest).toBeGreaterThanOrEqual(before);
    expect(ids(events)).toEqual(range(11, newest));
  });
});

describe('followExecution', () => {
  it('hands over the whole history once and in order, however it grows while being read', async () => {
    const gate = new Gate();
    const { sfn, executionArn, execution } = await heldRollout(gate);
    // Each poll lets several refresh checks through (more than a page of new events), and each page with a
    // next page lets one more through: the history grows during almost every read.
    sfn.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DescribeExecutionCommand')
          for (let i = 0; i < 4; i++) await gate.release(execution);
        return next(args);
      },
      { step: 'initialize', name: 'runBetweenPolls' },
    );
    onPageWithMore(sfn, () => gate.release(execution));
    await gate.arrived();

    const seen: HistoryEvent[] = [];
    const described = await followExecution(sfn, executionArn, {
      pollMs: 1,
      onEvents: (events) => seen.push(...events),
    });

    expect(described.status).toBe('SUCCEEDED');
    expect(ids(seen)).toEqual(range(1, execution.history.length));
    const times = seen.map((e) => e.timestamp!.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
