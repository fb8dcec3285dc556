/**
 * Pinning groups to a numbered launch template version for the length of a rollout.
 *
 * A group whose launch template setting is `$Default` or `$Latest` resolves it at every launch (scale-out,
 * health replacement), not only during a refresh. The update step moves every template's default version before
 * the first group refreshes, so such a group would launch the new image on its next scale-out, long before its
 * turn, and a rollback would never refresh it back (it was never refreshed). So before any default moves, each
 * such group is pinned to the number its setting resolves to then (the version its instances and its next
 * launches run), and the number is recorded. At the end (success or rollback) each pinned group gets its own
 * setting back, where that setting resolves to the very version the group is on.
 */
import { rolloutVersionDescription, type TemplateVersionFacts } from './template-plan.ts';
import type { GroupRecord, TemplateRecord } from './rollout.ts';

/** True for `$Default` and `$Latest`: settings that resolve to a version at each launch. */
export const followsTemplate = (setting: string | undefined): setting is '$Default' | '$Latest' =>
  setting === '$Default' || setting === '$Latest';

/** What Auto Scaling says about one group just before the update step pins it. */
export interface GroupSettingFacts {
  /** The group's launch template version setting now (`$Default`, `$Latest` or a number). */
  readonly setting: string;
  /** True when the group launches through a mixed instances policy. */
  readonly mixedInstancesPolicy?: boolean;
}

export type GroupPinDecision =
  /** The group asked for a number before the rollout: it never follows a template, nothing to do. */
  | { readonly kind: 'numbered' }
  /** Already on a number (an earlier attempt of this step pinned it): record it, call nothing. */
  | { readonly kind: 'already-pinned'; readonly version: number }
  /** Point the group at `version` (and record it). */
  | {
      readonly kind: 'pin';
      readonly from: '$Default' | '$Latest';
      readonly version: number;
      /** Why this number: what the setting resolves to now, or, after an earlier attempt, the old default. */
      readonly because: string;
    }
  | {
      readonly kind: 'refuse';
      /** `gone`: the group no longer exists; `unpinnable`: it exists but cannot be pinned safely. */
      readonly problem: 'gone' | 'unpinnable';
      readonly reason: string;
    };

/**
 * Which version to pin one group to, before any template's default moves.
 *
 * `resolved` is the version the group's current setting resolves to now (only read for a `$Default`/`$Latest`
 * group). If that is a version this rollout created (an earlier attempt moved the default and lost its
 * response), it is NOT what the instances run: the group is pinned to the template's default before the rollout
 * (`template.previousVersion`), which is what `$Default` meant when they launched.
 */
export function planGroupPin(input: {
  readonly rolloutId: string;
  readonly imageId: string;
  readonly group: GroupRecord;
  readonly template: TemplateRecord;
  /** Undefined when the group has gone. */
  readonly current: GroupSettingFacts | undefined;
  readonly resolved?: TemplateVersionFacts;
}): GroupPinDecision {
  const { group, template, current, resolved } = input;
  const name = group.autoScalingGroupName;
  if (!followsTemplate(group.previousLaunchTemplateVersion)) {
    return { kind: 'numbered' };
  }
  if (!current) {
    return {
      kind: 'refuse',
      problem: 'gone',
      reason: `group ${name} no longer exists; restore it or remove it from autoScalingGroupNames, then start the rollout again`,
    };
  }
  if (/^\d+$/.test(current.setting)) {
    return { kind: 'already-pinned', version: Number(current.setting) };
  }
  if (!followsTemplate(current.setting)) {
    return {
      kind: 'refuse',
      problem: 'unpinnable',
      reason: `group ${name} has launch template version setting '${current.setting}', which is neither $Default, $Latest nor a number`,
    };
  }
  if (current.mixedInstancesPolicy) {
    // Pinning sends UpdateAutoScalingGroup with LaunchTemplate, which the API reference says cannot be combined
    // with MixedInstancesPolicy: it would replace the policy (instance types, Spot) with one template.
    return {
      kind: 'refuse',
      problem: 'unpinnable',
      reason: `group ${name} launches through a mixed instances policy with version ${current.setting}; ami-rollout cannot pin it without replacing the policy. Set the policy's launch template version to a number (the template's current default) and start the rollout again`,
    };
  }
  if (group.pinnedVersion !== undefined) {
    // The record says this rollout pinned the group, yet it follows the template again: put the pin back.
    return {
      kind: 'pin',
      from: current.setting,
      version: group.pinnedVersion,
      because: `the version this rollout pinned it to`,
    };
  }
  if (!resolved) {
    return {
      kind: 'refuse',
      problem: 'unpinnable',
      reason: `launch template ${template.launchTemplateId} has no version ${current.setting} for group ${name}`,
    };
  }
  if (createdByThisRollout(resolved, input, template)) {
    return {
      kind: 'pin',
      from: current.setting,
      version: template.previousVersion,
      because: `${current.setting} already names version ${resolved.versionNumber}, which this rollout created; its instances run the default before the rollout`,
    };
  }
  return {
    kind: 'pin',
    from: current.setting,
    version: resolved.versionNumber,
    because: `what ${current.setting} resolves to now`,
  };
}

function createdByThisRollout(
  version: TemplateVersionFacts,
  rollout: { readonly rolloutId: string; readonly imageId: string },
  template: TemplateRecord,
): boolean {
  if (template.changed !== false && template.newVersion === version.versionNumber) return true;
  return (
    version.imageId === rollout.imageId &&
    version.description === rolloutVersionDescription(rollout.rolloutId, rollout.imageId)
  );
}

export type TurnPinDecision =
  | { readonly kind: 'ok' }
  /** Found following the template at its turn: someone changed the setting mid-rollout. */
  | { readonly kind: 'repin'; readonly from: '$Default' | '$Latest'; readonly version: number };

/**
 * At a group's turn, just before its refresh starts: the update step pinned it, so it should be on a number.
 * Found on `$Default`/`$Latest`, someone changed it after the update step. It is pinned back, not failed:
 * the refresh that starts next replaces whatever it launched meanwhile with the new version anyway; AutoRollback
 * and the fleet rollback need a number to return to; and the group's own setting comes back at the end either
 * way. Failing would roll back every group for a setting the rollout restores itself.
 */
export function pinAtTurn(
  group: GroupRecord,
  template: TemplateRecord,
  currentSetting: string | undefined,
): TurnPinDecision {
  if (!followsTemplate(currentSetting)) return { kind: 'ok' };
  return {
    kind: 'repin',
    from: currentSetting,
    version: group.pinnedVersion ?? template.previousVersion,
  };
}

/**
 * The groups whose own setting the rollout gives back at the end: every group that followed `$Default` or
 * `$Latest` before the rollout. A group is pinned by the update step before any change a failure can undo, and
 * a failure of that very step hands the rollback the record from before it (without `pinnedVersion`), so the
 * preflight setting, not the pin record, says who may be pinned.
 */
export const groupsToRestore = (groups: readonly GroupRecord[]): GroupRecord[] =>
  groups.filter((g) => followsTemplate(g.previousLaunchTemplateVersion));

export type GroupRestoreDecision =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'restore'; readonly from: string; readonly to: string }
  | { readonly kind: 'keep'; readonly pinned: string; readonly reason: string };

/**
 * Whether to give one group its own setting back. Only when the setting resolves to the very version the group
 * is on now: then nothing is replaced and nothing changes what a new instance runs. After a rollback `$Latest`
 * still names the new version (versions are immutable): such a group stays on its safe number.
 */
export function planGroupRestore(input: {
  readonly group: GroupRecord;
  /** The group's setting now; undefined when the group has gone. */
  readonly currentSetting: string | undefined;
  /** The version the group's own setting resolves to now. */
  readonly resolvedVersion: number | undefined;
}): GroupRestoreDecision {
  const { group, currentSetting, resolvedVersion } = input;
  const own = group.previousLaunchTemplateVersion;
  if (currentSetting === undefined) return { kind: 'skip', reason: 'the group has gone' };
  if (currentSetting === own) return { kind: 'skip', reason: `already on ${own}` };
  if (!/^\d+$/.test(currentSetting)) {
    return { kind: 'skip', reason: `on ${currentSetting}, which someone else chose` };
  }
  if (String(resolvedVersion) !== currentSetting) {
    return {
      kind: 'keep',
      pinned: currentSetting,
      reason: `${own} names version ${resolvedVersion ?? '?'}, not the version ${currentSetting} the instances run; the group stays on ${currentSetting}`,
    };
  }
  return { kind: 'restore', from: currentSetting, to: own };
}
