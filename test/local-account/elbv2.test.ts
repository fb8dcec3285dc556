/**
 * Elastic Load Balancing v2 in the local account, through the real SDK v3 client over the query protocol:
 * target groups, load balancers and listeners, registration, and target health in AWS's states and reason codes.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';

let account: LocalAccount;
let elb: ElasticLoadBalancingV2Client;
let imageId: string;

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    // The wire code is what the account sent; the SDK names its exception class after the model's shape.
    const code = account.calls.at(-1)?.errorCode ?? '';
    return { code, message: `${(error as Error).name}: ${(error as Error).message}` };
  }
  throw new Error('expected the call to fail');
}

async function createTargetGroup(name = 'web', extra: Record<string, unknown> = {}): Promise<string> {
  const { TargetGroups = [] } = await elb.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: 'vpc-0123456789abcdef0',
      ...extra,
    }),
  );
  return TargetGroups[0]!.TargetGroupArn!;
}

async function behindLoadBalancer(targetGroupArn: string, name = 'web-alb'): Promise<void> {
  const { LoadBalancers = [] } = await elb.send(
    new CreateLoadBalancerCommand({ Name: name, Subnets: ['subnet-1', 'subnet-2'] }),
  );
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: LoadBalancers[0]!.LoadBalancerArn!,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    }),
  );
}

/** Instances of a one-instance-per-zone group with no target groups, InService. */
async function instances(count: number): Promise<string[]> {
  const template = addLaunchTemplate(account, { name: `lt-${count}`, imageId });
  await new AutoScalingClient(inProcessClientConfig(account)).send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: `plain-${count}`,
      LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '1' },
      MinSize: count,
      MaxSize: count,
      DesiredCapacity: count,
    }),
  );
  account.clock.runUntilIdle();
  return account.state.autoScalingGroups.get(`plain-${count}`)!.instanceIds;
}

async function health(targetGroupArn: string): Promise<TargetHealthDescription[]> {
  const { TargetHealthDescriptions = [] } = await elb.send(
    new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
  );
  return TargetHealthDescriptions;
}

const states = async (arn: string) =>
  (await health(arn)).map((d) => [d.TargetHealth?.State, d.TargetHealth?.Reason]);

beforeEach(() => {
  account = createLocalAccount();
  elb = new ElasticLoadBalancingV2Client(inProcessClientConfig(account));
  imageId = addImage(account, { name: 'app' }).imageId;
});

describe('CreateTargetGroup / DescribeTargetGroups', () => {
  it("creates a target group with AWS's HTTP health check defaults", async () => {
    const arn = await createTargetGroup();
    expect(arn).toMatch(
      /^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/web\/[0-9a-f]{16}$/,
    );
    const { TargetGroups = [] } = await elb.send(new DescribeTargetGroupsCommand({ Names: ['web'] }));
    expect(TargetGroups[0]).toMatchObject({
      TargetGroupName: 'web',
      Protocol: 'HTTP',
      Port: 80,
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckPath: '/',
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 6,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: '200' },
      TargetType: 'instance',
      LoadBalancerArns: [],
    });
  });

  it('is idempotent for the same settings, and refuses the same name with others', async () => {
    const arn = await createTargetGroup();
    expect(await createTargetGroup()).toBe(arn);
    const refused = await failure(createTargetGroup('web', { Port: 8080 }));
    expect(refused.code).toBe('DuplicateTargetGroupName');
  });

  it('refuses a bad name, a timeout not below the interval, and answers TargetGroupNotFound', async () => {
    expect((await failure(createTargetGroup('-web'))).code).toBe('ValidationError');
    expect(
      (
        await failure(
          createTargetGroup('web', { HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 10 }),
        )
      ).code,
    ).toBe('InvalidConfigurationRequest');
    expect(account.state.targetGroups.size).toBe(0);
    const missing = await failure(elb.send(new DescribeTargetGroupsCommand({ Names: ['nope'] })));
    expect(missing.code).toBe('TargetGroupNotFound');
  });

  it('has deregistration_delay.timeout_seconds 300 by default, and changes it', async () => {
    const arn = await createTargetGroup();
    const read = async () =>
      (await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))).Attributes?.find(
        (a) => a.Key === 'deregistration_delay.timeout_seconds',
      )?.Value;
    expect(await read()).toBe('300');
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
      }),
    );
    expect(await read()).toBe('30');
    const bad = await failure(
      elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: arn,
          Attributes: [{ Key: 'no.such', Value: '1' }],
        }),
      ),
    );
    expect(bad.code).toBe('ValidationError');
  });

  it('refuses to delete a target group a listener uses', async () => {
    const arn = await createTargetGroup();
    await behindLoadBalancer(arn);
    expect((await failure(elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })))).code).toBe(
      'ResourceInUse',
    );
  });
});

describe('target health', () => {
  it('is unused (Target.NotInUse) while no load balancer uses the target group', async () => {
    const arn = await createTargetGroup();
    const [id] = await instances(1);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id! }] }));
    expect(await states(arn)).toEqual([['unused', 'Target.NotInUse']]);
  });

  it('goes initial -> healthy after HealthyThresholdCount checks at the interval', async () => {
    const arn = await createTargetGroup('web', { HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3 });
    await behindLoadBalancer(arn);
    const [id] = await instances(1);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id! }] }));
    expect(await states(arn)).toEqual([['initial', 'Elb.RegistrationInProgress']]);
    account.advance(10);
    expect(await states(arn)).toEqual([['initial', 'Elb.InitialHealthChecking']]);
    account.advance(19);
    expect((await states(arn))[0]![0]).toBe('initial');
    account.advance(1);
    const [row] = await health(arn);
    expect(row).toMatchObject({
      Target: { Id: id, Port: 80 },
      HealthCheckPort: '80',
      TargetHealth: { State: 'healthy' },
    });
    expect(row?.TargetHealth?.Reason).toBeUndefined();
  });

  it('turns unhealthy (Target.ResponseCodeMismatch, HTTP 500) after UnhealthyThresholdCount checks when the app fails', async () => {
    const arn = await createTargetGroup();
    await behindLoadBalancer(arn);
    const [id] = await instances(1);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id! }] }));
    account.advance(150);
    expect((await states(arn))[0]![0]).toBe('healthy');
    account.faults.add({ kind: 'appFailure', imageId });
    account.advance(59);
    expect((await states(arn))[0]![0]).toBe('healthy');
    account.advance(1);
    const [row] = await health(arn);
    expect(row?.TargetHealth).toEqual({
      State: 'unhealthy',
      Reason: 'Target.ResponseCodeMismatch',
      Description: 'Health checks failed with these codes: [500]',
    });
  });

  it('drains a deregistered target for the deregistration delay, then forgets it', async () => {
    const arn = await createTargetGroup();
    await behindLoadBalancer(arn);
    const [id] = await instances(1);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id! }] }));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id! }] }));
    expect(await states(arn)).toEqual([['draining', 'Target.DeregistrationInProgress']]);
    account.advance(300);
    expect(await health(arn)).toEqual([]);
    const { TargetHealthDescriptions = [] } = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: [{ Id: id! }] }),
    );
    expect(TargetHealthDescriptions[0]?.TargetHealth).toMatchObject({
      State: 'unused',
      Reason: 'Target.NotRegistered',
    });
  });

  it('refuses to register an instance that does not exist or is not running', async () => {
    const arn = await createTargetGroup();
    const refused = await failure(
      elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: 'i-0123456789abcdef0' }] })),
    );
    expect(refused.code).toBe('InvalidTarget');
    expect(refused.message).toContain('i-0123456789abcdef0');
  });

  it('lets a target group serve one load balancer only', async () => {
    const arn = await createTargetGroup();
    await behindLoadBalancer(arn, 'first');
    const refused = await failure(behindLoadBalancer(arn, 'second'));
    expect(refused.code).toBe('TargetGroupAssociationLimit');
  });
});
