import type { FleetRollback, FleetRollbackGroup, Rollout } from './rollout.ts';

export type { FleetRollback, FleetRollbackGroup } from './rollout.ts';

/**
 * Rolling the instances back. Pointing the launch templates back is not enough: instances a refresh already
 * replaced keep running the bad image. So every group this rollout refreshed is refreshed again, one at a
 * time, to the numbered template version it ran before. A group Auto Scaling already rolled back itself
 * (RollbackSuccessful) is left alone; a group never reached was never touched.
 */

export type FleetRollbackPlanResult =
  | { readonly kind: 'plan'; readonly fleetRollback: FleetRollback }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Which groups to refresh back, in rollout order, and to which version. */
export function planFleetRollback(
  rollout: Pick<Rollout, 'refreshes' | 'templates' | 'groups'>,
): FleetRollbackPlanResult {
  const groups: FleetRollbackGroup[] = [];
  const seen = new Set<string>();
  for (const refresh of rollout.refreshes) {
    if (seen.has(refresh.autoScalingGroupName)) continue;
    seen.add(refresh.autoScalingGroupName);
    if (refresh.status === 'RollbackSuccessful') continue;
    const template = rollout.templates.find((t) => t.launchTemplateId === refresh.launchTemplateId);
    if (!template) {
      return {
        kind: 'invalid',
        reason: `group ${refresh.autoScalingGroupName} was refreshed to ${refresh.launchTemplateId}, which the rollout has no record of`,
      };
    }
    groups.push({
      autoScalingGroupName: refresh.autoScalingGroupName,
      launchTemplateId: template.launchTemplateId,
      launchTemplateVersion: versionBefore(rollout, refresh.autoScalingGroupName, template.previousVersion),
      reason:
        refresh.outcome === 'SUCCEEDED'
          ? 'refreshed onto the new image'
          : `refresh ${refresh.status ?? 'started'} part-way${refresh.nativeRollback ? ' (its native rollback did not finish)' : ''}`,
    });
  }
  return { kind: 'plan', fleetRollback: { groups, index: 0, done: groups.length === 0, refreshes: [] } };
}

/**
 * The numbered version a group's instances ran before the rollout: the number the group asked for, or, for a
 * group on `$Default` (or `$Latest`), the template's default version before the update step.
 */
function versionBefore(rollout: Pick<Rollout, 'groups'>, groupName: string, templateDefault: number): number {
  const asked = rollout.groups.find(
    (g) => g.autoScalingGroupName === groupName,
  )?.previousLaunchTemplateVersion;
  return asked !== undefined && /^\d+$/.test(asked) ? Number(asked) : templateDefault;
}
