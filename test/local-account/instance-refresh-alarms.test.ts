/**
 * AlarmSpecification of an instance refresh: the alarms must exist when the refresh starts, and an alarm in
 * ALARM while the refresh is InProgress or Baking fails it, or rolls it back with AutoRollback.
 *
 * The group has 4 instances on launch template version 1, a default instance warmup of 60 s; version 2 is the
 * desired configuration. With MinHealthyPercentage 50 two instances are replaced at a time, each batch taking
 * REPLACEMENT seconds, so the refresh replaces everything in 2 x REPLACEMENT after it turns InProgress.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
  type InstanceRefresh,
  type RefreshPreferences,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';
import { respondToAlarms } from '../../src/local-account/simulation/refresh-decisions.ts';
import { SIMULATION_TIMING } from '../../src/local-account/simulation/timing.ts';
import type { LaunchTemplate } from '../../src/local-account/state.ts';

const WARMUP = 60;
const START = SIMULATION_TIMING.refreshStartSeconds;
const REPLACEMENT = SIMULATION_TIMING.instanceLaunchSeconds + WARMUP;

let account: LocalAccount;
let autoScaling: AutoScalingClient;
let cloudWatch: CloudWatchClient;
let template: LaunchTemplate;
let oldImage: string;
let newImage: string;

const start = (preferences: RefreshPreferences) =>
  autoScaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' } },
      Preferences: { MinHealthyPercentage: 50, ...preferences },
    }),
  );

async function latest(): Promise<InstanceRefresh | undefined> {
  const { InstanceRefreshes = [] } = await autoScaling.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }),
  );
  return InstanceRefreshes[0];
}

const images = () =>
  account.state.autoScalingGroups
    .get('web')!
    .instanceIds.map((id) => account.state.instances.get(id)!)
    .filter((i) => i.lifecycleState === 'InService' || i.lifecycleState === 'Pending')
    .map((i) => i.imageId);

/** Alarms on App/Errors of the group, which the fleet reports as 0: they stay OK unless told otherwise. */
const putAlarm = (name: string) =>
  cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'App',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'web' }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );

/** The minute of the account at which the refresh, started now, is InProgress and half done. */
const minuteOfFirstBatchDone = () =>
  Math.ceil((account.now().getTime() - account.startTime.getTime()) / 60_000 + (START + REPLACEMENT) / 60);

beforeEach(async () => {
  account = createLocalAccount();
  const config = inProcessClientConfig(account);
  autoScaling = new AutoScalingClient(config);
  cloudWatch = new CloudWatchClient(config);
  oldImage = addImage(account, { name: 'web-1' }).imageId;
  newImage = addImage(account, { name: 'web-2' }).imageId;
  template = addLaunchTemplate(account, { name: 'web', imageId: oldImage });
  template.versions.set(2, {
    versionNumber: 2,
    createTime: account.now(),
    data: { ...template.versions.get(1)!.data, ImageId: newImage },
  });
  template.latestVersion = 2;
  await autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'web',
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
      MinSize: 1,
      MaxSize: 8,
      DesiredCapacity: 4,
      DefaultInstanceWarmup: WARMUP,
    }),
  );
  account.clock.runUntilIdle();
  await putAlarm('web-errors');
  await putAlarm('web-latency');
});

describe('respondToAlarms', () => {
  it('fails a refresh that is InProgress or Baking, and names the alarms', () => {
    expect(respondToAlarms('InProgress', ['a'])).toEqual({
      kind: 'fail',
      reason: 'Instance refresh failed: CloudWatch alarm a is in the ALARM state.',
    });
    expect(respondToAlarms('Baking', ['a', 'b'])).toMatchObject({
      reason: 'Instance refresh failed: CloudWatch alarms a, b are in the ALARM state.',
    });
  });

  it('carries on while Pending, rolling back or finished, and when no alarm is in ALARM', () => {
    for (const status of ['Pending', 'RollbackInProgress', 'Successful', 'Cancelling'] as const)
      expect(respondToAlarms(status, ['a'])).toEqual({ kind: 'carry-on' });
    expect(respondToAlarms('InProgress', [])).toEqual({ kind: 'carry-on' });
  });
});

describe('StartInstanceRefresh with an AlarmSpecification', () => {
  it('refuses alarms that do not exist, naming them, and starts nothing', async () => {
    const error = await start({ AlarmSpecification: { Alarms: ['web-errors', 'nope', 'gone'] } }).catch(
      (e: Error & { Code?: string }) => e,
    );
    expect(error).toMatchObject({
      Code: 'ValidationError',
      message: expect.stringContaining('do not exist: nope, gone') as unknown,
    });
    expect(await latest()).toBeUndefined();
    expect(images()).toEqual([oldImage, oldImage, oldImage, oldImage]);
  });

  it('succeeds while its alarms stay OK', async () => {
    await start({ AlarmSpecification: { Alarms: ['web-errors'] } });
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({ Status: 'Successful' });
    expect(images()).toEqual([newImage, newImage, newImage, newImage]);
  });
});

describe('an alarm in ALARM during the refresh', () => {
  it('fails the refresh InProgress, with the alarm in StatusReason, undoing nothing', async () => {
    // At minute 1 the first batch (2 instances) is launching: those stay, the other 2 keep the old image.
    const minute = 1;
    account.faults.add({ kind: 'alarm', alarmName: 'web-errors', atMinute: minute, state: 'ALARM' });
    await start({ AlarmSpecification: { Alarms: ['web-latency', 'web-errors'] } });
    account.clock.runUntilIdle();
    const refresh = await latest();
    expect(refresh).toMatchObject({
      Status: 'Failed',
      StatusReason: 'Instance refresh failed: CloudWatch alarm web-errors is in the ALARM state.',
      EndTime: new Date(account.startTime.getTime() + minute * 60_000),
    });
    expect(images().sort()).toEqual([oldImage, oldImage, newImage, newImage].sort());
  });

  it('rolls the refresh back with AutoRollback, the alarm being the rollback reason', async () => {
    const minute = minuteOfFirstBatchDone();
    account.faults.add({ kind: 'alarm', alarmName: 'web-errors', atMinute: minute, state: 'ALARM' });
    await start({ AutoRollback: true, AlarmSpecification: { Alarms: ['web-errors'] } });
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({
      Status: 'RollbackSuccessful',
      RollbackDetails: {
        RollbackReason: 'Instance refresh failed: CloudWatch alarm web-errors is in the ALARM state.',
        RollbackStartTime: new Date(account.startTime.getTime() + minute * 60_000),
      },
    });
    expect(images()).toEqual([oldImage, oldImage, oldImage, oldImage]);
  });

  it('fails the refresh while Baking', async () => {
    const bakeStarts = (START + 2 * REPLACEMENT) / 60;
    const minute = Math.ceil(bakeStarts) + 1;
    account.faults.add({ kind: 'alarm', alarmName: 'web-errors', atMinute: minute, state: 'ALARM' });
    await start({ BakeTime: 600, AlarmSpecification: { Alarms: ['web-errors'] } });
    account.clock.advanceTo(account.startTime.getTime() + (minute - 1) * 60_000);
    expect((await latest())?.Status).toBe('Baking');
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({
      Status: 'Failed',
      StatusReason: 'Instance refresh failed: CloudWatch alarm web-errors is in the ALARM state.',
    });
  });

  it('fails the refresh when SetAlarmState puts the alarm in ALARM, even though the next evaluation clears it', async () => {
    await start({ AlarmSpecification: { Alarms: ['web-errors'] } });
    account.advance(START + 5);
    expect((await latest())?.Status).toBe('InProgress');
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: 'web-errors',
        StateValue: 'ALARM',
        StateReason: 'rollback drill',
      }),
    );
    expect(await latest()).toMatchObject({ Status: 'Failed', EndTime: account.now() });
  });

  it('fails the refresh as it turns InProgress when an alarm is already in ALARM', async () => {
    account.faults.add({ kind: 'alarm', alarmName: 'web-errors', atMinute: 0, state: 'ALARM' });
    await start({ AlarmSpecification: { Alarms: ['web-errors'] } });
    expect((await latest())?.Status).toBe('Pending');
    account.advance(START);
    expect(await latest()).toMatchObject({ Status: 'Failed', PercentageComplete: 0 });
    expect(images()).toEqual([oldImage, oldImage, oldImage, oldImage]);
  });

  it('does not watch alarms the refresh does not name, nor alarms after the refresh ended', async () => {
    await start({ AlarmSpecification: { Alarms: ['web-errors'] } });
    account.advance(START + 5);
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: 'web-latency', StateValue: 'ALARM', StateReason: 'x' }),
    );
    account.clock.runUntilIdle();
    expect((await latest())?.Status).toBe('Successful');
    await cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: 'web-errors', StateValue: 'ALARM', StateReason: 'x' }),
    );
    expect((await latest())?.Status).toBe('Successful');
  });
});

describe('the appFailure fault and the App/Errors alarm', () => {
  const alarmState = async (name: string) => {
    const { MetricAlarms = [] } = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    return MetricAlarms[0];
  };
  const newInstances = () =>
    account.state.autoScalingGroups
      .get('web')!
      .instanceIds.map((id) => account.state.instances.get(id)!)
      .filter((i) => i.imageId === newImage);

  it('passes EC2 health checks, so a refresh without alarms succeeds, while the alarm on App/Errors goes to ALARM', async () => {
    account.faults.add({ kind: 'appFailure', imageId: newImage, group: 'web' });
    await start({});
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({ Status: 'Successful' });
    expect(newInstances().map((i) => [i.lifecycleState, i.healthStatus])).toEqual(
      Array.from({ length: 4 }, () => ['InService', 'Healthy']),
    );
    // The metric counts the failing instances once a minute; a minute later the alarm has evaluated it.
    account.advance(120);
    expect(await alarmState('web-errors')).toMatchObject({ StateValue: 'ALARM' });
  });

  it('fails a refresh whose AlarmSpecification names that alarm, though every new instance is healthy', async () => {
    account.faults.add({ kind: 'appFailure', imageId: newImage, group: 'web' });
    await start({ AlarmSpecification: { Alarms: ['web-errors'] } });
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({
      Status: 'Failed',
      StatusReason: 'Instance refresh failed: CloudWatch alarm web-errors is in the ALARM state.',
    });
    expect(await alarmState('web-errors')).toMatchObject({ StateValue: 'ALARM' });
    expect(account.faults.list().some((f) => f.kind === 'alarm')).toBe(false);
    expect(newInstances().length).toBeGreaterThan(0);
    expect(newInstances().every((i) => i.healthStatus === 'Healthy')).toBe(true);
    expect(images()).toContain(oldImage);
  });

  it('leaves the alarm OK and the refresh Successful when the failing image is in another group', async () => {
    account.faults.add({ kind: 'appFailure', imageId: newImage, group: 'api' });
    await start({ AlarmSpecification: { Alarms: ['web-errors'] } });
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({ Status: 'Successful' });
    account.advance(120);
    expect(await alarmState('web-errors')).toMatchObject({ StateValue: 'OK' });
  });
});
