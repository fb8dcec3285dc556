import type { LocalAccount } from './account.ts';
import type { Image, ImageState, LaunchTemplate } from './state.ts';

/**
 * Images and snapshots have no create API in the local account (RegisterImage is out of scope): the fleet file
 * and tests put them in place with this.
 */
export interface ImageSeed {
  /** Default: a generated id. */
  readonly imageId?: string;
  readonly name: string;
  readonly description?: string;
  /** Default: the account itself. */
  readonly ownerId?: string;
  /** Default: available. */
  readonly state?: ImageState;
  /** Default: the account's current virtual time. */
  readonly creationDate?: Date;
  /** Default: x86_64. */
  readonly architecture?: string;
  /** Default: one 8 GiB unencrypted root snapshot with a generated id. */
  readonly snapshots?: readonly {
    snapshotId?: string;
    volumeSize?: number;
    encrypted?: boolean;
    kmsKeyId?: string;
  }[];
  readonly deregistrationProtection?: boolean;
  readonly tags?: Readonly<Record<string, string>>;
}

export function addImage(account: LocalAccount, seed: ImageSeed): Image {
  const imageId = seed.imageId ?? account.ids.resource('ami');
  const ownerId = seed.ownerId ?? account.accountId;
  const snapshots = seed.snapshots ?? [{}];
  const blockDeviceMappings = snapshots.map((s, i) => {
    const snapshotId = s.snapshotId ?? account.ids.resource('snap');
    const volumeSize = s.volumeSize ?? 8;
    const encrypted = s.encrypted ?? false;
    account.state.snapshots.set(snapshotId, {
      snapshotId,
      ownerId,
      volumeSize,
      encrypted,
      ...(s.kmsKeyId ? { kmsKeyId: s.kmsKeyId } : {}),
      startTime: seed.creationDate ?? account.now(),
      description: `Created for ${imageId}`,
      createVolumePermissions: { userIds: new Set(), groupAll: false },
    });
    return {
      deviceName: i === 0 ? '/dev/xvda' : `/dev/xvd${String.fromCharCode(98 + i - 1)}`,
      snapshotId,
      volumeSize,
      encrypted,
    };
  });
  const image: Image = {
    imageId,
    name: seed.name,
    ...(seed.description ? { description: seed.description } : {}),
    ownerId,
    state: seed.state ?? 'available',
    creationDate: seed.creationDate ?? account.now(),
    architecture: seed.architecture ?? 'x86_64',
    rootDeviceName: '/dev/xvda',
    blockDeviceMappings,
    launchPermissions: {
      userIds: new Set(),
      organizationArns: new Set(),
      organizationalUnitArns: new Set(),
      groupAll: false,
    },
    deregistrationProtection: seed.deregistrationProtection ? 'enabled' : 'disabled',
    tags: new Map(Object.entries(seed.tags ?? {})),
  };
  account.state.images.set(imageId, image);
  return image;
}

export interface LaunchTemplateSeed {
  /** Default: a generated id. */
  readonly launchTemplateId?: string;
  readonly name: string;
  readonly imageId: string;
  /** Default: t3.micro. */
  readonly instanceType?: string;
  /** Further launch template data, kept verbatim. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/**
 * A launch template with one version, put in place directly so a fleet file can give it a fixed id (the
 * CreateLaunchTemplate API always generates one).
 */
export function addLaunchTemplate(account: LocalAccount, seed: LaunchTemplateSeed): LaunchTemplate {
  const launchTemplateId = seed.launchTemplateId ?? account.ids.resource('lt');
  const createTime = account.now();
  const template: LaunchTemplate = {
    launchTemplateId,
    launchTemplateName: seed.name,
    createTime,
    defaultVersion: 1,
    latestVersion: 1,
    versions: new Map([
      [
        1,
        {
          versionNumber: 1,
          createTime,
          data: { ...seed.data, ImageId: seed.imageId, InstanceType: seed.instanceType ?? 't3.micro' },
        },
      ],
    ]),
    tags: new Map(),
  };
  account.state.launchTemplates.set(launchTemplateId, template);
  return template;
}
