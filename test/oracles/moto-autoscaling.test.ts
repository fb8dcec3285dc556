/**
 * Differential test against moto_server: the same Auto Scaling capacity calls (sizes in UpdateAutoScalingGroup,
 * SetDesiredCapacity, EnterStandby/ExitStandby, SetInstanceProtection, a template's default version moving under
 * a `$Default` group) against moto and against the local account, and the answers compared where both model them.
 *
 * Where moto differs from what AWS documents, the local account follows AWS and the difference is asserted
 * here, with its source, so it cannot drift silently. Left out: generated ids, timestamps, availability zones,
 * and activity wording (moto's Cause texts are its own).
 */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateImageCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage } from '../../src/local-account/seed.ts';
import { missing, resetMoto, startMoto, type RunningMoto } from '../support/tools.ts';

const noMoto = missing('moto', 'moto differential test of capacity (test/oracles/moto-autoscaling.test.ts)');

interface Clients {
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
}

type Config =
  | ReturnType<typeof inProcessClientConfig>
  | {
      region: string;
      endpoint: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
    };

const clientsFor = (config: Config): Clients => ({
  autoScaling: new AutoScalingClient(config),
  ec2: new EC2Client(config),
});

const GROUP = 'diff-capacity';

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { Code?: string };
    return e.Code ?? e.name;
  }
  return 'no error';
}

/**
 * The calls, and after each what the group looks like: sizes, and its instances as (state, launch template
 * version, protected) sorted. `settle` lets the local account's virtual time run (moto changes state at once).
 */
async function scenario(
  clients: Clients,
  images: { readonly v1: string; readonly v2: string },
  settle: () => void,
): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  const { autoScaling, ec2 } = clients;
  const { LaunchTemplate } = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'diff-capacity',
      LaunchTemplateData: { ImageId: images.v1, InstanceType: 't3.micro' },
    }),
  );
  const templateId = LaunchTemplate!.LaunchTemplateId!;
  const view = async () => {
    settle();
    const group = (
      await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }))
    ).AutoScalingGroups![0]!;
    return {
      min: group.MinSize,
      max: group.MaxSize,
      desired: group.DesiredCapacity,
      version: group.LaunchTemplate?.Version,
      instances: (group.Instances ?? [])
        .map((i) =>
          `${i.LifecycleState} v${i.LaunchTemplate?.Version} ${i.ProtectedFromScaleIn ? 'protected' : ''}`.trim(),
        )
        .sort(),
    };
  };
  const instanceIds = async (state = 'InService') => {
    const { AutoScalingInstances = [] } = await autoScaling.send(new DescribeAutoScalingInstancesCommand({}));
    return AutoScalingInstances.filter((i) => i.AutoScalingGroupName === GROUP && i.LifecycleState === state)
      .map((i) => i.InstanceId!)
      .sort();
  };

  await autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: GROUP,
      LaunchTemplate: { LaunchTemplateId: templateId, Version: '$Default' },
      MinSize: 1,
      MaxSize: 5,
      DesiredCapacity: 2,
      AvailabilityZones: ['us-east-1a', 'us-east-1b'],
    }),
  );
  seen['created'] = await view();
  await autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, MinSize: 3 }));
  seen['MinSize above the size'] = await view();
  await autoScaling.send(
    new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, MaxSize: 4, DesiredCapacity: 4 }),
  );
  seen['MaxSize and desired'] = await view();
  await autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, MinSize: 1 }));
  await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 2 }));
  seen['scaled in'] = await view();

  const [first] = await instanceIds();
  const entered = await autoScaling.send(
    new EnterStandbyCommand({
      AutoScalingGroupName: GROUP,
      InstanceIds: [first!],
      ShouldDecrementDesiredCapacity: true,
    }),
  );
  seen['EnterStandby answer'] = entered.Activities?.map((a) => a.Description?.replace(/i-\w+/, 'i-*'));
  seen['standby, decremented'] = await view();
  const exited = await autoScaling.send(
    new ExitStandbyCommand({ AutoScalingGroupName: GROUP, InstanceIds: [first!] }),
  );
  seen['ExitStandby answer'] = exited.Activities?.map((a) => a.Description?.replace(/i-\w+/, 'i-*'));
  seen['back in service'] = await view();
  await autoScaling.send(
    new EnterStandbyCommand({
      AutoScalingGroupName: GROUP,
      InstanceIds: [first!],
      ShouldDecrementDesiredCapacity: false,
    }),
  );
  seen['standby, replaced'] = await view();
  await autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: GROUP, InstanceIds: [first!] }));
  seen['back, not decremented before'] = await view();

  const [toProtect] = await instanceIds();
  await autoScaling.send(
    new SetInstanceProtectionCommand({
      AutoScalingGroupName: GROUP,
      InstanceIds: [toProtect!],
      ProtectedFromScaleIn: true,
    }),
  );
  seen['protected'] = await view();

  await ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: templateId,
      SourceVersion: '1',
      LaunchTemplateData: { ImageId: images.v2 },
    }),
  );
  await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: templateId, DefaultVersion: '2' }));
  await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 4 }));
  seen['scaled out after the default moved'] = await view();
  await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 1 }));
  seen['scaled in to one'] = await view();
  // Last, as moto accepts it and grows the group past MaxSize.
  seen['above max'] = await errorCode(
    autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: GROUP, DesiredCapacity: 9 })),
  );
  return seen;
}

describe.skipIf(noMoto)('moto and the local account: Auto Scaling capacity', () => {
  let moto: RunningMoto;
  let account: LocalAccount;

  beforeAll(async () => {
    moto = await startMoto();
    await resetMoto(moto.endpoint);
    account = createLocalAccount();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('answer alike where both model it; where moto departs from AWS, the local account follows AWS', async () => {
    const motoClients = clientsFor({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const { Images } = await motoClients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const base = Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    const { Instances } = await motoClients.ec2.send(
      new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
    );
    const motoImage = async (name: string) =>
      (
        await motoClients.ec2.send(
          new CreateImageCommand({ InstanceId: Instances![0]!.InstanceId!, Name: name }),
        )
      ).ImageId!;
    const reference = await scenario(
      motoClients,
      { v1: await motoImage('v1'), v2: await motoImage('v2') },
      () => {},
    );
    const local = await scenario(
      clientsFor(inProcessClientConfig(account)),
      { v1: addImage(account, { name: 'v1' }).imageId, v2: addImage(account, { name: 'v2' }).imageId },
      () => account.clock.runUntilIdle(),
    );
    // Anchors, so agreement cannot come from both emulators failing the same way.
    expect(local['MinSize above the size']).toMatchObject({ min: 3, desired: 3 });
    expect(local['standby, decremented']).toMatchObject({
      desired: 1,
      instances: ['InService v1', 'Standby v1'],
    });
    expect(local['back, not decremented before']).toMatchObject({ desired: 3 });

    // Where moto departs from AWS (each asserted, so a moto upgrade that fixes it shows up here):
    const departures = {
      // moto writes "StandBy"; AWS writes "Standby" (botocore examples-1.json, EnterStandby/ExitStandby; UG).
      'EnterStandby answer': [
        ['Moving EC2 instance to Standby: i-*'],
        ['Moving EC2 instance to StandBy: i-*'],
      ],
      'ExitStandby answer': [
        ['Moving EC2 instance out of Standby: i-*'],
        ['Moving EC2 instance out of StandBy: i-*'],
      ],
      // moto accepts a desired capacity above MaxSize; AWS refuses it ("This number must be greater than or
      // equal to the minimum size of the group and less than or equal to the maximum size", API DesiredCapacity).
      'above max': ['ValidationError', 'no error'],
      // moto shows every instance on the version $Default resolves to now; AWS keeps what each was launched
      // with ("Existing instances continue to run with the configuration that they were originally launched
      // with", API UpdateAutoScalingGroup): one new v2 instance beside the v1 ones, and the protected v1 stays.
      'scaled out after the default moved': [
        {
          min: 1,
          max: 4,
          desired: 4,
          version: '$Default',
          instances: ['InService v1', 'InService v1', 'InService v1 protected', 'InService v2'],
        },
        {
          min: 1,
          max: 4,
          desired: 4,
          version: '$Default',
          instances: ['InService v2', 'InService v2', 'InService v2', 'InService v2 protected'],
        },
      ],
      'scaled in to one': [
        { min: 1, max: 4, desired: 1, version: '$Default', instances: ['InService v1 protected'] },
        { min: 1, max: 4, desired: 1, version: '$Default', instances: ['InService v2 protected'] },
      ],
    } as const;
    for (const [key, [ours, moto]] of Object.entries(departures)) {
      expect([key, local[key]]).toEqual([key, ours]);
      expect([key, reference[key]]).toEqual([key, moto]);
    }
    // Everything else alike.
    const without = (seen: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(seen).filter(([key]) => !(key in departures)));
    expect(without(local)).toEqual(without(reference));
  });
});
