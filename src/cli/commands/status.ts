import type { SFNClient } from '@aws-sdk/client-sfn';
import { parseCommandLine } from '../args.ts';
import { awsOptions, awsOptionsUsage } from '../aws-options.ts';
import type { AwsTarget } from '../aws.ts';
import type { Command } from '../main.ts';

const usage = `Usage: ami-rollout status [EXECUTION] [--watch] [--json] [--endpoint URL] [--region REGION] [--profile NAME]

Shows a rollout: its image, where it is (or how it ended), and each group's instance refresh. EXECUTION is an
execution ARN, an execution name, or an AMI id (its rollout, rollout-AMI_ID); default: the newest rollout.

Options:
  --watch               follow the rollout until it ends
  --json                print one JSON document
${awsOptionsUsage}

Exit codes: 0 the rollout succeeded or is still running, 3 it failed and was rolled back, 1 anything else.`;

/** The newest execution of the state machine, if it has any. */
async function newestExecution(
  sfn: SFNClient,
  target: AwsTarget,
  stateMachineArn: string,
): Promise<string | undefined> {
  const [{ ListExecutionsCommand }, { explainAwsError }] = await Promise.all([
    import('@aws-sdk/client-sfn'),
    import('../aws.ts'),
  ]);
  try {
    // Newest first: the first of one page is the newest of them all.
    const { executions = [] } = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }));
    return executions[0]?.executionArn;
  } catch (error) {
    throw await explainAwsError(error, sfn, target, 'ListExecutions', stateMachineArn);
  }
}

export const statusCommand: Command = {
  name: 'status',
  usage,
  async run(args, output) {
    const { values, positionals } = parseCommandLine(
      args,
      { ...awsOptions, watch: { type: 'boolean' }, json: { type: 'boolean' } },
      1,
    );
    const [{ connect, pollMsFor, reportAwsErrors }, view] = await Promise.all([
      import('../aws.ts'),
      import('../execution-view.ts'),
    ]);
    const {
      describeRollout,
      executionArnOf,
      exitCodeFor,
      headline,
      printStatus,
      progressSoFar,
      rolloutStatus,
      watchRollout,
    } = view;
    return reportAwsErrors('status', output, async () => {
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
        return exitCodeFor(status.status);
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
      return exitCodeFor(status.status);
    });
  },
};
