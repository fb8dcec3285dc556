import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DeleteLaunchTemplateVersionsCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  DisableImageDeregistrationProtectionCommand,
  EC2Client,
  EC2ServiceException,
  EnableImageDeregistrationProtectionCommand,
  ModifyImageAttributeCommand,
  ModifyLaunchTemplateCommand,
  ModifySnapshotAttributeCommand,
  ResetImageAttributeCommand,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { addImage } from '../../src/local-account/seed.ts';
import type { Instance } from '../../src/local-account/state.ts';

const TARGET_ACCOUNT = '210987654321';
const ORG_ARN = 'arn:aws:organizations::123456789012:organization/o-abcdefghij';
const OU_ARN = 'arn:aws:organizations::123456789012:ou/o-abcdefghij/ou-ab12-cdefgh34';

let account: LocalAccount;
let ec2: EC2Client;

beforeEach(() => {
  account = createLocalAccount();
  ec2 = new EC2Client({ ...inProcessClientConfig(account), maxAttempts: 1 });
});

/** The error an SDK call fails with: its code, HTTP status and message. */
async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EC2ServiceException) {
      return { code: error.name, status: error.$metadata.httpStatusCode, message: error.message };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

async function createTemplate(name = 'web', data: RequestLaunchTemplateData = {}) {
  const image = addImage(account, { name: `${name}-base` });
  const { LaunchTemplate } = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      VersionDescription: 'first',
      LaunchTemplateData: { ImageId: image.imageId, InstanceType: 't3.micro', ...data },
    }),
  );
  return { templateId: LaunchTemplate!.LaunchTemplateId!, image };
}

async function versionsOf(templateId: string, versions?: string[]) {
  const { LaunchTemplateVersions } = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: versions }),
  );
  return LaunchTemplateVersions ?? [];
}

describe('DescribeImages', () => {
  it('describes a seeded image with its owner, state, dates and block devices', async () => {
    const image = addImage(account, {
      name: 'web-2026-01-01',
      description: 'golden web image',
      snapshots: [{ volumeSize: 20, encrypted: true }],
    });
    const { Images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId] }));
    expect(Images).toHaveLength(1);
    expect(Images![0]).toMatchObject({
      ImageId: image.imageId,
      Name: 'web-2026-01-01',
      Description: 'golden web image',
      State: 'available',
      OwnerId: account.accountId,
      CreationDate: '2026-01-01T00:00:00.000Z',
      Public: false,
      Architecture: 'x86_64',
      RootDeviceName: '/dev/xvda',
      DeregistrationProtection: 'disabled',
      BlockDeviceMappings: [
        {
          DeviceName: '/dev/xvda',
          Ebs: { SnapshotId: image.blockDeviceMappings[0]!.snapshotId, VolumeSize: 20, Encrypted: true },
        },
      ],
    });
  });

  it('filters by name with wildcards, state, owner and tag', async () => {
    const old = addImage(account, { name: 'web-2025-12-01', tags: { app: 'web' } });
    const current = addImage(account, { name: 'web-2026-01-01', tags: { app: 'web' } });
    addImage(account, { name: 'db-2026-01-01', tags: { app: 'db' } });
    addImage(account, { name: 'web-broken', state: 'failed' });
    const ids = async (filters: { Name: string; Values: string[] }[], owners?: string[]) =>
      (await ec2.send(new DescribeImagesCommand({ Filters: filters, Owners: owners }))).Images!.map(
        (i) => i.ImageId,
      );
    expect(await ids([{ Name: 'name', Values: ['web-2026-*', 'web-2025-??-01'] }])).toEqual([
      old.imageId,
      current.imageId,
    ]);
    expect(await ids([{ Name: 'state', Values: ['failed'] }])).toHaveLength(1);
    expect(await ids([{ Name: 'tag:app', Values: ['web'] }])).toEqual([old.imageId, current.imageId]);
    expect(
      await ids([
        { Name: 'tag:app', Values: ['web'] },
        { Name: 'image-id', Values: [current.imageId] },
      ]),
    ).toEqual([current.imageId]);
    expect(await ids([], ['self'])).toHaveLength(4);
    expect(await ids([{ Name: 'owner-id', Values: [TARGET_ACCOUNT] }])).toEqual([]);
  });

  it('selects by owner account, including images shared from another account', async () => {
    const shared = addImage(account, { name: 'vendor', ownerId: TARGET_ACCOUNT });
    addImage(account, { name: 'mine' });
    const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: [TARGET_ACCOUNT] }));
    expect(Images!.map((i) => i.ImageId)).toEqual([shared.imageId]);
  });

  it('leaves deregistered images out, even when named', async () => {
    const gone = addImage(account, { name: 'gone' });
    const kept = addImage(account, { name: 'kept' });
    await ec2.send(new DeregisterImageCommand({ ImageId: gone.imageId }));
    const all = await ec2.send(new DescribeImagesCommand({}));
    expect(all.Images!.map((i) => i.ImageId)).toEqual([kept.imageId]);
    const named = await ec2.send(new DescribeImagesCommand({ ImageIds: [gone.imageId] }));
    expect(named.Images).toEqual([]);
  });

  it('fails with InvalidAMIID.Malformed for an id that is not ami-<hex>', async () => {
    expect(await failure(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-xyz'] })))).toMatchObject({
      code: 'InvalidAMIID.Malformed',
      status: 400,
    });
  });

  it("fails with InvalidAMIID.NotFound and AWS's message for an unknown id", async () => {
    expect(
      await failure(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-0123456789abcdef0'] }))),
    ).toEqual({
      code: 'InvalidAMIID.NotFound',
      status: 400,
      message: "The image id '[ami-0123456789abcdef0]' does not exist",
    });
  });

  it('refuses a filter name EC2 does not know', async () => {
    expect(
      await failure(ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'colour', Values: ['red'] }] }))),
    ).toMatchObject({ code: 'InvalidParameterValue', message: "The filter 'colour' is invalid" });
  });
});

describe('ModifyImageAttribute', () => {
  it('shares an image with an account, an organization and an OU, and unshares it', async () => {
    const image = addImage(account, { name: 'web' });
    await ec2.send(
      new ModifyImageAttributeCommand({
        ImageId: image.imageId,
        LaunchPermission: {
          Add: [{ UserId: TARGET_ACCOUNT }, { OrganizationArn: ORG_ARN }, { OrganizationalUnitArn: OU_ARN }],
        },
      }),
    );
    const shared = await ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'launchPermission' }),
    );
    expect(shared.LaunchPermissions).toEqual([
      { UserId: TARGET_ACCOUNT },
      { OrganizationArn: ORG_ARN },
      { OrganizationalUnitArn: OU_ARN },
    ]);
    await ec2.send(
      new ModifyImageAttributeCommand({
        ImageId: image.imageId,
        LaunchPermission: { Remove: [{ UserId: TARGET_ACCOUNT }, { OrganizationArn: ORG_ARN }] },
      }),
    );
    const after = await ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'launchPermission' }),
    );
    expect(after.LaunchPermissions).toEqual([{ OrganizationalUnitArn: OU_ARN }]);
  });

  it('accepts the flat form: Attribute, OperationType and UserIds', async () => {
    const image = addImage(account, { name: 'web' });
    await ec2.send(
      new ModifyImageAttributeCommand({
        ImageId: image.imageId,
        Attribute: 'launchPermission',
        OperationType: 'add',
        UserIds: [TARGET_ACCOUNT, '111122223333'],
      }),
    );
    expect([...image.launchPermissions.userIds]).toEqual([TARGET_ACCOUNT, '111122223333']);
  });

  it('makes an image public with Group=all', async () => {
    const image = addImage(account, { name: 'web' });
    await ec2.send(
      new ModifyImageAttributeCommand({
        ImageId: image.imageId,
        LaunchPermission: { Add: [{ Group: 'all' }] },
      }),
    );
    const { Images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId] }));
    expect(Images![0]!.Public).toBe(true);
  });

  it('fails for an account id that is not 12 digits, and shares with nobody', async () => {
    const image = addImage(account, { name: 'web' });
    const result = await failure(
      ec2.send(
        new ModifyImageAttributeCommand({
          ImageId: image.imageId,
          LaunchPermission: { Add: [{ UserId: TARGET_ACCOUNT }, { UserId: '1234' }] },
        }),
      ),
    );
    expect(result).toMatchObject({ code: 'InvalidAMIAttributeItemValue', status: 400 });
    expect(image.launchPermissions.userIds.size).toBe(0);
  });

  it('fails with InvalidAMIID.NotFound for an unknown image', async () => {
    const result = await failure(
      ec2.send(
        new ModifyImageAttributeCommand({
          ImageId: 'ami-0123456789abcdef0',
          LaunchPermission: { Add: [{ UserId: TARGET_ACCOUNT }] },
        }),
      ),
    );
    expect(result.code).toBe('InvalidAMIID.NotFound');
  });

  it('changes the description', async () => {
    const image = addImage(account, { name: 'web' });
    await ec2.send(
      new ModifyImageAttributeCommand({ ImageId: image.imageId, Description: { Value: 'retired' } }),
    );
    const { Description } = await ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'description' }),
    );
    expect(Description).toEqual({ Value: 'retired' });
  });

  it('is undone by ResetImageAttribute', async () => {
    const image = addImage(account, { name: 'web' });
    await ec2.send(
      new ModifyImageAttributeCommand({
        ImageId: image.imageId,
        LaunchPermission: { Add: [{ UserId: TARGET_ACCOUNT }] },
      }),
    );
    await ec2.send(new ResetImageAttributeCommand({ ImageId: image.imageId, Attribute: 'launchPermission' }));
    expect(image.launchPermissions.userIds.size).toBe(0);
  });
});

describe('DescribeImageAttribute', () => {
  it('answers blockDeviceMapping and deregistrationProtection', async () => {
    const image = addImage(account, { name: 'web', deregistrationProtection: true });
    const devices = await ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'blockDeviceMapping' }),
    );
    expect(devices.BlockDeviceMappings![0]!.Ebs!.SnapshotId).toBe(image.blockDeviceMappings[0]!.snapshotId);
    const protection = await ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'deregistrationProtection' }),
    );
    expect(protection.DeregistrationProtection).toEqual({ Value: 'enabled-without-cooldown' });
  });
});

describe('DeregisterImage', () => {
  it('is refused while deregistration protection is enabled, and leaves the image available', async () => {
    const image = addImage(account, { name: 'rollback-target' });
    const { Return } = await ec2.send(
      new EnableImageDeregistrationProtectionCommand({ ImageId: image.imageId }),
    );
    expect(Return).toBe('true');
    const result = await failure(ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })));
    expect(result).toMatchObject({ code: 'OperationNotPermitted', status: 400 });
    expect(image.state).toBe('available');
  });

  it('works once protection is disabled', async () => {
    const image = addImage(account, { name: 'old', deregistrationProtection: true });
    await ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: image.imageId }));
    const { Return } = await ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
    expect(Return).toBe(true);
    expect(image.state).toBe('deregistered');
    const again = await failure(ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })));
    expect(again.code).toBe('InvalidAMIID.NotFound');
  });

  it('stays refused for 24 hours after protection "with cooldown" is disabled', async () => {
    const image = addImage(account, { name: 'old' });
    await ec2.send(
      new EnableImageDeregistrationProtectionCommand({ ImageId: image.imageId, WithCooldown: true }),
    );
    const { Images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId] }));
    expect(Images![0]!.DeregistrationProtection).toBe('enabled-with-cooldown');
    await ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: image.imageId }));
    account.advance(23 * 3600);
    expect((await failure(ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })))).code).toBe(
      'OperationNotPermitted',
    );
    account.advance(3600);
    await ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
    expect(image.state).toBe('deregistered');
  });

  it('deletes the snapshots too when asked', async () => {
    const image = addImage(account, { name: 'old' });
    const snapshotId = image.blockDeviceMappings[0]!.snapshotId;
    const { DeleteSnapshotResults } = await ec2.send(
      new DeregisterImageCommand({ ImageId: image.imageId, DeleteAssociatedSnapshots: true }),
    );
    expect(DeleteSnapshotResults).toEqual([{ SnapshotId: snapshotId, ReturnCode: 'success' }]);
    expect(account.state.snapshots.has(snapshotId)).toBe(false);
  });
});

describe("another account's image and snapshot", () => {
  const OTHER_ACCOUNT = '999988887777';
  /** Owned elsewhere, and shared with this account: launchable here, but not this account's to change. */
  const theirs = () => {
    const image = addImage(account, {
      imageId: 'ami-0a1b2c3d4e5f60009',
      name: 'theirs',
      ownerId: OTHER_ACCOUNT,
      deregistrationProtection: true,
    });
    image.launchPermissions.userIds.add(account.accountId);
    return image;
  };
  const notAuthorized = (imageId: string) => ({
    code: 'AuthFailure',
    status: 400,
    message: `Not authorized for image:${imageId}`,
  });

  it('ModifyImageAttribute fails with AuthFailure and changes nothing', async () => {
    const image = theirs();
    const share = await failure(
      ec2.send(
        new ModifyImageAttributeCommand({
          ImageId: image.imageId,
          LaunchPermission: { Add: [{ UserId: '444455556666' }] },
        }),
      ),
    );
    expect(share).toEqual(notAuthorized(image.imageId));
    const describe = await failure(
      ec2.send(
        new ModifyImageAttributeCommand({ ImageId: image.imageId, Description: { Value: 'mine now' } }),
      ),
    );
    expect(describe.code).toBe('AuthFailure');
    expect([...account.state.images.get(image.imageId)!.launchPermissions.userIds]).toEqual([
      account.accountId,
    ]);
    expect(account.state.images.get(image.imageId)!.description).toBeUndefined();
  });

  it('DescribeImageAttribute fails with AuthFailure: only the owner reads who an image is shared with', async () => {
    const image = theirs();
    expect(
      await failure(
        ec2.send(
          new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'launchPermission' }),
        ),
      ),
    ).toEqual(notAuthorized(image.imageId));
  });

  it('ResetImageAttribute fails with AuthFailure and keeps the launch permissions', async () => {
    const image = theirs();
    expect(
      await failure(
        ec2.send(new ResetImageAttributeCommand({ ImageId: image.imageId, Attribute: 'launchPermission' })),
      ),
    ).toEqual(notAuthorized(image.imageId));
    expect(image.launchPermissions.userIds.has(account.accountId)).toBe(true);
  });

  it('deregistration protection cannot be enabled or disabled, and the image cannot be deregistered', async () => {
    const image = theirs();
    expect(
      await failure(ec2.send(new DisableImageDeregistrationProtectionCommand({ ImageId: image.imageId }))),
    ).toEqual(notAuthorized(image.imageId));
    expect(image.deregistrationProtection).toBe('enabled');
    image.deregistrationProtection = 'disabled';
    expect(
      await failure(
        ec2.send(
          new EnableImageDeregistrationProtectionCommand({ ImageId: image.imageId, WithCooldown: true }),
        ),
      ),
    ).toEqual(notAuthorized(image.imageId));
    expect(image.deregistrationProtection).toBe('disabled');
    expect(await failure(ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })))).toEqual(
      notAuthorized(image.imageId),
    );
    expect(image.state).toBe('available');
  });

  it('ModifySnapshotAttribute fails with AuthFailure and shares nothing', async () => {
    const snapshotId = theirs().blockDeviceMappings[0]!.snapshotId;
    expect(
      await failure(
        ec2.send(
          new ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            CreateVolumePermission: { Add: [{ UserId: '444455556666' }] },
          }),
        ),
      ),
    ).toEqual({ code: 'AuthFailure', status: 400, message: `Not authorized for snapshot:${snapshotId}` });
    expect(account.state.snapshots.get(snapshotId)!.createVolumePermissions.userIds.size).toBe(0);
  });

  it('an unknown image is still InvalidAMIID.NotFound, not AuthFailure', async () => {
    expect(
      (await failure(ec2.send(new DeregisterImageCommand({ ImageId: 'ami-0123456789abcdef0' })))).code,
    ).toBe('InvalidAMIID.NotFound');
  });
});

describe('DescribeSnapshots', () => {
  it('describes snapshots by id and by owner', async () => {
    const image = addImage(account, {
      name: 'web',
      snapshots: [{ volumeSize: 30, encrypted: true, kmsKeyId: 'key-1' }],
    });
    const snapshotId = image.blockDeviceMappings[0]!.snapshotId;
    const byId = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
    expect(byId.Snapshots![0]).toMatchObject({
      SnapshotId: snapshotId,
      OwnerId: account.accountId,
      VolumeSize: 30,
      Encrypted: true,
      KmsKeyId: 'key-1',
      State: 'completed',
      StartTime: new Date('2026-01-01T00:00:00Z'),
    });
    const mine = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    expect(mine.Snapshots!.map((s) => s.SnapshotId)).toEqual([snapshotId]);
    const theirs = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: [TARGET_ACCOUNT] }));
    expect(theirs.Snapshots).toEqual([]);
  });

  it('fails with InvalidSnapshot.NotFound and InvalidSnapshotID.Malformed', async () => {
    expect(
      (await failure(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-0123456789abcdef0'] }))))
        .code,
    ).toBe('InvalidSnapshot.NotFound');
    expect((await failure(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-nope'] })))).code).toBe(
      'InvalidSnapshotID.Malformed',
    );
  });
});

describe('ModifySnapshotAttribute', () => {
  const snapshotOf = () => addImage(account, { name: 'web' }).blockDeviceMappings[0]!.snapshotId;
  const permissionsOf = async (snapshotId: string) =>
    (
      await ec2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission' }),
      )
    ).CreateVolumePermissions;

  it('adds and then removes a create-volume permission', async () => {
    const snapshotId = snapshotOf();
    await ec2.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: snapshotId,
        CreateVolumePermission: { Add: [{ UserId: TARGET_ACCOUNT }] },
      }),
    );
    expect(await permissionsOf(snapshotId)).toEqual([{ UserId: TARGET_ACCOUNT }]);
    await ec2.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: snapshotId,
        Attribute: 'createVolumePermission',
        OperationType: 'remove',
        UserIds: [TARGET_ACCOUNT],
      }),
    );
    expect(await permissionsOf(snapshotId)).toEqual([]);
  });

  it('refuses to add and remove in one call, and changes nothing', async () => {
    const snapshotId = snapshotOf();
    const result = await failure(
      ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: snapshotId,
          CreateVolumePermission: { Add: [{ UserId: TARGET_ACCOUNT }], Remove: [{ UserId: '111122223333' }] },
        }),
      ),
    );
    expect(result.code).toBe('InvalidParameterCombination');
    expect(await permissionsOf(snapshotId)).toEqual([]);
  });

  it('fails for an unknown snapshot', async () => {
    const result = await failure(
      ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId: 'snap-0123456789abcdef0',
          CreateVolumePermission: { Add: [{ UserId: TARGET_ACCOUNT }] },
        }),
      ),
    );
    expect(result.code).toBe('InvalidSnapshot.NotFound');
  });
});

describe('CreateLaunchTemplate', () => {
  it('creates version 1 as the default and latest version', async () => {
    const image = addImage(account, { name: 'web' });
    const { LaunchTemplate } = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'web',
        LaunchTemplateData: { ImageId: image.imageId, InstanceType: 't3.micro' },
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'team', Value: 'web' }] }],
      }),
    );
    expect(LaunchTemplate).toMatchObject({
      LaunchTemplateName: 'web',
      DefaultVersionNumber: 1,
      LatestVersionNumber: 1,
      CreateTime: new Date('2026-01-01T00:00:00Z'),
      CreatedBy: `arn:aws:iam::${account.accountId}:root`,
      Tags: [{ Key: 'team', Value: 'web' }],
    });
    expect(LaunchTemplate!.LaunchTemplateId).toMatch(/^lt-[0-9a-f]{17}$/);
  });

  it('keeps the launch template data verbatim', async () => {
    const data: RequestLaunchTemplateData = {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 'm7g.large',
      KeyName: 'ops',
      SecurityGroupIds: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 50, VolumeType: 'gp3', Encrypted: true } },
      ],
      NetworkInterfaces: [
        { DeviceIndex: 0, Groups: ['sg-0123456789abcdef0'], AssociatePublicIpAddress: false },
      ],
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
      IamInstanceProfile: { Name: 'web' },
      UserData: 'IyEvYmluL2Jhc2gK',
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'web' }] }],
    };
    const { LaunchTemplate } = await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: data }),
    );
    const [version] = await versionsOf(LaunchTemplate!.LaunchTemplateId!);
    expect(version!.LaunchTemplateData).toEqual(data);
  });

  it('accepts an ImageId that does not exist, as EC2 checks it only at launch', async () => {
    const { LaunchTemplate } = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'web',
        LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0' },
      }),
    );
    expect(LaunchTemplate!.LatestVersionNumber).toBe(1);
  });

  it('fails with InvalidLaunchTemplateName.AlreadyExistsException for a name in use', async () => {
    await createTemplate('web');
    const result = await failure(
      ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'web',
          LaunchTemplateData: { InstanceType: 't3.micro' },
        }),
      ),
    );
    expect(result.code).toBe('InvalidLaunchTemplateName.AlreadyExistsException');
    expect(account.state.launchTemplates.size).toBe(1);
  });

  it('fails for a malformed name and without data', async () => {
    const badName = await failure(
      ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'a b',
          LaunchTemplateData: { InstanceType: 't3.micro' },
        }),
      ),
    );
    expect(badName.code).toBe('InvalidLaunchTemplateName.MalformedException');
    const noData = await failure(
      ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: {} })),
    );
    expect(noData.code).toBe('MissingParameter');
    expect(account.state.launchTemplates.size).toBe(0);
  });
});

describe('DescribeLaunchTemplates', () => {
  it('finds templates by id, by name, or all', async () => {
    const web = await createTemplate('web');
    const db = await createTemplate('database');
    const byId = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [web.templateId] }));
    expect(byId.LaunchTemplates!.map((t) => t.LaunchTemplateName)).toEqual(['web']);
    const byName = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['database'] }));
    expect(byName.LaunchTemplates!.map((t) => t.LaunchTemplateId)).toEqual([db.templateId]);
    const all = await ec2.send(new DescribeLaunchTemplatesCommand({}));
    expect(all.LaunchTemplates).toHaveLength(2);
  });

  it('fails for a malformed id, an unknown id and an unknown name', async () => {
    expect(
      (await failure(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-123'] })))).code,
    ).toBe('InvalidLaunchTemplateId.Malformed');
    expect(
      (
        await failure(
          ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-0123456789abcdef0'] })),
        )
      ).code,
    ).toBe('InvalidLaunchTemplateId.NotFound');
    expect(
      (await failure(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['nope'] })))).code,
    ).toBe('InvalidLaunchTemplateName.NotFoundException');
  });
});

describe('CreateLaunchTemplateVersion', () => {
  it('overlays the new data on the source version', async () => {
    const { templateId } = await createTemplate('web', { KeyName: 'ops' });
    const next = addImage(account, { name: 'web-next' });
    const { LaunchTemplateVersion } = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: templateId,
        SourceVersion: '1',
        VersionDescription: 'new image',
        LaunchTemplateData: { ImageId: next.imageId },
      }),
    );
    expect(LaunchTemplateVersion).toMatchObject({
      VersionNumber: 2,
      VersionDescription: 'new image',
      DefaultVersion: false,
      LaunchTemplateData: { ImageId: next.imageId, InstanceType: 't3.micro', KeyName: 'ops' },
    });
    const template = account.state.launchTemplates.get(templateId)!;
    expect([template.defaultVersion, template.latestVersion]).toEqual([1, 2]);
  });

  it('starts from empty data without a SourceVersion', async () => {
    const { templateId } = await createTemplate('web');
    const { LaunchTemplateVersion } = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateName: 'web',
        LaunchTemplateData: { InstanceType: 'm7g.large' },
      }),
    );
    expect(LaunchTemplateVersion!.LaunchTemplateData).toEqual({ InstanceType: 'm7g.large' });
    expect(LaunchTemplateVersion!.LaunchTemplateId).toBe(templateId);
  });

  it('fails for an unknown source version, and creates nothing', async () => {
    const { templateId } = await createTemplate('web');
    const result = await failure(
      ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: templateId,
          SourceVersion: '7',
          LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0' },
        }),
      ),
    );
    expect(result.code).toBe('InvalidLaunchTemplateId.VersionNotFound');
    expect(account.state.launchTemplates.get(templateId)!.latestVersion).toBe(1);
  });

  it('fails for an unknown template', async () => {
    const result = await failure(
      ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: 'lt-0123456789abcdef0',
          LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0' },
        }),
      ),
    );
    expect(result).toMatchObject({
      code: 'InvalidLaunchTemplateId.NotFound',
      message: 'The specified launch template, with template ID lt-0123456789abcdef0, does not exist.',
    });
  });
});

describe('DescribeLaunchTemplateVersions', () => {
  async function templateWithThreeVersions() {
    const { templateId } = await createTemplate('web');
    for (const type of ['t3.small', 't3.large'] as const) {
      await ec2.send(
        new CreateLaunchTemplateVersionCommand({
          LaunchTemplateId: templateId,
          SourceVersion: '$Latest',
          LaunchTemplateData: { InstanceType: type },
        }),
      );
    }
    await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: templateId, DefaultVersion: '2' }));
    return templateId;
  }

  it('resolves $Default and $Latest', async () => {
    const templateId = await templateWithThreeVersions();
    const versions = await versionsOf(templateId, ['$Default', '$Latest']);
    expect(
      versions.map((v) => [v.VersionNumber, v.DefaultVersion, v.LaunchTemplateData!.InstanceType]),
    ).toEqual([
      [2, true, 't3.small'],
      [3, false, 't3.large'],
    ]);
  });

  it('lists every version, newest first, within MinVersion and MaxVersion', async () => {
    const templateId = await templateWithThreeVersions();
    expect((await versionsOf(templateId)).map((v) => v.VersionNumber)).toEqual([3, 2, 1]);
    const { LaunchTemplateVersions } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateName: 'web',
        MinVersion: '2',
        MaxVersion: '2',
      }),
    );
    expect(LaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([2]);
  });

  it('describes $Latest of every template when no template is named', async () => {
    await createTemplate('web');
    await createTemplate('database');
    const { LaunchTemplateVersions } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ Versions: ['$Latest'] }),
    );
    expect(LaunchTemplateVersions!.map((v) => v.LaunchTemplateName)).toEqual(['web', 'database']);
  });

  it('resolves an SSM parameter ImageId when ResolveAlias is set', async () => {
    const image = addImage(account, { name: 'web' });
    account.state.parameters.set('/web/ami', {
      name: '/web/ami',
      versions: [
        {
          version: 1,
          value: image.imageId,
          type: 'String',
          dataType: 'aws:ec2:image',
          lastModifiedDate: account.now(),
          labels: [],
        },
      ],
    });
    const { templateId } = await createTemplate('web', { ImageId: 'resolve:ssm:/web/ami' });
    const { LaunchTemplateVersions } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, ResolveAlias: true }),
    );
    expect(LaunchTemplateVersions![0]!.LaunchTemplateData!.ImageId).toBe(image.imageId);
    expect((await versionsOf(templateId))[0]!.LaunchTemplateData!.ImageId).toBe('resolve:ssm:/web/ami');
  });

  it('fails with InvalidLaunchTemplateId.VersionNotFound for a missing version', async () => {
    const { templateId } = await createTemplate('web');
    const result = await failure(versionsOf(templateId, ['4']));
    expect(result).toMatchObject({ code: 'InvalidLaunchTemplateId.VersionNotFound', status: 400 });
  });

  it('fails for both an id and a name, and for an unknown name', async () => {
    const { templateId } = await createTemplate('web');
    const both = await failure(
      ec2.send(
        new DescribeLaunchTemplateVersionsCommand({
          LaunchTemplateId: templateId,
          LaunchTemplateName: 'web',
        }),
      ),
    );
    expect(both.code).toBe('InvalidParameterCombination');
    const unknown = await failure(
      ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'db' })),
    );
    expect(unknown.code).toBe('InvalidLaunchTemplateName.NotFoundException');
  });
});

describe('ModifyLaunchTemplate', () => {
  it('points the default version forward and back again', async () => {
    const { templateId } = await createTemplate('web');
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: templateId,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0' },
      }),
    );
    const forward = await ec2.send(
      new ModifyLaunchTemplateCommand({ LaunchTemplateId: templateId, DefaultVersion: '2' }),
    );
    expect(forward.LaunchTemplate).toMatchObject({ DefaultVersionNumber: 2, LatestVersionNumber: 2 });
    await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateName: 'web', DefaultVersion: '1' }));
    expect((await versionsOf(templateId, ['$Default']))[0]!.VersionNumber).toBe(1);
  });

  it('fails for a version that does not exist, and keeps the default', async () => {
    const { templateId } = await createTemplate('web');
    const result = await failure(
      ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: templateId, DefaultVersion: '9' })),
    );
    expect(result.code).toBe('InvalidLaunchTemplateId.VersionNotFound');
    expect(account.state.launchTemplates.get(templateId)!.defaultVersion).toBe(1);
  });
});

describe('DeleteLaunchTemplateVersions', () => {
  it('deletes other versions but not the default one', async () => {
    const { templateId } = await createTemplate('web');
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: templateId,
        LaunchTemplateData: { InstanceType: 't3.large' },
      }),
    );
    const result = await ec2.send(
      new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: ['1', '2', '5'] }),
    );
    expect(result.SuccessfullyDeletedLaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([2]);
    expect(
      result.UnsuccessfullyDeletedLaunchTemplateVersions!.map((v) => [
        v.VersionNumber,
        v.ResponseError!.Code,
      ]),
    ).toEqual([
      [1, 'unexpectedError'],
      [5, 'launchTemplateVersionDoesNotExist'],
    ]);
  });
});

describe('DescribeInstances', () => {
  function seedInstance(n: number, overrides: Partial<Instance> = {}): Instance {
    const instance: Instance = {
      instanceId: `i-0${(0xb000 + n).toString(16).padStart(16, '0')}`,
      imageId: 'ami-0000000000000a001',
      instanceType: 't3.micro',
      availabilityZone: 'us-east-1a',
      launchTime: account.now(),
      launchTemplate: { launchTemplateId: 'lt-0000000000000a001', launchTemplateName: 'web', version: '2' },
      autoScalingGroupName: 'web-asg',
      lifecycleState: 'InService',
      healthStatus: 'Healthy',
      ec2State: 'running',
      ...overrides,
    };
    account.state.instances.set(instance.instanceId, instance);
    return instance;
  }

  it('describes the instances the fleet runs, with the tags Auto Scaling puts on them', async () => {
    const instance = seedInstance(1);
    const { Reservations } = await ec2.send(new DescribeInstancesCommand({}));
    expect(Reservations).toHaveLength(1);
    expect(Reservations![0]!.Instances![0]).toMatchObject({
      InstanceId: instance.instanceId,
      ImageId: instance.imageId,
      InstanceType: 't3.micro',
      LaunchTime: new Date('2026-01-01T00:00:00Z'),
      State: { Code: 16, Name: 'running' },
      Placement: { AvailabilityZone: 'us-east-1a' },
      Tags: [
        { Key: 'aws:autoscaling:groupName', Value: 'web-asg' },
        { Key: 'aws:ec2launchtemplate:id', Value: 'lt-0000000000000a001' },
        { Key: 'aws:ec2launchtemplate:version', Value: '2' },
      ],
    });
  });

  it('filters by group tag, state and image', async () => {
    const web = seedInstance(1);
    seedInstance(2, { autoScalingGroupName: 'db-asg' });
    const stopped = seedInstance(3, { ec2State: 'terminated', imageId: 'ami-0000000000000a002' });
    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      (await ec2.send(new DescribeInstancesCommand({ Filters: filters }))).Reservations!.flatMap((r) =>
        r.Instances!.map((i) => i.InstanceId),
      );
    expect(
      await ids([
        { Name: 'tag:aws:autoscaling:groupName', Values: ['web-asg'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ]),
    ).toEqual([web.instanceId]);
    expect(await ids([{ Name: 'image-id', Values: ['ami-0000000000000a002'] }])).toEqual([
      stopped.instanceId,
    ]);
    expect(await ids([{ Name: 'instance-id', Values: [web.instanceId] }])).toEqual([web.instanceId]);
  });

  it('fails with InvalidInstanceID.NotFound and InvalidInstanceID.Malformed', async () => {
    const notFound = await failure(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
    );
    expect(notFound).toMatchObject({
      code: 'InvalidInstanceID.NotFound',
      message: "The instance ID 'i-0123456789abcdef0' does not exist",
    });
    const malformed = await failure(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['web-1'] })));
    expect(malformed.code).toBe('InvalidInstanceID.Malformed');
  });
});

describe('CreateTags', () => {
  it('tags images so DescribeImages and DescribeTags find them', async () => {
    const image = addImage(account, { name: 'web' });
    await ec2.send(
      new CreateTagsCommand({ Resources: [image.imageId], Tags: [{ Key: 'rollout', Value: 'candidate' }] }),
    );
    const { Images } = await ec2.send(
      new DescribeImagesCommand({ Filters: [{ Name: 'tag:rollout', Values: ['candidate'] }] }),
    );
    expect(Images!.map((i) => i.ImageId)).toEqual([image.imageId]);
    const { Tags } = await ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [image.imageId] }] }),
    );
    expect(Tags).toEqual([
      { ResourceId: image.imageId, ResourceType: 'image', Key: 'rollout', Value: 'candidate' },
    ]);
  });

  it('refuses aws: tag keys and tags nothing', async () => {
    const image = addImage(account, { name: 'web' });
    const result = await failure(
      ec2.send(new CreateTagsCommand({ Resources: [image.imageId], Tags: [{ Key: 'aws:x', Value: 'y' }] })),
    );
    expect(result.code).toBe('InvalidParameterValue');
    expect(image.tags.size).toBe(0);
  });
});

describe('DryRun', () => {
  it('answers DryRunOperation and changes nothing', async () => {
    const image = addImage(account, { name: 'web' });
    const result = await failure(
      ec2.send(new EnableImageDeregistrationProtectionCommand({ ImageId: image.imageId, DryRun: true })),
    );
    expect(result).toMatchObject({ code: 'DryRunOperation', status: 412 });
    expect(image.deregistrationProtection).toBe('disabled');
  });
});

describe('EC2 over HTTP', () => {
  it('answers the same calls through a real socket', async () => {
    const emulator = await serve(account, 0);
    try {
      const client = new EC2Client({
        region: account.region,
        endpoint: emulator.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
      const image = addImage(account, { name: 'web' });
      const { Images } = await client.send(new DescribeImagesCommand({ Owners: ['self'] }));
      expect(Images!.map((i) => i.ImageId)).toEqual([image.imageId]);
      const { LaunchTemplate } = await client.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'web',
          LaunchTemplateData: { ImageId: image.imageId },
        }),
      );
      const { LaunchTemplateVersions } = await client.send(
        new DescribeLaunchTemplateVersionsCommand({
          LaunchTemplateId: LaunchTemplate!.LaunchTemplateId,
          Versions: ['$Latest'],
        }),
      );
      expect(LaunchTemplateVersions![0]!.LaunchTemplateData!.ImageId).toBe(image.imageId);
      const result = await failure(
        client.send(new DescribeImagesCommand({ ImageIds: ['ami-0123456789abcdef0'] })),
      );
      expect(result).toMatchObject({ code: 'InvalidAMIID.NotFound', status: 400 });
      client.destroy();
    } finally {
      await emulator.close();
    }
  });
});
