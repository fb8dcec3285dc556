import type { StartRolloutResult } from '../../steps/start-rollout.ts';
import { parseCommandLine } from '../args.ts';
import { awsOptions, awsOptionsUsage } from '../aws-options.ts';
import type { Command } from '../main.ts';
import { UsageError } from '../usage.ts';

const usage = `Usage: ami-rollout start --ami AMI_ID [--watch] [--json] [--endpoint URL] [--region REGION] [--profile NAME] [--state-machine ARN]

Starts the rollout of an image on the deployed state machine, as the Image Builder trigger does: one rollout
per image (the execution is rollout-AMI_ID, so starting it twice is harmless) and one rollout at a time (refused
while another image's rollout runs).

Options:
  --ami AMI_ID          the image to roll out
  --watch               follow the rollout until it ends
  --json                print one JSON document
${awsOptionsUsage}

Exit codes: 0 started (or, with --watch, succeeded), 3 rolled back, 1 refused or failed. For an image whose
rollout already ended, the exit code is that rollout's.`;

export const startCommand: Command = {
  name: 'start',
  usage,
  async run(args, output) {
    const { values } = parseCommandLine(args, {
      ...awsOptions,
      ami: { type: 'string' },
      watch: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (!values.ami) throw new UsageError('--ami AMI_ID is required: the image to roll out.');
    const [{ imageIdSchema }, { startRollout }, aws, view] = await Promise.all([
      import('../../config/schema.ts'),
      import('../../steps/start-rollout.ts'),
      import('../aws.ts'),
      import('../execution-view.ts'),
    ]);
    const { connect, explainAwsError, pollMsFor, reportAwsErrors } = aws;
    const { describeRollout, exitCodeFor, printStatus, rolloutState, rolloutStatus, watchRollout } = view;
    const checked = imageIdSchema.safeParse(values.ami);
    if (!checked.success)
      throw new UsageError(`--ami ${values.ami}: ${checked.error.issues[0]?.message ?? 'not an AMI id'}`);
    const imageId = checked.data;
    return reportAwsErrors('start', output, async () => {
      const { target, sfn, stateMachineArn } = await connect(values);

      let started: StartRolloutResult;
      try {
        started = await startRollout(sfn, stateMachineArn, imageId);
      } catch (error) {
        // Our adapters name the call first: "StartExecution rollout-ami-... on arn:... failed (...)".
        const action = error instanceof Error ? (/^(\w+) /.exec(error.message)?.[1] ?? 'StartExecution') : '';
        throw await explainAwsError(error, sfn, target, action, imageId);
      }
      const json = values.json ?? false;
      if (started.outcome === 'refused') {
        if (json) output.out(JSON.stringify(started, null, 2));
        else output.err(`ami-rollout start: ${started.message}`);
        return 1;
      }
      if (!json) output.out(started.message);

      const { executionArn } = started;
      if (!values.watch) {
        if (started.outcome !== 'already-attempted') {
          if (json) output.out(JSON.stringify(started, null, 2));
          else output.out(`Follow it with: ami-rollout status ${imageId} --watch`);
          return 0;
        }
        const described = await describeRollout(sfn, target, executionArn);
        if (json) output.out(JSON.stringify({ ...started, status: rolloutState(described) }, null, 2));
        return exitCodeFor(rolloutState(described));
      }
      const watched = await watchRollout(sfn, target, executionArn, output, {
        quiet: json,
        pollMs: pollMsFor(target),
      });
      const status = rolloutStatus(watched.described, watched.progress);
      if (json) output.out(JSON.stringify({ ...started, ...status }, null, 2));
      else {
        output.out('');
        printStatus(output, status);
      }
      return exitCodeFor(status.status);
    });
  },
};
