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
import { rolloutResult, type RolloutResult } from '../execution/outcome.ts';

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
  readonly simulatedSeconds: number;
  readonly stateTransitions: number;
  readonly historyEvents: number;
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
  readonly notifications: RolloutReport['notifications'];
}): Promise<RolloutReport> {
  const { clients, config, execution, history } = input;
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

  const groups = await describeAutoScalingGroups(clients.autoscaling, namedGroupsOf(config));
  const autoScalingGroups: RolloutReport['autoScalingGroups'] = [];
  for (const name of namedGroupsOf(config)) {
    const group = groups.get(name);
    const { InstanceRefreshes = [] } = await clients.autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 1 }),
    );
    const inService = (group?.Instances ?? [])
      .filter((i) => i.LifecycleState === 'InService')
      .map((i) => i.InstanceId!);
    const instanceImageIds: Record<string, number> = {};
    if (inService.length > 0) {
      for await (const { Reservations = [] } of paginateDescribeInstances(
        { client: clients.ec2 },
        { InstanceIds: inService },
      )) {
        for (const instance of Reservations.flatMap((r) => r.Instances ?? [])) {
          const image = instance.ImageId ?? 'unknown';
          instanceImageIds[image] = (instanceImageIds[image] ?? 0) + 1;
        }
      }
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
  const previousAmi = preflight?.stateExitedEventDetails?.output
    ? (
        JSON.parse(preflight.stateExitedEventDetails.output) as {
          rollout?: { rollbackTargetImageId?: string };
        }
      ).rollout?.rollbackTargetImageId
    : undefined;
  const started = execution.startDate?.getTime() ?? 0;
  const stopped = execution.stopDate?.getTime() ?? started;
  return {
    status: rolloutResult(execution),
    executionArn: execution.executionArn ?? '',
    ...(execution.error ? { error: execution.error } : {}),
    ...(execution.cause ? { cause: execution.cause } : {}),
    ...(execution.status !== 'SUCCEEDED' && failureReason(history)
      ? { failureReason: failureReason(history)! }
      : {}),
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
    simulatedSeconds: (stopped - started) / 1000,
    // Step Functions bills a transition per state entered; our history has one *StateEntered event per state.
    stateTransitions: history.filter((e) => e.type?.endsWith('StateEntered')).length,
    historyEvents: history.length,
  };
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
export function failureReason(history: readonly HistoryEvent[]): string | undefined {
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
