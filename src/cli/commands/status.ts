import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { executionArnFor } from '../../adapters/sfn.ts';
import { rolloutExecutionName } from '../../core/start-decision.ts';
import { parseCommandLine } from '../args.ts';
import {
  awsOptions,
  awsOptionsUsage,
  type AwsTarget,
  connect,
  explainAwsError,
  pollMsFor,
  reportAwsErrors,
} from '../aws.ts';
import {
  describeRollout,
  exitCodeFor,
  headline,
  printStatus,
  progressSoFar,
  rolloutStatus,
  watchRollout,
} from '../execution-view.ts';
import type { Command } from '../main.ts';

const usage = `Usage: ami-rollout status [EXECUTION] [--watch] [--json] [--endpoint URL] [--region REGION] [--profile NAME]

Shows a rollout: its image, where it is (or how it ended), and each group's instance refresh. EXECUTION is an
execution ARN, an execution name, or an AMI id (its rollout, rollout-AMI_ID); default: the newest rollout.

Options:
  --watch               follow the rollout until it ends
  --json                print one JSON document
${awsOptionsUsage}

Exit codes: 0 the rollout succeeded or is still running, 3 it failed and was rolled back, 1 anything else.`;

/** The execution ARN for what the user typed: an ARN, an AMI id (its rollout), or an execution name. */
export function executionArnOf(stateMachineArn: string, given: string): string {
  if (given.startsWith('arn:')) return given;
  const name = /^ami-[0-9a-f]{8,17}$/.test(given) ? rolloutExecutionName(given) : given;
  return executionArnFor(stateMachineArn, name);
}

/** The newest execution of the state machine, if it has any. */
async function newestExecution(
  sfn: SFNClient,
  target: AwsTarget,
  stateMachineArn: string,
): Promise<string | undefined> {
  try {
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }));
    return executions[0]?.executionArn;
  } catch (error) {
    throw await explainAwsError(error, sfn, target, 'ListExecutions', stateMachineArn);
  }
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show a rollout (default: the newest), or follow it with --watch',
  usage,
  run: (args, output) =>
    reportAwsErrors('status', output, async () => {
      const { values, positionals } = parseCommandLine(
        args,
        { ...awsOptions, watch: { type: 'boolean' }, json: { type: 'boolean' } },
        1,
      );
      const { target, sfn, stateMachineArn } = await connect(values);
      const given = positionals[0];
      const executionArn = given
        ? executionArnOf(stateMachineArn, given)
        : await newestExecution(sfn, target, stateMachineArn);
      if (!executionArn) {
        if (values.json) output.out('null');
        else
          output.out(
            `No rollouts yet on ${stateMachineArn}: start one with \`ami-rollout start --ami AMI_ID\``,
          );
        return 0;
      }
      // Describe first: an unknown execution fails here, with its one line, before anything is printed.
      const described = await describeRollout(sfn, target, executionArn);
      if (!values.watch || described.status !== 'RUNNING') {
        const status = rolloutStatus(described, await progressSoFar(sfn, target, executionArn));
        if (values.json) output.out(JSON.stringify(status, null, 2));
        else printStatus(output, status);
        return exitCodeFor(status.state);
      }
      if (!values.json) {
        output.out(headline(rolloutStatus(described, await progressSoFar(sfn, target, executionArn))));
        output.out(`  execution ${executionArn}`);
      }
      const watched = await watchRollout(sfn, target, executionArn, output, {
        quiet: values.json ?? false,
        pollMs: pollMsFor(target),
      });
      const status = rolloutStatus(watched.described, watched.progress);
      if (values.json) output.out(JSON.stringify(status, null, 2));
      else {
        output.out('');
        printStatus(output, status);
      }
      return exitCodeFor(status.state);
    }),
};
