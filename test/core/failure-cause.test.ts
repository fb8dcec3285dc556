import { describe, expect, it } from 'vitest';
import { classifyFailureCause } from '../../src/core/failure-cause.ts';

// The reasons below are the texts the local account emits (src/local-account/simulation/instance-refresh.ts,
// refresh-decisions.ts, instance-lifecycle.ts), as a refresh record carries them.
const launchReason =
  'Instance refresh failed: Instance refresh could not launch a new instance from web version 2 ' +
  "(ami-0a1b2c3d4e5f60002): InvalidAMIID.NotFound: The image id '[ami-0a1b2c3d4e5f60002]' does not exist. " +
  'It could not make progress for 60 minutes.';

describe('classifyFailureCause', () => {
  it('reads a failed launch (InvalidAMIID) as "launch failed"', () => {
    const cause = classifyFailureCause({ status: 'RollbackSuccessful', statusReason: launchReason });
    expect(cause).toEqual({ kind: 'launch-failed', summary: `launch failed: ${launchReason}` });
  });

  it.each([
    [
      'KMS',
      'Instance refresh failed: Instance refresh could not launch a new instance from web version 2 (ami-1): Client.InvalidKMSKey.InvalidState: Instance became unhealthy while waiting for instance to be in InService state. Termination Reason: Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state',
    ],
    [
      'capacity',
      'Instance refresh failed: Instance refresh could not launch a new instance from web version 2 (ami-1): InsufficientInstanceCapacity: We currently do not have sufficient capacity in the Availability Zone you requested.',
    ],
  ])('reads a %s launch failure as "launch failed", not as unhealthy instances', (_what, statusReason) => {
    expect(classifyFailureCause({ statusReason }).kind).toBe('launch-failed');
  });

  it('names the alarm in ALARM', () => {
    const statusReason = 'Instance refresh failed: CloudWatch alarm api-5xx is in the ALARM state.';
    expect(classifyFailureCause({ status: 'Failed', statusReason })).toEqual({
      kind: 'alarm',
      summary: `alarm api-5xx in ALARM: ${statusReason}`,
    });
    expect(
      classifyFailureCause({
        statusReason: 'Instance refresh failed: CloudWatch alarms a, b are in the ALARM state.',
      }).summary,
    ).toMatch(/^alarm a, b in ALARM: /);
  });

  it('reads failing health checks as "instances unhealthy"', () => {
    const statusReason =
      'Instance refresh failed: New instance i-1 (web version 2, ami-1) failed its health checks. It could not make progress for 60 minutes.';
    expect(classifyFailureCause({ statusReason }).summary).toBe(`instances unhealthy: ${statusReason}`);
  });

  it('adds the failed scaling activity when the reason does not say what EC2 answered', () => {
    const activityMessage = "The image id '[ami-1]' does not exist.";
    expect(
      classifyFailureCause({
        status: 'Failed',
        statusReason: 'The instance refresh failed.',
        activityMessage,
      }),
    ).toEqual({
      kind: 'launch-failed',
      summary: `launch failed: The instance refresh failed. (${activityMessage})`,
    });
  });

  it('tells a timeout, a cancel, instances left behind and an unknown reason apart', () => {
    expect(
      classifyFailureCause({
        timedOut: true,
        statusReason: 'still InProgress after refreshTimeoutMinutes (120 min), cancelled',
      }).kind,
    ).toBe('timed-out');
    expect(
      classifyFailureCause({
        status: 'Cancelled',
        statusReason: 'The instance refresh was cancelled by user request.',
      }).kind,
    ).toBe('cancelled');
    expect(
      classifyFailureCause({
        statusReason:
          'instance refresh Successful, but group web has 1 of 4 InService instances not on lt-1 version 2: i-1 (lt-1 version 1)',
      }).kind,
    ).toBe('instances-left-behind');
    expect(classifyFailureCause({ status: 'Failed', statusReason: 'Something new' })).toEqual({
      kind: 'unknown',
      summary: 'refresh failed: Something new',
    });
    expect(classifyFailureCause({ status: 'Failed' }).summary).toBe('refresh failed: (no reason given)');
  });
});
