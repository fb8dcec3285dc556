import {
  DEFAULT_MIN_HEALTHY_PERCENTAGE,
  SMALL_GROUP_MAX_CAPACITY,
  type RefreshPreferencesConfig,
} from '../config/schema.ts';
import { isActiveRefreshStatus } from './refresh-status.ts';
import type { GroupRecord, Rollout, TemplateRecord } from './rollout.ts';

/** StartInstanceRefresh `Preferences`, in the API's member names (kept free of SDK types). */
export interface RefreshPreferencesRequest {
  MinHealthyPercentage: number;
  MaxHealthyPercentage?: number;
  InstanceWarmup?: number;
  SkipMatching: boolean;
  AutoRollback: boolean;
  CheckpointPercentages?: number[];
  CheckpointDelay?: number;
  BakeTime?: number;
  AlarmSpecification?: { Alarms: string[] };
}

/** The group a refresh is for, as DescribeAutoScalingGroups read it just before the start. */
export interface RefreshTarget {
  /** The group's DesiredCapacity; unknown (undefined) is treated as a group larger than 2. */
  readonly desiredCapacity?: number | undefined;
}

/**
 * Min and Max healthy percentages for one group. Set in the configuration (either one), they apply as written
 * to every group, with Min 90 when only Max is given (Auto Scaling needs Min with Max). Left unset, a group of
 * 2 or fewer desired instances refreshes launch-before-terminate, Min 100 / Max 200: with Min 90 and no Max
 * there is no room above capacity, so Auto Scaling still replaces one instance at a time by terminating it
 * first, and a group of 2 serves on 1 (a group of 1 on none) until each replacement is ready. Every larger
 * group gets Min 90 and no Max, as before. An unknown capacity counts as a larger group.
 */
export function healthyPercentages(
  prefs: Pick<RefreshPreferencesConfig, 'minHealthyPercentage' | 'maxHealthyPercentage'>,
  target: RefreshTarget,
): Pick<RefreshPreferencesRequest, 'MinHealthyPercentage' | 'MaxHealthyPercentage'> {
  const { minHealthyPercentage: min, maxHealthyPercentage: max } = prefs;
  if (min !== undefined || max !== undefined) {
    return {
      MinHealthyPercentage: min ?? DEFAULT_MIN_HEALTHY_PERCENTAGE,
      ...(max !== undefined ? { MaxHealthyPercentage: max } : {}),
    };
  }
  const capacity = target.desiredCapacity;
  if (capacity !== undefined && capacity <= SMALL_GROUP_MAX_CAPACITY)
    return { MinHealthyPercentage: 100, MaxHealthyPercentage: 200 };
  return { MinHealthyPercentage: DEFAULT_MIN_HEALTHY_PERCENTAGE };
}

/** The forward refresh's Preferences for one group: the configuration, with our defaults resolved. */
export function refreshPreferencesRequest(
  prefs: RefreshPreferencesConfig,
  target: RefreshTarget,
): RefreshPreferencesRequest {
  return {
    ...healthyPercentages(prefs, target),
    ...(prefs.instanceWarmupSeconds !== undefined ? { InstanceWarmup: prefs.instanceWarmupSeconds } : {}),
    SkipMatching: prefs.skipMatching,
    AutoRollback: prefs.autoRollback,
    ...(prefs.checkpointPercentages ? { CheckpointPercentages: [...prefs.checkpointPercentages] } : {}),
    ...(prefs.checkpointDelaySeconds !== undefined ? { CheckpointDelay: prefs.checkpointDelaySeconds } : {}),
    ...(prefs.bakeTimeSeconds !== undefined ? { BakeTime: prefs.bakeTimeSeconds } : {}),
    ...(prefs.alarmNames && prefs.alarmNames.length > 0
      ? { AlarmSpecification: { Alarms: [...prefs.alarmNames] } }
      : {}),
  };
}

/**
 * The rollback refresh's Preferences for one group: the same healthy percentages and warm-up as forward;
 * SkipMatching so only instances not already on the old version are replaced, and no AutoRollback (never
 * "roll back the rollback"). Checkpoints, bake and alarms are the forward refresh's business.
 */
export function rollbackRefreshPreferencesRequest(
  prefs: RefreshPreferencesConfig,
  target: RefreshTarget,
): RefreshPreferencesRequest {
  return {
    ...healthyPercentages(prefs, target),
    ...(prefs.instanceWarmupSeconds !== undefined ? { InstanceWarmup: prefs.instanceWarmupSeconds } : {}),
    SkipMatching: true,
    AutoRollback: false,
  };
}

export type NextGroupDecision =
  | { readonly kind: 'done' }
  | {
      readonly kind: 'refresh';
      readonly groupIndex: number;
      readonly group: GroupRecord;
      readonly launchTemplateId: string;
      /** Always a number: `$Latest`/`$Default` would disable AutoRollback and make a rollback a no-op. */
      readonly launchTemplateVersion: number;
    }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Which group to refresh next, and to which numbered template version. */
export function nextGroup(rollout: Rollout): NextGroupDecision {
  const index = rollout.groupIndex;
  if (index >= rollout.groups.length) return { kind: 'done' };
  const group = rollout.groups[index];
  if (!group) return { kind: 'invalid', reason: `no group at index ${index}` };
  const template: TemplateRecord | undefined = rollout.templates.find(
    (t) => t.launchTemplateId === group.launchTemplateId,
  );
  if (!template) {
    return {
      kind: 'invalid',
      reason: `group ${group.autoScalingGroupName} launches from ${group.launchTemplateId}, which the rollout does not update`,
    };
  }
  if (template.newVersion === undefined) {
    return {
      kind: 'invalid',
      reason: `launch template ${template.launchTemplateId} has no new version yet: run the update launch templates step first`,
    };
  }
  return {
    kind: 'refresh',
    groupIndex: index,
    group,
    launchTemplateId: template.launchTemplateId,
    launchTemplateVersion: template.newVersion,
  };
}

export interface ExistingRefresh {
  readonly instanceRefreshId: string;
  readonly status: string;
  readonly startTime?: Date;
  readonly launchTemplateId?: string;
  readonly launchTemplateName?: string;
  readonly launchTemplateVersion?: string;
}

export type ExistingRefreshDecision =
  | { readonly kind: 'start' }
  | { readonly kind: 'adopt'; readonly refresh: ExistingRefresh }
  | { readonly kind: 'conflict'; readonly refresh: ExistingRefresh };

/**
 * Before starting a refresh: if this rollout already started one (the response was lost and the state machine
 * retried), adopt it. A refresh to the same numbered version is ours: the version was created by this rollout.
 * A finished one that did not succeed is not adopted, so a redrive starts afresh. Any other running refresh
 * is someone else's, and the group cannot take a second one.
 */
export function decideExistingRefresh(
  refreshes: readonly ExistingRefresh[],
  desired: {
    readonly launchTemplateId: string;
    readonly launchTemplateName?: string;
    readonly version: number;
  },
): ExistingRefreshDecision {
  const ours = (r: ExistingRefresh) =>
    (r.launchTemplateId === desired.launchTemplateId ||
      (desired.launchTemplateName !== undefined && r.launchTemplateName === desired.launchTemplateName)) &&
    r.launchTemplateVersion === String(desired.version);
  const active = refreshes.find((r) => isActiveRefreshStatus(r.status));
  if (active)
    return ours(active) ? { kind: 'adopt', refresh: active } : { kind: 'conflict', refresh: active };
  const newest = [...refreshes].sort(
    (a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0),
  )[0];
  if (newest && ours(newest) && newest.status === 'Successful') return { kind: 'adopt', refresh: newest };
  return { kind: 'start' };
}
