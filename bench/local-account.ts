import {
  AutoScalingClient,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
} from '../src/local-account/index.ts';

export interface LocalAccountBenchResult {
  readonly groups: number;
  readonly instancesPerGroup: number;
  readonly seedWallMs: number;
  readonly refreshWallMs: number;
  /** Of refreshWallMs, the time spent inside the account (answering requests, running the simulation). */
  readonly accountWallMs: number;
  readonly simulatedSeconds: number;
  readonly apiCalls: number;
  readonly heapUsedMb: number;
  readonly rssMb: number;
}

/**
 * Seeds `groups` groups of `instancesPerGroup` instances, starts an instance refresh on every group to a new
 * image through the Auto Scaling API, then advances virtual time, polling every 60 virtual seconds as a
 * rollout would, until every refresh is Successful.
 */
export async function benchLocalAccount(
  groups = 100,
  instancesPerGroup = 10,
): Promise<LocalAccountBenchResult> {
  const oldImage = 'ami-0000000000000b001';
  const newImage = 'ami-0000000000000b002';
  const fleet = parseFleet({
    images: [
      { imageId: oldImage, name: 'old' },
      { imageId: newImage, name: 'new' },
    ],
    launchTemplates: Array.from({ length: groups }, (_, i) => ({ name: `lt-${i}`, imageId: oldImage })),
    autoScalingGroups: Array.from({ length: groups }, (_, i) => ({
      name: `group-${i}`,
      launchTemplate: `lt-${i}`,
      // Numbered, as the rollout's trigger step pins a group before it starts a refresh: AWS refuses
      // AutoRollback on a group that uses $Default or $Latest.
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

  // Time spent inside the account, apart from the SDK's own serializing, signing and parsing.
  let accountWallMs = 0;
  const handle = account.handle.bind(account);
  account.handle = (request) => {
    const start = performance.now();
    try {
      return handle(request);
    } finally {
      accountWallMs += performance.now() - start;
    }
  };
  const advance = (seconds: number) => {
    const start = performance.now();
    account.advance(seconds);
    accountWallMs += performance.now() - start;
  };
  const autoScaling = new AutoScalingClient(inProcessClientConfig(account));
  const refreshStart = performance.now();
  const simulatedStart = account.now().getTime();
  for (const template of account.state.launchTemplates.values()) {
    // A new version on the new image, as the rollout's update step makes.
    const version = template.latestVersion + 1;
    template.versions.set(version, {
      versionNumber: version,
      createTime: account.now(),
      data: { ...template.versions.get(1)!.data, ImageId: newImage },
    });
    template.latestVersion = version;
  }
  const templates = [...account.state.launchTemplates.values()];
  for (let i = 0; i < groups; i++) {
    await autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: `group-${i}`,
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: templates[i]!.launchTemplateId, Version: '2' },
        },
        Preferences: { MinHealthyPercentage: 90, SkipMatching: true, AutoRollback: true },
      }),
    );
  }
  let pending = new Set(Array.from({ length: groups }, (_, i) => `group-${i}`));
  while (pending.size > 0) {
    advance(60);
    const still = new Set<string>();
    for (const name of pending) {
      const { InstanceRefreshes = [] } = await autoScaling.send(
        new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, MaxRecords: 1 }),
      );
      const status = InstanceRefreshes[0]?.Status;
      if (status === 'Successful') continue;
      if (status !== 'Pending' && status !== 'InProgress' && status !== 'Baking') {
        throw new Error(`bench: refresh on ${name} ended ${status}: ${InstanceRefreshes[0]?.StatusReason}`);
      }
      still.add(name);
    }
    pending = still;
  }
  const refreshWallMs = performance.now() - refreshStart;
  const memory = process.memoryUsage();
  return {
    groups,
    instancesPerGroup,
    seedWallMs,
    refreshWallMs,
    accountWallMs,
    simulatedSeconds: (account.now().getTime() - simulatedStart) / 1000,
    apiCalls: account.calls.length,
    heapUsedMb: memory.heapUsed / 2 ** 20,
    rssMb: memory.rss / 2 ** 20,
  };
}
