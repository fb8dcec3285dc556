import type { SFNClient } from '@aws-sdk/client-sfn';
import { parseCommandLine } from '../args.ts';
import { awsOptions, awsOptionsUsage } from '../aws-options.ts';
import type { AwsTarget } from '../aws.ts';
import type { Command } from '../main.ts';

const usage = `Usage: ami-rollout status [EXECUTION] [--watch] [--json] [--verbose] [--ledger-table NAME] [--endpoint URL] [--region REGION] [--profile NAME] [--state-machine ARN]

Shows a rollout: its image, where it is (or how it ended), its waves, failures and groups in flight (every
group for a rollout of 20 groups or fewer). EXECUTION is an execution ARN, an execution name, or an AMI id (its
rollout, rollout-AMI_ID); default: the newest rollout. The groups are read from the rollout ledger (DynamoDB);
an execution from before the ledger is shown from its history.

Options:
  --watch               follow the rollout until it ends
  --json                print one JSON document: every group with its wave, status, refresh and times;
                        history events per execution (the rollout's, each batch's, the groups'); the
                        largest payload
  --verbose             with --watch and no terminal, a line for every group's refresh status
  --ledger-table NAME   the ledger's DynamoDB table (default: AMI_ROLLOUT_LEDGER_TABLE, else the state
                        machine's name followed by -ledger, as the stack names it)
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
      {
        ...awsOptions,
        watch: { type: 'boolean' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        'ledger-table': { type: 'string' },
      },
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
      ledgerFor,
      printStatus,
      progressSoFar,
      rolloutIdOf,
      rolloutSizes,
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
      const ledger = {
        ledger: await ledgerFor(sfn, target, stateMachineArn, values['ledger-table']),
        rolloutId: rolloutIdOf(described),
      };
      const sizes = async () => (values.json ? await rolloutSizes(sfn, target, executionArn) : undefined);
      if (!values.watch || described.status !== 'RUNNING') {
        const status = rolloutStatus(
          described,
          await progressSoFar(sfn, target, executionArn, ledger),
          await sizes(),
        );
        if (values.json) output.out(JSON.stringify(status, null, 2));
        else printStatus(output, status);
        return exitCodeFor(status.status);
      }
      if (!values.json) {
        output.out(
          headline(rolloutStatus(described, await progressSoFar(sfn, target, executionArn, ledger))),
        );
        output.out(`  execution ${executionArn}`);
      }
      const watched = await watchRollout(sfn, target, executionArn, output, {
        quiet: values.json ?? false,
        pollMs: pollMsFor(target),
        ledger,
        verbose: values.verbose ?? false,
      });
      const status = rolloutStatus(watched.described, watched.progress, await sizes());
      if (values.json) output.out(JSON.stringify(status, null, 2));
      else {
        output.out('');
        printStatus(output, status);
      }
      return exitCodeFor(status.status);
    });
  },
};
