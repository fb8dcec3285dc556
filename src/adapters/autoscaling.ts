import {
  CancelInstanceRefreshCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeScalingActivitiesCommand,
  paginateDescribeAutoScalingGroups,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type InstanceRefresh,
} from '@aws-sdk/client-auto-scaling';
import type { ExistingRefresh, RefreshPreferencesRequest } from '../core/refresh-plan.ts';
import type { GroupInstance } from '../core/refresh-status.ts';
import { InstanceRefreshStartError } from '../errors.ts';
import { hasAwsErrorCode, translateAwsError } from './aws-error.ts';

/** The launch template a group launches from (directly, or through a mixed instances policy). */
export interface GroupFacts {
  readonly autoScalingGroupName: string;
  readonly launchTemplate?: { launchTemplateId?: string; launchTemplateName?: string; version?: string };
  readonly launchConfigurationName?: string;
  /** True when the launch template comes through a mixed instances policy. */
  readonly mixedInstancesPolicy?: boolean;
  /** What tells Auto Scaling an instance is unhealthy: `HealthCheckType` split at its commas (EC2, ELB, ...). */
  readonly healthCheckTypes: readonly string[];
  /** Load balancers attached: target group ARNs, Classic Load Balancer names and ELB traffic sources. */
  readonly loadBalancers: readonly string[];
  /** VPC Lattice target groups attached as traffic sources (what `VPC_LATTICE` health checks use). */
  readonly vpcLatticeTargetGroups: readonly string[];
  /** DesiredCapacity: what the refresh's default healthy percentages depend on (small groups). */
  readonly desiredCapacity?: number;
}

/**
 * The names of every group carrying all of `tags` (key and value), sorted, every page read. Auto Scaling ANDs
 * filters and ORs the values of one filter: one `tag:<key>` filter per tag, one value each.
 */
export async function groupNamesWithTags(
  autoscaling: AutoScalingClient,
  tags: Readonly<Record<string, string>>,
): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const page of paginateDescribeAutoScalingGroups(
      { client: autoscaling },
      { Filters: Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })) },
    )) {
      for (const group of page.AutoScalingGroups ?? [])
        if (group.AutoScalingGroupName) names.push(group.AutoScalingGroupName);
    }
  } catch (error) {
    throw translateAwsError(error, `DescribeAutoScalingGroups with tags ${JSON.stringify(tags)}`);
  }
  return [...new Set(names)].sort();
}

/** The named groups that exist; a missing name is simply absent from the map. */
export async function describeGroups(
  autoscaling: AutoScalingClient,
  names: readonly string[],
): Promise<Map<string, GroupFacts>> {
  const found = new Map<string, GroupFacts>();
  // The API describes at most 50 names per call by default, and pages within them.
  for (let start = 0; start < names.length; start += 50) {
    const chunk = names.slice(start, start + 50);
    try {
      for await (const page of paginateDescribeAutoScalingGroups(
        { client: autoscaling },
        { AutoScalingGroupNames: chunk },
      )) {
        for (const group of page.AutoScalingGroups ?? []) {
          const name = group.AutoScalingGroupName;
          if (!name) continue;
          const spec =
            group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
          found.set(name, {
            autoScalingGroupName: name,
            ...(spec
              ? {
                  launchTemplate: {
                    ...(spec.LaunchTemplateId ? { launchTemplateId: spec.LaunchTemplateId } : {}),
                    ...(spec.LaunchTemplateName ? { launchTemplateName: spec.LaunchTemplateName } : {}),
                    ...(spec.Version ? { version: spec.Version } : {}),
                  },
                }
              : {}),
            ...(group.LaunchConfigurationName
              ? { launchConfigurationName: group.LaunchConfigurationName }
              : {}),
            ...(group.MixedInstancesPolicy ? { mixedInstancesPolicy: true } : {}),
            healthCheckTypes: (group.HealthCheckType ?? 'EC2')
              .split(',')
              .map((type) => type.trim())
              .filter((type) => type !== ''),
            loadBalancers: [
              ...new Set([
                ...(group.TargetGroupARNs ?? []),
                ...(group.LoadBalancerNames ?? []),
                ...(group.TrafficSources ?? [])
                  .filter((source) => source.Type === undefined || source.Type.startsWith('elb'))
                  .flatMap((source) => source.Identifier ?? []),
              ]),
            ],
            vpcLatticeTargetGroups: (group.TrafficSources ?? [])
              .filter((source) => source.Type === 'vpc-lattice')
              .flatMap((source) => source.Identifier ?? []),
            ...(group.DesiredCapacity !== undefined ? { desiredCapacity: group.DesiredCapacity } : {}),
          });
        }
      }
    } catch (error) {
      throw translateAwsError(error, `DescribeAutoScalingGroups ${chunk.join(',')}`);
    }
  }
  return found;
}

/** One refresh as DescribeInstanceRefreshes reports it. */
export interface RefreshFacts extends ExistingRefresh {
  readonly statusReason?: string;
  readonly percentageComplete?: number;
  readonly instancesToUpdate?: number;
  readonly rollbackReason?: string;
}

function toFacts(refresh: InstanceRefresh): RefreshFacts | undefined {
  if (!refresh.InstanceRefreshId) return undefined;
  const template = refresh.DesiredConfiguration?.LaunchTemplate;
  return {
    instanceRefreshId: refresh.InstanceRefreshId,
    status: refresh.Status ?? 'Pending',
    ...(refresh.StartTime ? { startTime: refresh.StartTime } : {}),
    ...(template?.LaunchTemplateId ? { launchTemplateId: template.LaunchTemplateId } : {}),
    ...(template?.LaunchTemplateName ? { launchTemplateName: template.LaunchTemplateName } : {}),
    ...(template?.Version ? { launchTemplateVersion: template.Version } : {}),
    ...(refresh.StatusReason ? { statusReason: refresh.StatusReason } : {}),
    ...(refresh.PercentageComplete !== undefined ? { percentageComplete: refresh.PercentageComplete } : {}),
    ...(refresh.InstancesToUpdate !== undefined ? { instancesToUpdate: refresh.InstancesToUpdate } : {}),
    ...(refresh.RollbackDetails?.RollbackReason
      ? { rollbackReason: refresh.RollbackDetails.RollbackReason }
      : {}),
  };
}

/**
 * The group's refreshes, newest first: one page of up to 100. No caller needs more: a group runs one refresh at a
 * time, so the one that can still be running is the newest, and the few a rollout starts are among the newest.
 */
export async function describeRefreshes(
  autoscaling: AutoScalingClient,
  autoScalingGroupName: string,
  instanceRefreshIds?: readonly string[],
): Promise<RefreshFacts[]> {
  try {
    const { InstanceRefreshes = [] } = await autoscaling.send(
      new DescribeInstanceRefreshesCommand({
        AutoScalingGroupName: autoScalingGroupName,
        ...(instanceRefreshIds ? { InstanceRefreshIds: [...instanceRefreshIds] } : {}),
        MaxRecords: 100,
      }),
    );
    return InstanceRefreshes.flatMap((r) => toFacts(r) ?? []);
  } catch (error) {
    throw translateAwsError(error, `DescribeInstanceRefreshes ${autoScalingGroupName}`);
  }
}

export type StartRefreshResult =
  | { readonly kind: 'started'; readonly instanceRefreshId: string }
  /** The group already has a refresh running: the caller decides whether it is its own. */
  | { readonly kind: 'in-progress'; readonly error: unknown };

export async function startRefresh(
  autoscaling: AutoScalingClient,
  input: {
    autoScalingGroupName: string;
    launchTemplateId: string;
    launchTemplateVersion: number;
    preferences: RefreshPreferencesRequest;
  },
): Promise<StartRefreshResult> {
  try {
    const { InstanceRefreshId } = await autoscaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: input.autoScalingGroupName,
        Strategy: 'Rolling',
        DesiredConfiguration: {
          LaunchTemplate: {
            LaunchTemplateId: input.launchTemplateId,
            Version: String(input.launchTemplateVersion),
          },
        },
        Preferences: input.preferences,
      }),
    );
    if (!InstanceRefreshId) {
      throw new InstanceRefreshStartError(
        `StartInstanceRefresh ${input.autoScalingGroupName} returned no refresh id`,
      );
    }
    return { kind: 'started', instanceRefreshId: InstanceRefreshId };
  } catch (error) {
    if (hasAwsErrorCode(error, 'InstanceRefreshInProgress')) return { kind: 'in-progress', error };
    throw translateAwsError(
      error,
      `StartInstanceRefresh ${input.autoScalingGroupName} to ${input.launchTemplateId} version ${input.launchTemplateVersion}`,
      (m, o) => new InstanceRefreshStartError(m, o),
    );
  }
}

/**
 * Cancels the group's running refresh (replacing stops; nothing is undone). No refresh running is not an
 * error: the goal, a group with no refresh replacing instances, already holds.
 */
export async function cancelRefresh(
  autoscaling: AutoScalingClient,
  autoScalingGroupName: string,
): Promise<'cancelled' | 'none-active'> {
  try {
    await autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: autoScalingGroupName }));
    return 'cancelled';
  } catch (error) {
    if (hasAwsErrorCode(error, 'ActiveInstanceRefreshNotFound')) return 'none-active';
    throw translateAwsError(error, `CancelInstanceRefresh ${autoScalingGroupName}`);
  }
}

/**
 * Points the group at one launch template version. Before any template's default moves, a group on
 * `$Default`/`$Latest` is pinned to a number, so it launches nothing new before its turn and native rollback has
 * a number to return to. After the rollout the group gets its own setting back.
 */
export async function pinGroupTemplateVersion(
  autoscaling: AutoScalingClient,
  input: { autoScalingGroupName: string; launchTemplateId: string; version: number | string },
): Promise<void> {
  try {
    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: input.autoScalingGroupName,
        LaunchTemplate: { LaunchTemplateId: input.launchTemplateId, Version: String(input.version) },
      }),
    );
  } catch (error) {
    throw translateAwsError(
      error,
      `UpdateAutoScalingGroup ${input.autoScalingGroupName} to ${input.launchTemplateId} version ${input.version}`,
      (m, o) => new InstanceRefreshStartError(m, o),
    );
  }
}

/**
 * The group's instances, with the launch template and version each was launched from. DescribeAutoScalingGroups
 * lists every instance of a named group in its one entry (IncludeInstances defaults to true); naming one group
 * gives one group, so there is no second page. A group that no longer exists gives `undefined`.
 */
export async function describeGroupInstances(
  autoscaling: AutoScalingClient,
  autoScalingGroupName: string,
): Promise<GroupInstance[] | undefined> {
  try {
    const { AutoScalingGroups = [] } = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: [autoScalingGroupName],
        IncludeInstances: true,
      }),
    );
    const group = AutoScalingGroups.find((g) => g.AutoScalingGroupName === autoScalingGroupName);
    if (!group) return undefined;
    return (group.Instances ?? []).flatMap((instance) => {
      if (!instance.InstanceId) return [];
      const spec = instance.LaunchTemplate;
      return [
        {
          instanceId: instance.InstanceId,
          lifecycleState: instance.LifecycleState ?? 'InService',
          ...(spec
            ? {
                launchTemplate: {
                  ...(spec.LaunchTemplateId ? { launchTemplateId: spec.LaunchTemplateId } : {}),
                  ...(spec.LaunchTemplateName ? { launchTemplateName: spec.LaunchTemplateName } : {}),
                  ...(spec.Version ? { version: spec.Version } : {}),
                },
              }
            : {}),
          ...(instance.LaunchConfigurationName
            ? { launchConfigurationName: instance.LaunchConfigurationName }
            : {}),
        },
      ];
    });
  } catch (error) {
    throw translateAwsError(error, `DescribeAutoScalingGroups ${autoScalingGroupName} (its instances)`);
  }
}

/**
 * The StatusMessage of the group's newest failed scaling activity that started at or after `since`: what EC2
 * answered to a launch that failed (InvalidAMIID, KMS, capacity). One page of the 20 newest activities (newest
 * first, as the API returns them): a refresh that keeps failing to launch leaves its latest failures on top.
 */
export async function latestFailedActivityMessage(
  autoscaling: AutoScalingClient,
  autoScalingGroupName: string,
  since: Date | undefined,
): Promise<string | undefined> {
  try {
    const { Activities = [] } = await autoscaling.send(
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: autoScalingGroupName, MaxRecords: 20 }),
    );
    const failed = Activities.find(
      (a) =>
        a.StatusCode === 'Failed' &&
        a.StatusMessage &&
        (since === undefined || a.StartTime === undefined || a.StartTime.getTime() >= since.getTime()),
    );
    return failed?.StatusMessage;
  } catch (error) {
    throw translateAwsError(error, `DescribeScalingActivities ${autoScalingGroupName}`);
  }
}
