import type { FleetRollback, FleetRollbackGroup, RefreshRecord, Rollout } from './rollout.ts';

export type { FleetRollback, FleetRollbackGroup } from './rollout.ts';

/**
 * Rolling the instances back. Pointing the launch templates back is not enough: instances a refresh already
 * replaced keep running the bad image. So every group this rollout refreshed is refreshed again, one at a
 * time, to the numbered template version it ran before, newest first (like a saga's compensations: the group
 * that failed, whose refresh may still be replacing instances, goes back before the ones that succeeded
 * earlier). A group Auto Scaling already rolled back itself (RollbackSuccessful) is left alone; a group never
 * reached was never refreshed (the update step pinned it to the old version, so it never launched the new image).
 */

export type FleetRollbackPlanResult =
  | { readonly kind: 'plan'; readonly fleetRollback: FleetRollback }
  | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Which groups to refresh back, newest first, and to which version. `discovered` are refreshes of this rollout
 * found on the groups but missing from the record (a trigger that started one and then failed before it could
 * return): they are rolled back like any other.
 */
export function planFleetRollback(
  rollout: Pick<Rollout, 'refreshes' | 'templates' | 'groups'>,
  discovered: readonly RefreshRecord[] = [],
): FleetRollbackPlanResult {
  const groups: FleetRollbackGroup[] = [];
  const seen = new Set<string>();
  const known = new Set(rollout.refreshes.map((r) => r.autoScalingGroupName));
  const all = [...rollout.refreshes, ...discovered.filter((r) => !known.has(r.autoScalingGroupName))];
  // Newest first: a group's latest record decides, and the last group refreshed is the first put back.
  for (const refresh of [...all].sort((a, b) => b.groupIndex - a.groupIndex)) {
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
 * The numbered version a group's instances ran before the rollout: the number the update step pinned it to,
 * the number the group asked for, or, for a group on `$Default` (or `$Latest`) with no pin recorded, the
 * template's default version before the update step.
 */
function versionBefore(rollout: Pick<Rollout, 'groups'>, groupName: string, templateDefault: number): number {
  const group = rollout.groups.find((g) => g.autoScalingGroupName === groupName);
  if (group?.pinnedVersion !== undefined) return group.pinnedVersion;
  const asked = group?.previousLaunchTemplateVersion;
  return asked !== undefined && /^\d+$/.test(asked) ? Number(asked) : templateDefault;
}

/**
 * Groups that may hold a refresh of this rollout the record does not know of: those the forward trigger reached
 * (up to `groupIndex`) without a record. The caller looks at their refreshes on AWS.
 */
export function groupsToInspect(
  rollout: Pick<Rollout, 'refreshes' | 'groups' | 'groupIndex'>,
): { name: string; index: number }[] {
  const known = new Set(rollout.refreshes.map((r) => r.autoScalingGroupName));
  return rollout.groups
    .map((g, index) => ({ name: g.autoScalingGroupName, index }))
    .filter((g) => g.index <= rollout.groupIndex && !known.has(g.name));
}
