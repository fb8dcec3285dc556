/**
 * Why a refresh failed, in plain words for the first lines of the notification: read from the refresh's
 * StatusReason (or RollbackDetails.RollbackReason) and, where Auto Scaling recorded one, the failed scaling
 * activity's StatusMessage (the EC2 error of a launch: InvalidAMIID, KMS, capacity).
 *
 * The texts matched are those the local account emits (src/local-account/simulation/instance-refresh.ts and
 * refresh-decisions.ts, listed in docs/local-account.md). AWS documents the statuses but not the exact wording of
 * StatusReason, so the patterns are loose: keywords ("alarm", "ALARM state", "launch", "health check",
 * EC2 error codes) rather than whole sentences, and anything unrecognised is reported as it came.
 */

export type FailureCauseKind =
  | 'launch-failed'
  | 'alarm'
  | 'instances-unhealthy'
  | 'instances-held-back'
  | 'instances-left-behind'
  | 'timed-out'
  | 'cancelled'
  | 'unknown';

export interface FailureCause {
  readonly kind: FailureCauseKind;
  /** One line, starting with the plain-words label: "launch failed: ...", "alarm X in ALARM: ...". */
  readonly summary: string;
}

export interface FailureFacts {
  readonly status?: string;
  /** The refresh record's statusReason (our own wording for a timeout or instances left behind). */
  readonly statusReason?: string;
  readonly timedOut?: boolean;
  /** The newest failed scaling activity's StatusMessage during the refresh, if any. */
  readonly activityMessage?: string;
}

const label: Record<FailureCauseKind, string> = {
  'launch-failed': 'launch failed',
  alarm: 'alarm',
  'instances-unhealthy': 'instances unhealthy',
  'instances-held-back': 'instances held back',
  'instances-left-behind': 'instances left on another version',
  'timed-out': 'timed out',
  cancelled: 'cancelled',
  unknown: 'refresh failed',
};

/** EC2 launch errors as RunInstances (or a scaling activity) reports them. */
const LAUNCH_ERROR =
  /InvalidAMIID|InvalidKMSKey|KMS key|InsufficientInstanceCapacity|sufficient capacity|could not launch|failed to launch|launching (a new )?EC2 instance failed|Launching EC2 instance failed|image id .* does not exist/i;

/** Names of the alarms a reason says are in ALARM: "alarm a is in the ALARM state", "alarms a, b are ...". */
function alarmNames(reason: string): string | undefined {
  const match = /alarms?\s+\[?([^\]]+?)\]?\s+(?:is|are|went|has|have|was|were|in)\b/i.exec(reason);
  return match?.[1]?.trim();
}

/** Classifies the cause of a failed refresh. Pure: the same facts always give the same cause. */
export function classifyFailureCause(facts: FailureFacts): FailureCause {
  const reason = (facts.statusReason ?? '').trim();
  const activity = facts.activityMessage?.trim();
  const detail = (text: string) => (activity && !text.includes(activity) ? `${text} (${activity})` : text);
  const make = (kind: FailureCauseKind, text: string): FailureCause => ({
    kind,
    summary: `${kind === 'alarm' ? '' : `${label[kind]}: `}${text || '(no reason given)'}`,
  });

  if (/^(instance|rollback) refresh Successful, but group/i.test(reason))
    return make('instances-left-behind', reason);
  if (facts.timedOut || /after refreshTimeoutMinutes/.test(reason)) return make('timed-out', detail(reason));
  if (/ALARM/.test(reason) && /alarm/i.test(reason)) {
    const names = alarmNames(reason);
    return { kind: 'alarm', summary: `alarm ${names ?? '(unnamed)'} in ALARM: ${reason}` };
  }
  if (LAUNCH_ERROR.test(reason)) return make('launch-failed', detail(reason));
  if (/health ?checks?|unhealthy/i.test(reason)) return make('instances-unhealthy', detail(reason));
  if (/Standby|scale-in protection|protected from scale in/i.test(reason))
    return make('instances-held-back', reason);
  // No words we know in the reason, but a launch failed during the refresh: that is the likeliest cause.
  if (activity && LAUNCH_ERROR.test(activity))
    return make('launch-failed', reason ? `${reason} (${activity})` : activity);
  if (facts.status === 'Cancelled' || /cancel/i.test(reason)) return make('cancelled', reason);
  return make('unknown', detail(reason));
}
