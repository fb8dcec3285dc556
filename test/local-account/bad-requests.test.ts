/**
 * The attacks of issue 8 ("The local account under bad requests"), each as a regression test: through real
 * HTTP on 127.0.0.1 (the emulator server), and, where the attack is not about HTTP, through the in-process
 * handler too. Each checks the answer AWS gives (or the one documented in docs/local-account.md), that the
 * account is unchanged, and that it goes on answering.
 */
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  readFleetFile,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { REQUEST_BODY_LIMIT_BYTES } from '../../src/local-account/protocols/limits.ts';
import { compileWildcard, matchesWildcard } from '../../src/local-account/services/ec2/common.ts';
import { crossSiteRefusal, isLoopbackHost } from '../../src/local-account/server.ts';
import { fingerprint, prototypeKeys, rawRequest, signedAs } from './bad-request-support.ts';

let account: LocalAccount;
let running: Awaited<ReturnType<typeof serve>>;

beforeEach(async () => {
  account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
  running = await serve(account, 0);
});
afterEach(async () => {
  await running.close();
});

const overHttp = {
  endpoint: '',
  region: 'us-east-1',
  credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
};
const httpConfig = () => ({ ...overHttp, endpoint: running.endpoint, maxAttempts: 1 });
const inProcess = () => ({ ...inProcessClientConfig(account), maxAttempts: 1 });

/** A query request as the SDK would send it, but with any keys: over HTTP, or to the in-process handler. */
async function query(
  via: 'http' | 'in-process',
  service: string,
  body: string,
): Promise<{ status: number; body: string }> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', ...signedAs(service) };
  if (via === 'http') return rawRequest(running.port, { headers, body });
  return account.handle({ method: 'POST', path: '/', headers, body });
}

async function json(
  via: 'http' | 'in-process',
  target: string,
  body: string,
): Promise<{ status: number; body: string }> {
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target };
  if (via === 'http') return rawRequest(running.port, { headers, body });
  return account.handle({ method: 'POST', path: '/', headers, body });
}

const errorCode = (reply: { body: string }): string | undefined =>
  /<Code>([^<]+)<\/Code>/.exec(reply.body)?.[1] ??
  ((JSON.parse(reply.body) as { __type?: string }).__type || undefined);

async function imageCount(client: EC2Client): Promise<number> {
  return (await client.send(new DescribeImagesCommand({}))).Images?.length ?? 0;
}

describe.each(['http', 'in-process'] as const)('prototype pollution (%s)', (via) => {
  it('answers a query key of __proto__.Owner.1 with UnknownParameter, as EC2 does, and every later DescribeImages returns every image', async () => {
    const ec2 = new EC2Client(via === 'http' ? httpConfig() : inProcess());
    const images = await imageCount(ec2);
    expect(images).toBeGreaterThan(0);
    const before = prototypeKeys();
    const reply = await query(
      via,
      'ec2',
      'Action=DescribeImages&Version=2016-11-15&__proto__.Owner.1=999999999999',
    );
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(
      /<Code>UnknownParameter<\/Code><Message>The parameter __proto__ is not recognized<\/Message>/,
    );
    expect(prototypeKeys()).toBe(before);
    expect(({} as Record<string, unknown>)['Owner']).toBeUndefined();
    expect(await imageCount(ec2)).toBe(images);
    expect(await imageCount(new EC2Client(via === 'http' ? inProcess() : httpConfig()))).toBe(images);
  });

  it('passes over __proto__, constructor and prototype keys in Auto Scaling requests, as plain data', async () => {
    const before = prototypeKeys();
    const autoscaling = new AutoScalingClient(inProcess());
    const groups = (await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups
      ?.length;
    for (const key of [
      '__proto__.AutoScalingGroupNames.member.1=nosuch',
      'constructor.prototype.AutoScalingGroupNames.member.1=nosuch',
      '__proto__.__proto__.x=1&prototype=1',
    ]) {
      const reply = await query(
        via,
        'autoscaling',
        `Action=DescribeAutoScalingGroups&Version=2011-01-01&${key}`,
      );
      expect(reply.status, key).toBe(200);
      expect(reply.body.match(/<AutoScalingGroupName>/g)?.length, key).toBe(groups);
    }
    expect(prototypeKeys()).toBe(before);
    expect((await autoscaling.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups?.length).toBe(
      groups,
    );
  });

  it('keeps Elastic Load Balancing v2 requests within the shared bounds: prototype keys are data, a __proto__ attribute is refused, a body over 1 MiB is 413, and nothing changes', async () => {
    const elb = new ElasticLoadBalancingV2Client(inProcess());
    const { TargetGroups = [] } = await elb.send(
      new CreateTargetGroupCommand({
        Name: 'bad-requests',
        Protocol: 'HTTP',
        Port: 80,
        VpcId: 'vpc-0a1b2c3d4e5f60001',
      }),
    );
    const arn = encodeURIComponent(TargetGroups[0]!.TargetGroupArn!);
    // Every target group: the example fleet's and this one.
    const all = (await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups?.length;
    const before = prototypeKeys();
    const state = fingerprint(account);
    for (const key of [
      '__proto__.Names.member.1=nosuch',
      'constructor.prototype.Names.member.1=nosuch',
      '__proto__.__proto__.x=1&prototype=1',
    ]) {
      const reply = await query(
        via,
        'elasticloadbalancing',
        `Action=DescribeTargetGroups&Version=2015-12-01&${key}`,
      );
      expect(reply.status, key).toBe(200);
      expect(reply.body.match(/<TargetGroupName>/g)?.length, key).toBe(all);
    }
    for (const key of ['__proto__', 'constructor', 'toString']) {
      const reply = await query(
        via,
        'elasticloadbalancing',
        `Action=ModifyTargetGroupAttributes&Version=2015-12-01&TargetGroupArn=${arn}&Attributes.member.1.Key=${key}&Attributes.member.1.Value=1`,
      );
      expect(reply.status, key).toBe(400);
      expect(errorCode(reply), key).toBe('ValidationError');
    }
    const big = await query(
      via,
      'elasticloadbalancing',
      `Action=CreateTargetGroup&Version=2015-12-01&Name=big&HealthCheckPath=/${'a'.repeat(REQUEST_BODY_LIMIT_BYTES)}`,
    );
    expect(big.status).toBe(413);
    expect(errorCode(big)).toBe('RequestEntityTooLarge');
    expect(prototypeKeys()).toBe(before);
    expect(fingerprint(account)).toBe(state);
    expect((await elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups?.length).toBe(all);
  });

  it("reads a JSON body's own members only: a Name under __proto__ or constructor.prototype is no Name", async () => {
    const before = prototypeKeys();
    const reply = await json(
      via,
      'AmazonSSM.GetParameter',
      '{"__proto__":{"Name":"/polluted"},"constructor":{"prototype":{"Name":"/polluted"}}}',
    );
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(/Value null at 'name'/);
    expect(prototypeKeys()).toBe(before);
    expect(({} as Record<string, unknown>)['Name']).toBeUndefined();
  });

  it('keeps launch template data whose member is named constructor readable by the SDK', async () => {
    const created = await query(
      via,
      'ec2',
      'Action=CreateLaunchTemplateVersion&Version=2016-11-15&LaunchTemplateName=web&SourceVersion=1' +
        '&LaunchTemplateData.Placement.constructor=x&LaunchTemplateData.Placement.AvailabilityZone=us-east-1a',
    );
    expect(created.status).toBe(200);
    const { LaunchTemplateVersions = [] } = await new EC2Client(inProcess()).send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'web', Versions: ['$Latest'] }),
    );
    expect(LaunchTemplateVersions[0]?.LaunchTemplateData).toMatchObject({
      ImageId: 'ami-0a1b2c3d4e5f60001',
      Placement: { AvailabilityZone: 'us-east-1a' },
    });
  });

  it('keeps an SNS message attribute named __proto__ as an attribute', async () => {
    const before = prototypeKeys();
    await new SNSClient(inProcess()).send(new CreateTopicCommand({ Name: 'events' }));
    const published = await query(
      via,
      'sns',
      'Action=Publish&Version=2010-03-31&TopicArn=arn:aws:sns:us-east-1:111122223333:events&Message=hi' +
        '&MessageAttributes.entry.1.Name=__proto__&MessageAttributes.entry.1.Value.DataType=String' +
        '&MessageAttributes.entry.1.Value.StringValue=kept',
    );
    expect(published.status).toBe(200);
    const attributes = account.state.published.at(-1)!.messageAttributes;
    expect(Object.keys(attributes)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(attributes)).toBeNull();
    expect(prototypeKeys()).toBe(before);
  });
});

describe.each(['http', 'in-process'] as const)('CPU denial of service (%s)', (via) => {
  it('refuses a list index past 1000 with ValidationError, naming the index and the limit', async () => {
    const before = fingerprint(account);
    const reply = await query(
      via,
      'autoscaling',
      'Action=DescribeAutoScalingGroups&Version=2011-01-01&Filters.member.200000000.Name=x',
    );
    expect(reply.status).toBe(400);
    expect(errorCode(reply)).toBe('ValidationError');
    expect(reply.body).toMatch(/list index 200000000 .*at most 1000 members/);
    // EC2 answers its own code for a malformed parameter.
    const ec2 = await query(via, 'ec2', 'Action=DescribeImages&Version=2016-11-15&ImageId.0=ami-1');
    expect(errorCode(ec2)).toBe('InvalidParameterValue');
    expect(fingerprint(account)).toBe(before);
    const groups = await new AutoScalingClient(inProcess()).send(new DescribeAutoScalingGroupsCommand({}));
    expect(groups.AutoScalingGroups?.length).toBeGreaterThan(0);
  });

  it('refuses more than 200 EC2 filter values, and values over 255 characters, with FilterLimitExceeded', async () => {
    const values = Array.from({ length: 201 }, (_, i) => `&Filter.1.Value.${i + 1}=v${i}`).join('');
    const tooMany = await query(
      via,
      'ec2',
      `Action=DescribeImages&Version=2016-11-15&Filter.1.Name=name${values}`,
    );
    expect(errorCode(tooMany)).toBe('FilterLimitExceeded');
    expect(tooMany.body).toMatch(/maximum number of filter values specified on a single call is 200/);
    const long = await query(
      via,
      'ec2',
      `Action=DescribeImages&Version=2016-11-15&Filter.1.Name=name&Filter.1.Value.1=${'a'.repeat(256)}`,
    );
    expect(errorCode(long)).toBe('FilterLimitExceeded');
    expect(long.body).toMatch(/maximum length for a filter value is 255 characters/);
  });

  it('matches a backtracking-prone wildcard against a long tag value in one pass', async () => {
    const ec2 = new EC2Client(via === 'http' ? httpConfig() : inProcess());
    await ec2.send(
      new CreateTagsCommand({
        Resources: ['ami-0a1b2c3d4e5f60001'],
        Tags: [{ Key: 'k', Value: '0'.repeat(200) }],
      }),
    );
    // As a regular expression (^.*0.*0...1$) this took 13 s for 8 stars on a 40-character value.
    const pattern = `${'*0'.repeat(60)}*1`;
    const { Images = [] } = await ec2.send(
      new DescribeImagesCommand({ Filters: [{ Name: 'tag:k', Values: [pattern, `${'*0'.repeat(60)}*`] }] }),
    );
    expect(Images.map((i) => i.ImageId)).toEqual(['ami-0a1b2c3d4e5f60001']);
  });

  it('refuses a query key nested deeper than 32, and a JSON body nested deeper than 32, before building it', async () => {
    const deepKey = await query(
      via,
      'autoscaling',
      `Action=DescribeAutoScalingGroups&Version=2011-01-01&${'A.'.repeat(5000)}B=1`,
    );
    expect(errorCode(deepKey)).toBe('ValidationError');
    expect(deepKey.body).toMatch(/nests 5001 members deep/);
    const deepJson = await json(
      via,
      'AmazonSSM.GetParameter',
      `{"Name":"/a","x":${'['.repeat(300_000)}${']'.repeat(300_000)}}`,
    );
    expect(errorCode(deepJson)).toBe('SerializationException');
    expect(deepJson.body).toMatch(/more than 32 levels/);
  });

  it('refuses more than 10,000 query parameters', async () => {
    const reply = await query(
      via,
      'autoscaling',
      `Action=DescribeAutoScalingGroups&Version=2011-01-01${'&x=1'.repeat(10_000)}`,
    );
    expect(reply.status).toBe(400);
    expect(errorCode(reply)).toBe('ValidationError');
    expect(reply.body).toMatch(/10002 parameters; the local account reads at most 10000/);
  });

  it("answers a body over 1 MiB with 413 RequestEntityTooLarge in the service's own shape, and changes nothing", async () => {
    const before = fingerprint(account);
    const big = `Action=CreateTags&Version=2016-11-15&ResourceId.1=ami-0a1b2c3d4e5f60001&Tag.1.Key=k&Tag.1.Value=${'a'.repeat(REQUEST_BODY_LIMIT_BYTES)}`;
    const reply = await query(via, 'ec2', big);
    expect(reply.status).toBe(413);
    expect(reply.body).toMatch(/<Response><Errors><Error><Code>RequestEntityTooLarge<\/Code>/);
    const jsonReply = await json(
      via,
      'AmazonSSM.PutParameter',
      JSON.stringify({ Name: '/big', Value: 'a'.repeat(REQUEST_BODY_LIMIT_BYTES) }),
    );
    expect(jsonReply.status).toBe(413);
    expect(JSON.parse(jsonReply.body)).toMatchObject({ __type: 'RequestEntityTooLarge' });
    expect(fingerprint(account)).toBe(before);
  });
});

describe('request bodies over HTTP', () => {
  it('answers 413 to a chunked body over 1 MiB without holding it, and goes on serving', async () => {
    const reply = await rawRequest(running.port, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signedAs('autoscaling') },
      body: `Action=DescribeAutoScalingGroups&Version=2011-01-01&x=${'a'.repeat(3 * REQUEST_BODY_LIMIT_BYTES)}`,
      chunked: true,
    });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatch(
      /<ErrorResponse xmlns="http:\/\/autoscaling.amazonaws.com\/doc\/2011-01-01\/"><Error><Type>Sender<\/Type><Code>RequestEntityTooLarge<\/Code>/,
    );
    const groups = await new AutoScalingClient(httpConfig()).send(new DescribeAutoScalingGroupsCommand({}));
    expect(groups.AutoScalingGroups?.length).toBeGreaterThan(0);
  });

  it('answers 413 at once to a declared Content-Length over 1 MiB, controls included', async () => {
    const reply = await rawRequest(running.port, {
      path: '/_local/faults',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'stallRefresh',
        group: 'web',
        pad: 'a'.repeat(2 * REQUEST_BODY_LIMIT_BYTES),
      }),
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toEqual({ error: expect.stringMatching(/larger than the 1048576 bytes/) });
    expect(account.faults.list()).toEqual([]);
  });
});

describe('the clock control', () => {
  const advance = (body: string) =>
    rawRequest(running.port, {
      path: '/_local/clock/advance',
      headers: { 'content-type': 'application/json' },
      body,
    });

  it('refuses {"seconds":1e308} before moving the clock; the clock, StartExecution and CreateLaunchTemplateVersion go on working', async () => {
    const before = fingerprint(account);
    const now = account.now().toISOString();
    const reply = await advance('{"seconds":1e308}');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      error: expect.stringMatching(/seconds: must be at most 31622400/),
    });
    expect(account.now().toISOString()).toBe(now);
    expect(fingerprint(account)).toBe(before);

    expect(JSON.parse((await advance('{"seconds":60}')).body)).toEqual({
      now: new Date(Date.parse(now) + 60_000).toISOString(),
    });
    const ec2 = new EC2Client(httpConfig());
    const version = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateName: 'web',
        SourceVersion: '1',
        LaunchTemplateData: { InstanceType: 't3.micro' },
      }),
    );
    expect(version.LaunchTemplateVersion?.CreateTime?.toISOString()).toBe(account.now().toISOString());
    const sfn = new SFNClient(httpConfig());
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: 'm',
        roleArn: 'arn:aws:iam::111122223333:role/r',
        definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
      }),
    );
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    expect(started.startDate?.toISOString()).toBe(account.now().toISOString());
  });

  it.each([
    ['{"seconds":0}', /seconds: must be more than 0/],
    ['{"seconds":-1}', /seconds: must be more than 0/],
    ['{"seconds":"90"}', /seconds: must be a number of seconds/],
    ['{}', /seconds: must be a number of seconds/],
    ['{"seconds":60,"extra":1}', /Unrecognized key/],
    ['{"seconds":60', /The body is not JSON/],
    ['[60]', /must be a number of seconds|expected object/],
    ['{"seconds":31622401}', /at most 31622400/],
  ])('refuses %s, naming the problem, and changes nothing', async (body, message) => {
    const before = fingerprint(account);
    const reply = await advance(body);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(message);
    expect(fingerprint(account)).toBe(before);
  });

  it('refuses a step that would carry the clock past 9999-12-31T23:59:59.999Z', async () => {
    // The example fleet's alarms are evaluated every virtual minute: 8,000 years of them would never end.
    const cloudwatch = new CloudWatchClient(httpConfig());
    const { MetricAlarms = [] } = await cloudwatch.send(new DescribeAlarmsCommand({}));
    await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: MetricAlarms.map((a) => a.AlarmName!) }));
    account.clock.advanceTo(Date.UTC(9999, 11, 31));
    const before = fingerprint(account);
    const reply = await advance('{"seconds":86400}');
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(/past 9999-12-31T23:59:59.999Z/);
    expect(fingerprint(account)).toBe(before);
  });
});

describe('cross-site requests', () => {
  const faultBody = JSON.stringify({ kind: 'stallRefresh', group: 'web' });

  it('refuses a text/plain POST to /_local/faults from a foreign Origin with 403, adding no fault', async () => {
    const reply = await rawRequest(running.port, {
      path: '/_local/faults',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: faultBody,
    });
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body)).toEqual({
      error: expect.stringMatching(/Origin header \(https:\/\/evil.example\)/),
    });
    expect(account.faults.list()).toEqual([]);
  });

  it.each([
    [{ 'sec-fetch-site': 'cross-site' }, /Sec-Fetch-Site: cross-site/],
    [{ 'sec-fetch-site': 'same-site' }, /Sec-Fetch-Site: same-site/],
    [{ origin: 'null' }, /Origin header \(null\)/],
    [{ host: 'evil.example:PORT' }, /Host 'evil.example:PORT'/],
    [{ host: '127.0.0.1:1' }, /Host '127.0.0.1:1'/],
    [{ host: '127.0.0.1' }, /Host '127.0.0.1'/],
    [{ host: '128.0.0.1:PORT' }, /Host '128.0.0.1:PORT'/],
    [{ host: 'localhost.evil.example:PORT' }, /Host 'localhost.evil.example:PORT'/],
  ])('refuses %o on every endpoint, controls and AWS APIs alike', async (given, message) => {
    const headers = Object.fromEntries(
      Object.entries(given).map(([k, v]) => [k, v.replace('PORT', String(running.port))]),
    );
    const pattern = new RegExp(message.source.replace('PORT', String(running.port)));
    const before = fingerprint(account);
    const control = await rawRequest(running.port, { path: '/_local/faults', headers, body: faultBody });
    expect(control.status).toBe(403);
    expect(control.body).toMatch(pattern);
    const ec2 = await rawRequest(running.port, {
      headers: { ...headers, ...signedAs('ec2') },
      body: 'Action=CreateTags&Version=2016-11-15&ResourceId.1=ami-0a1b2c3d4e5f60001&Tag.1.Key=k&Tag.1.Value=v',
    });
    expect(ec2.status).toBe(403);
    expect(ec2.body).toMatch(/<Response><Errors><Error><Code>UnauthorizedOperation<\/Code>/);
    const autoscaling = await rawRequest(running.port, {
      headers: { ...headers, ...signedAs('autoscaling') },
      body: 'Action=DeleteAutoScalingGroup&Version=2011-01-01&AutoScalingGroupName=web&ForceDelete=true',
    });
    expect(autoscaling.status).toBe(403);
    expect(autoscaling.body).toMatch(/<Code>AccessDenied<\/Code>/);
    const ssm = await rawRequest(running.port, {
      headers: {
        ...headers,
        'x-amz-target': 'AmazonSSM.PutParameter',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{"Name":"/x","Value":"y","Type":"String"}',
    });
    expect(ssm.status).toBe(403);
    expect(JSON.parse(ssm.body)).toMatchObject({
      __type: 'AccessDeniedException',
      message: expect.stringMatching(pattern),
    });
    expect(fingerprint(account)).toBe(before);
  });

  it('refuses a request with no Host at all (HTTP/1.0; Node itself answers 400 to an HTTP/1.1 one)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(running.port, '127.0.0.1', () =>
        socket.end('GET /_local/clock HTTP/1.0\r\n\r\n'),
      );
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1.1 403 /);
    expect(answer).toMatch(/Host \(none\)/);
    const http11 = await rawRequest(running.port, {
      method: 'GET',
      path: '/_local/clock',
      withoutHost: true,
    });
    expect(http11.status).toBe(400);
  });

  it('answers loopback names with this port, and requests a browser marks same-origin or user-initiated', async () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.1.2.3', 'LOCALHOST']) {
      const reply = await rawRequest(running.port, {
        method: 'GET',
        path: '/_local/clock',
        headers: { host: `${host}:${running.port}`, 'sec-fetch-site': 'none' },
      });
      expect(reply.status, host).toBe(200);
    }
    const sameOrigin = await rawRequest(running.port, {
      method: 'GET',
      path: '/_local/clock',
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(sameOrigin.status).toBe(200);
  });

  it("fails an SDK call that carries an Origin header with the service's own 403 error", async () => {
    const ssm = new SSMClient(httpConfig());
    ssm.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers['origin'] = 'https://evil.example';
        return next(args);
      },
      { step: 'build' },
    );
    await expect(ssm.send(new GetParameterCommand({ Name: '/x' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
  });
});

describe('isLoopbackHost and crossSiteRefusal', () => {
  it('accepts 127.0.0.0/8, localhost and [::1] with the port only', () => {
    expect(isLoopbackHost('127.0.0.1:4566', 4566)).toBe(true);
    expect(isLoopbackHost('127.255.255.255:4566', 4566)).toBe(true);
    expect(isLoopbackHost('[::1]:4566', 4566)).toBe(true);
    expect(isLoopbackHost('localhost', 80)).toBe(true);
    for (const host of [
      '127.0.0.256:4566',
      '127.0.0:4566',
      '0177.0.0.1:4566',
      '[::2]:4566',
      '::1:4566',
      'localhost:4567',
      'localhost',
      '',
      undefined,
    ]) {
      expect(isLoopbackHost(host, 4566), String(host)).toBe(false);
    }
  });

  it('lets the AWS CLI and SDKs through: no Origin, no Sec-Fetch-Site, a loopback Host', () => {
    expect(crossSiteRefusal({ host: '127.0.0.1:4566', 'user-agent': 'aws-cli/2' }, 4566)).toBeUndefined();
  });
});

describe('EC2 wildcards', () => {
  /** The old regular-expression reading, as the oracle for small cases. */
  const asRegExp = (pattern: string) =>
    new RegExp(
      `^${[...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`,
      's',
    );

  it('agrees with the regular-expression reading on every short pattern and text over a small alphabet', () => {
    const words = (length: number, alphabet: string): string[] =>
      length === 0 ? [''] : words(length - 1, alphabet).flatMap((w) => [...alphabet].map((c) => w + c));
    const texts = [0, 1, 2, 3, 4].flatMap((n) => words(n, 'ab'));
    const patterns = [0, 1, 2, 3, 4].flatMap((n) => words(n, 'ab*?'));
    for (const pattern of patterns) {
      const compiled = compileWildcard(pattern);
      const oracle = asRegExp(pattern);
      for (const text of texts)
        expect(matchesWildcard(compiled, text), `${pattern} ~ ${text}`).toBe(oracle.test(text));
    }
  });

  it('reads a backslash as making the next character literal, as EC2 does', () => {
    expect(matchesWildcard(compileWildcard('\\*amazon\\?\\\\'), '*amazon?\\')).toBe(true);
    expect(matchesWildcard(compileWildcard('\\*amazon\\?\\\\'), 'xamazonx\\')).toBe(false);
  });
});
