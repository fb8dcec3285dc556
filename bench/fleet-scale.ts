import {
  AutoScalingClient,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
  type LocalAccount,
} from '../src/local-account/index.ts';

export interface FleetScaleBenchResult {
  readonly groups: number;
  readonly instancesPerGroup: number;
  readonly seedWallMs: number;
  /** Refreshing every group, a canary first, then waves of `maxParallel`, polled every 60 virtual seconds. */
  readonly wavesWallMs: number;
  /** Of wavesWallMs, the time inside the account (answering requests, running the simulation). */
  readonly accountWallMs: number;
  readonly apiCalls: number;
  readonly simulatedSeconds: number;
  readonly heapUsedMb: number;
  /** Virtual hours run minute by minute with an alarm per group (the fleet's App/Errors sampled each minute). */
  readonly alarmHours: number;
  readonly alarmHoursWallMs: number;
  readonly heapAfterAlarmHoursMb: number;
}

const OLD_IMAGE = 'ami-0000000000000d001';
const NEW_IMAGE = 'ami-0000000000000d002';

/**
 * The local account's share of a rollout at the scale, without the state machine: `groups` groups of
 * `instancesPerGroup` instances on 10 templates; one canary group refreshed first, then waves of `maxParallel`
 * groups at once, each polled through the Auto Scaling API every 60 virtual seconds as a check step would (the
 * clients resolve their middleware once, as the rehearsal's do). Then `alarmHours` virtual hours minute by
 * minute with one alarm per group.
 */
export async function benchFleetScale(
  groups = 2000,
  instancesPerGroup = 3,
  maxParallel = 50,
  alarmHours = 8,
): Promise<FleetScaleBenchResult> {
  const fleet = parseFleet({
    images: [
      { imageId: OLD_IMAGE, name: 'old' },
      { imageId: NEW_IMAGE, name: 'new' },
    ],
    launchTemplates: Array.from({ length: 10 }, (_, i) => ({ name: `lt-${i}`, imageId: OLD_IMAGE })),
    autoScalingGroups: Array.from({ length: groups }, (_, i) => ({
      name: `group-${String(i).padStart(4, '0')}`,
      launchTemplate: `lt-${i % 10}`,
      launchTemplateVersion: '1',
      minSize: instancesPerGroup,
      maxSize: instancesPerGroup * 2,
      desiredCapacity: instancesPerGroup,
      defaultInstanceWarmupSeconds: 60,
    })),
  });
  const seedStart = performance.now();
  const account = await createLocalAccountFromFleet(fleet);
  const seedWallMs = performance.now() - seedStart;
  const inAccount = timeInside(account);

  const templates = [...account.state.launchTemplates.values()];
  for (const template of templates) {
    template.versions.set(2, {
      versionNumber: 2,
      createTime: account.now(),
      data: { ...template.versions.get(1)!.data, ImageId: NEW_IMAGE },
    });
    template.latestVersion = 2;
  }
  const autoScaling = new AutoScalingClient(inProcessClientConfig(account, { cacheMiddleware: true }));
  const names = [...account.state.autoScalingGroups.keys()];
  const waves = [names.slice(0, 1)];
  for (let i = 1; i < names.length; i += maxParallel) waves.push(names.slice(i, i + maxParallel));

  const callsBefore = account.calls.length;
  const simulatedStart = account.clock.now();
  const wavesStart = performance.now();
  for (const wave of waves) {
    for (const name of wave) {
      const group = account.state.autoScalingGroups.get(name)!;
      await autoScaling.send(
        new StartInstanceRefreshCommand({
          AutoScalingGroupName: name,
          DesiredConfiguration: {
            LaunchTemplate: { LaunchTemplateId: group.launchTemplate.launchTemplateId, Version: '2' },
          },
          Preferences: { MinHealthyPercentage: 90, SkipMatching: true, AutoRollback: true },
        }),
      );
    }
    let pending = wave;
    while (pending.length > 0) {
      inAccount.advance(60);
      const still: string[] = [];
      for (const name of pending) {
        const { InstanceRefreshes = [] } = await autoScaling.send(
          new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 1 }),
        );
        const status = InstanceRefreshes[0]?.Status;
        if (status === 'Successful') continue;
        if (status !== 'Pending' && status !== 'InProgress' && status !== 'Baking')
          throw new Error(`bench: refresh on ${name} ended ${status}: ${InstanceRefreshes[0]?.StatusReason}`);
        still.push(name);
      }
      pending = still;
    }
  }
  const wavesWallMs = performance.now() - wavesStart;
  const simulatedSeconds = (account.clock.now() - simulatedStart) / 1000;
  const apiCalls = account.calls.length - callsBefore;
  const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;

  const cloudWatch = new CloudWatchClient(inProcessClientConfig(account, { cacheMiddleware: true }));
  for (const name of names) {
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: `${name}-errors`,
        Namespace: 'App',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'AutoScalingGroupName', Value: name }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 3,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
  }
  const alarmStart = performance.now();
  for (let minute = 0; minute < alarmHours * 60; minute++) account.advance(60);
  const alarmHoursWallMs = performance.now() - alarmStart;
  return {
    groups,
    instancesPerGroup,
    seedWallMs,
    wavesWallMs,
    accountWallMs: inAccount.ms(),
    apiCalls,
    simulatedSeconds,
    heapUsedMb,
    alarmHours,
    alarmHoursWallMs,
    heapAfterAlarmHoursMb: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

/** Counts the wall time spent inside the account: its request handling, and `advance` as returned. */
function timeInside(account: LocalAccount): { advance(seconds: number): void; ms(): number } {
  let ms = 0;
  const handle = account.handle.bind(account);
  account.handle = (request) => {
    const start = performance.now();
    try {
      return handle(request);
    } finally {
      ms += performance.now() - start;
    }
  };
  return {
    advance(seconds) {
      const start = performance.now();
      account.advance(seconds);
      ms += performance.now() - start;
    },
    ms: () => ms,
  };
}
