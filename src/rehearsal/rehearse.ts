import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { RolloutConfig } from '../config/schema.ts';
import { rolloutExecutionInput } from '../core/start-decision.ts';
import { followExecution } from '../execution/follow.ts';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
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
  readonly history: HistoryEvent[];
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
  const { stateMachineArn, topicArn } = await deployToLocalAccount(
    account,
    config,
    options.wrapStep ? { wrapStep: options.wrapStep } : {},
  );
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
  const execution = await followExecution(sfn, executionArn, {
    pollMs: 20,
    onEvents: (events) => {
      history.push(...events);
      options.onEvents?.(events);
    },
  });
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
    notifications: account.state.published
      .filter((m) => m.topicArn === topicArn)
      .map((m) => ({ ...(m.subject !== undefined ? { subject: m.subject } : {}), message: m.message })),
  });
  return { account, report, history };
}
