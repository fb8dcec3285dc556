/**
 * Health checks, launch failures and the refresh failure semantics of the local account, read as a specification
 * of what AWS documents: through the real Auto Scaling, EC2 and ELBv2 SDK clients, in virtual time.
 *
 * Each group below has 2 instances of launch template version 1 (image `oldImage`); version 2 runs `newImage`.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeLoadBalancerTargetGroupsCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
  type InstanceRefresh,
  type RefreshPreferences,
} from '@aws-sdk/client-auto-scaling';
import { DeregisterImageCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';
import { REFRESH_RETRY_SECONDS } from '../../src/local-account/simulation/refresh-decisions.ts';
import type { Instance, LaunchTemplate } from '../../src/local-account/state.ts';

let account: LocalAccount;
let autoScaling: AutoScalingClient;
let elb: ElasticLoadBalancingV2Client;
let template: LaunchTemplate;
let oldImage: string;
let newImage: string;
let targetGroupArn: string;

beforeEach(async () => {
  account = createLocalAccount();
  const config = inProcessClientConfig(account);
  autoScaling = new AutoScalingClient(config);
  elb = new ElasticLoadBalancingV2Client(config);
  oldImage = addImage(account, { name: 'app-1' }).imageId;
  newImage = addImage(account, { name: 'app-2' }).imageId;
  template = addLaunchTemplate(account, { name: 'app', imageId: oldImage });
  template.versions.set(2, {
    versionNumber: 2,
    createTime: account.now(),
    data: { ...template.versions.get(1)!.data, ImageId: newImage },
  });
  template.latestVersion = 2;
  const { TargetGroups = [] } = await elb.send(
    new CreateTargetGroupCommand({ Name: 'app', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-0123456789abcdef0' }),
  );
  targetGroupArn = TargetGroups[0]!.TargetGroupArn!;
  const { LoadBalancers = [] } = await elb.send(new CreateLoadBalancerCommand({ Name: 'app' }));
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: LoadBalancers[0]!.LoadBalancerArn!,
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
});

async function createGroup(
  healthCheckType: 'EC2' | 'ELB',
  options: { name?: string; desired?: number; targetGroups?: boolean; grace?: number } = {},
): Promise<void> {
  const desired = options.desired ?? 2;
  await autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: options.name ?? 'app',
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
      MinSize: 1,
      MaxSize: 2 * desired,
      DesiredCapacity: desired,
      HealthCheckType: healthCheckType,
      HealthCheckGracePeriod: options.grace ?? 60,
      DefaultInstanceWarmup: 60,
      ...(options.targetGroups === false ? {} : { TargetGroupARNs: [targetGroupArn] }),
    }),
  );
  account.clock.runUntilIdle();
}

const start = (preferences: RefreshPreferences = {}, group = 'app') =>
  autoScaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: group,
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' } },
      Preferences: { MinHealthyPercentage: 50, ...preferences },
    }),
  );

async function latest(group = 'app'): Promise<InstanceRefresh> {
  const { InstanceRefreshes = [] } = await autoScaling.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group }),
  );
  return InstanceRefreshes[0]!;
}

function inService(group = 'app'): Instance[] {
  return account.state.autoScalingGroups
    .get(group)!
    .instanceIds.map((id) => account.state.instances.get(id)!)
    .filter((i) => i.lifecycleState === 'InService');
}

async function targetStates(): Promise<Record<string, string | undefined>> {
  const { TargetHealthDescriptions = [] } = await elb.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
  );
  return Object.fromEntries(TargetHealthDescriptions.map((d) => [d.Target!.Id!, d.TargetHealth?.State]));
}

describe('groups with target groups and ELB health checks', () => {
  it('carry HealthCheckType, HealthCheckGracePeriod and TargetGroupARNs, and register InService instances', async () => {
    await createGroup('ELB');
    const { AutoScalingGroups = [] } = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['app'] }),
    );
    expect(AutoScalingGroups[0]).toMatchObject({
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 60,
      TargetGroupARNs: [targetGroupArn],
    });
    const ids = inService().map((i) => i.instanceId);
    expect(await targetStates()).toEqual(Object.fromEntries(ids.map((id) => [id, 'healthy'])));
    const { LoadBalancerTargetGroups = [] } = await autoScaling.send(
      new DescribeLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: 'app' }),
    );
    expect(LoadBalancerTargetGroups).toEqual([
      { LoadBalancerTargetGroupARN: targetGroupArn, State: 'InService' },
    ]);
  });

  it('refuses a target group that does not exist, and a health check type it does not model', async () => {
    const bad = autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'bad',
        LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
        MinSize: 1,
        MaxSize: 1,
        TargetGroupARNs: [`${targetGroupArn}0`],
      }),
    );
    await expect(bad).rejects.toThrow('Provided Target Groups may not be valid');
    await expect(
      autoScaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: 'bad',
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
          MinSize: 1,
          MaxSize: 1,
          HealthCheckType: 'EBS',
        }),
      ),
    ).rejects.toThrow(/EC2 and ELB health check types only, not EBS/);
    expect(account.state.autoScalingGroups.has('bad')).toBe(false);
  });

  it('UpdateAutoScalingGroup changes the health check type and grace period', async () => {
    await createGroup('EC2');
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'app',
        HealthCheckType: 'ELB',
        HealthCheckGracePeriod: 300,
      }),
    );
    const group = account.state.autoScalingGroups.get('app')!;
    expect([group.healthCheckType, group.healthCheckGracePeriod]).toEqual(['ELB', 300]);
  });

  it('drain a terminated instance from its target groups before it shuts down', async () => {
    await createGroup('ELB');
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'app', DesiredCapacity: 1, MinSize: 1 }),
    );
    const draining = Object.entries(await targetStates()).filter(([, state]) => state === 'draining');
    expect(draining).toHaveLength(1);
    const instance = account.state.instances.get(draining[0]![0])!;
    expect([instance.lifecycleState, instance.ec2State]).toEqual(['Terminating', 'running']);
    account.advance(300);
    expect(instance.ec2State).toBe('shutting-down');
    account.clock.runUntilIdle();
    expect(instance.ec2State).toBe('terminated');
  });
});

describe('an image whose application is broken (appFailure)', () => {
  beforeEach(() => {
    account.faults.add({ kind: 'appFailure', imageId: newImage });
  });

  it('fails a refresh under ELB health checks, after an hour of replacing the failing instances', async () => {
    await createGroup('ELB');
    await start();
    // Registered, two failed checks at the 30 s interval: unhealthy, and past the 60 s grace period.
    account.advance(10 + 30 + 60);
    const refreshing = await latest();
    expect(refreshing.Status).toBe('InProgress');
    expect(refreshing.StatusReason).toMatch(/failed its health checks/);
    account.advance(REFRESH_RETRY_SECONDS);
    const failed = await latest();
    expect(failed.Status).toBe('Failed');
    expect(failed.StatusReason).toContain(newImage);
    account.clock.runUntilIdle();
    expect(inService().map((i) => i.imageId)).toEqual([oldImage, oldImage]);
  });

  it('goes unnoticed under EC2 health checks: the refresh is Successful on the broken image', async () => {
    await createGroup('EC2');
    await start();
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('Successful');
    expect(inService().map((i) => i.imageId)).toEqual([newImage, newImage]);
    // The load balancer does see it: its targets are unhealthy, though Auto Scaling does not act on them.
    expect(Object.values(await targetStates()).filter((s) => s === 'unhealthy')).toHaveLength(2);
    expect(inService().every((i) => i.healthStatus === 'Healthy')).toBe(true);
  });

  it('is what applicationFails reports, for the application metric an alarm can watch', () => {
    expect(account.faults.applicationFails('app', newImage)).toBe(true);
    expect(account.faults.applicationFails('app', oldImage)).toBe(false);
  });
});

describe('an image that does not boot (unhealthyInstances)', () => {
  it('fails a refresh under either health check type', async () => {
    account.faults.add({ kind: 'unhealthyInstances', imageId: newImage });
    await createGroup('EC2', { name: 'ec2', targetGroups: false, grace: 0 });
    await createGroup('ELB', { name: 'elb', grace: 0 });
    await start({}, 'ec2');
    await start({}, 'elb');
    account.advance(10 + 30 + 60 + REFRESH_RETRY_SECONDS);
    expect((await latest('ec2')).Status).toBe('Failed');
    expect((await latest('elb')).Status).toBe('Failed');
  });
});

describe('launch failures', () => {
  it('launchFailure: RunInstances refused; the refresh retries for an hour, then Failed with the EC2 error', async () => {
    account.faults.add({ kind: 'launchFailure', imageId: newImage, reason: 'insufficientCapacity' });
    await createGroup('ELB');
    await start();
    account.advance(10);
    expect((await latest()).StatusReason).toMatch(
      /could not launch a new instance .*InsufficientInstanceCapacity/,
    );
    account.advance(REFRESH_RETRY_SECONDS);
    const failed = await latest();
    expect(failed.Status).toBe('Failed');
    expect(failed.StatusReason).toMatch(
      /InsufficientInstanceCapacity.*could not make progress for 60 minutes/,
    );
    // Successful launches and terminations are activities too: the failed launches are among them.
    expect(account.state.scalingActivities.filter((a) => a.statusCode === 'Failed').at(-1)).toMatchObject({
      autoScalingGroupName: 'app',
      statusCode: 'Failed',
    });
    expect([...account.state.instances.values()].some((i) => i.imageId === newImage)).toBe(false);
  });

  it('a KMS key the account cannot use fails every launch from the image, with AutoRollback rolling back', async () => {
    account.faults.add({ kind: 'launchFailure', imageId: newImage, reason: 'kmsKeyNotUsable' });
    await createGroup('EC2', { targetGroups: false });
    await start({ AutoRollback: true });
    account.advance(10 + REFRESH_RETRY_SECONDS - 1);
    expect((await latest()).Status).toBe('InProgress');
    account.advance(1);
    // Nothing of the new image ever ran, so the rollback has nothing to replace; the group refills itself.
    const rolled = await latest();
    expect(rolled.Status).toBe('RollbackSuccessful');
    expect(rolled.RollbackDetails?.RollbackReason).toContain('Client.InvalidKMSKey.InvalidState');
    account.clock.runUntilIdle();
    expect(inService().map((i) => i.imageId)).toEqual([oldImage, oldImage]);
  });

  it('deregistering the new image mid-refresh makes its further launches fail by itself', async () => {
    await createGroup('EC2', { targetGroups: false, desired: 4 });
    await start({ MinHealthyPercentage: 75 });
    account.advance(10 + 30 + 60);
    expect((await latest()).PercentageComplete).toBe(25);
    await new EC2Client(inProcessClientConfig(account)).send(
      new DeregisterImageCommand({ ImageId: newImage }),
    );
    // The second replacement counts, and the third launch is refused.
    account.advance(90);
    expect((await latest()).PercentageComplete).toBe(50);
    expect((await latest()).StatusReason).toMatch(
      /InvalidAMIID\.NotFound: The image id '\[ami-\w+\]' does not exist/,
    );
    account.advance(REFRESH_RETRY_SECONDS);
    expect((await latest()).Status).toBe('Failed');
  });
});

describe('instances in Standby or protected from scale in', () => {
  it('Wait (the default): the refresh replaces the others, waits an hour, then fails', async () => {
    await createGroup('EC2', { targetGroups: false });
    const [held] = inService();
    held!.lifecycleState = 'Standby';
    await start();
    account.advance(10 + 30 + 60 + 60);
    const waiting = await latest();
    expect(waiting.Status).toBe('InProgress');
    expect(waiting.StatusReason).toMatch(new RegExp(`Waiting for instance ${held!.instanceId} in Standby`));
    account.advance(REFRESH_RETRY_SECONDS);
    const failed = await latest();
    expect(failed.Status).toBe('Failed');
    expect(failed.StatusReason).toMatch(/StandbyInstances: Wait/);
  });

  it('Wait: the refresh goes on once the instance returns to service within the hour', async () => {
    await createGroup('EC2', { targetGroups: false });
    const [held] = inService();
    held!.protectedFromScaleIn = true;
    await start();
    account.advance(30 * 60);
    expect((await latest()).StatusReason).toMatch(/scale-in protection/);
    held!.protectedFromScaleIn = false;
    account.clock.runUntilIdle();
    expect((await latest()).Status).toBe('Successful');
  });

  it('Ignore leaves them alone; ScaleInProtectedInstances Refresh replaces them', async () => {
    await createGroup('EC2', { targetGroups: false, name: 'ignore' });
    await createGroup('EC2', { targetGroups: false, name: 'refresh' });
    inService('ignore')[0]!.lifecycleState = 'Standby';
    inService('refresh')[0]!.protectedFromScaleIn = true;
    await start({ StandbyInstances: 'Ignore' }, 'ignore');
    await start({ ScaleInProtectedInstances: 'Refresh' }, 'refresh');
    account.clock.runUntilIdle();
    expect((await latest('ignore')).Status).toBe('Successful');
    expect((await latest('refresh')).Status).toBe('Successful');
    expect(inService('refresh').map((i) => i.imageId)).toEqual([newImage, newImage]);
    const standby = account.state.autoScalingGroups
      .get('ignore')!
      .instanceIds.map((id) => account.state.instances.get(id)!)
      .find((i) => i.lifecycleState === 'Standby');
    expect(standby?.imageId).toBe(oldImage);
  });
});

describe('batch sizing and checkpoints', () => {
  it('with Max above 100 launches before terminating: Min 90 / Max 120 on 2 instances never drops below 2', async () => {
    await createGroup('EC2', { targetGroups: false });
    await start({ MinHealthyPercentage: 90, MaxHealthyPercentage: 120 });
    let least = Infinity;
    while (['Pending', 'InProgress'].includes((await latest()).Status!)) {
      least = Math.min(least, inService().length);
      account.advance(5);
    }
    expect((await latest()).Status).toBe('Successful');
    expect(least).toBe(2);
  });

  it('a last checkpoint below 100 ends Successful there, with the rest of the group on the old image', async () => {
    await createGroup('EC2', { targetGroups: false, desired: 4 });
    await start({ CheckpointPercentages: [50], CheckpointDelay: 600 });
    account.clock.runUntilIdle();
    const done = await latest();
    expect(done).toMatchObject({ Status: 'Successful', PercentageComplete: 50, InstancesToUpdate: 0 });
    expect(
      inService()
        .map((i) => i.imageId)
        .sort(),
    ).toEqual([newImage, newImage, oldImage, oldImage].sort());
  });
});
