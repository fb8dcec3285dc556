/**
 * The instance refresh's decisions, as pure functions of its progress: how many instances the next batch
 * replaces, and in which order; when it pauses at a checkpoint, bakes, or is done. The engine
 * (instance-refresh.ts) holds the side effects; this file is where to read "what would AWS do next".
 *
 * Sources: the EC2 Auto Scaling user guide pages "How an instance refresh works", "Understand the default values
 * for an instance refresh", "Add checkpoints to an instance refresh", "Undo changes with a manual or auto
 * rollback", and the InstanceMaintenancePolicy / RefreshPreferences API reference.
 */
import type { Instance, InstanceRefreshStatus, RefreshPreferences } from '../state.ts';

/** Statuses in which a refresh still owns its group: StartInstanceRefresh answers InstanceRefreshInProgress. */
export const ACTIVE_STATUSES: ReadonlySet<InstanceRefreshStatus> = new Set([
  'Pending',
  'InProgress',
  'Baking',
  'Cancelling',
  'RollbackInProgress',
]);

/** Statuses CancelInstanceRefresh acts on (a rollback can be cancelled too); otherwise ActiveInstanceRefreshNotFound. */
export const CANCELLABLE_STATUSES: ReadonlySet<InstanceRefreshStatus> = new Set([
  'Pending',
  'InProgress',
  'Baking',
  'RollbackInProgress',
]);

/** Statuses RollbackInstanceRefresh acts on: a refresh that is still running forward. */
export const ROLLBACK_STATUSES: ReadonlySet<InstanceRefreshStatus> = new Set([
  'Pending',
  'InProgress',
  'Baking',
]);

/**
 * Statuses in which a refresh's AlarmSpecification alarms are watched: an alarm in ALARM then fails the refresh,
 * or rolls it back with AutoRollback ("Undo changes with a manual or auto rollback": auto rollback reverses what
 * was deployed "if any CloudWatch alarms you specify go into the ALARM state"; "Add a bake time": alarms are
 * still monitored while the refresh bakes). Pending has not started replacing; a rollback is not watched.
 */
export const ALARM_WATCHED_STATUSES: ReadonlySet<InstanceRefreshStatus> = new Set(['InProgress', 'Baking']);

/** What a refresh does about its alarms in ALARM (`alarmsInAlarm`, in AlarmSpecification order). */
export type AlarmResponse =
  { readonly kind: 'carry-on' } | { readonly kind: 'fail'; readonly reason: string };

export function respondToAlarms(
  status: InstanceRefreshStatus,
  alarmsInAlarm: readonly string[],
): AlarmResponse {
  if (!ALARM_WATCHED_STATUSES.has(status) || alarmsInAlarm.length === 0) return { kind: 'carry-on' };
  const names = alarmsInAlarm.join(', ');
  return {
    kind: 'fail',
    reason:
      `Instance refresh failed: CloudWatch alarm${alarmsInAlarm.length === 1 ? '' : 's'} ${names} ` +
      `${alarmsInAlarm.length === 1 ? 'is' : 'are'} in the ALARM state.`,
  };
}

/**
 * How long a refresh keeps retrying when it cannot make progress before it fails. The user guide, "How an instance
 * refresh works in an Auto Scaling group", Limitations, "One-hour timeout": when an instance refresh is unable to
 * continue making replacements because it is waiting to replace instances on standby or protected from scale in,
 * or the new instances do not pass their health checks, Amazon EC2 Auto Scaling keeps retrying for an hour; if
 * the problem persists after an hour, the operation fails. RefreshPreferences.ScaleInProtectedInstances /
 * StandbyInstances (botocore): "Wait (default) ... waits one hour ... Otherwise, the instance refresh will fail."
 * The guide names no limit for launch failures; the local account applies the same hour to them.
 */
export const REFRESH_RETRY_SECONDS = 3600;

/**
 * Why the refresh must wait before replacing `instance`, if it must: in Standby, or protected from scale in,
 * with the preference for it at Wait (the default). Refresh/Terminate/Ignore are applied when the refresh starts.
 */
export function heldBackBy(instance: Instance, preferences: RefreshPreferences): string | undefined {
  if (instance.lifecycleState === 'Standby' && preferences.standbyInstances === 'Wait') {
    return (
      `Waiting for instance ${instance.instanceId} in Standby to return to service (StandbyInstances: Wait). ` +
      'Exit standby, or start the refresh with StandbyInstances Terminate or Ignore.'
    );
  }
  if (instance.protectedFromScaleIn && preferences.scaleInProtectedInstances === 'Wait') {
    return (
      `Waiting for scale-in protection to be removed from instance ${instance.instanceId} ` +
      '(ScaleInProtectedInstances: Wait). Remove it, or start the refresh with ScaleInProtectedInstances ' +
      'Refresh or Ignore.'
    );
  }
  return undefined;
}

export interface BatchPlan {
  /** Replacements whose new instance launches first; the old one terminates once the new one is ready. */
  readonly launchBeforeTerminate: number;
  /** Replacements whose old instance terminates as the new one launches. */
  readonly terminateThenLaunch: number;
}

/**
 * The size and order of one batch. The group must keep ceil(capacity x Min%) instances healthy and may hold at
 * most floor(capacity x Max%): the room below capacity is replaced terminate-first, the room above it
 * launch-first. A Max above 100 always leaves room for one instance above capacity, however small the group:
 * that is what a Max above 100 asks for ("Launch before terminating" in "Instance maintenance policies"; with
 * Min 90 / Max 120 on 2 instances AWS launches first rather than drop to one instance). With Min 100 and Max 100
 * there is no room at all, and AWS replaces one instance at a time.
 */
export function planBatch(
  capacity: number,
  minHealthyPercentage: number,
  maxHealthyPercentage: number,
): BatchPlan {
  const belowCapacity = Math.max(0, capacity - Math.ceil((capacity * minHealthyPercentage) / 100));
  const aboveCapacity =
    maxHealthyPercentage > 100 && capacity > 0
      ? Math.max(1, Math.floor((capacity * maxHealthyPercentage) / 100) - capacity)
      : 0;
  if (belowCapacity + aboveCapacity === 0) return { launchBeforeTerminate: 0, terminateThenLaunch: 1 };
  return { launchBeforeTerminate: aboveCapacity, terminateThenLaunch: belowCapacity };
}

/** Caps a batch at `limit` replacements, keeping launch-first ones (they never dip below capacity). */
export function capBatch(plan: BatchPlan, limit: number): BatchPlan {
  const launchBeforeTerminate = Math.min(plan.launchBeforeTerminate, limit);
  return {
    launchBeforeTerminate,
    terminateThenLaunch: Math.min(plan.terminateThenLaunch, limit - launchBeforeTerminate),
  };
}

/** PercentageComplete: replaced instances over instances to update, rounded down; nothing to update is 100. */
export function percentageComplete(replaced: number, total: number): number {
  return total === 0 ? 100 : Math.floor((replaced * 100) / total);
}

/** During a rollback PercentageComplete falls from its value at the rollback back to 0 as instances revert. */
export function percentageCompleteDuringRollback(
  percentageOnRollback: number,
  reverted: number,
  toRevert: number,
): number {
  return toRevert === 0 ? 0 : Math.floor((percentageOnRollback * (toRevert - reverted)) / toRevert);
}

/** Instances that must be new before checkpoint `percentage` counts as reached. */
export function checkpointTarget(total: number, percentage: number): number {
  return Math.ceil((total * percentage) / 100);
}

export interface RefreshProgress {
  readonly mode: 'forward' | 'rollback';
  /** The group's desired capacity: what Min% and Max% are percentages of. */
  readonly capacity: number;
  /** Instances to replace in this phase, fixed when the phase starts. */
  readonly total: number;
  /** Replacements finished (the new instance is healthy and warmed up). */
  readonly replaced: number;
  /** Replacements started and not yet finished. */
  readonly inFlight: number;
  /** Instances still waiting for a replacement to start. */
  readonly remaining: number;
  readonly minHealthyPercentage: number;
  readonly maxHealthyPercentage: number;
  /** Ascending; empty when there are no checkpoints (and always during a rollback). */
  readonly checkpointPercentages: readonly number[];
  /** How many checkpoints the refresh has already paused at. */
  readonly checkpointsPassed: number;
  readonly checkpointDelaySeconds: number;
  readonly bakeTimeSeconds: number;
}

export type RefreshStep =
  /** A batch is still launching or warming up: its instances report back when ready. */
  | { readonly kind: 'wait-for-batch' }
  | ({ readonly kind: 'replace' } & BatchPlan)
  /** Pause (status stays InProgress) at checkpoint `index` for `delaySeconds`. */
  | {
      readonly kind: 'checkpoint';
      readonly index: number;
      readonly percentage: number;
      readonly delaySeconds: number;
    }
  /** Every instance is replaced: status Baking for `seconds`, then Successful. */
  | { readonly kind: 'bake'; readonly seconds: number }
  /** Successful (forward) or RollbackSuccessful (rollback). */
  | { readonly kind: 'complete' };

/** What the refresh does next, given where it stands. Called whenever a batch finishes or a pause ends. */
export function decideNextStep(progress: RefreshProgress): RefreshStep {
  if (progress.inFlight > 0) return { kind: 'wait-for-batch' };
  const forward = progress.mode === 'forward';
  if (progress.remaining === 0) {
    return forward && progress.bakeTimeSeconds > 0
      ? { kind: 'bake', seconds: progress.bakeTimeSeconds }
      : { kind: 'complete' };
  }
  const checkpoints = forward ? progress.checkpointPercentages : [];
  const next = checkpoints[progress.checkpointsPassed];
  // A last checkpoint below 100 ends the refresh there: AWS replaces all instances only when it is 100.
  if (next === undefined && checkpoints.length > 0) return { kind: 'complete' };
  const target = next === undefined ? undefined : checkpointTarget(progress.total, next);
  if (next !== undefined && next < 100 && target !== undefined && progress.replaced >= target) {
    // "Add checkpoints to an instance refresh": the operation transitions to Successful once the percentage of
    // the last checkpoint is replaced and warmed up, with no pause after it (a partial refresh).
    if (progress.checkpointsPassed === checkpoints.length - 1) {
      return forward && progress.bakeTimeSeconds > 0
        ? { kind: 'bake', seconds: progress.bakeTimeSeconds }
        : { kind: 'complete' };
    }
    return {
      kind: 'checkpoint',
      index: progress.checkpointsPassed,
      percentage: next,
      delaySeconds: progress.checkpointDelaySeconds,
    };
  }
  // Pace the batch so that it never overshoots the next checkpoint.
  const untilCheckpoint = target === undefined ? Infinity : Math.max(1, target - progress.replaced);
  const limit = Math.min(progress.remaining, untilCheckpoint);
  const plan = capBatch(
    planBatch(progress.capacity, progress.minHealthyPercentage, progress.maxHealthyPercentage),
    limit,
  );
  return { kind: 'replace', ...plan };
}
