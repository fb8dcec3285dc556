/**
 * Small groups get safe defaults, through the real definitions and step handlers on a local account: with
 * neither minHealthyPercentage nor maxHealthyPercentage in the config, a group of 2 refreshes launch-before-
 * terminate (Min 100 / Max 200), forward and on the fleet rollback, and never serves on fewer than 2 instances.
 * A sampler on the account's clock counts each group's InService, healthy instances every 5 virtual seconds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { RolloutConfigInput } from '../../src/config/schema.ts';
import type { Fault } from '../../src/local-account/faults.ts';
import { parseFleet, type LocalAccount } from '../../src/local-account/index.ts';
import { rehearse, type Rehearsal } from '../../src/rehearsal/rehearse.ts';

const ACCOUNT = '111122223333';
const OLD = 'ami-0a1b2c3d4e5f60001';
const NEW = 'ami-0a1b2c3d4e5f60002';
const SAMPLE_SECONDS = 5;

/** pair: 2 instances; fleet: 4 (refreshed after pair). Both behind a load balancer with ELB health checks. */
const fleet = parseFleet({
  accountId: ACCOUNT,
  region: 'us-east-1',
  startTime: '2026-11-26T09:00:00Z',
  images: [
    { imageId: OLD, name: 'old' },
    { imageId: NEW, name: 'new' },
  ],
  launchTemplates: [
    { launchTemplateId: 'lt-0a1b2c3d4e5f60001', name: 'web', imageId: OLD, instanceType: 't3.small' },
  ],
  targetGroups: [
    { name: 'pair', port: 80, healthCheckPath: '/health', loadBalancer: 'public' },
    { name: 'fleet', port: 8080, healthCheckPath: '/health', loadBalancer: 'public' },
  ],
  autoScalingGroups: [
    { name: 'pair', desiredCapacity: 2, targets: 'pair' },
    { name: 'fleet', desiredCapacity: 4, targets: 'fleet' },
  ].map(({ name, desiredCapacity, targets }) => ({
    name,
    launchTemplate: 'web',
    minSize: 1,
    maxSize: 8,
    desiredCapacity,
    defaultInstanceWarmupSeconds: 60,
    healthCheckType: 'ELB' as const,
    healthCheckGracePeriodSeconds: 60,
    targetGroups: [targets],
  })),
  parameters: [{ name: '/ami-rollout/golden-ami', value: OLD, dataType: 'aws:ec2:image' }],
  topics: [{ name: 'ami-rollout-notifications' }],
});

const configInput: RolloutConfigInput = {
  amiParameterName: '/ami-rollout/golden-ami',
  launchTemplateIds: ['lt-0a1b2c3d4e5f60001'],
  autoScalingGroupNames: ['pair', 'fleet'],
  trustedImageOwners: [ACCOUNT],
  notificationTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:ami-rollout-notifications`,
};

interface Sampled {
  readonly rehearsal: Rehearsal;
  /** Per group, the fewest InService healthy instances seen, and how many samples were taken. */
  readonly fewest: ReadonlyMap<string, number>;
  readonly samples: number;
}

const inService = (account: LocalAccount, group: string) =>
  (account.state.autoScalingGroups.get(group)?.instanceIds ?? [])
    .map((id) => account.state.instances.get(id))
    .filter((i) => i?.lifecycleState === 'InService' && i.healthStatus === 'Healthy').length;

/** Rehearses the rollout while a background task on the account's clock counts every group's InService. */
async function sampled(input: RolloutConfigInput, faults: Fault[] = []): Promise<Sampled> {
  const fewest = new Map<string, number>();
  let samples = 0;
  const rehearsal = await rehearse({
    config: parseConfig(input),
    fleet,
    imageId: NEW,
    faults,
    prepare: (account) => {
      const sample = () => {
        samples++;
        for (const group of account.state.autoScalingGroups.keys())
          fewest.set(group, Math.min(fewest.get(group) ?? Infinity, inService(account, group)));
        // A background task: it samples as time passes, and never keeps the clock going by itself.
        account.clock.scheduleBackground(SAMPLE_SECONDS, sample);
      };
      sample();
    },
  });
  return { rehearsal, fewest, samples };
}

/** The healthy percentages each refresh of the group was started with, oldest first. */
const percentagesOf = (account: LocalAccount, group: string) =>
  (account.state.instanceRefreshes.get(group) ?? []).map((r) => [
    r.preferences.minHealthyPercentage,
    r.preferences.maxHealthyPercentage,
  ]);

describe('a 2-instance group, with neither healthy percentage in the config', () => {
  let run: Sampled;
  beforeAll(async () => {
    run = await sampled(configInput);
  });

  it('refreshes launch-before-terminate and never has fewer than 2 InService', () => {
    expect(run.rehearsal.report.status).toBe('SUCCEEDED');
    expect(percentagesOf(run.rehearsal.account, 'pair')).toEqual([[100, 200]]);
    // The refresh took minutes: the sampler saw it many times over.
    expect(run.samples).toBeGreaterThan(50);
    expect(run.fewest.get('pair')).toBe(2);
  });

  it('leaves a larger group on the default, Min 90 and no Max (one instance out at a time)', () => {
    expect(percentagesOf(run.rehearsal.account, 'fleet')).toEqual([[90, undefined]]);
    expect(run.fewest.get('fleet')).toBe(3);
  });
});

describe('a 2-instance group refreshed back by the fleet rollback, with the defaults', () => {
  let run: Sampled;
  beforeAll(async () => {
    run = await sampled(configInput, [{ kind: 'appFailure', imageId: NEW, group: 'fleet' }]);
  });

  it('goes back launch-before-terminate too, never below 2 InService', () => {
    expect(run.rehearsal.report.status).toBe('ROLLED_BACK');
    // Forward, then the fleet rollback's refresh back to the old version.
    expect(percentagesOf(run.rehearsal.account, 'pair')).toEqual([
      [100, 200],
      [100, 200],
    ]);
    const { state } = run.rehearsal.account;
    const images = state.autoScalingGroups
      .get('pair')!
      .instanceIds.map((id) => state.instances.get(id))
      .filter((i) => i?.lifecycleState === 'InService')
      .map((i) => i?.imageId);
    expect(images).toEqual([OLD, OLD]);
    expect(run.fewest.get('pair')).toBe(2);
  });
});

describe('a 2-instance group with an explicit minHealthyPercentage', () => {
  let run: Sampled;
  beforeAll(async () => {
    run = await sampled({ ...configInput, refreshPreferences: { minHealthyPercentage: 90 } });
  });

  it('uses the config as written: Min 90 replaces one instance at a time, and the group serves on 1', () => {
    expect(run.rehearsal.report.status).toBe('SUCCEEDED');
    expect(percentagesOf(run.rehearsal.account, 'pair')).toEqual([[90, undefined]]);
    expect(run.fewest.get('pair')).toBe(1);
  });
});
