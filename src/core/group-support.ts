/**
 * Which Auto Scaling groups ami-rollout can refresh. A group that launches through a mixed instances policy is
 * refused before any change: the rollout pins groups and starts refreshes with a single `LaunchTemplate`
 * (UpdateAutoScalingGroup, StartInstanceRefresh `DesiredConfiguration`), and the API reference says a
 * `LaunchTemplate` cannot be combined with `MixedInstancesPolicy`, so either call would replace the policy's
 * instance types, overrides and On-Demand/Spot split with one template.
 */
export interface GroupShape {
  /** True when the group's launch template comes through a mixed instances policy. */
  readonly mixedInstancesPolicy?: boolean;
}

/** Why `name` cannot be rolled out, or undefined when it can. */
export function unsupportedGroupReason(name: string, group: GroupShape): string | undefined {
  if (!group.mixedInstancesPolicy) return undefined;
  return (
    `group ${name} launches through a mixed instances policy, which ami-rollout does not support yet: it refreshes ` +
    'groups with one launch template, which would replace the policy (instance types, overrides, Spot). ' +
    'Remove the group from autoScalingGroupNames and refresh it by hand'
  );
}
