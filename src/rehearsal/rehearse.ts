import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { RolloutConfig } from '../config/schema.ts';
import { rolloutExecutionInput } from '../core/start-decision.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Ledger } from '../adapters/ledger.ts';
import type { LedgerSnapshot } from '../execution/fleet-progress.ts';
import { followExecution } from '../execution/follow.ts';
import type { ExecutionHistory } from '../execution/history-stats.ts';
import { readLedgerSnapshot } from '../execution/ledger-snapshot.ts';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  stepFunctionsOf,
  type LocalAccount,
} from '../local-account/index.ts';
import type { Fault } from '../local-account/faults.ts';
import type { Fleet } from '../local-account/fleet.ts';
import { deployToLocalAccount, type DeployLocalOptions } from './pipeline.ts';
import { collectReport, type RolloutReport } from './report.ts';

export interface RehearsalOptions {
  readonly config: RolloutConfig;
  readonly fleet: Fleet;
  readonly imageId: string;
  /** Extra faults, on top of the fleet file's (for `--fail GROUP`: unhealthy new instances in GROUP). */
  readonly faults?: readonly Fault[];
  /** Called with each batch of new history events as the execution runs. */
  readonly onEvents?: (events: HistoryEvent[]) => void;
  /**
   * Called with a read of the rollout's ledger whenever virtual time has moved since the last read (at most every
   * 50 ms of real time, and never more than a third of it reading), with the virtual time of the read, and once
   * at the end. Default: no reads during the rehearsal (they cost time on a large fleet).
   */
  readonly onSnapshot?: (snapshot: LedgerSnapshot, at: Date) => void;
  /** Execution name. Default `rollout-<AMI id>`, the name a start on AWS gives it (and fixed, so the same rehearsal gives the same output). */
  readonly rolloutId?: string;
  /** Wraps a step's handler, as in `deployToLocalAccount`. */
  readonly wrapStep?: DeployLocalOptions['wrapStep'];
  /** Called once the account is seeded, before the pipeline is deployed (tests use it to prepare the account). */
  readonly prepare?: (account: LocalAccount) => void | Promise<void>;
}

export interface Rehearsal {
  readonly account: LocalAccount;
  readonly report: RolloutReport;
  /** The rollout execution's history. */
  readonly history: HistoryEvent[];
  /** The rollout's ledger records at the end (undefined when Preflight refused before writing the plan). */
  readonly ledger?: LedgerSnapshot;
}

/**
 * Rehearses a rollout: seeds a local account with the fleet, deploys the pipeline onto it (the real definition,
 * the real handlers), starts an execution through the Step Functions API and follows it to its end.
 */
export async function rehearse(options: RehearsalOptions): Promise<Rehearsal> {
  const { config, imageId } = options;
  const account = await createLocalAccountFromFleet(options.fleet);
  for (const fault of options.faults ?? []) account.faults.add(fault);
  await options.prepare?.(account);
  const pipeline = await deployToLocalAccount(
    account,
    config,
    options.wrapStep ? { wrapStep: options.wrapStep } : {},
  );
  const { stateMachineArn, topicArn } = pipeline;
  const clientConfig = inProcessClientConfig(account, { cacheMiddleware: true });
  const sfn = new SFNClient(clientConfig);
  const input = options.rolloutId
    ? { rolloutId: options.rolloutId, imageId }
    : rolloutExecutionInput(imageId);
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn,
      name: input.rolloutId,
      input: JSON.stringify(input),
    }),
  );
  if (!executionArn) throw new Error('StartExecution returned no execution ARN');
  const history: HistoryEvent[] = [];
  // The execution runs in this process on the account's timeline: the clock's idle driver moves virtual time to
  // the next event whenever the execution sleeps on a Wait or a retry interval (clock.ts), so nothing here
  // advances it; polling every few real milliseconds follows the history closely.
  const ledger = new Ledger(new DynamoDBClient(clientConfig), pipeline.ledgerTable);
  const sampling = { done: false };
  const sampler = options.onSnapshot
    ? sampleLedger(account, ledger, input.rolloutId, options.onSnapshot, sampling)
    : undefined;
  let execution;
  try {
    execution = await followExecution(sfn, executionArn, {
      pollMs: 20,
      onEvents: (events) => {
        history.push(...events);
        options.onEvents?.(events);
      },
    });
  } finally {
    sampling.done = true;
    await sampler;
  }
  const snapshot = await readLedgerSnapshot(ledger, input.rolloutId);
  if (snapshot) options.onSnapshot?.(snapshot, account.now());
  const report = await collectReport({
    clients: {
      ec2: new EC2Client(clientConfig),
      autoscaling: new AutoScalingClient(clientConfig),
      ssm: new SSMClient(clientConfig),
    },
    config,
    imageId,
    execution,
    history,
    ...(snapshot ? { ledger: snapshot } : {}),
    executions: executionsOf(account, executionArn, pipeline),
    notifications: account.state.published
      .filter((m) => m.topicArn === topicArn)
      .map((m) => ({ ...(m.subject !== undefined ? { subject: m.subject } : {}), message: m.message })),
  });
  return { account, report, history, ...(snapshot ? { ledger: snapshot } : {}) };
}

/**
 * The rollout's executions on the account: its own, and every batch and group execution (the account runs
 * one rollout per rehearsal, so every child of the pipeline's machines is this rollout's).
 */
function executionsOf(
  account: LocalAccount,
  executionArn: string,
  pipeline: { batchStateMachineArn: string; groupStateMachineArn: string },
): ExecutionHistory[] {
  const found: ExecutionHistory[] = [];
  for (const execution of stepFunctionsOf(account).executions.values()) {
    const kind =
      execution.executionArn === executionArn
        ? 'parent'
        : execution.stateMachineArn === pipeline.batchStateMachineArn
          ? 'batch'
          : execution.stateMachineArn === pipeline.groupStateMachineArn
            ? 'group'
            : undefined;
    if (kind) found.push({ executionArn: execution.executionArn, kind, events: execution.history });
  }
  return found;
}

/** Reads the ledger while the rehearsal runs, whenever virtual time has moved (see `onSnapshot`). */
async function sampleLedger(
  account: LocalAccount,
  ledger: Ledger,
  rolloutId: string,
  onSnapshot: (snapshot: LedgerSnapshot, at: Date) => void,
  state: { done: boolean },
): Promise<void> {
  let last = Number.NaN;
  while (!state.done) {
    const began = performance.now();
    const now = account.now();
    if (now.getTime() !== last) {
      last = now.getTime();
      const snapshot = await readLedgerSnapshot(ledger, rolloutId).catch(() => undefined);
      if (snapshot) onSnapshot(snapshot, now);
    }
    const spent = performance.now() - began;
    await new Promise((resolve) => setTimeout(resolve, Math.max(50, spent * 2)));
  }
}
