/**
 * Capacity in the local account, through the real SDK v3 clients: SetDesiredCapacity, min/max/desired in
 * UpdateAutoScalingGroup, EnterStandby/ExitStandby, SetInstanceProtection, DescribeScalingActivities, the default
 * termination policy, the capacityChange fault, and capacity changes during instance refreshes (AWS: scale-out
 * during a refresh launches from the refresh's desired configuration; scaling goes on in parallel).
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeInstanceRefreshesCommand,
  DescribeScalingActivitiesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
  type Activity,
  type AutoScalingGroup,
  type CreateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseFleet } from '../../src/local-account/fleet.ts';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';
import { chooseForScaleIn } from '../../src/local-account/simulation/capacity.ts';
import { SIMULATION_TIMING } from '../../src/local-account/simulation/timing.ts';
import type { Instance, LaunchTemplate } from '../../src/local-account/state.ts';

const LAUNCH = SIMULATION_TIMING.instanceLaunchSeconds;

let account: LocalAccount;
let autoScaling: AutoScalingClient;
let ec2: EC2Client;
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

async function createGroup(overrides: Partial<CreateAutoScalingGroupCommandInput> = {}): Promise<void> {
  await autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'web',
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '$Default' },
      MinSize: 1,
      MaxSize: 8,
      DesiredCapacity: 2,
      AvailabilityZones: ['us-east-1a', 'us-east-1b'],
      ...overrides,
    }),
  );
  account.clock.runUntilIdle();
}

async function describeGroup(name = 'web'): Promise<AutoScalingGroup> {
  const { AutoScalingGroups = [] } = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return AutoScalingGroups[0]!;
}

/** The group's instances as the account holds them, not yet terminated. */
const instancesOf = (name = 'web'): Instance[] =>
  [...account.state.instances.values()].filter(
    (i) => i.autoScalingGroupName === name && i.lifecycleState !== 'Terminated',
  );

const liveImages = (name = 'web'): string[] =>
  instancesOf(name)
    .filter((i) => i.lifecycleState === 'InService' || i.lifecycleState === 'Pending')
    .map((i) => i.imageId);

async function activities(name = 'web'): Promise<Activity[]> {
  const { Activities = [] } = await autoScaling.send(
    new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name }),
  );
  return Activities;
}

/** Version 2 of the template, on `newImage`, made the default through EC2 (as UpdateLaunchTemplates does). */
async function newDefaultVersion(): Promise<void> {
  await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: template.launchTemplateId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: newImage },
    }),
  );
  await ec2.send(
    new ModifyLaunchTemplateCommand({ LaunchTemplateId: template.launchTemplateId, DefaultVersion: '2' }),
  );
}

beforeEach(() => {
  account = createLocalAccount();
  const config = inProcessClientConfig(account);
  autoScaling = new AutoScalingClient(config);
  ec2 = new EC2Client(config);
  oldImage = addImage(account, { name: 'web-1' }).imageId;
  newImage = addImage(account, { name: 'web-2' }).imageId;
  template = addLaunchTemplate(account, { name: 'web', imageId: oldImage });
});

describe('SetDesiredCapacity', () => {
  it("scales out from the version the group's $Default resolves to at launch, not when the group was made", async () => {
    await createGroup();
    await newDefaultVersion();
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 4 }),
    );
    account.advance(LAUNCH);
    const versions = instancesOf().map((i) => [i.imageId, i.launchTemplate?.version]);
    expect(versions).toEqual([
      [oldImage, '1'],
      [oldImage, '1'],
      [newImage, '2'],
      [newImage, '2'],
    ]);
    expect((await describeGroup()).LaunchTemplate?.Version).toBe('$Default');
  });

  it('records each launch as an activity worded as AWS words it, InProgress until InService, then Successful', async () => {
    await createGroup();
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }),
    );
    const [launching] = await activities();
    const id = instancesOf().at(-1)!.instanceId;
    expect(launching).toMatchObject({
      Description: `Launching a new EC2 instance: ${id}`,
      StatusCode: 'InProgress',
      AutoScalingGroupState: 'InService',
    });
    expect(launching!.Cause).toMatch(
      /^At \S+Z a user request explicitly set group desired capacity changing the desired capacity from 2 to 3\. {2}At \S+Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 2 to 3\.$/,
    );
    account.advance(LAUNCH);
    const [done] = await activities();
    expect(done).toMatchObject({
      ActivityId: launching!.ActivityId,
      StatusCode: 'Successful',
      Progress: 100,
    });
    expect(done!.EndTime).toBeInstanceOf(Date);
  });

  it('fails with ValidationError above MaxSize or below MinSize, and changes nothing', async () => {
    await createGroup({ MinSize: 2, MaxSize: 3 });
    const before = account.state.scalingActivities.length;
    expect(
      await failure(
        autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 4 })),
      ),
    ).toEqual({
      code: 'ValidationError',
      message: 'New SetDesiredCapacity value 4 is above max value 3 for the AutoScalingGroup.',
    });
    expect(
      (
        await failure(
          autoScaling.send(
            new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }),
          ),
        )
      ).message,
    ).toBe('New SetDesiredCapacity value 1 is below min value 2 for the AutoScalingGroup.');
    expect((await describeGroup()).DesiredCapacity).toBe(2);
    expect(account.state.scalingActivities.length).toBe(before);
  });

  it('with HonorCooldown, is refused within the 300 s cooldown after the last activity; without it, goes ahead', async () => {
    await createGroup();
    const honoring = (desired: number) =>
      autoScaling.send(
        new SetDesiredCapacityCommand({
          AutoScalingGroupName: 'web',
          DesiredCapacity: desired,
          HonorCooldown: true,
        }),
      );
    expect((await failure(honoring(3))).code).toBe('ScalingActivityInProgress');
    expect((await describeGroup()).DesiredCapacity).toBe(2);
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }),
    );
    expect((await describeGroup()).DesiredCapacity).toBe(3);
    account.advance(LAUNCH + 300);
    await honoring(4);
    expect((await describeGroup()).DesiredCapacity).toBe(4);
  });
});

describe('UpdateAutoScalingGroup sizes', () => {
  it('a MinSize above the current size raises the desired capacity to it; a MaxSize below lowers it', async () => {
    await createGroup();
    await autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', MinSize: 4 }));
    expect((await describeGroup()).DesiredCapacity).toBe(4);
    const [launch] = await activities();
    expect(launch!.Cause).toMatch(
      /a user request update of AutoScalingGroup constraints to min: 4, max: 8, desired: 4 changing the desired capacity from 2 to 4\./,
    );
    account.advance(LAUNCH);
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', MinSize: 1, MaxSize: 3 }),
    );
    expect((await describeGroup()).DesiredCapacity).toBe(3);
    account.clock.runUntilIdle();
    expect(instancesOf()).toHaveLength(3);
  });

  it('refuses a desired capacity outside the new bounds, and changes nothing', async () => {
    await createGroup();
    const { code, message } = await failure(
      autoScaling.send(
        new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'web', MaxSize: 3, DesiredCapacity: 5 }),
      ),
    );
    expect(code).toBe('ValidationError');
    expect(message).toMatch(/Desired capacity:5 must be between the specified min size:1 and max size:3/);
    expect((await describeGroup()).MaxSize).toBe(8);
  });
});

describe('scale-in by the default termination policy', () => {
  it('takes the zone with the most instances, then the oldest launch template version, never a protected instance', async () => {
    await createGroup({ DesiredCapacity: 4 });
    await newDefaultVersion();
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 6 }),
    );
    account.clock.runUntilIdle();
    // 3 per zone: versions 1, 1, 2 in each.
    const byZone = (zone: string) => instancesOf().filter((i) => i.availabilityZone === zone);
    expect(byZone('us-east-1a').map((i) => i.launchTemplate?.version)).toEqual(['1', '1', '2']);
    const [protectedOne] = byZone('us-east-1a');
    await autoScaling.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: 'web',
        InstanceIds: [protectedOne!.instanceId],
        ProtectedFromScaleIn: true,
      }),
    );
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 }),
    );
    account.clock.runUntilIdle();
    const left = instancesOf();
    expect(left.map((i) => [i.availabilityZone, i.launchTemplate?.version])).toEqual([
      ['us-east-1a', '1'],
      ['us-east-1b', '2'],
    ]);
    expect(left[0]!.instanceId).toBe(protectedOne!.instanceId);
    const terminating = (await activities()).filter((a) => a.Description?.startsWith('Terminating'));
    expect(terminating).toHaveLength(4);
    expect(terminating[0]!.Cause).toMatch(
      /shrinking the capacity from 6 to 2\. {2}At \S+Z instance i-\w+ was selected for termination\.$/,
    );
  });

  it('closest to the next billing hour breaks a tie between equals (pure policy)', () => {
    const group = account.state.autoScalingGroups.get('none') ?? {
      launchTemplate: { launchTemplateId: 'lt-1', launchTemplateName: 'web', version: '1' },
    };
    const at = (minute: number, id: string): Instance => ({
      instanceId: id,
      imageId: oldImage,
      instanceType: 't3.micro',
      availabilityZone: 'us-east-1a',
      launchTime: new Date(Date.UTC(2026, 0, 1, 0, minute)),
      launchTemplate: { launchTemplateId: 'lt-1', launchTemplateName: 'web', version: '1' },
      lifecycleState: 'InService',
      healthStatus: 'Healthy',
      ec2State: 'running',
    });
    const now = Date.UTC(2026, 0, 1, 1, 30);
    // Launched at :00 (30 min into its hour), :10 (80 min: 20 into its second hour), :50 (40 min).
    const chosen = chooseForScaleIn(
      group as Parameters<typeof chooseForScaleIn>[0],
      [at(0, 'i-a'), at(10, 'i-b'), at(50, 'i-c')],
      1,
      now,
    );
    expect(chosen.map((i) => i.instanceId)).toEqual(['i-c']);
  });

  it('when every instance is protected, the desired capacity drops and nothing is terminated', async () => {
    await createGroup();
    await autoScaling.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: 'web',
        InstanceIds: instancesOf().map((i) => i.instanceId),
        ProtectedFromScaleIn: true,
      }),
    );
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }),
    );
    account.clock.runUntilIdle();
    expect((await describeGroup()).DesiredCapacity).toBe(1);
    expect(instancesOf()).toHaveLength(2);
  });

  it('NewInstancesProtectedFromScaleIn protects what the group launches from then on', async () => {
    await createGroup();
    await autoScaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web',
        NewInstancesProtectedFromScaleIn: true,
      }),
    );
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 3 }),
    );
    account.clock.runUntilIdle();
    const group = await describeGroup();
    expect(group.NewInstancesProtectedFromScaleIn).toBe(true);
    expect(group.Instances?.map((i) => i.ProtectedFromScaleIn)).toEqual([false, false, true]);
  });
});

describe('SetInstanceProtection', () => {
  it('fails with ValidationError for an instance outside the group, and changes nothing', async () => {
    await createGroup();
    await createGroup({ AutoScalingGroupName: 'api', DesiredCapacity: 1 });
    const outsider = instancesOf('api')[0]!.instanceId;
    const { code, message } = await failure(
      autoScaling.send(
        new SetInstanceProtectionCommand({
          AutoScalingGroupName: 'web',
          InstanceIds: [instancesOf()[0]!.instanceId, outsider],
          ProtectedFromScaleIn: true,
        }),
      ),
    );
    expect(code).toBe('ValidationError');
    expect(message).toContain(`The instance ${outsider} is not part of Auto Scaling group web.`);
    expect(instancesOf().some((i) => i.protectedFromScaleIn)).toBe(false);
  });
});

describe('EnterStandby and ExitStandby', () => {
  it('with ShouldDecrementDesiredCapacity: Standby, the capacity shrinks, nothing replaces it; back InService and the capacity grows', async () => {
    await createGroup({ DesiredCapacity: 3 });
    const id = instancesOf()[0]!.instanceId;
    const { Activities = [] } = await autoScaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: 'web',
        InstanceIds: [id],
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect(Activities[0]).toMatchObject({
      Description: `Moving EC2 instance to Standby: ${id}`,
      StatusCode: 'InProgress',
      Progress: 50,
    });
    expect(Activities[0]!.Cause).toMatch(
      new RegExp(
        `^At \\S+Z instance ${id} was moved to standby in response to a user request, shrinking the capacity from 3 to 2\\.$`,
      ),
    );
    account.clock.runUntilIdle();
    const group = await describeGroup();
    expect(group.DesiredCapacity).toBe(2);
    expect(group.Instances?.find((i) => i.InstanceId === id)?.LifecycleState).toBe('Standby');
    expect(instancesOf()).toHaveLength(3);

    const exit = await autoScaling.send(
      new ExitStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [id] }),
    );
    expect(exit.Activities?.[0]).toMatchObject({ StatusCode: 'PreInService', Progress: 30 });
    expect(exit.Activities?.[0]?.Cause).toMatch(/increasing the capacity from 2 to 3\.$/);
    const { AutoScalingInstances = [] } = await autoScaling.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }),
    );
    expect(AutoScalingInstances[0]?.LifecycleState).toBe('Pending');
    account.clock.runUntilIdle();
    expect((await describeGroup()).DesiredCapacity).toBe(3);
    expect(instancesOf().map((i) => i.lifecycleState)).toEqual(['InService', 'InService', 'InService']);
  });

  it('without decrementing: a replacement launches; on exit the desired capacity still grows by one, so all stay', async () => {
    await createGroup({ DesiredCapacity: 2 });
    const id = instancesOf()[0]!.instanceId;
    await autoScaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: 'web',
        InstanceIds: [id],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    account.clock.runUntilIdle();
    expect(instancesOf().map((i) => i.lifecycleState)).toEqual(['Standby', 'InService', 'InService']);
    await autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [id] }));
    account.clock.runUntilIdle();
    expect((await describeGroup()).DesiredCapacity).toBe(3);
    // "After you put the instances back in service, the desired capacity is incremented" (API ExitStandby). The
    // user guide adds that a group that did not decrement "detects that you have more instances than you need";
    // with the increment it has not, so nothing is terminated (docs/local-account.md, Fidelity: capacity).
    expect(instancesOf().filter((i) => i.lifecycleState === 'InService')).toHaveLength(3);
  });

  it('refuses to go below MinSize, an instance not InService, or one outside the group, and changes nothing', async () => {
    await createGroup({ MinSize: 2, DesiredCapacity: 2 });
    const [first] = instancesOf();
    const belowMin = await failure(
      autoScaling.send(
        new EnterStandbyCommand({
          AutoScalingGroupName: 'web',
          InstanceIds: [first!.instanceId],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    );
    expect(belowMin).toEqual({
      code: 'ValidationError',
      message:
        'AutoScalingGroup web has min-size=2, max-size=8, and desired-size=2. To place into standby 1 instances, ' +
        'please update the AutoScalingGroup sizes appropriately.',
    });
    const exitNotStandby = await failure(
      autoScaling.send(
        new ExitStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [first!.instanceId] }),
      ),
    );
    expect(exitNotStandby.message).toMatch(/is not in Standby/);
    const unknown = await failure(
      autoScaling.send(
        new EnterStandbyCommand({
          AutoScalingGroupName: 'web',
          InstanceIds: ['i-0000000000000dead'],
          ShouldDecrementDesiredCapacity: false,
        }),
      ),
    );
    expect(unknown.message).toBe('The instance i-0000000000000dead is not part of Auto Scaling group web.');
    expect(instancesOf().map((i) => i.lifecycleState)).toEqual(['InService', 'InService']);
    expect((await describeGroup()).DesiredCapacity).toBe(2);
  });
});

describe('DescribeScalingActivities', () => {
  it('pages with MaxRecords and NextToken, newest first, and picks by ActivityIds (unknown ids ignored)', async () => {
    await createGroup({ DesiredCapacity: 3 });
    const all = await activities();
    expect(all.map((a) => a.StatusCode)).toEqual(['Successful', 'Successful', 'Successful']);
    expect(all[0]!.Cause).toMatch(
      /a user request created an AutoScalingGroup changing the desired capacity from 0 to 3/,
    );
    const first = await autoScaling.send(
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'web', MaxRecords: 2 }),
    );
    expect(first.Activities).toHaveLength(2);
    const second = await autoScaling.send(
      new DescribeScalingActivitiesCommand({
        AutoScalingGroupName: 'web',
        MaxRecords: 2,
        NextToken: first.NextToken,
      }),
    );
    expect(second.Activities).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    expect([...first.Activities!, ...second.Activities!].map((a) => a.ActivityId)).toEqual(
      all.map((a) => a.ActivityId),
    );
    const picked = await autoScaling.send(
      new DescribeScalingActivitiesCommand({ ActivityIds: [all[1]!.ActivityId!, 'not-an-activity'] }),
    );
    expect(picked.Activities?.map((a) => a.ActivityId)).toEqual([all[1]!.ActivityId]);
  });

  it("leaves out a deleted group's activities unless IncludeDeletedGroups, then shows them Deleted", async () => {
    await createGroup({ DesiredCapacity: 1 });
    await autoScaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'web', ForceDelete: true }),
    );
    account.clock.runUntilIdle();
    expect(await activities()).toEqual([]);
    const { Activities = [] } = await autoScaling.send(
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'web', IncludeDeletedGroups: true }),
    );
    expect(Activities.length).toBeGreaterThanOrEqual(2);
    expect(new Set(Activities.map((a) => a.AutoScalingGroupState))).toEqual(new Set(['Deleted']));
  });

  it('shows a failed launch as Failed, with the EC2 error as StatusMessage', async () => {
    await createGroup({ DesiredCapacity: 1 });
    account.faults.add({ kind: 'launchFailure', reason: 'insufficientCapacity' });
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 2 }),
    );
    const [failed] = await activities();
    expect(failed).toMatchObject({ StatusCode: 'Failed', Progress: 100 });
    expect(failed!.Description).toMatch(
      /^Launching a new EC2 instance\. {2}Status Reason: We currently do not have sufficient capacity/,
    );
    expect(failed!.StatusMessage).toMatch(/^We currently do not have sufficient capacity/);
  });

  it('filters by Status only together with AutoScalingGroupName', async () => {
    await createGroup({ DesiredCapacity: 1 });
    const { code } = await failure(
      autoScaling.send(
        new DescribeScalingActivitiesCommand({ Filters: [{ Name: 'Status', Values: ['Failed'] }] }),
      ),
    );
    expect(code).toBe('ValidationError');
    const { Activities = [] } = await autoScaling.send(
      new DescribeScalingActivitiesCommand({
        AutoScalingGroupName: 'web',
        Filters: [{ Name: 'Status', Values: ['Failed'] }],
      }),
    );
    expect(Activities).toEqual([]);
  });
});

describe('the capacityChange fault', () => {
  it('sets the desired capacity at its minute, and the group scales', async () => {
    await createGroup();
    account.faults.add({ kind: 'capacityChange', group: 'web', atMinute: 30, desiredCapacity: 5 });
    account.clock.advanceTo(account.startTime.getTime() + 30 * 60_000 - 1000);
    expect((await describeGroup()).DesiredCapacity).toBe(2);
    account.advance(1 + LAUNCH);
    expect((await describeGroup()).DesiredCapacity).toBe(5);
    expect(liveImages()).toHaveLength(5);
    expect((await activities())[0]!.Cause).toMatch(
      /the local account's capacityChange fault \d+ set group desired capacity changing the desired capacity from 2 to 5\./,
    );
  });

  it('applies at once when its minute is already past, and clamps to MinSize/MaxSize as a scaling policy does', async () => {
    await createGroup({ MaxSize: 3 });
    account.advance(600);
    account.faults.add({ kind: 'capacityChange', group: 'web', atMinute: 1, desiredCapacity: 7 });
    expect((await describeGroup()).DesiredCapacity).toBe(3);
  });

  it('does nothing once cleared before its minute', async () => {
    await createGroup();
    const fault = account.faults.add({
      kind: 'capacityChange',
      group: 'web',
      atMinute: 20,
      desiredCapacity: 4,
    });
    account.faults.remove(fault.id);
    account.advance(3600);
    expect((await describeGroup()).DesiredCapacity).toBe(2);
  });

  it("is refused in a fleet file when outside the group's declared sizes, naming the value and the bounds", () => {
    const fleet = {
      images: [{ imageId: 'ami-0123456789abcdef0', name: 'web-1' }],
      launchTemplates: [{ name: 'web', imageId: 'ami-0123456789abcdef0' }],
      autoScalingGroups: [{ name: 'web', launchTemplate: 'web', minSize: 1, maxSize: 4, desiredCapacity: 2 }],
      faults: [{ kind: 'capacityChange', group: 'web', atMinute: 5, desiredCapacity: 9 }],
    };
    expect(() => parseFleet(fleet)).toThrow(
      /faults\[0\]\.desiredCapacity: desiredCapacity 9 must lie between minSize 1 and maxSize 4 of group "web"/,
    );
  });

  it("during another group's refresh: that group scales out from what its $Default resolves to at launch", async () => {
    await createGroup();
    await createGroup({
      AutoScalingGroupName: 'api',
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
    });
    await newDefaultVersion();
    await autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: 'api',
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' },
        },
        Preferences: { MinHealthyPercentage: 50, InstanceWarmup: 60 },
      }),
    );
    const minute = Math.ceil((account.clock.now() - account.startTime.getTime()) / 60_000) + 1;
    account.faults.add({ kind: 'capacityChange', group: 'web', atMinute: minute, desiredCapacity: 4 });
    account.advance(90);
    expect((await describeGroup('web')).DesiredCapacity).toBe(4);
    account.clock.runUntilIdle();
    // The web group was never refreshed, yet its scale-out runs the new image: AWS resolves $Default at launch.
    expect(liveImages('web')).toEqual([oldImage, oldImage, newImage, newImage]);
    const { InstanceRefreshes = [] } = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'api' }),
    );
    expect(InstanceRefreshes[0]?.Status).toBe('Successful');
  });

  it("during the group's own refresh: scale-out launches the desired configuration, and the refresh still ends Successful", async () => {
    await createGroup({
      DesiredCapacity: 4,
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
    });
    await newDefaultVersion();
    await autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: 'web',
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' },
        },
        Preferences: { MinHealthyPercentage: 50, InstanceWarmup: 60 },
      }),
    );
    account.advance(SIMULATION_TIMING.refreshStartSeconds + 5);
    // Mid-refresh (a batch of 2 under way), the group scales out by 2.
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 6 }),
    );
    const launched = (await activities()).filter((a) =>
      a.Cause?.includes('explicitly set group desired capacity'),
    );
    expect(launched).toHaveLength(2);
    account.clock.runUntilIdle();
    const { InstanceRefreshes = [] } = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }),
    );
    expect(InstanceRefreshes[0]?.Status).toBe('Successful');
    expect(liveImages()).toEqual(Array(6).fill(newImage));
    expect((await describeGroup()).LaunchTemplate?.Version).toBe('2');
  });

  it('during a launch-before-terminate refresh: each replacement counts once, so a scale-out adds only what it asks', async () => {
    await createGroup({
      DesiredCapacity: 4,
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
    });
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: template.launchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: newImage },
      }),
    );
    await autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: 'web',
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' },
        },
        Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 150, InstanceWarmup: 60 },
      }),
    );
    account.advance(SIMULATION_TIMING.refreshStartSeconds + 5);
    // 4 old instances and 2 new ones launched first: 6 instances, 4 of capacity.
    expect(liveImages()).toHaveLength(6);
    await autoScaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 5 }),
    );
    const capacityActivities = (await activities()).filter((a) =>
      a.Cause?.includes('explicitly set group desired capacity'),
    );
    expect(capacityActivities.map((a) => a.Description?.split(':')[0])).toEqual([
      'Launching a new EC2 instance',
    ]);
    expect(capacityActivities[0]!.Cause).toMatch(/increasing the capacity from 4 to 5\./);
    account.clock.runUntilIdle();
    const { InstanceRefreshes = [] } = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }),
    );
    expect(InstanceRefreshes[0]?.Status).toBe('Successful');
    expect(liveImages()).toEqual(Array(5).fill(newImage));
  });

  it("during the group's own refresh: scale-in takes old instances first and the group ends at the new size, all new", async () => {
    await createGroup({
      DesiredCapacity: 4,
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
    });
    await newDefaultVersion();
    await autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: 'web',
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' },
        },
        Preferences: { MinHealthyPercentage: 50, InstanceWarmup: 60 },
      }),
    );
    const minute = Math.ceil((account.clock.now() - account.startTime.getTime()) / 60_000);
    account.advance(SIMULATION_TIMING.refreshStartSeconds + 5);
    account.faults.add({ kind: 'capacityChange', group: 'web', atMinute: minute, desiredCapacity: 2 });
    account.clock.runUntilIdle();
    const { InstanceRefreshes = [] } = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }),
    );
    expect(InstanceRefreshes[0]?.Status).toBe('Successful');
    expect(liveImages()).toEqual([newImage, newImage]);
  });
});
