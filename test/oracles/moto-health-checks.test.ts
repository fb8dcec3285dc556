/**
 * Differential test against moto_server: the same Auto Scaling and ELBv2 calls (group health settings, target
 * groups, registration of the group's instances) against moto and against the local account, and the answers
 * compared where moto models them.
 *
 * Left out of the comparison, with the reason: target health states (moto reports registered instances healthy at
 * once, with no health checks or thresholds; AWS starts them `initial`, ELBv2 API reference, TargetHealth), and
 * generated ids and ARNs.
 */
import {
  AttachLoadBalancerTargetGroupsCommand,
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLoadBalancerTargetGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateImageCommand,
  CreateLaunchTemplateCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage } from '../../src/local-account/seed.ts';
import { missing, resetMoto, startMoto, type RunningMoto } from '../support/tools.ts';

const noMoto = missing(
  'moto',
  'moto differential test of health settings (test/oracles/moto-health-checks.test.ts)',
);

interface Clients {
  readonly autoScaling: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly ec2: EC2Client;
}

/** What every client here takes: a region, an endpoint or in-process handler, and credentials. */
type Config =
  | ReturnType<typeof inProcessClientConfig>
  | {
      region: string;
      endpoint: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
    };
const clientsFor = (config: Config): Clients => ({
  autoScaling: new AutoScalingClient(config),
  elb: new ElasticLoadBalancingV2Client(config),
  ec2: new EC2Client(config),
});

/** The calls, with what each answered that both emulators model. */
async function scenario(clients: Clients, imageId: string, vpcId: string): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  const { LaunchTemplate } = await clients.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'diff-web',
      LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
    }),
  );
  const created = async (name: string) =>
    (
      await clients.elb.send(
        new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: vpcId }),
      )
    ).TargetGroups![0]!;
  const web = await created('diff-web');
  const extra = await created('diff-extra');
  seen['target group'] = {
    protocol: web.Protocol,
    port: web.Port,
    interval: web.HealthCheckIntervalSeconds,
    healthy: web.HealthyThresholdCount,
    unhealthy: web.UnhealthyThresholdCount,
    path: web.HealthCheckPath,
    matcher: web.Matcher,
    targetType: web.TargetType,
  };
  await clients.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'diff-web',
      LaunchTemplate: { LaunchTemplateId: LaunchTemplate!.LaunchTemplateId!, Version: '1' },
      MinSize: 2,
      MaxSize: 4,
      DesiredCapacity: 2,
      AvailabilityZones: ['us-east-1a', 'us-east-1b'],
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 120,
      TargetGroupARNs: [web.TargetGroupArn!],
    }),
  );
  const groupView = async () => {
    const group = (
      await clients.autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['diff-web'] }),
      )
    ).AutoScalingGroups![0]!;
    return {
      type: group.HealthCheckType,
      grace: group.HealthCheckGracePeriod,
      targetGroups: (group.TargetGroupARNs ?? []).map((arn) =>
        arn === web.TargetGroupArn ? 'web' : 'extra',
      ),
      instances: group.Instances?.length,
    };
  };
  seen['created'] = await groupView();
  seen['registered'] = (
    await clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: web.TargetGroupArn! }))
  ).TargetHealthDescriptions?.length;
  await clients.autoScaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: 'diff-web',
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 30,
    }),
  );
  seen['updated'] = await groupView();
  await clients.autoScaling.send(
    new AttachLoadBalancerTargetGroupsCommand({
      AutoScalingGroupName: 'diff-web',
      TargetGroupARNs: [extra.TargetGroupArn!],
    }),
  );
  seen['attached'] = (
    await clients.autoScaling.send(
      new DescribeLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: 'diff-web' }),
    )
  ).LoadBalancerTargetGroups?.map((t) =>
    t.LoadBalancerTargetGroupARN === web.TargetGroupArn ? 'web' : 'extra',
  );
  seen['registered with the attached one'] = (
    await clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: extra.TargetGroupArn! }))
  ).TargetHealthDescriptions?.length;
  await clients.autoScaling.send(
    new DetachLoadBalancerTargetGroupsCommand({
      AutoScalingGroupName: 'diff-web',
      TargetGroupARNs: [web.TargetGroupArn!],
    }),
  );
  seen['detached'] = (await groupView()).targetGroups;
  return seen;
}

describe.skipIf(noMoto)(
  'moto and the local account: group health settings and target group registration',
  () => {
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

    it('answer alike', async () => {
      const motoClients = clientsFor({
        region: 'us-east-1',
        endpoint: moto.endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      // moto checks the VpcId of a target group and launches from an image of its own; the local account models
      // no VPCs and is seeded with its images.
      const vpcId = (await motoClients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!
        .VpcId!;
      const { Images } = await motoClients.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
      const base = Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
      const { Instances } = await motoClients.ec2.send(
        new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }),
      );
      const motoImage = (
        await motoClients.ec2.send(
          new CreateImageCommand({ InstanceId: Instances![0]!.InstanceId!, Name: 'web' }),
        )
      ).ImageId!;
      const reference = await scenario(motoClients, motoImage, vpcId);

      const localClients = clientsFor(inProcessClientConfig(account));
      const localImage = addImage(account, { name: 'web' }).imageId;
      const local = await scenario(localClients, localImage, 'vpc-0123456789abcdef0');
      // Instances register once InService (30 s in the local account); read registration again after that.
      account.advance(60);

      // An anchor, so agreement cannot come from two implementations failing the same way.
      expect(local['created']).toEqual({ type: 'ELB', grace: 120, targetGroups: ['web'], instances: 2 });
      // The local account registers instances when they are InService, 30 s after launch (as the brief for the
      // account has it); moto at launch. So right after the calls it has registered none yet, moto both.
      const registration = ['registered', 'registered with the attached one'] as const;
      expect(registration.map((key) => [local[key], reference[key]])).toEqual([
        [0, 2],
        [0, 2],
      ]);
      expect(local).toEqual({ ...reference, registered: 0, 'registered with the attached one': 0 });
      expect(
        (
          await localClients.elb.send(
            new DescribeTargetHealthCommand({
              TargetGroupArn: [...account.state.targetGroups.values()].find(
                (g) => g.targetGroupName === 'diff-extra',
              )!.targetGroupArn,
            }),
          )
        ).TargetHealthDescriptions?.length,
      ).toBe(2);
    });
  },
);
