import {
  DescribeInstanceRefreshesCommand,
  paginateDescribeAutoScalingGroups,
  type AutoScalingClient,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeLaunchTemplateVersionsCommand,
  paginateDescribeInstances,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { DescribeExecutionCommandOutput, HistoryEvent } from '@aws-sdk/client-sfn';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { namedGroupsOf, type RolloutConfig } from '../config/schema.ts';
import { fleetProgress, type LedgerSnapshot } from '../execution/fleet-progress.ts';
import {
  historyStats,
  largestPayload,
  type ExecutionHistory,
  type HistoryStats,
  type LargestPayload,
} from '../execution/history-stats.ts';
import { rolloutResult, type RolloutResult } from '../execution/outcome.ts';
import type { GroupProgress, WaveProgress } from '../execution/progress.ts';

export { rolloutResult, type RolloutResult };

/** The `--json` document of `ami-rollout rehearse`. */
export interface RolloutReport {
  readonly status: RolloutResult;
  readonly executionArn: string;
  /** The execution's error and cause when it did not succeed. */
  readonly error?: string;
  readonly cause?: string;
  /** What went wrong, in a line: the step error or the refresh status that failed the rollout. */
  readonly failureReason?: string;
  readonly ami: string;
  readonly previousAmi?: string;
  readonly parameter: { readonly name: string; readonly value?: string; readonly previousValue?: string };
  readonly launchTemplates: {
    readonly id: string;
    readonly defaultVersion?: number;
    readonly imageId?: string;
  }[];
  readonly autoScalingGroups: {
    readonly name: string;
    readonly refreshStatus?: string;
    /** image id -> number of instances in service running it. */
    readonly instanceImageIds: Record<string, number>;
  }[];
  readonly notifications: { readonly subject?: string; readonly message: string }[];
  /** The waves as the ledger ends them (absent when Preflight refused before writing the plan). */
  readonly waves?: readonly WaveProgress[];
  /** Every group of the rollout, from the ledger: its wave, status, refresh id and status, times, rollback. */
  readonly groups: readonly GroupProgress[];
  readonly simulatedSeconds: number;
  /** State transitions in every execution of the rollout (parent, batches, groups), as Step Functions bills them. */
  readonly stateTransitions: number;
  /** History events per execution: the parent, each batch, and the group executions' count, max and mean. */
  readonly historyEvents: HistoryStats;
  /** The largest input or output (or parameters) in any history of the rollout, in bytes of UTF-8. */
  readonly largestPayload?: LargestPayload;
}

export interface ReportClients {
  readonly ec2: EC2Client;
  readonly autoscaling: AutoScalingClient;
  readonly ssm: SSMClient;
}

/**
 * What the account looks like after an execution, read through the AWS APIs (so the same report can be built
 * against AWS): the parameter, each template's default version and image, each group's last refresh and the
 * images its instances run.
 */
export async function collectReport(input: {
  readonly clients: ReportClients;
  readonly config: RolloutConfig;
  readonly imageId: string;
  readonly execution: DescribeExecutionCommandOutput;
  readonly history: readonly HistoryEvent[];
  /** The rollout's ledger records at the end. Default: none (an execution from before the ledger). */
  readonly ledger?: LedgerSnapshot;
  /** Every execution of the rollout with its history. Default: the rollout's own, from `history`. */
  readonly executions?: readonly ExecutionHistory[];
  readonly notifications: RolloutReport['notifications'];
}): Promise<RolloutReport> {
  const { clients, config, execution, history, ledger } = input;
  const parameter = async (name: string) => {
    try {
      return (await clients.ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
    } catch {
      return undefined;
    }
  };
  const value = await parameter(config.amiParameterName);
  const previousValue = await parameter(`${config.amiParameterName}-previous`);

  const launchTemplates: RolloutReport['launchTemplates'] = [];
  for (const id of config.launchTemplateIds) {
    const { LaunchTemplateVersions = [] } = await clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Default'] }),
    );
    const version = LaunchTemplateVersions[0];
    launchTemplates.push({
      id,
      ...(version?.VersionNumber !== undefined ? { defaultVersion: version.VersionNumber } : {}),
      ...(version?.LaunchTemplateData?.ImageId ? { imageId: version.LaunchTemplateData.ImageId } : {}),
    });
  }

  // The ledger's groups (tag selectors resolved), else the groups the config names.
  const names = ledger
    ? [...ledger.groups].sort((a, b) => a.index - b.index).map((g) => g.autoScalingGroupName)
    : namedGroupsOf(config);
  const groups = await describeAutoScalingGroups(clients.autoscaling, names);
  const inService = new Map(
    names.map((name) => [
      name,
      (groups.get(name)?.Instances ?? [])
        .filter((i) => i.LifecycleState === 'InService')
        .map((i) => i.InstanceId!),
    ]),
  );
  const imageOf = await instanceImages(clients.ec2, [...inService.values()].flat());
  const autoScalingGroups: RolloutReport['autoScalingGroups'] = [];
  for (const name of names) {
    const { InstanceRefreshes = [] } = await clients.autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 1 }),
    );
    const instanceImageIds: Record<string, number> = {};
    for (const id of inService.get(name) ?? []) {
      const image = imageOf.get(id) ?? 'unknown';
      instanceImageIds[image] = (instanceImageIds[image] ?? 0) + 1;
    }
    autoScalingGroups.push({
      name,
      ...(InstanceRefreshes[0]?.Status ? { refreshStatus: InstanceRefreshes[0].Status } : {}),
      instanceImageIds,
    });
  }

  const preflight = history.find(
    (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Preflight',
  );
  const previousAmi =
    ledger?.rollout.rollbackTargetImageId ?? previousAmiOf(preflight?.stateExitedEventDetails?.output);
  const started = execution.startDate?.getTime() ?? 0;
  const stopped = execution.stopDate?.getTime() ?? started;
  const executions = input.executions ?? [
    { executionArn: execution.executionArn ?? '', kind: 'parent' as const, events: history },
  ];
  const stats = historyStats(executions);
  const largest = largestPayload(executions);
  const progress = ledger
    ? fleetProgress(ledger, {
        parent: {
          rollingBack: false,
          ...(execution.status !== 'RUNNING' ? { ended: endedOf(execution) } : {}),
        },
      })
    : undefined;
  const reason = execution.status !== 'SUCCEEDED' ? failureReason(history, ledger) : undefined;
  return {
    status: rolloutResult(execution),
    executionArn: execution.executionArn ?? '',
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: execution.cause } : {}),
    ...(reason ? { failureReason: reason } : {}),
    ami: input.imageId,
    ...(previousAmi ? { previousAmi } : {}),
    parameter: {
      name: config.amiParameterName,
      ...(value ? { value } : {}),
      ...(previousValue ? { previousValue } : {}),
    },
    launchTemplates,
    autoScalingGroups,
    notifications: input.notifications,
    ...(progress?.waves ? { waves: progress.waves } : {}),
    groups: progress?.groups ?? [],
    simulatedSeconds: (stopped - started) / 1000,
    stateTransitions: stats.stateTransitions,
    historyEvents: stats,
    ...(largest ? { largestPayload: largest } : {}),
  };
}

/** How an execution that is not running ended, in the progress view's words. */
function endedOf(
  execution: DescribeExecutionCommandOutput,
): 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT' {
  const status = execution.status;
  return status === 'SUCCEEDED' || status === 'ABORTED' || status === 'TIMED_OUT' ? status : 'FAILED';
}

/** The rollback target Preflight recorded in its output (executions from before the ledger). */
function previousAmiOf(output: string | undefined): string | undefined {
  if (!output) return undefined;
  try {
    return (JSON.parse(output) as { rollout?: { rollbackTargetImageId?: string } }).rollout
      ?.rollbackTargetImageId;
  } catch {
    return undefined;
  }
}

/** Image id of each instance, 1,000 ids a call (DescribeInstances' limit for InstanceIds is not documented lower). */
async function instanceImages(ec2: EC2Client, ids: readonly string[]): Promise<Map<string, string>> {
  const images = new Map<string, string>();
  for (let start = 0; start < ids.length; start += 1000) {
    for await (const { Reservations = [] } of paginateDescribeInstances(
      { client: ec2 },
      { InstanceIds: ids.slice(start, start + 1000) },
    )) {
      for (const instance of Reservations.flatMap((r) => r.Instances ?? []))
        if (instance.InstanceId) images.set(instance.InstanceId, instance.ImageId ?? 'unknown');
    }
  }
  return images;
}

/**
 * The named groups, every page: the API describes at most 50 names per call by default and pages within them,
 * so a fleet of 150 groups takes several calls.
 */
async function describeAutoScalingGroups(
  autoscaling: AutoScalingClient,
  names: readonly string[],
): Promise<Map<string, AutoScalingGroup>> {
  const found = new Map<string, AutoScalingGroup>();
  for (let start = 0; start < names.length; start += 50) {
    for await (const { AutoScalingGroups = [] } of paginateDescribeAutoScalingGroups(
      { client: autoscaling },
      { AutoScalingGroupNames: names.slice(start, start + 50) },
    )) {
      for (const group of AutoScalingGroups)
        if (group.AutoScalingGroupName) found.set(group.AutoScalingGroupName, group);
    }
  }
  return found;
}

/**
 * The first thing that went wrong, from the history: a step's error (the error name and message of the Lambda
 * failure, as AWS records it), or a refresh check that came back FAILED. Notification failures do not count.
 */
export function failureReason(history: readonly HistoryEvent[], ledger?: LedgerSnapshot): string | undefined {
  const fromHistory = historyFailure(history);
  if (fromHistory?.step || !ledger?.rollout.failure) return fromHistory?.reason;
  // The groups' refreshes run in child executions: the ledger records the first that failed.
  const { autoScalingGroupName, wave, reason, alarm } = ledger.rollout.failure;
  const waveName = ledger.waves.find((w) => w.index === wave)?.name ?? String(wave);
  if (alarm) return `gate alarm ${alarm.name} (wave ${waveName}): ${reason}`;
  return `group ${autoScalingGroupName ?? '?'} (wave ${waveName}): ${reason}`;
}

/** The first failure the history shows: a step's error (`step` true), or an old-style refresh check. */
function historyFailure(history: readonly HistoryEvent[]): { reason: string; step: boolean } | undefined {
  const found = oldFailureReason(history);
  if (!found) return undefined;
  return {
    reason: found,
    step: !found.startsWith('CheckRefreshStatus: group') && !found.startsWith('CheckRollbackRefresh: group'),
  };
}

function oldFailureReason(history: readonly HistoryEvent[]): string | undefined {
  let scheduled = '';
  for (const event of history) {
    if (event.type === 'TaskStateEntered') scheduled = event.stateEnteredEventDetails?.name ?? '';
    if (event.type === 'LambdaFunctionFailed' && !scheduled.startsWith('Notify')) {
      const { error = 'Error', cause = '' } = event.lambdaFunctionFailedEventDetails ?? {};
      // Errors the state machine retried and got past are not the reason.
      if (error === 'TransientAwsError' || error.startsWith('Lambda.') || error === 'RefreshInProgressError')
        continue;
      try {
        return `${scheduled}: ${error}: ${(JSON.parse(cause) as { errorMessage?: string }).errorMessage ?? cause}`;
      } catch {
        return `${scheduled}: ${error}: ${cause}`;
      }
    }
    if (
      event.type === 'TaskStateExited' &&
      (scheduled === 'CheckRefreshStatus' || scheduled === 'CheckRollbackRefresh')
    ) {
      const state = JSON.parse(event.stateExitedEventDetails?.output ?? '{}') as {
        rollout?: { refresh?: RefreshView; fleetRollback?: { refresh?: RefreshView } };
      };
      const refresh =
        scheduled === 'CheckRefreshStatus' ? state.rollout?.refresh : state.rollout?.fleetRollback?.refresh;
      if (refresh?.outcome === 'FAILED') {
        return `${scheduled}: group ${refresh.autoScalingGroupName} ${refresh.status ?? ''}${refresh.statusReason ? `: ${refresh.statusReason}` : ''}`;
      }
    }
  }
  return undefined;
}

interface RefreshView {
  autoScalingGroupName?: string;
  status?: string;
  outcome?: string;
  statusReason?: string;
}
