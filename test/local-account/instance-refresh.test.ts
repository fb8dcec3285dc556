/**
 * Instance refreshes in the local account, read as a specification of what AWS does: through the SDK v3 client,
 * advancing virtual time and watching DescribeInstanceRefreshes move through all ten statuses.
 *
 * The group below has 4 instances on launch template version 1 (image `oldImage`), a default instance warmup of
 * 60 s, and version 2 (image `newImage`) is the desired configuration. With the simulation's timing a replacement
 * counts `REPLACEMENT` seconds after its batch starts: launch time, then warmup.
 */
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  RollbackInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
  type InstanceRefresh,
  type RefreshPreferences,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';
import {
  decideNextStep,
  percentageCompleteDuringRollback,
  planBatch,
  REFRESH_RETRY_SECONDS,
  type RefreshProgress,
} from '../../src/local-account/simulation/refresh-decisions.ts';
import { SIMULATION_TIMING } from '../../src/local-account/simulation/timing.ts';
import type { Instance, LaunchTemplate } from '../../src/local-account/state.ts';

const WARMUP = 60;
const START = SIMULATION_TIMING.refreshStartSeconds;
const REPLACEMENT = SIMULATION_TIMING.instanceLaunchSeconds + WARMUP;

let account: LocalAccount;
let autoScaling: AutoScalingClient;
let template: LaunchTemplate;
let oldImage: string;
let newImage: string;

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { Code?: string };
    return { code: e.Code ?? e.name, message: e.message };
  }
  throw new Error('expected the call to fail');
}

async function createGroup(name = 'web', version = '1', extra: { HealthCheckGracePeriod?: number } = {}) {
  await autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: version },
      MinSize: 1,
      MaxSize: 8,
      DesiredCapacity: 4,
      ...(extra.HealthCheckGracePeriod === undefined
        ? { DefaultInstanceWarmup: WARMUP }
        : { HealthCheckGracePeriod: extra.HealthCheckGracePeriod }),
    }),
  );
  account.clock.runUntilIdle();
}

const start = (
  preferences: RefreshPreferences = {},
  overrides: Partial<StartInstanceRefreshCommandInput> = {},
) =>
  autoScaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: 'web',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' } },
      Preferences: preferences,
      ...overrides,
    }),
  );

async function latest(group = 'web'): Promise<InstanceRefresh> {
  const { InstanceRefreshes = [] } = await autoScaling.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group }),
  );
  return InstanceRefreshes[0]!;
}

/** The group's live instances (Pending or InService), as EC2 sees them. */
function liveInstances(group = 'web'): Instance[] {
  return account.state.autoScalingGroups
    .get(group)!
    .instanceIds.map((id) => account.state.instances.get(id)!)
    .filter((i) => i.lifecycleState === 'Pending' || i.lifecycleState === 'InService');
}

const versions = (group = 'web') => liveInstances(group).map((i) => i.launchTemplate?.version);

async function groupVersion(group = 'web'): Promise<string | undefined> {
  const { AutoScalingGroups = [] } = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
  );
  return AutoScalingGroups[0]?.LaunchTemplate?.Version;
}

beforeEach(async () => {
  account = createLocalAccount();
  autoScaling = new AutoScalingClient(inProcessClientConfig(account));
  oldImage = addImage(account, { name: 'web-1' }).imageId;
  newImage = addImage(account, { name: 'web-2' }).imageId;
  template = addLaunchTemplate(account, { name: 'web', imageId: oldImage });
  template.versions.set(2, {
    versionNumber: 2,
    createTime: account.now(),
    data: { ...template.versions.get(1)!.data, ImageId: newImage },
  });
  template.latestVersion = 2;
  await createGroup();
});

describe('refresh decisions', () => {
  it('replaces one instance at a time with the defaults (Min 90%, Max 100%) on 10 instances', () => {
    expect(planBatch(10, 90, 100)).toEqual({ launchBeforeTerminate: 0, terminateThenLaunch: 1 });
  });

  it('terminates first below capacity and launches first above it', () => {
    expect(planBatch(4, 50, 100)).toEqual({ launchBeforeTerminate: 0, terminateThenLaunch: 2 });
    expect(planBatch(10, 100, 110)).toEqual({ launchBeforeTerminate: 1, terminateThenLaunch: 0 });
    expect(planBatch(10, 90, 110)).toEqual({ launchBeforeTerminate: 1, terminateThenLaunch: 1 });
  });

  it('still replaces one at a time when Min and Max are both 100%', () => {
    expect(planBatch(10, 100, 100)).toEqual({ launchBeforeTerminate: 0, terminateThenLaunch: 1 });
  });

  const progress: RefreshProgress = {
    mode: 'forward',
    capacity: 10,
    total: 10,
    replaced: 0,
    inFlight: 0,
    remaining: 10,
    minHealthyPercentage: 0,
    maxHealthyPercentage: 100,
    checkpointPercentages: [20, 100],
    checkpointsPassed: 0,
    checkpointDelaySeconds: 3600,
    bakeTimeSeconds: 0,
  };

  it('paces a batch so that it never overshoots the next checkpoint', () => {
    expect(decideNextStep(progress)).toEqual({
      kind: 'replace',
      launchBeforeTerminate: 0,
      terminateThenLaunch: 2,
    });
  });

  it('pauses at a checkpoint once enough instances are new, but never at 100%', () => {
    expect(decideNextStep({ ...progress, replaced: 2, remaining: 8 })).toEqual({
      kind: 'checkpoint',
      index: 0,
      percentage: 20,
      delaySeconds: 3600,
    });
    expect(decideNextStep({ ...progress, replaced: 10, remaining: 0, checkpointsPassed: 1 })).toEqual({
      kind: 'complete',
    });
  });

  it('waits while a batch is in flight, and bakes before completing', () => {
    expect(decideNextStep({ ...progress, inFlight: 2 })).toEqual({ kind: 'wait-for-batch' });
    expect(decideNextStep({ ...progress, replaced: 10, remaining: 0, bakeTimeSeconds: 60 })).toEqual({
      kind: 'bake',
      seconds: 60,
    });
  });

  it('lets PercentageComplete fall back to 0 as a rollback reverts instances', () => {
    expect(percentageCompleteDuringRollback(60, 0, 3)).toBe(60);
    expect(percentageCompleteDuringRollback(60, 1, 3)).toBe(40);
    expect(percentageCompleteDuringRollback(60, 3, 3)).toBe(0);
  });
});

describe('StartInstanceRefresh', () => {
  it('starts Pending and turns InProgress shortly after', async () => {
    const { InstanceRefreshId } = await start();
    expect(await latest()).toMatchObject({ InstanceRefreshId, Status: 'Pending', PercentageComplete: 0 });
    account.advance(START);
    expect((await latest()).Status).toBe('InProgress');
  });

  it('replaces instances batch by batch; PercentageComplete and InstancesToUpdate move; then Successful', async () => {
    await start({ MinHealthyPercentage: 50 });
    expect((await latest()).InstancesToUpdate).toBe(4);
    account.advance(START + REPLACEMENT - 1);
    expect(await latest()).toMatchObject({
      Status: 'InProgress',
      PercentageComplete: 0,
      InstancesToUpdate: 4,
    });
    account.advance(1);
    expect(await latest()).toMatchObject({
      Status: 'InProgress',
      PercentageComplete: 50,
      InstancesToUpdate: 2,
    });
    account.advance(REPLACEMENT);
    const done = await latest();
    expect(done).toMatchObject({
      Status: 'Successful',
      PercentageComplete: 100,
      InstancesToUpdate: 0,
      ProgressDetails: { LivePoolProgress: { PercentageComplete: 100, InstancesToUpdate: 0 } },
    });
    expect(done.EndTime).toEqual(account.now());
    expect(await groupVersion()).toBe('2');
    expect(versions()).toEqual(['2', '2', '2', '2']);
    expect(liveInstances().every((i) => i.imageId === newImage)).toBe(true);
  });

  it('uses the AWS defaults: Min 90% (one instance at a time), warmup = DefaultInstanceWarmup', async () => {
    await start();
    expect((await latest()).Preferences).toMatchObject({
      MinHealthyPercentage: 90,
      SkipMatching: false,
      AutoRollback: false,
      ScaleInProtectedInstances: 'Wait',
      StandbyInstances: 'Wait',
    });
    account.advance(START + REPLACEMENT);
    expect((await latest()).PercentageComplete).toBe(25);
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('Successful');
  });

  it('warms up for the health check grace period when the group has no default instance warmup', async () => {
    await createGroup('api', '1', { HealthCheckGracePeriod: 120 });
    await start({}, { AutoScalingGroupName: 'api' });
    account.advance(START + SIMULATION_TIMING.instanceLaunchSeconds + 119);
    expect((await latest('api')).PercentageComplete).toBe(0);
    account.advance(1);
    expect((await latest('api')).PercentageComplete).toBe(25);
  });

  it('launches before terminating when MaxHealthyPercentage leaves room above capacity', async () => {
    await start({ MinHealthyPercentage: 100, MaxHealthyPercentage: 200 });
    account.advance(START);
    expect(liveInstances()).toHaveLength(8);
    expect(versions().filter((v) => v === '1')).toHaveLength(4);
    account.advance(REPLACEMENT);
    expect(await latest()).toMatchObject({ Status: 'Successful', PercentageComplete: 100 });
    account.advance(SIMULATION_TIMING.instanceTerminateSeconds);
    expect(versions()).toEqual(['2', '2', '2', '2']);
  });

  it('with SkipMatching leaves instances already on the desired version alone and does not count them', async () => {
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web',
        LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' },
        DesiredCapacity: 6,
      }),
    );
    account.clock.runUntilIdle();
    const onVersion2 = liveInstances()
      .filter((i) => i.launchTemplate?.version === '2')
      .map((i) => i.instanceId);
    await start({ SkipMatching: true, MinHealthyPercentage: 50 });
    expect((await latest()).InstancesToUpdate).toBe(4);
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({ Status: 'Successful', PercentageComplete: 100 });
    expect(liveInstances().map((i) => i.instanceId)).toEqual(expect.arrayContaining(onVersion2));
  });

  it('pauses at each checkpoint for CheckpointDelay, staying InProgress with a reason', async () => {
    await start({ MinHealthyPercentage: 50, CheckpointPercentages: [50, 100], CheckpointDelay: 600 });
    account.advance(START + REPLACEMENT);
    const paused = await latest();
    expect(paused).toMatchObject({ Status: 'InProgress', PercentageComplete: 50 });
    expect(paused.StatusReason).toMatch(/checkpoint 1 of 2 \(50%\)/);
    account.advance(599);
    expect((await latest()).PercentageComplete).toBe(50);
    expect(versions().filter((v) => v === '1')).toHaveLength(2);
    account.advance(1 + REPLACEMENT);
    expect(await latest()).toMatchObject({ Status: 'Successful', PercentageComplete: 100 });
  });

  it('defaults CheckpointDelay to one hour', async () => {
    await start({ MinHealthyPercentage: 50, CheckpointPercentages: [50, 100] });
    expect((await latest()).Preferences?.CheckpointDelay).toBe(3600);
  });

  it('is Baking for BakeTime after the last replacement, then Successful', async () => {
    await start({ MinHealthyPercentage: 0, BakeTime: 300 });
    account.advance(START + REPLACEMENT);
    expect(await latest()).toMatchObject({ Status: 'Baking', PercentageComplete: 100 });
    expect(await groupVersion()).toBe('1');
    account.advance(300);
    expect((await latest()).Status).toBe('Successful');
    expect(await groupVersion()).toBe('2');
  });

  it('without a desired configuration replaces every instance from the group its own template', async () => {
    await start({ MinHealthyPercentage: 0 }, { DesiredConfiguration: undefined });
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('Successful');
    expect(versions()).toEqual(['1', '1', '1', '1']);
    expect(liveInstances().every((i) => i.launchTime.getTime() > 0 && i.imageId === oldImage)).toBe(true);
  });

  it('fails with InstanceRefreshInProgress while another refresh is active', async () => {
    await start();
    expect((await failure(start())).code).toBe('InstanceRefreshInProgress');
  });

  it('fails with ValidationError for an unknown group', async () => {
    expect((await failure(start({}, { AutoScalingGroupName: 'nope' }))).code).toBe('ValidationError');
  });

  it.each<[string, RefreshPreferences, RegExp]>([
    [
      'MaxHealthyPercentage without MinHealthyPercentage',
      { MaxHealthyPercentage: 150 },
      /requires MinHealthy/,
    ],
    [
      'Max - Min above 100',
      { MinHealthyPercentage: 50, MaxHealthyPercentage: 200 },
      /cannot be greater than 100/,
    ],
    ['MinHealthyPercentage above 100', { MinHealthyPercentage: 101 }, /between 0 and 100/],
    ['checkpoints out of order', { CheckpointPercentages: [50, 20, 100] }, /ascending order/],
    ['CheckpointDelay without checkpoints', { CheckpointDelay: 60 }, /requires CheckpointPercentages/],
    [
      'more than 10 alarms',
      { AlarmSpecification: { Alarms: Array.from({ length: 11 }, (_, i) => `a${i}`) } },
      /10/,
    ],
  ])('fails with ValidationError for %s, and starts nothing', async (_case, preferences, message) => {
    const result = await failure(start(preferences));
    expect(result.code).toBe('ValidationError');
    expect(result.message).toMatch(message);
    expect(account.state.instanceRefreshes.get('web')).toBeUndefined();
  });

  it('accepts an AlarmSpecification of existing alarms and echoes it', async () => {
    // Unknown alarms are refused: test/local-account/instance-refresh-alarms.test.ts.
    await new CloudWatchClient(inProcessClientConfig(account)).send(
      new PutMetricAlarmCommand({
        AlarmName: 'web-5xx',
        Namespace: 'App',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
    await start({ AlarmSpecification: { Alarms: ['web-5xx'] } });
    expect((await latest()).Preferences?.AlarmSpecification).toEqual({ Alarms: ['web-5xx'] });
  });

  it('refuses the ReplaceRootVolume strategy (it needs a mixed instances policy, which is not modelled)', async () => {
    expect((await failure(start({}, { Strategy: 'ReplaceRootVolume' }))).code).toBe('ValidationError');
  });

  it('refuses AutoRollback without a desired configuration, with AWS message', async () => {
    const result = await failure(start({ AutoRollback: true }, { DesiredConfiguration: undefined }));
    expect(result).toEqual({
      code: 'ValidationError',
      message:
        "The request isn't valid. The AutoRollback parameter cannot be set to true when the DesiredConfiguration " +
        'parameter is empty. Set AutoRollback to false or specify a desired configuration and try again.',
    });
  });

  // The API reference restricts the group's version only; botocore's own StartInstanceRefresh example sends
  // AutoRollback with a desired version of $Latest.
  it('accepts AutoRollback when the desired configuration uses $Latest, and rolls back to the numbered version', async () => {
    await start(
      { AutoRollback: true, MinHealthyPercentage: 50 },
      {
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '$Latest' },
        },
      },
    );
    account.advance(START + REPLACEMENT);
    await autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('RollbackSuccessful');
    expect(await groupVersion()).toBe('1');
    expect(versions()).toEqual(['1', '1', '1', '1']);
  });

  // AWS: "The rollback option is not available if the Auto Scaling group is configured to use the $Latest or
  // $Default launch template version" (user guide, instance-refresh-rollback), even with a numbered desired version.
  it('refuses AutoRollback on a group that uses $Latest or $Default, even towards a numbered version', async () => {
    for (const Version of ['$Latest', '$Default']) {
      const name = `on-${Version.slice(1).toLowerCase()}`;
      await createGroup(name, Version);
      const result = await failure(start({ AutoRollback: true }, { AutoScalingGroupName: name }));
      expect(result.code).toBe('ValidationError');
      expect(result.message).toMatch(
        /^The request isn't valid\. The AutoRollback parameter cannot be set to true/,
      );
      expect(result.message).toContain(`Auto Scaling group uses the launch template version ${Version}`);
      expect(account.state.instanceRefreshes.get(name)).toBeUndefined();
      // Without AutoRollback the same refresh starts.
      await start({}, { AutoScalingGroupName: name });
      expect((await latest(name)).Status).toBe('Pending');
    }
  });

  it("refuses AutoRollback when the group's launch template takes its ImageId from Parameter Store", async () => {
    account.state.parameters.set('/web/ami', {
      name: '/web/ami',
      versions: [
        {
          version: 1,
          value: oldImage,
          type: 'String',
          dataType: 'aws:ec2:image',
          lastModifiedDate: account.now(),
          labels: [],
        },
      ],
    });
    template.versions.set(3, {
      versionNumber: 3,
      createTime: account.now(),
      data: { ...template.versions.get(1)!.data, ImageId: 'resolve:ssm:/web/ami' },
    });
    template.latestVersion = 3;
    await createGroup('from-ssm', '3');
    const result = await failure(start({ AutoRollback: true }, { AutoScalingGroupName: 'from-ssm' }));
    expect(result.code).toBe('ValidationError');
    expect(result.message).toContain('resolve:ssm:/web/ami');
  });
});

describe('when new instances fail their health checks', () => {
  beforeEach(() => {
    account.faults.add({ kind: 'unhealthyInstances', imageId: newImage, group: 'web' });
  });

  /** The first failed EC2 status check of a replacement, a minute after it is running (grace period 0). */
  const FIRST_FAILURE =
    START + SIMULATION_TIMING.instanceLaunchSeconds + SIMULATION_TIMING.ec2StatusCheckSeconds;

  it('keeps replacing the failing instances for an hour, then Failed; the group stays on its old version', async () => {
    await start({ MinHealthyPercentage: 50 });
    account.advance(FIRST_FAILURE);
    const retrying = await latest();
    expect(retrying.Status).toBe('InProgress');
    expect(retrying.StatusReason).toMatch(
      /failed its health checks\. Amazon EC2 Auto Scaling keeps retrying/,
    );
    const firstBatch = liveInstances().filter((i) => i.imageId === newImage);
    account.advance(REFRESH_RETRY_SECONDS - 1);
    expect((await latest()).Status).toBe('InProgress');
    // The failing instances were terminated and launched again, many times over.
    const launched = [...account.state.instances.values()].filter((i) => i.imageId === newImage);
    expect(launched.length).toBeGreaterThan(20);
    expect(firstBatch.every((i) => i.lifecycleState !== 'InService')).toBe(true);
    account.advance(1);
    const failed = await latest();
    expect(failed.Status).toBe('Failed');
    expect(failed.StatusReason).toMatch(
      /failed its health checks\. It could not make progress for 60 minutes/,
    );
    expect(failed.StatusReason).toContain(newImage);
    expect(failed.EndTime).toEqual(new Date(account.now()));
    expect(await groupVersion()).toBe('1');
    account.clock.runUntilIdle();
    expect(versions()).toEqual(['1', '1', '1', '1']);
    expect(liveInstances().every((i) => i.healthStatus === 'Healthy')).toBe(true);
  });

  it('with AutoRollback rolls back after the hour (RollbackInProgress, RollbackDetails), then RollbackSuccessful', async () => {
    await start({ MinHealthyPercentage: 50, AutoRollback: true });
    account.advance(FIRST_FAILURE + REFRESH_RETRY_SECONDS);
    const rolling = await latest();
    expect(rolling.Status).toBe('RollbackInProgress');
    // InstancesToUpdateOnRollback is InstancesToUpdate when the rollback started: nothing was updated yet.
    expect(rolling.RollbackDetails).toMatchObject({
      PercentageCompleteOnRollback: 0,
      InstancesToUpdateOnRollback: 4,
      RollbackStartTime: account.now(),
    });
    expect(rolling.RollbackDetails?.RollbackReason).toMatch(/failed its health checks/);
    account.clock.runUntilIdle();
    expect(await latest()).toMatchObject({ Status: 'RollbackSuccessful', PercentageComplete: 0 });
    expect(await groupVersion()).toBe('1');
    expect(versions()).toEqual(['1', '1', '1', '1']);
  });

  it('RollbackFailed when the rollback cannot bring the previous configuration back', async () => {
    account.faults.add({ kind: 'failRollback', group: 'web' });
    await start({ MinHealthyPercentage: 50, AutoRollback: true });
    account.clock.runUntilIdle();
    const refresh = await latest();
    expect(refresh.Status).toBe('RollbackFailed');
    expect(refresh.StatusReason).toMatch(/^Rollback failed/);
    expect(refresh.RollbackDetails).toBeDefined();
  });

  it('starts the hour again when a replacement gets through in between', async () => {
    const [fault] = account.faults.list();
    await start({ MinHealthyPercentage: 50, CheckpointPercentages: [50, 100], CheckpointDelay: 600 });
    account.advance(FIRST_FAILURE + 50 * 60);
    expect((await latest()).Status).toBe('InProgress');
    // The image recovers for a while: the next relaunches pass, and the first batch gets through.
    account.faults.remove(fault!.id);
    account.advance(3 * REPLACEMENT);
    expect((await latest()).PercentageComplete).toBe(50);
    expect((await latest()).StatusReason).toMatch(/^Waiting at checkpoint 1 of 2/);
    // It breaks again before the second batch launches, after the checkpoint.
    account.faults.add({ kind: 'unhealthyInstances', imageId: newImage, group: 'web' });
    account.advance(600);
    // Well past an hour since the first failure, but not since the refresh got stuck again.
    account.advance(30 * 60);
    expect((await latest()).Status).toBe('InProgress');
    account.advance(REFRESH_RETRY_SECONDS);
    expect((await latest()).Status).toBe('Failed');
  });
});

describe('AutoRollback after some instances were replaced', () => {
  it('PercentageComplete falls from its value at the rollback back to 0', async () => {
    await start({ MinHealthyPercentage: 50, AutoRollback: true });
    account.advance(START + REPLACEMENT - 1);
    // The image turns out bad for the next batch, which launches as the first one finishes.
    account.faults.add({ kind: 'unhealthyInstances', imageId: newImage });
    account.advance(1);
    expect((await latest()).PercentageComplete).toBe(50);
    account.advance(
      SIMULATION_TIMING.instanceLaunchSeconds +
        SIMULATION_TIMING.ec2StatusCheckSeconds +
        REFRESH_RETRY_SECONDS,
    );
    const rolling = await latest();
    expect(rolling.Status).toBe('RollbackInProgress');
    expect(rolling.RollbackDetails).toMatchObject({
      PercentageCompleteOnRollback: 50,
      InstancesToUpdateOnRollback: 2,
    });
    const seen: number[] = [];
    while ((await latest()).Status === 'RollbackInProgress') {
      seen.push((await latest()).PercentageComplete!);
      // The two instances the refresh had not updated need no rollback, and InstancesToUpdate keeps saying so.
      expect((await latest()).InstancesToUpdate).toBe(2);
      account.advance(10);
    }
    expect(seen[0]).toBe(50);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(seen).toContain(25);
    expect(await latest()).toMatchObject({
      Status: 'RollbackSuccessful',
      PercentageComplete: 0,
      InstancesToUpdate: 2,
    });
    expect(versions()).toEqual(['1', '1', '1', '1']);
  });
});

describe('RollbackInstanceRefresh', () => {
  it('rolls a running refresh back to the previous numbered version', async () => {
    const { InstanceRefreshId } = await start({ MinHealthyPercentage: 50 });
    account.advance(START + REPLACEMENT);
    const answer = await autoScaling.send(
      new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }),
    );
    expect(answer.InstanceRefreshId).toBe(InstanceRefreshId);
    const rolling = await latest();
    expect(rolling).toMatchObject({ Status: 'RollbackInProgress', PercentageComplete: 50 });
    expect(rolling.RollbackDetails?.RollbackReason).toMatch(/user request/);
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('RollbackSuccessful');
    expect(versions()).toEqual(['1', '1', '1', '1']);
    expect(liveInstances().every((i) => i.imageId === oldImage)).toBe(true);
  });

  it('can roll back while Baking', async () => {
    await start({ MinHealthyPercentage: 0, BakeTime: 600 });
    account.advance(START + REPLACEMENT);
    expect((await latest()).Status).toBe('Baking');
    await autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('RollbackSuccessful');
    expect(await groupVersion()).toBe('1');
  });

  it('fails with IrreversibleInstanceRefresh when the group was on $Default', async () => {
    await createGroup('api', '$Default');
    await start({}, { AutoScalingGroupName: 'api' });
    const result = await failure(
      autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'api' })),
    );
    expect(result.code).toBe('IrreversibleInstanceRefresh');
    expect(result.message).toContain('$Default');
  });

  it('fails with IrreversibleInstanceRefresh when the refresh has no desired configuration', async () => {
    await start({}, { DesiredConfiguration: undefined });
    expect(
      (await failure(autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }))))
        .code,
    ).toBe('IrreversibleInstanceRefresh');
  });

  it('fails with ActiveInstanceRefreshNotFound once the refresh has finished', async () => {
    await start();
    account.clock.runUntilIdle();
    expect(
      (await failure(autoScaling.send(new RollbackInstanceRefreshCommand({ AutoScalingGroupName: 'web' }))))
        .code,
    ).toBe('ActiveInstanceRefreshNotFound');
  });
});

describe('CancelInstanceRefresh', () => {
  it('stops replacing (Cancelling, then Cancelled) and undoes nothing', async () => {
    const { InstanceRefreshId } = await start({ MinHealthyPercentage: 50 });
    account.advance(START + REPLACEMENT);
    const answer = await autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    expect(answer.InstanceRefreshId).toBe(InstanceRefreshId);
    expect((await latest()).Status).toBe('Cancelling');
    account.advance(SIMULATION_TIMING.refreshCancelSeconds);
    const cancelled = await latest();
    expect(cancelled.Status).toBe('Cancelled');
    expect(cancelled.EndTime).toBeDefined();
    account.clock.runUntilIdle();
    expect(await groupVersion()).toBe('1');
    expect(liveInstances()).toHaveLength(4);
    expect(versions().filter((v) => v === '2').length).toBeGreaterThanOrEqual(2);
  });

  it('lets a new refresh start once Cancelled, not while Cancelling', async () => {
    await start();
    await autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    expect((await failure(start())).code).toBe('InstanceRefreshInProgress');
    account.advance(SIMULATION_TIMING.refreshCancelSeconds);
    await start();
    expect((await latest()).Status).toBe('Pending');
  });

  it('fails with ActiveInstanceRefreshNotFound when no refresh is running', async () => {
    const result = await failure(
      autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' })),
    );
    expect(result.code).toBe('ActiveInstanceRefreshNotFound');
  });

  it('fails with ValidationError for an unknown group', async () => {
    const result = await failure(
      autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'no' })),
    );
    expect(result.code).toBe('ValidationError');
  });
});

describe('refresh faults', () => {
  it('cancelRefresh: an operator cancels once PercentageComplete reaches the percentage', async () => {
    account.faults.add({ kind: 'cancelRefresh', group: 'web', atPercentage: 50 });
    await start({ MinHealthyPercentage: 50 });
    account.advance(START + REPLACEMENT);
    expect(await latest()).toMatchObject({ Status: 'Cancelling', PercentageComplete: 50 });
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('Cancelled');
    expect(versions().sort()).toEqual(['1', '1', '2', '2']);
  });

  it('stallRefresh: the refresh stays InProgress without progress until it is cancelled', async () => {
    account.faults.add({ kind: 'stallRefresh', group: 'web' });
    await start();
    account.advance(24 * 3600);
    expect(await latest()).toMatchObject({
      Status: 'InProgress',
      PercentageComplete: 0,
      InstancesToUpdate: 4,
    });
    await autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('Cancelled');
  });
});

describe('DescribeInstanceRefreshes', () => {
  it('lists refreshes newest first and filters by InstanceRefreshIds', async () => {
    const first = await start({ MinHealthyPercentage: 0 });
    account.clock.runUntilIdle();
    const second = await start({ MinHealthyPercentage: 0 }, { DesiredConfiguration: undefined });
    const all = await autoScaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }));
    expect(all.InstanceRefreshes!.map((r) => r.InstanceRefreshId)).toEqual([
      second.InstanceRefreshId,
      first.InstanceRefreshId,
    ]);
    const one = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({
        AutoScalingGroupName: 'web',
        InstanceRefreshIds: [first.InstanceRefreshId!],
      }),
    );
    expect(one.InstanceRefreshes).toHaveLength(1);
    expect(one.InstanceRefreshes![0]).toMatchObject({
      Status: 'Successful',
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' } },
    });
  });

  it('pages with MaxRecords (at most 100)', async () => {
    await start();
    const page = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web', MaxRecords: 1 }),
    );
    expect(page.InstanceRefreshes).toHaveLength(1);
    const tooMany = await failure(
      autoScaling.send(
        new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web', MaxRecords: 101 }),
      ),
    );
    expect(tooMany.code).toBe('ValidationError');
  });
});

describe('scale', () => {
  it('refreshes 100 groups of 10 instances to Successful, leaving nothing scheduled', async () => {
    for (let g = 0; g < 100; g++) {
      await autoScaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: `g${g}`,
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
          MinSize: 10,
          MaxSize: 20,
          DesiredCapacity: 10,
          DefaultInstanceWarmup: WARMUP,
        }),
      );
    }
    account.clock.runUntilIdle();
    for (let g = 0; g < 100; g++)
      await start({ SkipMatching: true, AutoRollback: true }, { AutoScalingGroupName: `g${g}` });
    const simulated = account.clock.runUntilIdle();
    // Ten batches of one instance each (Min 90% of 10): start, then ten launch + warmup cycles; the last old
    // instance was terminated as the last batch began.
    expect(simulated).toBe(START + 10 * REPLACEMENT);
    for (let g = 0; g < 100; g++) {
      expect(account.state.instanceRefreshes.get(`g${g}`)![0]!.status).toBe('Successful');
    }
    expect(account.clock.pendingTasks).toBe(0);
  });
});
