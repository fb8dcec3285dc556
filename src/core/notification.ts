import { classifyFailureCause, type FailureCause } from './failure-cause.ts';
import type { CaughtError, RefreshRecord, Rollout } from './rollout.ts';

/** What the notification reports. */
export type NotificationOutcome = 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK' | 'ROLLBACK_FAILED';

export interface NotificationFacts {
  readonly outcome: NotificationOutcome;
  readonly rolloutId: string;
  readonly imageId: string;
  readonly rollout?: Partial<Rollout>;
  readonly error?: CaughtError;
  /** The Step Functions execution, for the "where to look" link. */
  readonly executionArn?: string;
  readonly region: string;
}

export interface Notification {
  /** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
  readonly subject: string;
  readonly message: string;
  /** SNS message attributes (String), for subscription filter policies and machines. */
  readonly attributes: Readonly<Record<string, string>>;
}

const headline: Record<NotificationOutcome, string> = {
  SUCCEEDED: 'succeeded',
  FAILED: 'FAILED, nothing was changed',
  ROLLED_BACK: 'FAILED and was rolled back',
  ROLLBACK_FAILED: 'FAILED and the ROLLBACK FAILED: action needed',
};

/** A rollout put back by `ami-rollout rollback` after it stopped or ended (it may have succeeded). */
const ROLLED_BACK_ON_REQUEST = 'was rolled back on request';

/** A rollback whose refreshes all succeeded, but left instances on the new image in some group. */
const INCOMPLETE_ROLLBACK = 'FAILED and the ROLLBACK is INCOMPLETE: action needed';

/** The cause of a failed refresh, in plain words (see failure-cause.ts); none for a refresh that did not fail. */
export function refreshFailureCause(
  refresh: RefreshRecord | Partial<RefreshRecord> | undefined,
): FailureCause | undefined {
  if (!refresh || refresh.outcome !== 'FAILED') return undefined;
  return classifyFailureCause({
    ...(refresh.status ? { status: refresh.status } : {}),
    ...(refresh.statusReason ? { statusReason: refresh.statusReason } : {}),
    ...(refresh.timedOut ? { timedOut: true } : {}),
  });
}

export function composeNotification(facts: NotificationFacts): Notification {
  const { rollout, error, outcome } = facts;
  const refresh = rollout?.refresh;
  const group = refresh?.autoScalingGroupName;
  // Rollback refreshes that Auto Scaling reported Successful but that left instances on another version: the
  // rollback went on to the other groups, and this notification is where it says the fleet is not all back.
  const leftBehind = (rollout?.fleetRollback?.refreshes ?? []).filter(
    (r) =>
      r.outcome === 'SUCCEEDED' &&
      classifyFailureCause({ ...(r.statusReason ? { statusReason: r.statusReason } : {}) }).kind ===
        'instances-left-behind',
  );
  // `ami-rollout rollback`: an operator asked for a rollout that stopped or ended to be put back.
  const requested = error?.Error === 'RollbackRequested';
  const said =
    outcome === 'ROLLED_BACK' && leftBehind.length > 0
      ? INCOMPLETE_ROLLBACK
      : requested && outcome === 'ROLLED_BACK'
        ? ROLLED_BACK_ON_REQUEST
        : headline[outcome];
  const gate = error?.Error === 'GateAlarmFired' ? gateFailure(error.Cause) : undefined;
  const aborted = error?.Error === 'RolloutAborted';
  const blamed = aborted
    ? 'aborted'
    : requested
      ? 'rollback requested'
      : (group ?? (gate ? `alarm ${gate.alarmName}` : undefined));
  const subject = toSubject(
    `[ami-rollout] ${facts.imageId} ${said}${blamed && outcome !== 'SUCCEEDED' ? ` (${blamed})` : ''}`,
  );

  const lines: string[] = [];
  lines.push(`The rollout ${facts.rolloutId} of image ${facts.imageId} ${said}.`);
  const refreshCause = outcome === 'SUCCEEDED' ? undefined : refreshFailureCause(refresh);
  // No refresh failed: a step did (StartInstanceRefresh refused, say): its error is the cause.
  const errorCause =
    outcome !== 'SUCCEEDED' && !refreshCause && error
      ? classifyFailureCause({ statusReason: describeCause(error.Cause) })
      : undefined;
  const cause = refreshCause ?? errorCause;
  if (aborted) lines.push(`Cause (operator abort): ${describeCause(error?.Cause)}`);
  else if (requested) lines.push(`Cause (operator rollback): ${describeCause(error?.Cause)}`);
  else if (gate) {
    lines.push(
      `Cause (health gate): alarm ${gate.alarmName} ${gate.alarmState ?? 'ALARM'} at ${gate.at ?? '?'}, ${gate.during === 'watch' ? 'in the watch window after the last wave' : gate.during === 'refresh' ? `while wave ${gate.waveName ?? gate.wave ?? '?'} refreshed` : `in the bake after wave ${gate.waveName ?? gate.wave ?? '?'}`}: ${gate.statusReason ?? ''}`,
    );
  } else if (refreshCause && group) lines.push(`Cause (group ${group}): ${refreshCause.summary}`);
  else if (errorCause && errorCause.kind !== 'unknown')
    lines.push(`Cause (${error?.Error}): ${errorCause.summary}`);
  const rollbackFailure =
    outcome === 'ROLLBACK_FAILED' ? refreshFailureCause(rollout?.fleetRollback?.refresh) : undefined;
  if (rollbackFailure) {
    lines.push(
      `Rollback cause (group ${rollout?.fleetRollback?.refresh?.autoScalingGroupName ?? '?'}): ${rollbackFailure.summary}`,
    );
  }
  for (const r of leftBehind) lines.push(`Rollback incomplete: ${r.statusReason ?? ''}`);
  lines.push('');
  if (rollout?.rollbackTargetImageId) lines.push(`Rollback image: ${rollout.rollbackTargetImageId}`);
  const groups = rollout?.groups?.map((g) => g.autoScalingGroupName) ?? [];
  if (groups.length > 0) lines.push(`Groups, in rollout order: ${listed(groups)}`);
  const refreshed = (rollout?.refreshes ?? [])
    .filter((r) => r.outcome === 'SUCCEEDED')
    .map((r) => r.autoScalingGroupName);
  if (outcome !== 'SUCCEEDED') {
    lines.push(`Groups refreshed onto the new image: ${refreshed.length > 0 ? listed(refreshed) : 'none'}`);
  }
  if (refresh && outcome !== 'SUCCEEDED') {
    lines.push(
      '',
      `Failing group: ${refresh.autoScalingGroupName} (instance refresh ${refresh.instanceRefreshId})`,
      `  status ${refresh.status ?? 'unknown'}, ${refresh.percentageComplete ?? 0}% complete` +
        (refresh.statusReason ? `: ${refresh.statusReason}` : ''),
    );
    if (refresh.nativeRollback)
      lines.push('  Auto Scaling rolled this group back to its previous instances itself.');
    if (refresh.timedOut) lines.push('  The refresh ran past refreshTimeoutMinutes.');
  }
  if (error) {
    lines.push('', `Error: ${error.Error}`, `  ${describeCause(error.Cause)}`);
  }
  const rollback = rollout?.rollback;
  if (rollback) {
    lines.push('', `Rollback to ${rollback.rollbackTargetImageId}:`);
    for (const t of rollback.templates) {
      lines.push(
        `  ${t.launchTemplateId}: ${t.action}${t.defaultVersion ? ` (default version ${t.defaultVersion})` : ''}${t.detail ? ` - ${t.detail}` : ''}`,
      );
    }
    lines.push(`  image parameter: ${rollback.parameter}`);
    if (rollback.previousParameter === 'restored')
      lines.push('  image parameter -previous: restored to what it held before the rollout');
  }
  const fleetRollback = rollout?.fleetRollback;
  if (fleetRollback && fleetRollback.groups.length > 0) {
    lines.push('', 'Instances refreshed back to the rollback image, newest wave first:');
    fleetRollback.groups.forEach((g, index) => {
      if (index === MAX_LISTED_GROUPS)
        lines.push(
          `  ... and ${fleetRollback.groups.length - MAX_LISTED_GROUPS} more groups (the ledger holds each one)`,
        );
      if (index >= MAX_LISTED_GROUPS) return;
      const attempt = fleetRollback.refreshes.find((r) => r.groupIndex === index);
      const state =
        index < fleetRollback.index
          ? 'back on the previous version'
          : attempt
            ? `${attempt.status ?? 'started'} ${attempt.percentageComplete ?? 0}%${attempt.statusReason ? `: ${attempt.statusReason}` : ''}`
            : 'not started';
      lines.push(
        `  ${g.autoScalingGroupName} -> ${g.launchTemplateId} version ${g.launchTemplateVersion} (${g.reason}): ${state}`,
      );
    });
  } else if (outcome !== 'SUCCEEDED' && refreshed.length > 0) {
    lines.push(
      '',
      `Instances already replaced in ${listed(refreshed)} still run ${facts.imageId} until those groups are refreshed again.`,
    );
  }
  lines.push('', 'Where to look:');
  if (facts.executionArn) {
    lines.push(
      `  Execution: https://${facts.region}.console.aws.amazon.com/states/home?region=${facts.region}#/v2/executions/details/${facts.executionArn}`,
    );
  }
  if (group) {
    lines.push(
      `  Group: https://${facts.region}.console.aws.amazon.com/ec2/home?region=${facts.region}#AutoScalingGroupDetails:id=${encodeURIComponent(group)};view=instanceRefresh`,
      `  aws autoscaling describe-instance-refreshes --region ${facts.region} --auto-scaling-group-name ${group}`,
    );
  }
  lines.push(`  Logs: filter the step functions' log groups on rolloutId = "${facts.rolloutId}"`);

  const attributes: Record<string, string> = {
    outcome,
    rolloutId: facts.rolloutId,
    imageId: facts.imageId,
  };
  if (rollout?.rollbackTargetImageId) attributes['rollbackTargetImageId'] = rollout.rollbackTargetImageId;
  if (group) attributes['autoScalingGroupName'] = group;
  if (refresh?.instanceRefreshId) attributes['instanceRefreshId'] = refresh.instanceRefreshId;
  if (refresh?.status) attributes['refreshStatus'] = refresh.status;
  if (cause) attributes['failureCause'] = cause.kind;
  if (error) attributes['errorName'] = error.Error;
  if (gate) attributes['alarmName'] = gate.alarmName;
  return { subject, message: lines.join('\n'), attributes };
}

/** The gate alarm that stopped a rollout, from the GateAlarmFired Cause FinishBatch wrote. */
function gateFailure(cause: string | undefined):
  | {
      alarmName: string;
      alarmState?: string;
      during?: string;
      wave?: number;
      waveName?: string;
      at?: string;
      statusReason?: string;
    }
  | undefined {
  try {
    const parsed = JSON.parse(cause ?? '') as { alarmName?: unknown };
    return typeof parsed.alarmName === 'string' ? (parsed as { alarmName: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** A Catch's Cause is the JSON `{errorMessage, errorType, ...}` of a Lambda error, or plain text. */
function describeCause(cause: string | undefined): string {
  if (!cause) return '(no cause given)';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (
      parsed &&
      typeof parsed === 'object' &&
      'errorMessage' in parsed &&
      typeof parsed.errorMessage === 'string'
    ) {
      return parsed.errorMessage;
    }
    // The state machine's own failures carry the refresh record: its status reason is the story.
    if (
      parsed &&
      typeof parsed === 'object' &&
      'statusReason' in parsed &&
      typeof parsed.statusReason === 'string'
    ) {
      const status = 'status' in parsed && typeof parsed.status === 'string' ? `${parsed.status}: ` : '';
      return `${status}${parsed.statusReason}`;
    }
  } catch {
    // not JSON: shown as is
  }
  return cause;
}

function toSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

/**
 * Groups a notification names one by one; a larger fleet is summarized (SNS takes at most 256 KiB a message,
 * and a person reads the first lines). The ledger, and `ami-rollout status`, hold every group.
 */
export const MAX_LISTED_GROUPS = 50;

/** Groups named inline, in one line of the message (the rollback's list, a line a group, takes up to 50). */
export const MAX_INLINE_GROUPS = 10;

const listed = (names: readonly string[]): string =>
  names.length <= MAX_INLINE_GROUPS
    ? names.join(', ')
    : `${names.slice(0, MAX_INLINE_GROUPS).join(', ')} and ${names.length - MAX_INLINE_GROUPS} more (${names.length} in all)`;
