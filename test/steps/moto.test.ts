/**
 * The EC2, SSM and SNS steps against moto_server: a second, independent emulator, so the steps are not only
 * right about our own local account. Skips, saying why, when moto_server is not installed.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  CreateImageCommand,
  CreateLaunchTemplateCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotAttributeCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { Rollout } from '../../src/core/rollout.ts';
import type { StepDependencies } from '../../src/steps/dependencies.ts';
import { createNotify } from '../../src/steps/notify.ts';
import { createRollbackAmi } from '../../src/steps/rollback-ami.ts';
import { createShareAmi } from '../../src/steps/share-ami.ts';
import { createUpdateLaunchTemplates } from '../../src/steps/update-launch-templates.ts';
import { missing, resetMoto, startMoto, type RunningMoto } from '../support/tools.ts';

const PARAM = '/ami-rollout/golden-ami';
const SHARE_WITH = '444455556666';

interface World {
  readonly deps: StepDependencies<'ec2' | 'autoscaling' | 'ssm' | 'sns'>;
  readonly oldImage: string;
  readonly newImage: string;
  readonly templateIds: readonly string[];
  readonly rollout: Rollout;
}

describe.skipIf(missing('moto', 'rollout steps against moto_server'))(
  'rollout steps against moto_server',
  () => {
    let moto: RunningMoto;
    let world: World;

    beforeAll(async () => {
      moto = await startMoto();
    });
    afterAll(async () => {
      await moto?.stop();
    });

    beforeEach(async () => {
      await resetMoto(moto.endpoint);
      world = await seed(moto.endpoint);
    });

    const defaultImage = async (id: string) => {
      const { LaunchTemplateVersions = [] } = await world.deps.ec2.send(
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Default'] }),
      );
      return [
        LaunchTemplateVersions[0]?.VersionNumber,
        LaunchTemplateVersions[0]?.LaunchTemplateData?.ImageId,
      ];
    };
    const history = async (name: string) => {
      try {
        const { Parameters = [] } = await world.deps.ssm.send(new GetParameterHistoryCommand({ Name: name }));
        return Parameters.map((p) => p.Value);
      } catch {
        return [];
      }
    };

    it('share_ami shares the image and snapshots and switches the parameters, once', async () => {
      const { deps, rollout, newImage, oldImage } = world;
      await createShareAmi(deps)({ rollout });
      const { LaunchPermissions = [] } = await deps.ec2.send(
        new DescribeImageAttributeCommand({ ImageId: newImage, Attribute: 'launchPermission' }),
      );
      expect(LaunchPermissions.map((p) => p.UserId)).toContain(SHARE_WITH);
      const { Images = [] } = await deps.ec2.send(new DescribeImagesCommand({ ImageIds: [newImage] }));
      const snapshotId = Images[0]?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId;
      expect(snapshotId).toBeDefined();
      const { CreateVolumePermissions = [] } = await deps.ec2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }),
      );
      expect(CreateVolumePermissions.map((p) => p.UserId)).toContain(SHARE_WITH);
      expect(await history(`${PARAM}-previous`)).toEqual([oldImage]);
      expect(await history(PARAM)).toEqual([oldImage, newImage]);

      await createShareAmi(deps)({ rollout });
      expect(await history(`${PARAM}-previous`)).toEqual([oldImage]);
      expect(await history(PARAM)).toEqual([oldImage, newImage]);
    });

    it('update launch templates, then rollback_ami, twice each', async () => {
      const { deps, rollout, newImage, oldImage, templateIds } = world;
      const shared = await createShareAmi(deps)({ rollout });
      const updated = await createUpdateLaunchTemplates(deps)({ rollout: shared });
      expect(updated.templates.map((t) => [t.previousVersion, t.newVersion])).toEqual([
        [1, 2],
        [1, 2],
      ]);
      await createUpdateLaunchTemplates(deps)({ rollout: shared });
      for (const id of templateIds) expect(await defaultImage(id)).toEqual([2, newImage]);
      const { LaunchTemplates = [] } = await deps.ec2.send(
        new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [...templateIds] }),
      );
      expect(LaunchTemplates.map((t) => t.LatestVersionNumber)).toEqual([2, 2]);

      const rolledBack = await createRollbackAmi(deps)({ rollout: updated });
      expect(rolledBack.rollback.templates.map((t) => t.action)).toEqual([
        'restored-default',
        'restored-default',
      ]);
      await createRollbackAmi(deps)({ rollout: updated });
      for (const id of templateIds) expect(await defaultImage(id)).toEqual([1, oldImage]);
      expect((await history(PARAM)).at(-1)).toBe(oldImage);
    });

    it('update launch templates fails with LaunchTemplateNotFoundError for a template moto does not have', async () => {
      const { deps, rollout } = world;
      const broken = {
        ...rollout,
        templates: [...rollout.templates, { launchTemplateId: 'lt-0123456789abcdef0', previousVersion: 1 }],
      };
      await expect(createUpdateLaunchTemplates(deps)({ rollout: broken })).rejects.toMatchObject({
        name: 'LaunchTemplateNotFoundError',
      });
    });

    it('notify publishes to the topic', async () => {
      const result = await createNotify(world.deps)({ outcome: 'SUCCEEDED', rollout: world.rollout });
      expect(result.messageId).not.toBe('');
      expect(result.subject).toBe(`[ami-rollout] ${world.newImage} succeeded`);
    });
  },
);

async function seed(endpoint: string): Promise<World> {
  const clientConfig = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 2,
  };
  const ec2 = new EC2Client(clientConfig);
  // moto does not implement EnableImageDeregistrationProtection: answer that one call here (it is exercised
  // against the local account), and let every other call reach moto.
  ec2.middlewareStack.add(
    (next, context) => async (args) =>
      context.commandName === 'EnableImageDeregistrationProtectionCommand'
        ? { output: { Return: 'enabled', $metadata: {} }, response: {} }
        : next(args),
    { step: 'initialize', name: 'motoLacksDeregistrationProtection' },
  );
  const ssm = new SSMClient(clientConfig);
  const sns = new SNSClient(clientConfig);
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const base = Images[0]?.ImageId ?? '';
  const image = async (name: string) => {
    const { Instances = [] } = await ec2.send(
      new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1 }),
    );
    const { ImageId = '' } = await ec2.send(
      new CreateImageCommand({ InstanceId: Instances[0]?.InstanceId, Name: name }),
    );
    return ImageId;
  };
  const oldImage = await image('golden-old');
  const newImage = await image('golden-new');
  const templateIds: string[] = [];
  for (const name of ['web', 'backend']) {
    const { LaunchTemplate } = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: name,
        LaunchTemplateData: { ImageId: oldImage, InstanceType: 't3.small' },
      }),
    );
    templateIds.push(LaunchTemplate?.LaunchTemplateId ?? '');
  }
  await ssm.send(new PutParameterCommand({ Name: PARAM, Value: oldImage, Type: 'String' }));
  const { TopicArn = '' } = await sns.send(new CreateTopicCommand({ Name: 'ami-rollout-notifications' }));
  const config = parseConfig({
    amiParameterName: PARAM,
    launchTemplateIds: templateIds,
    autoScalingGroupNames: ['web'],
    shareWithAccountIds: [SHARE_WITH],
    trustedImageOwners: ['123456789012'],
    notificationTopicArn: TopicArn,
  });
  const deps: StepDependencies<'ec2' | 'autoscaling' | 'ssm' | 'sns'> = {
    config,
    ec2,
    ssm,
    sns,
    autoscaling: new AutoScalingClient(clientConfig),
    logSink: () => {},
  };
  const rollout: Rollout = {
    rolloutId: 'moto-1',
    imageId: newImage,
    rollbackTargetImageId: oldImage,
    templates: templateIds.map((launchTemplateId) => ({
      launchTemplateId,
      previousVersion: 1,
      previousImageId: oldImage,
    })),
    groups: [],
    groupIndex: 0,
    done: false,
    refreshes: [],
  };
  return { deps, oldImage, newImage, templateIds, rollout };
}
