import { formatIssue, plainIssueMessage } from '../config/issues.ts';
import { namedGroupsOf, type RolloutConfig } from '../config/schema.ts';
import { FleetFileError, parseFleet, type Fleet } from '../local-account/fleet.ts';
import {
  faultSchema,
  LAUNCH_FAILURE_REASONS,
  type Fault,
  type LaunchFailureReason,
} from '../local-account/faults.ts';

/** The fault flags of `rehearse`, as given (each repeatable). */
export interface FaultFlags {
  /** `--fail GROUP`: the new image's instances in GROUP fail their health checks (`unhealthyInstances`). */
  readonly fail?: readonly string[];
  /** `--fail-app GROUP`: the new image boots in GROUP but its application fails (`appFailure`). */
  readonly failApp?: readonly string[];
  /** `--fail-launch GROUP[:REASON]`: launches of the new image in GROUP fail (`launchFailure`). */
  readonly failLaunch?: readonly string[];
  /** `--alarm NAME[@MINUTE]`: the alarm goes to ALARM at that minute (default 0) and stays (`alarm`). */
  readonly alarm?: readonly string[];
  /** `--fault JSON`: any fault object, as the fleet file's `faults` takes it. */
  readonly fault?: readonly string[];
}

/** A fault flag with a wrong value: the message names the flag, the value and the fix. */
export class FaultFlagError extends Error {
  override readonly name = 'FaultFlagError';
}

/** The reason `--fail-launch GROUP` uses when none is given: the new image's KMS key is not usable here. */
export const DEFAULT_LAUNCH_FAILURE_REASON: LaunchFailureReason = 'kmsKeyNotUsable';

/**
 * The faults the flags ask for, on `imageId` (the image rolled out) where the fault kind takes an image. Each is
 * checked as the fleet file's faults are (the fault schema, then the fleet's own rules: a group it names must be
 * in the fleet, an alarm declared under `alarms`), so a fault kind added to faults.ts is taken by `--fault` with
 * no change here. Throws `FaultFlagError` on the first wrong value; nothing has run by then.
 */
export function faultsFromFlags(
  flags: FaultFlags,
  context: { readonly config: RolloutConfig; readonly fleet: Fleet; readonly imageId: string },
): Fault[] {
  const { config, imageId } = context;
  const groups = namedGroupsOf(config);
  const rolloutGroup = (flag: string, value: string, group: string): string => {
    if (!groups.includes(group)) {
      const what = group === value ? 'not a group' : `"${group}" is not a group`;
      throw new FaultFlagError(`${flag} ${value}: ${what} of this rollout (${groups.join(', ')})`);
    }
    return group;
  };
  const described: { flag: string; value: string; fault: unknown }[] = [];

  for (const group of flags.fail ?? []) {
    rolloutGroup('--fail', group, group);
    described.push({ flag: '--fail', value: group, fault: { kind: 'unhealthyInstances', imageId, group } });
  }
  for (const group of flags.failApp ?? []) {
    rolloutGroup('--fail-app', group, group);
    described.push({ flag: '--fail-app', value: group, fault: { kind: 'appFailure', imageId, group } });
  }
  for (const value of flags.failLaunch ?? []) {
    // Group names hold no ':' (config rule), so the last one starts the reason.
    const at = value.lastIndexOf(':');
    const group = at < 0 ? value : value.slice(0, at);
    const reason = at < 0 ? DEFAULT_LAUNCH_FAILURE_REASON : value.slice(at + 1);
    rolloutGroup('--fail-launch', value, group);
    if (!(LAUNCH_FAILURE_REASONS as readonly string[]).includes(reason)) {
      throw new FaultFlagError(
        `--fail-launch ${value}: "${reason}" is not a launch failure reason; use GROUP or GROUP:REASON with REASON one of ${LAUNCH_FAILURE_REASONS.join(', ')}`,
      );
    }
    described.push({
      flag: '--fail-launch',
      value,
      fault: { kind: 'launchFailure', imageId, group, reason },
    });
  }
  for (const value of flags.alarm ?? []) {
    const match = /^(.*)@(\d+)$/.exec(value);
    const alarmName = match ? match[1]! : value;
    const atMinute = match ? Number(match[2]) : 0;
    if (/@/.test(value) && !match) {
      throw new FaultFlagError(
        `--alarm ${value}: the minute after @ must be a whole number of virtual minutes from the start (e.g. ${value.split('@')[0]}@10)`,
      );
    }
    if (!context.fleet.alarms.some((a) => a.name === alarmName)) {
      const declared = context.fleet.alarms.map((a) => a.name);
      throw new FaultFlagError(
        `--alarm ${value}: the fleet has no alarm "${alarmName}" (${declared.length > 0 ? `it has ${declared.join(', ')}` : 'it declares none'}); declare it under alarms in the fleet file`,
      );
    }
    described.push({ flag: '--alarm', value, fault: { kind: 'alarm', alarmName, atMinute, state: 'ALARM' } });
  }
  for (const value of flags.fault ?? []) {
    let fault: unknown;
    try {
      fault = JSON.parse(value);
    } catch (error) {
      throw new FaultFlagError(
        `--fault ${value}: not JSON (${error instanceof Error ? error.message : String(error)}); give one fault object, e.g. '{"kind":"appFailure","imageId":"${imageId}","group":"${groups[0] ?? 'web'}"}'`,
      );
    }
    const parsed = faultSchema.safeParse(fault, { reportInput: true, error: plainIssueMessage });
    if (!parsed.success) {
      throw new FaultFlagError(
        `--fault ${value}: not a valid fault (docs/local-account.md, Faults): ${parsed.error.issues.map(formatIssue).join('; ')}`,
      );
    }
    described.push({ flag: '--fault', value, fault: parsed.data });
  }

  // The fleet file's own rules for faults (groups and alarms it names exist), as for a fault written there.
  try {
    parseFleet({ ...context.fleet, faults: [...context.fleet.faults, ...described.map((d) => d.fault)] });
  } catch (error) {
    if (!(error instanceof FleetFileError)) throw error;
    const first = context.fleet.faults.length;
    for (const problem of error.problems) {
      const index = /^faults\[(\d+)\]/.exec(problem);
      const given = index ? described[Number(index[1]) - first] : undefined;
      if (given)
        throw new FaultFlagError(`${given.flag} ${given.value}: ${problem.replace(/^faults\[\d+\]\.?/, '')}`);
    }
    throw error;
  }
  return described.map((d) => faultSchema.parse(d.fault));
}
