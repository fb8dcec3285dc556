import {
  AutoScalingClient,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { readFleetFile } from '../../src/local-account/fleet.ts';
import {
  createLocalAccount,
  createLocalAccountFromFleet,
  inProcessClientConfig,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';

/** SDK clients that give up at once, so a fault's error reaches the test instead of being retried away. */
const noRetry = (account: LocalAccount) => ({ ...inProcessClientConfig(account), maxAttempts: 1 });

describe('LocalAccount: throttling faults', () => {
  it("answers each service's own throttling error, with its HTTP status, for exactly N calls", async () => {
    const account = createLocalAccount();
    account.faults.add({ kind: 'throttle', operation: 'ec2:DescribeImages', calls: 1 });
    account.faults.add({ kind: 'throttle', operation: 'DescribeInstanceRefreshes', calls: 1 });
    account.faults.add({ kind: 'throttle', operation: 'GetParameter', calls: 1 });
    account.faults.add({ kind: 'throttle', operation: 'ListTopics', calls: 1 });
    const ec2 = new EC2Client(noRetry(account));
    const autoScaling = new AutoScalingClient(noRetry(account));
    const ssm = new SSMClient(noRetry(account));
    const sns = new SNSClient(noRetry(account));
    const failures = await Promise.all([
      ec2.send(new DescribeImagesCommand({})).catch((e: unknown) => e),
      autoScaling
        .send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'g' }))
        .catch((e: unknown) => e),
      ssm.send(new GetParameterCommand({ Name: 'p' })).catch((e: unknown) => e),
      sns.send(new ListTopicsCommand({})).catch((e: unknown) => e),
    ]);
    expect(
      failures.map((e) => [
        (e as Error).name,
        (e as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode,
      ]),
    ).toEqual([
      ['RequestLimitExceeded', 503],
      ['Throttling', 400],
      ['ThrottlingException', 400],
      // SNS's code is Throttled; the SDK names the modelled exception ThrottledException.
      ['ThrottledException', 429],
    ]);
    // The fault is spent: the next call goes through (GetParameter now fails for its own reason).
    await expect(ec2.send(new DescribeImagesCommand({}))).resolves.toBeDefined();
    await expect(ssm.send(new GetParameterCommand({ Name: 'p' }))).rejects.toMatchObject({
      name: 'ParameterNotFound',
    });
  });

  it('is ridden out by the SDK’s own retries', async () => {
    const account = createLocalAccount();
    account.faults.add({ kind: 'throttle', operation: 'autoscaling:DescribeInstanceRefreshes', calls: 2 });
    const autoScaling = new AutoScalingClient({ ...inProcessClientConfig(account), maxAttempts: 3 });
    const result = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'g' }),
    );
    expect(result.$metadata.attempts).toBe(3);
    expect(
      account.calls.filter((c) => c.action === 'DescribeInstanceRefreshes').map((c) => c.errorCode ?? 'ok'),
    ).toEqual(['Throttling', 'Throttling', 'ok']);
  });

  it('does not throttle an operation of another service with the same name', async () => {
    const account = createLocalAccount();
    account.faults.add({ kind: 'throttle', operation: 'ssm:ListTopics', calls: 5 });
    await expect(new SNSClient(noRetry(account)).send(new ListTopicsCommand({}))).resolves.toBeDefined();
  });
});

describe('inProcessClientConfig: cacheMiddleware', () => {
  it('resolves the middleware once and still sends every call over the wire, signed, retried and parsed', async () => {
    const account = createLocalAccount();
    const autoScaling = new AutoScalingClient({
      ...inProcessClientConfig(account, { cacheMiddleware: true }),
      maxAttempts: 3,
    });
    const seen: string[] = [];
    const handle = account.handle.bind(account);
    account.handle = (request) => {
      seen.push(
        /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(request.headers['authorization'] ?? '')?.[1] ?? '',
      );
      return handle(request);
    };
    await autoScaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'g' }));
    account.faults.add({ kind: 'throttle', operation: 'autoscaling:DescribeInstanceRefreshes', calls: 1 });
    const retried = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'g' }),
    );
    expect(retried.$metadata.attempts).toBe(2);
    await expect(
      autoScaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'missing' })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    expect(account.calls.map((c) => `${c.action}:${c.errorCode ?? 'ok'}`)).toEqual([
      'DescribeInstanceRefreshes:ok',
      'DescribeInstanceRefreshes:Throttling',
      'DescribeInstanceRefreshes:ok',
      'StartInstanceRefresh:ValidationError',
    ]);
    expect(seen).toEqual(['autoscaling', 'autoscaling', 'autoscaling', 'autoscaling']);
  });
});

describe('LocalAccount: routing', () => {
  it('answers InvalidAction for an action the service does not have', async () => {
    const account = createLocalAccount();
    const reply = account.handle({
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=LaunchRockets&Version=2016-11-15',
    });
    expect(reply.status).toBe(400);
    expect(reply.body).toContain('<Code>InvalidAction</Code>');
  });

  it('answers a JSON error for a malformed JSON body', () => {
    const account = createLocalAccount();
    const reply = account.handle({
      method: 'POST',
      path: '/',
      headers: { 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: '{nope',
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ __type: 'SerializationException' });
  });
});

describe('LocalAccount: determinism', () => {
  /** Rolls the example fleet's web group to the new image and returns everything observable about the run. */
  async function rehearse() {
    const account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
    const template = account.state.launchTemplates.get('lt-0a1b2c3d4e5f60001')!;
    template.versions.set(2, {
      versionNumber: 2,
      createTime: account.now(),
      data: { ...template.versions.get(1)!.data, ImageId: 'ami-0a1b2c3d4e5f60002' },
    });
    template.latestVersion = 2;
    const autoScaling = new AutoScalingClient(inProcessClientConfig(account));
    const { InstanceRefreshId } = await autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: 'web',
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: template.launchTemplateId, Version: '2' },
        },
        Preferences: { MinHealthyPercentage: 50, SkipMatching: true },
      }),
    );
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) {
      account.advance(30);
      const { InstanceRefreshes = [] } = await autoScaling.send(
        new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'web' }),
      );
      seen.push(
        `${account.now().toISOString()} ${InstanceRefreshes[0]?.Status} ${InstanceRefreshes[0]?.PercentageComplete}`,
      );
    }
    const instances = [...account.state.instances.values()].map(
      (i) => `${i.instanceId} ${i.imageId} ${i.lifecycleState} ${i.launchTime.toISOString()}`,
    );
    return { InstanceRefreshId, seen, instances };
  }

  it('gives the same ids, times and statuses for the same fleet and calls', async () => {
    const first = await rehearse();
    const second = await rehearse();
    expect(second).toEqual(first);
    expect(first.seen.at(-1)).toMatch(/ Successful 100$/);
  });
});

describe('the emulator over HTTP: /_local controls', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('reads and moves the clock, injects and clears faults, and refuses a bad fault naming the field', async () => {
    const account = await createLocalAccountFromFleet({
      ...(await readFleetFile('examples/fleet.json')),
      startTime: '2026-01-01T00:00:00Z',
    });
    const running = await serve(account, 0);
    close = running.close;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${running.endpoint}${path}`, {
        method,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    // Seeding let the fleet's first instances come into service, so the clock is past the fleet's start time.
    const { now: started } = (await call('GET', '/_local/clock')).json as { now: string };
    expect(started).toBe(account.now().toISOString());
    expect((await call('POST', '/_local/clock/advance', { seconds: 90 })).json).toEqual({
      now: new Date(Date.parse(started) + 90_000).toISOString(),
    });
    expect((await call('POST', '/_local/clock/advance', { seconds: -1 })).status).toBe(400);
    const added = await call('POST', '/_local/faults', { kind: 'stallRefresh', group: 'web' });
    expect(added.status).toBe(201);
    expect(account.faults.refreshStalls('web')).toBe(true);
    const bad = await call('POST', '/_local/faults', {
      kind: 'cancelRefresh',
      group: 'web',
      atPercentage: 150,
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/atPercentage/);
    const unknownGroup = await call('POST', '/_local/faults', { kind: 'stallRefresh', group: 'nosuch' });
    expect(unknownGroup.status).toBe(400);
    expect(unknownGroup.json.error).toBe(
      'group: "nosuch" is not a group of this account (groups: web, api, worker)',
    );
    expect((await call('DELETE', '/_local/faults')).json).toEqual({ faults: [] });
    expect(account.faults.refreshStalls('web')).toBe(false);
    expect((await call('GET', '/_local/nothing-here')).status).toBe(404);
  });
});
