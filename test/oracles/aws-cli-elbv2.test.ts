/**
 * The AWS CLI (botocore's own query serializer and XML parser) against Elastic Load Balancing v2 and the ELB
 * health settings of Auto Scaling on a running emulator: agreement means the wire format is AWS's, not merely
 * something the JS SDK tolerates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  createLocalAccount,
  inProcessClientConfig,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import type { RunningEmulator } from '../../src/local-account/server.ts';
import { addImage, addLaunchTemplate } from '../../src/local-account/seed.ts';
import { cliError, missing, runAws } from '../support/tools.ts';

const noCli = missing('aws', 'AWS CLI oracle for ELBv2 (test/oracles/aws-cli-elbv2.test.ts)');

let account: LocalAccount;
let emulator: RunningEmulator;

const aws = (...args: string[]) => runAws(emulator.endpoint, args);

async function ok(...args: string[]): Promise<Record<string, unknown>> {
  const result = await aws(...args);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return (result.json ?? {}) as Record<string, unknown>;
}

describe.skipIf(noCli)('the AWS CLI against ELBv2 on the local account', () => {
  let targetGroupArn: string;

  beforeAll(async () => {
    account = createLocalAccount();
    emulator = await serve(account, 0);
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('creates a target group, a load balancer and a forward listener', async () => {
    const created = await ok(
      'elbv2',
      'create-target-group',
      '--name',
      'web',
      '--protocol',
      'HTTP',
      '--port',
      '80',
      '--vpc-id',
      'vpc-0123456789abcdef0',
      '--health-check-interval-seconds',
      '10',
      '--healthy-threshold-count',
      '2',
    );
    const [group] = created['TargetGroups'] as Record<string, unknown>[];
    expect(group).toMatchObject({
      TargetGroupName: 'web',
      HealthCheckIntervalSeconds: 10,
      HealthyThresholdCount: 2,
    });
    targetGroupArn = group!['TargetGroupArn'] as string;
    const lb = await ok(
      'elbv2',
      'create-load-balancer',
      '--name',
      'web',
      '--subnets',
      'subnet-1',
      'subnet-2',
    );
    const lbArn = (lb['LoadBalancers'] as Record<string, unknown>[])[0]!['LoadBalancerArn'] as string;
    await ok(
      'elbv2',
      'create-listener',
      '--load-balancer-arn',
      lbArn,
      '--protocol',
      'HTTP',
      '--port',
      '80',
      '--default-actions',
      `Type=forward,TargetGroupArn=${targetGroupArn}`,
    );
    const described = await ok('elbv2', 'describe-target-groups', '--names', 'web');
    expect((described['TargetGroups'] as Record<string, unknown>[])[0]!['LoadBalancerArns']).toEqual([lbArn]);
  });

  it('registers an Auto Scaling group with ELB health checks and reports its targets initial, then healthy', async () => {
    const image = addImage(account, { name: 'app' });
    const template = addLaunchTemplate(account, { name: 'web', imageId: image.imageId });
    await ok(
      'autoscaling',
      'create-auto-scaling-group',
      '--auto-scaling-group-name',
      'web',
      '--launch-template',
      `LaunchTemplateId=${template.launchTemplateId},Version=1`,
      '--min-size',
      '2',
      '--max-size',
      '2',
      '--health-check-type',
      'ELB',
      '--health-check-grace-period',
      '30',
      '--target-group-arns',
      targetGroupArn,
    );
    account.advance(30);
    const initial = await ok('elbv2', 'describe-target-health', '--target-group-arn', targetGroupArn);
    const rows = initial['TargetHealthDescriptions'] as { TargetHealth: { State: string; Reason: string } }[];
    expect(rows.map((r) => [r.TargetHealth.State, r.TargetHealth.Reason])).toEqual([
      ['initial', 'Elb.RegistrationInProgress'],
      ['initial', 'Elb.RegistrationInProgress'],
    ]);
    account.advance(20);
    const healthy = await ok('elbv2', 'describe-target-health', '--target-group-arn', targetGroupArn);
    expect(
      (healthy['TargetHealthDescriptions'] as { TargetHealth: { State: string } }[]).map(
        (r) => r.TargetHealth.State,
      ),
    ).toEqual(['healthy', 'healthy']);
    const group = await ok(
      'autoscaling',
      'describe-auto-scaling-groups',
      '--auto-scaling-group-names',
      'web',
    );
    expect((group['AutoScalingGroups'] as Record<string, unknown>[])[0]).toMatchObject({
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 30,
      TargetGroupARNs: [targetGroupArn],
    });
  });

  it('registers and deregisters instances by hand, and describes chosen targets', async () => {
    // Set up through the SDK (the CLI created these in the first test), so the CLI runs here are the ones under
    // test. A target group no load balancer uses reports its targets unused (Target.NotInUse): it gets a listener.
    const elb = new ElasticLoadBalancingV2Client(inProcessClientConfig(account));
    const { TargetGroups = [] } = await elb.send(
      new CreateTargetGroupCommand({
        Name: 'manual',
        Protocol: 'HTTP',
        Port: 8080,
        VpcId: 'vpc-0123456789abcdef0',
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 2,
      }),
    );
    const arn = TargetGroups[0]!.TargetGroupArn!;
    const { LoadBalancers = [] } = await elb.send(
      new CreateLoadBalancerCommand({ Name: 'manual', Subnets: ['subnet-1', 'subnet-2'] }),
    );
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: LoadBalancers[0]!.LoadBalancerArn!,
        Protocol: 'HTTP',
        Port: 8080,
        DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }],
      }),
    );
    await ok(
      'elbv2',
      'modify-target-group-attributes',
      '--target-group-arn',
      arn,
      '--attributes',
      'Key=deregistration_delay.timeout_seconds,Value=30',
    );
    // The web group's instances (launched in the test before), registered a second time, by hand.
    const [first, second] = account.state.autoScalingGroups.get('web')!.instanceIds;
    await ok(
      'elbv2',
      'register-targets',
      '--target-group-arn',
      arn,
      '--targets',
      `Id=${first}`,
      `Id=${second},Port=9090`,
    );
    const health = async (...targets: string[]) =>
      (
        (
          await ok(
            'elbv2',
            'describe-target-health',
            '--target-group-arn',
            arn,
            ...(targets.length > 0 ? ['--targets', ...targets] : []),
          )
        )['TargetHealthDescriptions'] as {
          Target: { Id: string; Port: number };
          TargetHealth: { State: string; Reason?: string };
        }[]
      ).map((r) => [r.Target.Id, r.Target.Port, r.TargetHealth.State, r.TargetHealth.Reason]);
    expect(await health()).toEqual([
      [first, 8080, 'initial', 'Elb.RegistrationInProgress'],
      [second, 9090, 'initial', 'Elb.RegistrationInProgress'],
    ]);
    account.advance(20);
    expect(await health(`Id=${second},Port=9090`)).toEqual([[second, 9090, 'healthy', undefined]]);
    await ok('elbv2', 'deregister-targets', '--target-group-arn', arn, '--targets', `Id=${first}`);
    expect(await health(`Id=${first}`)).toEqual([
      [first, 8080, 'draining', 'Target.DeregistrationInProgress'],
    ]);
    account.advance(30);
    expect(await health(`Id=${first}`, `Id=${second},Port=9090`)).toEqual([
      [first, 8080, 'unused', 'Target.NotRegistered'],
      [second, 9090, 'healthy', undefined],
    ]);
    const notRunning = await aws(
      'elbv2',
      'register-targets',
      '--target-group-arn',
      arn,
      '--targets',
      'Id=i-0000000000000dead',
    );
    expect(cliError(notRunning.stderr)).toMatchObject({
      code: 'InvalidTarget',
      operation: 'RegisterTargets',
    });
    // Eight CLI runs: each starts a Python interpreter, seconds apiece on a loaded machine.
  }, 180_000);

  it("answers errors in ELBv2's error envelope, as botocore reads them", async () => {
    const missingGroup = await aws('elbv2', 'describe-target-groups', '--names', 'nope');
    expect(missingGroup.exitCode).not.toBe(0);
    expect(cliError(missingGroup.stderr)).toEqual({
      code: 'TargetGroupNotFound',
      operation: 'DescribeTargetGroups',
      message: 'One or more target groups not found',
    });
    const duplicate = await aws(
      'elbv2',
      'create-target-group',
      '--name',
      'web',
      '--protocol',
      'HTTP',
      '--port',
      '8080',
    );
    expect(cliError(duplicate.stderr)?.code).toBe('DuplicateTargetGroupName');
  });
});
