import type { ExecutionListItem } from '@aws-sdk/client-sfn';
import { formatDuration } from '../../execution/progress.ts';
import { integerOption, parseCommandLine } from '../args.ts';
import { awsOptions, awsOptionsUsage } from '../aws-options.ts';
import type { RolloutState } from '../execution-view.ts';
import type { Command } from '../main.ts';
import { getRollout } from '../../adapters/ledger.ts';

const usage = `Usage: ami-rollout history [--limit N] [--json] [--ledger-table NAME] [--endpoint URL] [--region REGION] [--profile NAME] [--state-machine ARN]

Lists past rollouts, newest first: the rollout (execution name), its image, how it ended, when it started, how
long it took, and (from the rollout ledger) its groups and waves and the group that failed. Step Functions keeps
closed executions for 90 days; an execution from before the ledger shows no groups.

Options:
  --limit N             how many rollouts (default 20, at most 1000)
  --json                print one JSON document
  --ledger-table NAME   the ledger's DynamoDB table (default: AMI_ROLLOUT_LEDGER_TABLE, else the state
                        machine's name followed by -ledger)
${awsOptionsUsage}`;

/** One row of `history` (and an element of its `--json` array): named as in `status --json`. */
export interface RolloutHistoryEntry {
  readonly name: string;
  readonly executionArn: string;
  readonly imageId?: string;
  readonly status: RolloutState;
  /** The Step Functions execution status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED. */
  readonly executionStatus: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  /** Absent while the rollout runs. */
  readonly durationSeconds?: number;
  readonly error?: string;
  /** From the ledger (absent for an execution from before it): how many groups and waves the plan had. */
  readonly groupCount?: number;
  readonly waveCount?: number;
  /** From the ledger: the group whose failure stopped the rollout, and why. */
  readonly failedGroup?: string;
  readonly failureReason?: string;
}

export const historyCommand: Command = {
  name: 'history',
  usage,
  async run(args, output) {
    const { values } = parseCommandLine(args, {
      ...awsOptions,
      limit: { type: 'string' },
      json: { type: 'boolean' },
      'ledger-table': { type: 'string' },
    });
    const limit = integerOption('limit', values.limit, 20, 1, 1000);
    const [{ paginateListExecutions }, { connect, explainAwsError, reportAwsErrors }, view] =
      await Promise.all([import('@aws-sdk/client-sfn'), import('../aws.ts'), import('../execution-view.ts')]);
    const { describeRollout, durationSeconds, imageOf, ledgerFor, rolloutIdOf, rolloutState } = view;
    return reportAwsErrors('history', output, async () => {
      const { target, sfn, stateMachineArn } = await connect(values);
      const ledger = await ledgerFor(sfn, target, stateMachineArn, values['ledger-table']);
      // The ledger's rollout item, if it has one; a stack from before the ledger has no table.
      const recorded = async (rolloutId: string) => {
        try {
          return await getRollout(ledger, rolloutId);
        } catch (error) {
          if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
          throw await explainAwsError(error, sfn, target, 'GetItem', ledger.tableName);
        }
      };

      const listed: ExecutionListItem[] = [];
      try {
        // A token belongs to its request: every page asks for the same size, and the list is cut at the limit.
        for await (const page of paginateListExecutions(
          { client: sfn, pageSize: Math.min(1000, limit) },
          { stateMachineArn },
        )) {
          listed.push(...(page.executions ?? []));
          if (listed.length >= limit) break;
        }
      } catch (error) {
        throw await explainAwsError(error, sfn, target, 'ListExecutions', stateMachineArn);
      }
      // The list has no input or error: describe each for its image and for "rolled back" vs "failed".
      const entries = await Promise.all(
        listed.slice(0, limit).map(async (item): Promise<RolloutHistoryEntry> => {
          const described = await describeRollout(sfn, target, item.executionArn ?? '');
          const state = rolloutState(described);
          const imageId = imageOf(described.input);
          const seconds = state === 'RUNNING' ? undefined : durationSeconds(described);
          const plan = await recorded(rolloutIdOf(described));
          return {
            name: described.name ?? item.name ?? '',
            executionArn: described.executionArn ?? item.executionArn ?? '',
            ...(imageId ? { imageId } : {}),
            status: state,
            executionStatus: described.status ?? item.status ?? 'UNKNOWN',
            ...(described.startDate ? { startDate: described.startDate.toISOString() } : {}),
            ...(described.stopDate ? { stopDate: described.stopDate.toISOString() } : {}),
            ...(seconds !== undefined ? { durationSeconds: seconds } : {}),
            ...(described.error ? { error: described.error } : {}),
            ...(plan ? { groupCount: plan.groupCount, waveCount: plan.waveCount } : {}),
            ...(plan?.failure
              ? { failedGroup: plan.failure.autoScalingGroupName, failureReason: plan.failure.reason }
              : {}),
          };
        }),
      );
      if (values.json) {
        output.out(JSON.stringify(entries, null, 2));
        return 0;
      }
      if (entries.length === 0) {
        output.out(
          `No rollouts yet on ${stateMachineArn}: start one with \`ami-rollout start --ami AMI_ID\``,
        );
        return 0;
      }
      const rows = entries.map((e) => [
        e.name,
        e.imageId ?? '?',
        e.status,
        e.startDate?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '?',
        e.durationSeconds !== undefined ? formatDuration(e.durationSeconds) : 'running',
        e.groupCount !== undefined
          ? `${e.groupCount} in ${e.waveCount} wave${e.waveCount === 1 ? '' : 's'}${e.failedGroup ? `, failed at ${e.failedGroup}` : ''}`
          : '-',
      ]);
      const header = ['ROLLOUT', 'IMAGE', 'RESULT', 'STARTED', 'DURATION', 'GROUPS'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) =>
        cells
          .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
          .join('  ')
          .trimEnd();
      output.out(line(header));
      for (const row of rows) output.out(line(row));
      return 0;
    });
  },
};
