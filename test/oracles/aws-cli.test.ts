/**
 * The AWS CLI as a second, independent client of the local account. The SDK v3 tests prove the account answers
 * what the JS SDK expects; botocore has its own serializers and parsers (and its own view of error envelopes), so
 * agreement here means the wire format is AWS's, not merely something one SDK tolerates.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalAccount, serve, type LocalAccount } from '../../src/local-account/index.ts';
import type { RunningEmulator } from '../../src/local-account/server.ts';
import { addImage } from '../../src/local-account/seed.ts';
import { cliError, missing, runAws } from '../support/tools.ts';

/** The CLI's exit code for an error the service answered with: 255 in CLI v1, 254 in CLI v2. */
const SERVICE_ERROR_EXIT_CODES = [254, 255];

const noCli = missing('aws', 'AWS CLI oracle (test/oracles/aws-cli.test.ts)');

let account: LocalAccount;
let emulator: RunningEmulator;

const aws = (...args: string[]) => runAws(emulator.endpoint, args);

/** Whether another engineer's service has landed: the ops these tests need must be answered. */
function lands(service: 'ec2' | 'autoscaling', operations: readonly string[], suite: string): boolean {
  const answered = createLocalAccount().service(service)?.operations ?? {};
  const absent = operations.filter((op) => !Object.hasOwn(answered, op));
  if (absent.length === 0) return true;
  console.warn(
    `SKIPPED ${suite}: the local account's ${service} service does not answer ${absent.join(', ')} yet.`,
  );
  return false;
}

describe.skipIf(noCli)('the AWS CLI against the local account', () => {
  beforeAll(async () => {
    account = createLocalAccount();
    emulator = await serve(account, 0);
  });

  afterAll(async () => {
    await emulator?.close();
  });

  beforeEach(() => {
    account.state.parameters.clear();
    account.state.topics.clear();
    account.state.published.length = 0;
  });

  describe('ssm', () => {
    const name = '/ami-rollout/web/image-id';

    it('puts, overwrites, labels and reads parameters by name, version and label', async () => {
      const created = await aws(
        'ssm',
        'put-parameter',
        '--name',
        name,
        '--value',
        'ami-00000001',
        '--type',
        'String',
      );
      expect(created.exitCode).toBe(0);
      expect(created.json).toEqual({ Version: 1, Tier: 'Standard' });

      const overwritten = await aws(
        'ssm',
        'put-parameter',
        '--name',
        name,
        '--value',
        'ami-00000002',
        '--overwrite',
      );
      expect(overwritten.json).toEqual({ Version: 2, Tier: 'Standard' });

      const labelled = await aws(
        'ssm',
        'label-parameter-version',
        '--name',
        name,
        '--parameter-version',
        '1',
        '--labels',
        'stable',
        '9bad',
      );
      expect(labelled.json).toEqual({ InvalidLabels: ['9bad'], ParameterVersion: 1 });

      const latest = await aws('ssm', 'get-parameter', '--name', name);
      expect(latest.json).toEqual({
        Parameter: {
          Name: name,
          Type: 'String',
          Value: 'ami-00000002',
          Version: 2,
          // CLI v1 prints the wire's epoch seconds, CLI v2 an ISO 8601 string; either way it is the virtual now.
          LastModifiedDate: expect.anything() as unknown,
          ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`,
          DataType: 'text',
        },
      });
      const modified = (latest.json as { Parameter: { LastModifiedDate: number | string } }).Parameter
        .LastModifiedDate;
      expect(typeof modified === 'number' ? modified * 1000 : Date.parse(modified)).toBe(
        account.now().getTime(),
      );

      const byLabel = await aws('ssm', 'get-parameter', '--name', `${name}:stable`);
      expect(byLabel.json).toMatchObject({
        Parameter: { Value: 'ami-00000001', Version: 1, Selector: ':stable' },
      });
      const byVersion = await aws('ssm', 'get-parameter', '--name', `${name}:2`);
      expect(byVersion.json).toMatchObject({ Parameter: { Value: 'ami-00000002', Selector: ':2' } });
    });

    it('lists the history with labels, and follows NextToken when the CLI paginates', async () => {
      for (let i = 1; i <= 3; i++) {
        await aws(
          'ssm',
          'put-parameter',
          '--name',
          name,
          '--value',
          `v${i}`,
          '--type',
          'String',
          '--overwrite',
        );
      }
      await aws('ssm', 'label-parameter-version', '--name', name, '--labels', 'live');
      // --page-size 1 makes the CLI fetch one version per call and follow NextToken to the end.
      const history = await aws('ssm', 'get-parameter-history', '--name', name, '--page-size', '1');
      expect(history.exitCode).toBe(0);
      const versions = (
        history.json as { Parameters: { Version: number; Value: string; Labels: string[] }[] }
      ).Parameters;
      expect(versions.map((v) => [v.Version, v.Value, v.Labels])).toEqual([
        [1, 'v1', []],
        [2, 'v2', []],
        [3, 'v3', ['live']],
      ]);
      const firstPage = await aws(
        'ssm',
        'get-parameter-history',
        '--name',
        name,
        '--max-results',
        '2',
        '--no-paginate',
      );
      expect((firstPage.json as { NextToken?: string }).NextToken).toEqual(expect.any(String));
    });

    it('fails get-parameter for an unknown name with ParameterNotFound and a service-error exit code', async () => {
      const result = await aws('ssm', 'get-parameter', '--name', '/nope');
      expect(SERVICE_ERROR_EXIT_CODES).toContain(result.exitCode);
      expect(cliError(result.stderr)).toEqual({
        code: 'ParameterNotFound',
        operation: 'GetParameter',
        message: 'Parameter /nope not found.',
      });
    });

    it('fails put-parameter without --overwrite on an existing name with ParameterAlreadyExists', async () => {
      await aws('ssm', 'put-parameter', '--name', name, '--value', 'a', '--type', 'String');
      const result = await aws('ssm', 'put-parameter', '--name', name, '--value', 'b', '--type', 'String');
      expect(SERVICE_ERROR_EXIT_CODES).toContain(result.exitCode);
      expect(cliError(result.stderr)?.code).toBe('ParameterAlreadyExists');
    });
  });

  describe('sns', () => {
    it('creates a topic with attributes, publishes to it with message attributes, and lists it', async () => {
      const created = await aws(
        'sns',
        'create-topic',
        '--name',
        'ami-rollout-events',
        '--attributes',
        'KmsMasterKeyId=alias/aws/sns',
      );
      expect(created.json).toEqual({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:ami-rollout-events' });
      const topicArn = (created.json as { TopicArn: string }).TopicArn;

      const attributes = await aws('sns', 'get-topic-attributes', '--topic-arn', topicArn);
      expect(attributes.json).toMatchObject({
        Attributes: { TopicArn: topicArn, KmsMasterKeyId: 'alias/aws/sns', Owner: '123456789012' },
      });

      const publishedResult = await aws(
        'sns',
        'publish',
        '--topic-arn',
        topicArn,
        '--subject',
        'Rollout failed: web',
        '--message',
        'web rolled back',
        '--message-attributes',
        JSON.stringify({ status: { DataType: 'String', StringValue: 'FAILED' } }),
      );
      expect(publishedResult.json).toEqual({
        MessageId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      });

      const controls = (await (await fetch(`${emulator.endpoint}/_local/sns/messages`)).json()) as {
        messages: unknown[];
      };
      expect(controls.messages).toEqual([
        {
          messageId: (publishedResult.json as { MessageId: string }).MessageId,
          topicArn,
          subject: 'Rollout failed: web',
          message: 'web rolled back',
          messageAttributes: { status: { dataType: 'String', value: 'FAILED' } },
          publishedAt: account.now().toISOString(),
        },
      ]);

      const topics = await aws('sns', 'list-topics');
      expect(topics.json).toEqual({ Topics: [{ TopicArn: topicArn }] });
    });

    it('fails publish to an unknown topic with NotFound', async () => {
      const result = await aws(
        'sns',
        'publish',
        '--topic-arn',
        'arn:aws:sns:us-east-1:123456789012:nope',
        '--message',
        'm',
      );
      expect(SERVICE_ERROR_EXIT_CODES).toContain(result.exitCode);
      expect(cliError(result.stderr)).toMatchObject({ code: 'NotFound', message: 'Topic does not exist' });
    });

    it('fails publish with a 101-character subject with InvalidParameter', async () => {
      const { TopicArn } = (await aws('sns', 'create-topic', '--name', 't')).json as { TopicArn: string };
      const result = await aws(
        'sns',
        'publish',
        '--topic-arn',
        TopicArn,
        '--subject',
        's'.repeat(101),
        '--message',
        'm',
      );
      expect(cliError(result.stderr)).toMatchObject({
        code: 'InvalidParameter',
        message: 'Invalid parameter: Subject',
      });
      expect(account.state.published).toEqual([]);
    });
  });

  describe.skipIf(
    !lands(
      'ec2',
      ['DescribeImages', 'CreateLaunchTemplate', 'DescribeLaunchTemplateVersions'],
      'AWS CLI oracle for ec2',
    ),
  )('ec2', () => {
    it('describes a seeded image by id', async () => {
      const image = addImage(account, { name: 'web-2026-01-01', tags: { app: 'web' } });
      const result = await aws('ec2', 'describe-images', '--image-ids', image.imageId);
      expect(result.exitCode).toBe(0);
      expect(result.json).toMatchObject({
        Images: [
          {
            ImageId: image.imageId,
            Name: 'web-2026-01-01',
            State: 'available',
            OwnerId: '123456789012',
            Architecture: 'x86_64',
            RootDeviceName: '/dev/xvda',
            BlockDeviceMappings: [
              { DeviceName: '/dev/xvda', Ebs: { SnapshotId: image.blockDeviceMappings[0]!.snapshotId } },
            ],
            Tags: [{ Key: 'app', Value: 'web' }],
          },
        ],
      });
    });

    it.each([
      ['a malformed id', 'ami-bad', 'InvalidAMIID.Malformed'],
      ['an unknown id', 'ami-0fffffffffffffff0', 'InvalidAMIID.NotFound'],
    ])('fails describe-images for %s (%s) with %s', async (_label, imageId, code) => {
      const result = await aws('ec2', 'describe-images', '--image-ids', imageId);
      expect(SERVICE_ERROR_EXIT_CODES).toContain(result.exitCode);
      expect(cliError(result.stderr)?.code).toBe(code);
    });

    it('creates a launch template and describes its versions', async () => {
      const image = addImage(account, { name: 'web-2026-01-01' });
      const created = await aws(
        'ec2',
        'create-launch-template',
        '--launch-template-name',
        'web-cli',
        '--launch-template-data',
        JSON.stringify({ ImageId: image.imageId, InstanceType: 't3.micro' }),
      );
      expect(created.exitCode).toBe(0);
      const template = (created.json as { LaunchTemplate: Record<string, unknown> }).LaunchTemplate;
      expect(template).toMatchObject({
        LaunchTemplateName: 'web-cli',
        DefaultVersionNumber: 1,
        LatestVersionNumber: 1,
        LaunchTemplateId: expect.stringMatching(/^lt-[0-9a-f]{17}$/) as unknown,
      });
      const versions = await aws(
        'ec2',
        'describe-launch-template-versions',
        '--launch-template-id',
        String(template['LaunchTemplateId']),
      );
      expect(versions.json).toMatchObject({
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: template['LaunchTemplateId'],
            VersionNumber: 1,
            DefaultVersion: true,
            LaunchTemplateData: { ImageId: image.imageId, InstanceType: 't3.micro' },
          },
        ],
      });
    });
  });

  describe.skipIf(
    !lands(
      'autoscaling',
      [
        'CreateAutoScalingGroup',
        'DescribeAutoScalingGroups',
        'StartInstanceRefresh',
        'DescribeInstanceRefreshes',
      ],
      'AWS CLI oracle for autoscaling',
    ) || !lands('ec2', ['CreateLaunchTemplate'], 'AWS CLI oracle for autoscaling'),
  )('autoscaling', () => {
    it('describes a group, starts an instance refresh and follows it to Successful', async () => {
      const image = addImage(account, { name: 'web-2026-01-01' });
      const next = addImage(account, { name: 'web-2026-01-02' });
      const template = (
        (
          await aws(
            'ec2',
            'create-launch-template',
            '--launch-template-name',
            'web-asg',
            '--launch-template-data',
            JSON.stringify({ ImageId: image.imageId, InstanceType: 't3.micro' }),
          )
        ).json as { LaunchTemplate: { LaunchTemplateId: string } }
      ).LaunchTemplate;
      const createdGroup = await aws(
        'autoscaling',
        'create-auto-scaling-group',
        '--auto-scaling-group-name',
        'web',
        '--launch-template',
        `LaunchTemplateId=${template.LaunchTemplateId},Version=1`,
        '--min-size',
        '2',
        '--max-size',
        '4',
        '--desired-capacity',
        '2',
        '--availability-zones',
        'us-east-1a',
      );
      expect(createdGroup.exitCode).toBe(0);
      account.clock.runUntilIdle();

      const groups = await aws(
        'autoscaling',
        'describe-auto-scaling-groups',
        '--auto-scaling-group-names',
        'web',
      );
      expect(groups.json).toMatchObject({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'web',
            MinSize: 2,
            MaxSize: 4,
            DesiredCapacity: 2,
            LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId, Version: '1' },
          },
        ],
      });
      const instances = (groups.json as { AutoScalingGroups: { Instances: { LifecycleState: string }[] }[] })
        .AutoScalingGroups[0]!.Instances;
      expect(instances.map((i) => i.LifecycleState)).toEqual(['InService', 'InService']);

      await aws(
        'ec2',
        'create-launch-template-version',
        '--launch-template-id',
        template.LaunchTemplateId,
        '--source-version',
        '1',
        '--launch-template-data',
        JSON.stringify({ ImageId: next.imageId }),
      );
      const started = await aws(
        'autoscaling',
        'start-instance-refresh',
        '--auto-scaling-group-name',
        'web',
        '--desired-configuration',
        JSON.stringify({ LaunchTemplate: { LaunchTemplateId: template.LaunchTemplateId, Version: '2' } }),
        '--preferences',
        JSON.stringify({ MinHealthyPercentage: 50, InstanceWarmup: 60, AutoRollback: true }),
      );
      expect(started.exitCode).toBe(0);
      const refreshId = (started.json as { InstanceRefreshId: string }).InstanceRefreshId;
      expect(refreshId).toMatch(/^[0-9a-f-]{36}$/);

      const again = await aws('autoscaling', 'start-instance-refresh', '--auto-scaling-group-name', 'web');
      expect(cliError(again.stderr)?.code).toBe('InstanceRefreshInProgress');

      account.clock.runUntilIdle();
      const refreshes = await aws(
        'autoscaling',
        'describe-instance-refreshes',
        '--auto-scaling-group-name',
        'web',
      );
      expect(refreshes.json).toMatchObject({
        InstanceRefreshes: [
          {
            InstanceRefreshId: refreshId,
            AutoScalingGroupName: 'web',
            Status: 'Successful',
            PercentageComplete: 100,
          },
        ],
      });
    });

    it('fails start-instance-refresh for an unknown group with ValidationError', async () => {
      const result = await aws('autoscaling', 'start-instance-refresh', '--auto-scaling-group-name', 'nope');
      expect(SERVICE_ERROR_EXIT_CODES).toContain(result.exitCode);
      expect(cliError(result.stderr)?.code).toBe('ValidationError');
    });
  });
});
