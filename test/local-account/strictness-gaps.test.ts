/**
 * Smaller places where the local account was stricter or kinder than AWS, and the fleet file's health settings:
 * through the real SDK clients.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';

describe('ModifyLaunchTemplate', () => {
  it('refuses $Latest and $Default as the default version, as EC2 does, and changes nothing', async () => {
    const account = createLocalAccount();
    const ec2 = new EC2Client(inProcessClientConfig(account));
    const template = addLaunchTemplate(account, {
      name: 'web',
      imageId: addImage(account, { name: 'a' }).imageId,
    });
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: template.launchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: { InstanceType: 't3.small' },
      }),
    );
    for (const version of ['$Latest', '$Default']) {
      await expect(
        ec2.send(
          new ModifyLaunchTemplateCommand({
            LaunchTemplateId: template.launchTemplateId,
            DefaultVersion: version,
          }),
        ),
      ).rejects.toThrow(`Could not find the specified version ${version}`);
      expect(account.calls.at(-1)?.errorCode).toBe('InvalidLaunchTemplateId.VersionNotFound');
    }
    const { LaunchTemplates = [] } = await ec2.send(
      new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [template.launchTemplateId] }),
    );
    expect(LaunchTemplates[0]?.DefaultVersionNumber).toBe(1);
    await ec2.send(
      new ModifyLaunchTemplateCommand({ LaunchTemplateId: template.launchTemplateId, DefaultVersion: '2' }),
    );
    expect(template.defaultVersion).toBe(2);
  });
});

describe('Step Functions names', () => {
  const definition = JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });
  const roleArn = 'arn:aws:iam::123456789012:role/sfn';

  it("accepts AWS's names, such as rollout-ami.1, and refuses the characters AWS refuses", async () => {
    const sfn = new SFNClient(inProcessClientConfig(createLocalAccount()));
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: 'rollout-ami.1', definition, roleArn }),
    );
    expect(stateMachineArn).toMatch(/:stateMachine:rollout-ami\.1$/);
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name: 'ami-0a1b.2026-11-26' }),
    );
    expect(executionArn).toMatch(/:ami-0a1b\.2026-11-26$/);
    for (const name of ['has space', 'a/b', 'a:b', 'x$y', 'q?', 'tab\t', 'x'.repeat(81), '']) {
      await expect(sfn.send(new CreateStateMachineCommand({ name, definition, roleArn }))).rejects.toThrow();
    }
  });
});

describe('the fleet file', () => {
  const fleet = {
    images: [{ imageId: 'ami-0000000000000c001', name: 'app' }],
    launchTemplates: [{ name: 'web', imageId: 'ami-0000000000000c001' }],
    targetGroups: [{ name: 'web', healthCheckIntervalSeconds: 10, healthyThresholdCount: 2 }],
    autoScalingGroups: [
      {
        name: 'web',
        launchTemplate: 'web',
        minSize: 2,
        maxSize: 4,
        desiredCapacity: 2,
        healthCheckType: 'ELB',
        healthCheckGracePeriodSeconds: 30,
        targetGroups: ['web'],
      },
      { name: 'worker', launchTemplate: 'web', minSize: 1, maxSize: 2, desiredCapacity: 1 },
    ],
  };

  it('declares target groups behind load balancers and groups with ELB health checks', async () => {
    const account = await createLocalAccountFromFleet(parseFleet(fleet));
    const config = inProcessClientConfig(account);
    const { AutoScalingGroups = [] } = await new AutoScalingClient(config).send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web', 'worker'] }),
    );
    const elb = new ElasticLoadBalancingV2Client(config);
    const { TargetGroups = [] } = await elb.send(new DescribeTargetGroupsCommand({ Names: ['web'] }));
    expect(TargetGroups[0]?.LoadBalancerArns).toHaveLength(1);
    expect(
      AutoScalingGroups.map((g) => [g.HealthCheckType, g.HealthCheckGracePeriod, g.TargetGroupARNs]),
    ).toEqual([
      ['ELB', 30, [TargetGroups[0]!.TargetGroupArn]],
      ['EC2', 0, []],
    ]);
    const { TargetHealthDescriptions = [] } = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: TargetGroups[0]!.TargetGroupArn! }),
    );
    expect(TargetHealthDescriptions.map((d) => d.TargetHealth?.State)).toEqual(['healthy', 'healthy']);
  });

  it('names a target group a group refers to but the file does not declare', () => {
    expect(() =>
      parseFleet({
        ...fleet,
        autoScalingGroups: [{ ...fleet.autoScalingGroups[0], targetGroups: ['api'] }],
      }),
    ).toThrow('autoScalingGroups[0].targetGroups[0]: target group "api" is not declared under targetGroups');
  });
});
