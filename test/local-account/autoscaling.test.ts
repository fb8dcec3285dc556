/**
 * Auto Scaling groups in the local account, through the real SDK v3 client and the query wire protocol:
 * creating groups launches instances that come into service in virtual time; capacity changes launch and
 * terminate; errors carry AWS's codes.
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  SetDesiredCapacityCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
  type CreateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';
import { SIMULATION_TIMING } from '../../src/local-account/simulation/timing.ts';
import type { LaunchTemplate } from '../../src/local-account/state.ts';

let account: LocalAccount;
let autoScaling: AutoScalingClient;
let template: LaunchTemplate;
let imageId: string;

/** A second launch template version on `image`, as EC2's CreateLaunchTemplateVersion would add it. */
function addVersion(lt: LaunchTemplate, image: string): number {
  const versionNumber = lt.latestVersion + 1;
  lt.versions.set(versionNumber, {
    versionNumber,
    createTime: account.now(),
    data: { ...lt.versions.get(1)!.data, ImageId: image },
  });
  lt.latestVersion = versionNumber;
  return versionNumber;
}

/** The error code and message a call fails with (the SDK's `Code` is AWS's wire code). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { Code?: string };
    return { code: e.Code ?? e.name, message: e.message };
  }
  throw new Error('expected the call to fail');
}

const createGroup = (overrides: Partial<CreateAutoScalingGroupCommandInput> = {}) =>
  autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'web',
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '$Default' },
      MinSize: 1,
      MaxSize: 6,
      DesiredCapacity: 3,
      ...overrides,
    }),
  );

async function describeGroup(name = 'web'): Promise<AutoScalingGroup> {
  const { AutoScalingGroups = [] } = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return AutoScalingGroups[0]!;
}

beforeEach(() => {
  account = createLocalAccount();
  autoScaling = new AutoScalingClient(inProcessClientConfig(account));
  imageId = addImage(account, { name: 'web-1' }).imageId;
  template = addLaunchTemplate(account, { name: 'web', imageId });
});

describe('CreateAutoScalingGroup', () => {
  it('launches DesiredCapacity instances that are Pending, then InService after the launch time', async () => {
    await createGroup();
    let group = await describeGroup();
    expect(group.Instances).toHaveLength(3);
    expect(group.Instances!.every((i) => i.LifecycleState === 'Pending')).toBe(true);

    account.advance(SIMULATION_TIMING.instanceLaunchSeconds);
    group = await describeGroup();
    expect(group.Instances!.map((i) => [i.LifecycleState, i.HealthStatus])).toEqual([
      ['InService', 'Healthy'],
      ['InService', 'Healthy'],
      ['InService', 'Healthy'],
    ]);
  });

  it('keeps $Default on the group and resolves it to a version number on each instance', async () => {
    addVersion(template, imageId);
    await createGroup();
    const group = await describeGroup();
    expect(group.LaunchTemplate).toEqual({
      LaunchTemplateId: template.launchTemplateId,
      LaunchTemplateName: 'web',
      Version: '$Default',
    });
    expect(group.Instances!.map((i) => i.LaunchTemplate?.Version)).toEqual(['1', '1', '1']);
  });

  it('records instances for EC2: image, type, group and an EC2 state that follows the lifecycle', async () => {
    await createGroup({ DesiredCapacity: 1 });
    const [id] = (await describeGroup()).Instances!.map((i) => i.InstanceId!);
    const instance = account.state.instances.get(id!)!;
    expect(instance).toMatchObject({
      imageId,
      instanceType: 't3.micro',
      autoScalingGroupName: 'web',
      ec2State: 'pending',
    });
    account.advance(SIMULATION_TIMING.instanceLaunchSeconds);
    expect(instance.ec2State).toBe('running');
  });

  it('spreads instances over the availability zones', async () => {
    await createGroup({ AvailabilityZones: ['us-east-1a', 'us-east-1b'], DesiredCapacity: 4 });
    const zones = (await describeGroup()).Instances!.map((i) => i.AvailabilityZone);
    expect(zones.sort()).toEqual(['us-east-1a', 'us-east-1a', 'us-east-1b', 'us-east-1b']);
  });

  it('finds the launch template by name, and echoes tags and sizes', async () => {
    await createGroup({
      LaunchTemplate: { LaunchTemplateName: 'web', Version: '1' },
      HealthCheckGracePeriod: 120,
      DefaultInstanceWarmup: 45,
      Tags: [{ Key: 'app', Value: 'web', PropagateAtLaunch: true }],
    });
    expect(await describeGroup()).toMatchObject({
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
      MinSize: 1,
      MaxSize: 6,
      DesiredCapacity: 3,
      HealthCheckGracePeriod: 120,
      DefaultInstanceWarmup: 45,
      Tags: [{ Key: 'app', Value: 'web', PropagateAtLaunch: true, ResourceId: 'web' }],
    });
  });

  it('fails with AlreadyExists when the name is taken', async () => {
    await createGroup();
    expect(await failure(createGroup())).toEqual({
      code: 'AlreadyExists',
      message: 'AutoScalingGroup by this name already exists - A group with the name web already exists',
    });
  });

  it('fails with ValidationError when the launch template does not exist, and creates nothing', async () => {
    const result = await failure(
      createGroup({ LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0' } }),
    );
    expect(result.code).toBe('ValidationError');
    expect(result.message).toContain('lt-0123456789abcdef0, does not exist');
    expect(account.state.autoScalingGroups.size).toBe(0);
  });

  it("fails with ValidationError when the template's version or image does not exist", async () => {
    expect(
      (
        await failure(
          createGroup({ LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '9' } }),
        )
      ).code,
    ).toBe('ValidationError');
    addVersion(template, 'ami-0ffffffffffffffff');
    const badImage = await failure(
      createGroup({ LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' } }),
    );
    expect(badImage.message).toContain("The image id '[ami-0ffffffffffffffff]' does not exist");
  });

  it('fails with ValidationError when the desired capacity lies outside min and max', async () => {
    expect(await failure(createGroup({ MinSize: 1, MaxSize: 2, DesiredCapacity: 5 }))).toEqual({
      code: 'ValidationError',
      message: 'Desired capacity:5 must be between the specified min size:1 and max size:2',
    });
    expect((await failure(createGroup({ MinSize: 3, MaxSize: 2, DesiredCapacity: 2 }))).code).toBe(
      'ValidationError',
    );
  });
});

describe('DescribeAutoScalingGroups', () => {
  it('leaves out names that do not exist, as AWS does', async () => {
    await createGroup();
    const { AutoScalingGroups } = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['nope', 'web'] }),
    );
    expect(AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['web']);
  });

  it('filters by tag and pages with MaxRecords and NextToken', async () => {
    await createGroup({ AutoScalingGroupName: 'a', Tags: [{ Key: 'rollout', Value: 'yes' }] });
    await createGroup({ AutoScalingGroupName: 'b', Tags: [{ Key: 'rollout', Value: 'no' }] });
    await createGroup({ AutoScalingGroupName: 'c', Tags: [{ Key: 'rollout', Value: 'yes' }] });
    const tagged = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:rollout', Values: ['yes'] }] }),
    );
    expect(tagged.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['a', 'c']);

    const first = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 2 }));
    expect(first.AutoScalingGroups).toHaveLength(2);
    const rest = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ MaxRecords: 2, NextToken: first.NextToken }),
    );
    expect(rest.AutoScalingGroups!.map((g) => g.AutoScalingGroupName)).toEqual(['c']);
    expect(rest.NextToken).toBeUndefined();
  });
});

describe('UpdateAutoScalingGroup and SetDesiredCapacity', () => {
  it('launches instances when the desired capacity grows', async () => {
    await createGroup({ DesiredCapacity: 1 });
    account.clock.runUntilIdle();
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }),
    );
    const states = (await describeGroup()).Instances!.map((i) => i.LifecycleState);
    expect(states.sort()).toEqual(['InService', 'Pending', 'Pending']);
  });

  it('terminates the oldest instances when it shrinks; they show Terminating, then leave the group', async () => {
    await createGroup({ DesiredCapacity: 3 });
    account.clock.runUntilIdle();
    const before = (await describeGroup()).Instances!.map((i) => i.InstanceId!);
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }),
    );
    expect((await describeGroup()).Instances!.filter((i) => i.LifecycleState === 'Terminating')).toHaveLength(
      2,
    );
    account.advance(SIMULATION_TIMING.instanceTerminateSeconds);
    const after = (await describeGroup()).Instances!;
    expect(after).toHaveLength(1);
    expect(before).toContain(after[0]!.InstanceId);
    expect(account.state.instances.get(before[0]!)!.ec2State).toBe('terminated');
  });

  it('launches new instances from a new launch template version once the group points at it', async () => {
    await createGroup({ DesiredCapacity: 1 });
    const next = addImage(account, { name: 'web-2' }).imageId;
    const version = addVersion(template, next);
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web',
        LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: String(version) },
        DesiredCapacity: 2,
      }),
    );
    const group = await describeGroup();
    expect(group.LaunchTemplate?.Version).toBe('2');
    expect(group.Instances!.map((i) => i.LaunchTemplate?.Version).sort()).toEqual(['1', '2']);
  });

  it('fails with ValidationError beyond the max size, and changes nothing', async () => {
    await createGroup();
    const result = await failure(
      autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 7 })),
    );
    expect(result).toEqual({
      code: 'ValidationError',
      message: 'New SetDesiredCapacity value 7 is above max value 6 for the AutoScalingGroup.',
    });
    expect((await describeGroup()).DesiredCapacity).toBe(3);
  });

  it('fails with ValidationError for an unknown group', async () => {
    const result = await failure(
      autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'nope', MaxSize: 3 })),
    );
    expect(result.code).toBe('ValidationError');
  });
});

describe('DescribeAutoScalingInstances', () => {
  it("lists the groups' instances with their group and launch template version", async () => {
    await createGroup({ DesiredCapacity: 2 });
    const { AutoScalingInstances = [] } = await autoScaling.send(new DescribeAutoScalingInstancesCommand({}));
    expect(AutoScalingInstances).toHaveLength(2);
    expect(AutoScalingInstances[0]).toMatchObject({
      AutoScalingGroupName: 'web',
      LifecycleState: 'Pending',
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
    });
  });
});

describe('health outside an instance refresh', () => {
  it('leaves unhealthy instances in place when the group itself launches the unhealthy image', async () => {
    account.faults.add({ kind: 'unhealthyInstances', imageId });
    await createGroup({ DesiredCapacity: 2 });
    account.clock.runUntilIdle();
    const group = await describeGroup();
    expect(group.Instances!.map((i) => i.HealthStatus)).toEqual(['Unhealthy', 'Unhealthy']);
    expect(account.clock.pendingTasks).toBe(0);
  });
});

describe('DeleteAutoScalingGroup', () => {
  it('fails with ResourceInUse while the group has instances, unless forced', async () => {
    await createGroup();
    expect(
      (await failure(autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'web' }))))
        .code,
    ).toBe('ResourceInUse');
    await autoScaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'web', ForceDelete: true }),
    );
    account.clock.runUntilIdle();
    const { AutoScalingGroups } = await autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
    expect(AutoScalingGroups).toEqual([]);
    expect([...account.state.instances.values()].every((i) => i.ec2State === 'terminated')).toBe(true);
  });
});
