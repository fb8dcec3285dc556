import { awsOptions, awsOptionsUsage } from '../aws-options.ts';
import type { Command } from '../main.ts';
import { parseCommandLine } from '../args.ts';
import { UsageError } from '../usage.ts';

const usage = `Usage: ami-rollout abort [EXECUTION] [--reason TEXT] [--json] [--ledger-table NAME] [--endpoint URL] [--region REGION] [--profile NAME] [--state-machine ARN]

Aborts a running rollout and rolls it back: no new refresh starts, the refreshes in flight finish (a refresh
cut off half-way would leave its group on two images), then every group the rollout touched, the launch
templates and the image parameter are put back, as for any failure. The rollout notifies with your reason and
ends ROLLED_BACK. EXECUTION is an execution ARN, an execution name, or an AMI id (its rollout); default: the
newest rollout. Aborting twice is harmless. A rollout that is already rolling back, or has ended, is not aborted
(the message says what to do instead).

Options:
  --reason TEXT         why (it goes into the ledger and the notification; default: "aborted by an operator")
  --json                print one JSON document: { executionArn, rolloutId, aborted, reason }
  --ledger-table NAME   the ledger's DynamoDB table (default: AMI_ROLLOUT_LEDGER_TABLE, else the state
                        machine's name followed by -ledger, as the stack names it)
${awsOptionsUsage}

Exit codes: 0 the rollout is aborted (now, or by an earlier abort), 1 it could not be (the message says why).`;

export const abortCommand: Command = {
  name: 'abort',
  usage,
  async run(args, output) {
    const { values, positionals } = parseCommandLine(
      args,
      {
        ...awsOptions,
        reason: { type: 'string' },
        json: { type: 'boolean' },
        'ledger-table': { type: 'string' },
      },
      1,
    );
    const reason = values.reason?.trim() || 'aborted by an operator';
    if (reason.length > 1000)
      throw new UsageError(
        `--reason: ${reason.length} characters; keep it under 1,000 (it goes into the notification)`,
      );
    const [
      { AwsCommandError, connect, reportAwsErrors },
      view,
      ledgerOps,
      { decideAbort },
      { ListExecutionsCommand },
    ] = await Promise.all([
      import('../aws.ts'),
      import('../execution-view.ts'),
      import('../../adapters/ledger.ts'),
      import('../../core/abort.ts'),
      import('@aws-sdk/client-sfn'),
    ]);
    return reportAwsErrors('abort', output, async () => {
      const { target, sfn, stateMachineArn } = await connect(values);
      const given = positionals[0];
      const executionArn = given
        ? view.executionArnOf(stateMachineArn, given)
        : (await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }))).executions?.[0]
            ?.executionArn;
      if (!executionArn) throw new AwsCommandError(`no rollouts on ${stateMachineArn}: nothing to abort`);
      const described = await view.describeRollout(sfn, target, executionArn);
      const rolloutId = view.rolloutIdOf(described);
      const ledger = await view.ledgerFor(sfn, target, stateMachineArn, values['ledger-table']);
      const item = await ledgerOps.getRollout(ledger, rolloutId);
      const decision = decideAbort(described.status ?? 'UNKNOWN', item, executionArn);
      const say = (aborted: boolean, text: string) => {
        if (values.json) output.out(JSON.stringify({ executionArn, rolloutId, aborted, reason }, null, 2));
        else output.out(text);
      };
      if (decision.kind === 'refuse') throw new AwsCommandError(decision.reason);
      if (decision.kind === 'already-aborted') {
        say(true, `Rollout ${rolloutId} was already aborted (${decision.reason}); it is rolling back.`);
        return 0;
      }
      const wave = item!.forwardCursor;
      const waves = await ledgerOps.listWaves(ledger, rolloutId);
      const current =
        waves.find((w) => wave >= w.firstGroup && wave < w.firstGroup + w.groupCount) ?? waves.at(-1);
      const recorded = await ledgerOps.requestAbort(ledger, rolloutId, {
        wave: current?.index ?? 0,
        reason: `aborted by an operator: ${reason}`,
        at: new Date().toISOString(),
        abort: { reason },
      });
      if (!recorded) {
        // Something else got there first (a group failed, the gate fired, the rollback began): say what.
        const now = await ledgerOps.getRollout(ledger, rolloutId);
        const again = decideAbort('RUNNING', now, executionArn);
        if (again.kind === 'already-aborted') {
          say(true, `Rollout ${rolloutId} was already aborted (${again.reason}); it is rolling back.`);
          return 0;
        }
        throw new AwsCommandError(again.kind === 'refuse' ? again.reason : 'the abort could not be recorded');
      }
      say(
        true,
        [
          `Aborted rollout ${rolloutId} (${reason}): no new refresh starts; the refreshes in flight finish, then`,
          `everything it touched is rolled back. Follow it with: ami-rollout status ${given ?? rolloutId} --watch`,
        ].join('\n'),
      );
      return 0;
    });
  },
};
