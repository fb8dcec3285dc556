/**
 * One error class per way a rollout step can fail. Each class's `name` is the contract with the state machine:
 * it is what a Lambda task's `Retry` / `Catch` `ErrorEquals` matches, so never rename one without the ASL.
 * Expected outcomes (a refresh that is still running, a template already on the image) are values, not errors.
 */

/** The base of every ami-rollout error: a message a person can act on, and the underlying `cause`. */
export abstract class RolloutError extends Error {
  abstract override readonly name: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The rollout configuration is invalid; the message names each bad field and the fix. */
export class ConfigError extends RolloutError {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A step was invoked with an event that does not match its contract. Not retryable. */
export class InvalidEventError extends RolloutError {
  override readonly name = 'InvalidEventError';
}

/** AWS throttled us or failed on its side, and the SDK's own retries ran out. The state machine retries it. */
export class TransientAwsError extends RolloutError {
  override readonly name = 'TransientAwsError';
}

/** An AWS call failed in a way the step has no specific error for (access denied, validation). */
export class AwsCallError extends RolloutError {
  override readonly name = 'AwsCallError';
}

/** The image to roll out does not exist (or is not visible to this account). */
export class ImageNotFoundError extends RolloutError {
  override readonly name = 'ImageNotFoundError';
}

/** The image exists but its state is not `available` (pending, failed, deregistered...). */
export class ImageNotAvailableError extends RolloutError {
  override readonly name = 'ImageNotAvailableError';
}

/** The image's owner is not one of `trustedImageOwners`. */
export class UntrustedImageOwnerError extends RolloutError {
  override readonly name = 'UntrustedImageOwnerError';
}

/** A configured launch template does not exist. */
export class LaunchTemplateNotFoundError extends RolloutError {
  override readonly name = 'LaunchTemplateNotFoundError';
}

/** A configured Auto Scaling group does not exist. */
export class AutoScalingGroupNotFoundError extends RolloutError {
  override readonly name = 'AutoScalingGroupNotFoundError';
}

/** A group launches from a launch template that is not in `launchTemplateIds` (or from a launch configuration). */
export class GroupTemplateMismatchError extends RolloutError {
  override readonly name = 'GroupTemplateMismatchError';
}

/** A group already has an instance refresh running that this rollout did not start. */
export class RefreshInProgressError extends RolloutError {
  override readonly name = 'RefreshInProgressError';
}

/** Another rollout (execution of the same state machine) is running: one rollout at a time. */
export class RolloutInProgressError extends RolloutError {
  override readonly name = 'RolloutInProgressError';
}

/**
 * A launch template the rollout would point groups at carries an instance profile whose role the pipeline may
 * not pass (it is not in `instanceRoleArns`): Auto Scaling would refuse the group update with AccessDenied
 * after the parameter and templates had already changed.
 */
export class InstanceRoleNotPassableError extends RolloutError {
  override readonly name = 'InstanceRoleNotPassableError';
}

/** A launch template names an instance profile that does not exist, so nothing could launch from it. */
export class InstanceProfileNotFoundError extends RolloutError {
  override readonly name = 'InstanceProfileNotFoundError';
}

/**
 * A group would be refreshed with nothing to notice a bad image: EC2 health checks only (an image that boots but
 * serves errors passes them) and no alarm in `refreshPreferences.alarmNames`, or ELB health checks with no load
 * balancer attached. The message names every such group and the fixes.
 */
export class NoHealthSignalError extends RolloutError {
  override readonly name = 'NoHealthSignalError';
}

/** An alarm named in `refreshPreferences.alarmNames` does not exist: a refresh would watch nothing. */
export class AlarmNotFoundError extends RolloutError {
  override readonly name = 'AlarmNotFoundError';
}

/** A gate alarm is in ALARM when the rollout would start: the fleet is not healthy to begin with. */
export class GateAlarmInAlarmError extends RolloutError {
  override readonly name = 'GateAlarmInAlarmError';
}

/** Nothing to roll back to: `{param}` is empty and the templates do not agree on one image. */
export class NoRollbackTargetError extends RolloutError {
  override readonly name = 'NoRollbackTargetError';
}

/** `ami-rollout rollback` refused: the rollout still runs, a newer one ran since, or the account moved on. */
export class RollbackRefusedError extends RolloutError {
  override readonly name = 'RollbackRefusedError';
}

/** The rollback image is gone or not `available`, so a rollback could not launch instances. */
export class RollbackImageNotAvailableError extends RolloutError {
  override readonly name = 'RollbackImageNotAvailableError';
}

/** Sharing the image or its snapshots, or protecting the rollback image, was refused. */
export class ImageShareError extends RolloutError {
  override readonly name = 'ImageShareError';
}

/** Writing the image parameters (`{param}`, `{param}-previous`) was refused. */
export class ParameterUpdateError extends RolloutError {
  override readonly name = 'ParameterUpdateError';
}

/** Creating a launch template version or making it the default was refused. */
export class LaunchTemplateUpdateError extends RolloutError {
  override readonly name = 'LaunchTemplateUpdateError';
}

/** StartInstanceRefresh was refused (bad preferences, limits) for a reason other than a running refresh. */
export class InstanceRefreshStartError extends RolloutError {
  override readonly name = 'InstanceRefreshStartError';
}

/** The refresh the rollout is watching is not in the group's refresh history. */
export class InstanceRefreshNotFoundError extends RolloutError {
  override readonly name = 'InstanceRefreshNotFoundError';
}

/** The rollback could not restore every template and the image parameter; the message lists what is left. */
export class RollbackError extends RolloutError {
  override readonly name = 'RollbackError';
}

/** The rollout's ledger (DynamoDB) is missing, or lacks what a step needs: the plan, a group, the lock. */
export class LedgerError extends RolloutError {
  override readonly name = 'LedgerError';
}

/** A wave's plan is refused before anything runs: a tag selector matching nothing, a group in two waves. */
export class WavePlanError extends RolloutError {
  override readonly name = 'WavePlanError';
}

/** Publishing the notification failed. */
export class NotificationError extends RolloutError {
  override readonly name = 'NotificationError';
}

/** Every error name a step can throw: the `ErrorEquals` vocabulary of the state machine. */
export const rolloutErrorNames = [
  'ConfigError',
  'InvalidEventError',
  'TransientAwsError',
  'AwsCallError',
  'ImageNotFoundError',
  'ImageNotAvailableError',
  'UntrustedImageOwnerError',
  'LaunchTemplateNotFoundError',
  'AutoScalingGroupNotFoundError',
  'GroupTemplateMismatchError',
  'RefreshInProgressError',
  'RolloutInProgressError',
  'InstanceRoleNotPassableError',
  'InstanceProfileNotFoundError',
  'NoHealthSignalError',
  'AlarmNotFoundError',
  'GateAlarmInAlarmError',
  'NoRollbackTargetError',
  'RollbackImageNotAvailableError',
  'ImageShareError',
  'ParameterUpdateError',
  'LaunchTemplateUpdateError',
  'InstanceRefreshStartError',
  'InstanceRefreshNotFoundError',
  'RollbackError',
  'NotificationError',
  'LedgerError',
  'WavePlanError',
] as const;

export type RolloutErrorName = (typeof rolloutErrorNames)[number];
