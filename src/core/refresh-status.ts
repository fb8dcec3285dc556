import type { RefreshOutcome } from './rollout.ts';

/** The ten statuses DescribeInstanceRefreshes reports. */
export const instanceRefreshStatuses = [
  'Pending',
  'InProgress',
  'Successful',
  'Failed',
  'Cancelling',
  'Cancelled',
  'RollbackInProgress',
  'RollbackFailed',
  'RollbackSuccessful',
  'Baking',
] as const;
export type InstanceRefreshStatus = (typeof instanceRefreshStatuses)[number];

/**
 * What a refresh status means for the rollout. Only `Successful` moves on. `Cancelled` is a failure: the
 * refresh stopped half-way, and a loop that waits for Successful/Failed would poll it forever. A native
 * rollback that succeeded is still a failed rollout (the group is back on the old image, the new one is bad).
 * `Baking` (watching alarms after the last replacement), `Cancelling` and `RollbackInProgress` have not
 * settled yet, so they are polled again. A status AWS adds later is treated as still in progress, and
 * bounded by the refresh timeout, rather than guessed as success.
 */
export function refreshOutcome(status: string): RefreshOutcome {
  switch (status as InstanceRefreshStatus) {
    case 'Successful':
      return 'SUCCEEDED';
    case 'Failed':
    case 'Cancelled':
    case 'RollbackFailed':
    case 'RollbackSuccessful':
      return 'FAILED';
    case 'Pending':
    case 'InProgress':
    case 'Baking':
    case 'Cancelling':
    case 'RollbackInProgress':
      return 'IN_PROGRESS';
    default:
      return 'IN_PROGRESS';
  }
}

/** True while a refresh still holds the group (a new StartInstanceRefresh would be refused). */
export function isActiveRefreshStatus(status: string): boolean {
  return refreshOutcome(status) === 'IN_PROGRESS';
}

/** True when Auto Scaling itself is rolling, or has rolled, the group back. */
export function isNativeRollbackStatus(status: string): boolean {
  return status === 'RollbackInProgress' || status === 'RollbackSuccessful' || status === 'RollbackFailed';
}

/** True when a refresh that started at `startedAt` has run longer than `timeoutMinutes` at `now`. */
export function refreshTimedOut(startedAt: Date, now: Date, timeoutMinutes: number): boolean {
  return now.getTime() - startedAt.getTime() > timeoutMinutes * 60_000;
}

/** One instance of a group, as DescribeAutoScalingGroups lists it (SDK-free). */
export interface GroupInstance {
  readonly instanceId: string;
  readonly lifecycleState: string;
  readonly launchTemplate?: {
    readonly launchTemplateId?: string;
    readonly launchTemplateName?: string;
    readonly version?: string;
  };
  readonly launchConfigurationName?: string;
}

/** The launch template version a refresh moved a group to: what every serving instance must run afterwards. */
export interface TemplateTarget {
  readonly launchTemplateId: string;
  readonly launchTemplateVersion: number;
}

/** An instance that serves, or is about to, on something other than the target, and what it runs. */
export interface OffTargetInstance {
  readonly instanceId: string;
  readonly runs: string;
}

export type InstanceVersionCheck =
  | { readonly kind: 'all-on-target'; readonly checked: number }
  | {
      readonly kind: 'off-target';
      readonly checked: number;
      readonly offTarget: readonly OffTargetInstance[];
    };

/**
 * Lifecycle states whose instances take traffic, or are launching to: InService and Pending (with its lifecycle
 * hook states). Standby instances take none and are left out: a rollout refresh keeps AWS's default
 * StandbyInstances Wait, under which a refresh does not finish while one waits unreplaced, and one that goes to
 * Standby afterwards was already replaced. Terminating and Detaching instances are on their way out. A protected
 * instance (ScaleInProtectedInstances) that serves counts like any other: left on the old version, it still
 * serves the old image.
 */
const SERVING_STATES = new Set(['InService', 'Pending', 'Pending:Wait', 'Pending:Proceed']);

/**
 * Does every serving instance run the target, after Auto Scaling reported the refresh done? `Successful` alone
 * does not say so: a partial refresh (last checkpoint below 100), instances ignored for Standby or scale-in
 * protection, or a scale-out or health replacement during the refresh launching from the group's previous,
 * pinned version all leave instances behind. An instance matches only with the target's template id and the
 * numbered version: one launched from another template (a mixed instances policy override), a launch
 * configuration or a symbolic `$Default`/`$Latest` version cannot be shown to run the target, and does not count.
 */
export function checkInstancesOnTarget(
  instances: readonly GroupInstance[],
  target: TemplateTarget,
): InstanceVersionCheck {
  const serving = instances.filter((i) => SERVING_STATES.has(i.lifecycleState));
  const offTarget: OffTargetInstance[] = [];
  for (const instance of serving) {
    const spec = instance.launchTemplate;
    const matches =
      spec?.launchTemplateId === target.launchTemplateId &&
      spec.version === String(target.launchTemplateVersion);
    if (matches) continue;
    const runs = spec
      ? `${spec.launchTemplateId ?? spec.launchTemplateName ?? 'launch template ?'} version ${spec.version ?? '?'}`
      : instance.launchConfigurationName
        ? `launch configuration ${instance.launchConfigurationName}`
        : 'no launch template';
    offTarget.push({ instanceId: instance.instanceId, runs });
  }
  return offTarget.length === 0
    ? { kind: 'all-on-target', checked: serving.length }
    : { kind: 'off-target', checked: serving.length, offTarget };
}

/** How many off-target instances a reason names before it says "and N more". */
export const OFF_TARGET_EXAMPLES = 5;

/**
 * Why a refresh Auto Scaling reported `Successful` still leaves the group unfinished: the group, how many
 * serving instances run something else, the first few ids and what they run.
 */
export function offTargetReason(
  autoScalingGroupName: string,
  target: TemplateTarget,
  check: Extract<InstanceVersionCheck, { kind: 'off-target' }>,
  what: 'instance refresh' | 'rollback refresh',
): string {
  const { offTarget, checked } = check;
  const shown = offTarget
    .slice(0, OFF_TARGET_EXAMPLES)
    .map((i) => `${i.instanceId} (${i.runs})`)
    .join(', ');
  const more =
    offTarget.length > OFF_TARGET_EXAMPLES ? `, and ${offTarget.length - OFF_TARGET_EXAMPLES} more` : '';
  return (
    `${what} Successful, but group ${autoScalingGroupName} has ${offTarget.length} of ${checked} InService ` +
    `instance${checked === 1 ? '' : 's'} not on ${target.launchTemplateId} version ${target.launchTemplateVersion}: ` +
    `${shown}${more}`
  );
}
