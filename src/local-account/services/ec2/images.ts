import type { LocalAccount } from '../../account.ts';
import { AwsApiError, missingParameter } from '../../errors.ts';
import type { Input } from '../../protocols/input.ts';
import type { Image, Snapshot } from '../../state.ts';
import type { Operation } from '../service.ts';
import {
  ACCOUNT_ID,
  checkFilterNames,
  checkImageId,
  imageNotFound,
  invalidParameterValue,
  malformed,
  matchesFilters,
  ok,
  readFilters,
  SNAPSHOT_ID,
  tagFilterValues,
  tagSet,
} from './common.ts';

/** EC2 keeps deregistration protection for 24 hours after it is disabled, when it was enabled "with cooldown". */
const COOLDOWN_MS = 24 * 3600 * 1000;

const IMAGE_ATTRIBUTES = [
  'description',
  'kernel',
  'ramdisk',
  'launchPermission',
  'productCodes',
  'blockDeviceMapping',
  'sriovNetSupport',
  'bootMode',
  'tpmSupport',
  'uefiData',
  'lastLaunchedTime',
  'imdsSupport',
  'deregistrationProtection',
] as const;

const IMAGE_FILTERS = [
  'image-id',
  'name',
  'state',
  'owner-id',
  'description',
  'architecture',
  'is-public',
  'image-type',
  'root-device-type',
  'block-device-mapping.snapshot-id',
  'block-device-mapping.encrypted',
];
const SNAPSHOT_FILTERS = ['snapshot-id', 'owner-id', 'status', 'encrypted', 'volume-size', 'description'];

interface LaunchPermissionChange {
  userIds: string[];
  groupAll: boolean;
  organizationArns: string[];
  organizationalUnitArns: string[];
}

const ORGANIZATION_ARN = /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/;
const OU_ARN =
  /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;

export function imageOperations(account: LocalAccount): Record<string, Operation> {
  const { images, snapshots } = account.state;
  /** Images whose protection was disabled while "with cooldown": deregistering stays refused until this time. */
  const cooldownUntil = new Map<string, Date>();

  /** Deregistered images stay in state (the simulation may still hold their ids) but are gone for the API. */
  const liveImage = (id: string): Image => {
    checkImageId(id);
    const image = images.get(id);
    if (!image || image.state === 'deregistered') throw imageNotFound([id]);
    return image;
  };

  const snapshot = (id: string): Snapshot => {
    if (!SNAPSHOT_ID.test(id)) throw malformed('InvalidSnapshotID.Malformed', id, 'snap');
    const found = snapshots.get(id);
    if (!found) throw new AwsApiError('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    return found;
  };

  /*
   * Only the owner may change an image: another account's image, even one shared with or public to this
   * account, answers AuthFailure "Not authorized for image:ami-..." (HTTP 400). Confirmed for DeregisterImage
   * (github.com/cloudcaptainsh/cloudcaptain/issues/66) and DescribeImageAttribute
   * (github.com/cloudquery/cloudquery/pull/9406); the EC2 error-code reference gives AuthFailure for acting on
   * "an AMI for which you do not have permissions" (docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
   * Snapshots get the same code by analogy; the exact snapshot message was not found in public material.
   */
  const ownImage = (id: string): Image => {
    const image = liveImage(id);
    if (image.ownerId !== account.accountId) {
      throw new AwsApiError('AuthFailure', `Not authorized for image:${image.imageId}`);
    }
    return image;
  };

  const ownSnapshot = (id: string): Snapshot => {
    const found = snapshot(id);
    if (found.ownerId !== account.accountId) {
      throw new AwsApiError('AuthFailure', `Not authorized for snapshot:${found.snapshotId}`);
    }
    return found;
  };

  const protectionValue = (image: Image): string => {
    // During the 24-hour cooldown the image reads as disabled but DeregisterImage still refuses it.
    if (image.deregistrationProtection === 'disabled') return 'disabled';
    return image.deregistrationProtection === 'enabled'
      ? 'enabled-without-cooldown'
      : 'enabled-with-cooldown';
  };

  const blockDevices = (image: Image) =>
    image.blockDeviceMappings.map((m) => ({
      deviceName: m.deviceName,
      ebs: {
        deleteOnTermination: true,
        snapshotId: m.snapshotId,
        volumeSize: m.volumeSize,
        volumeType: 'gp3',
        encrypted: m.encrypted,
      },
    }));

  const imageFilterValues =
    (image: Image) =>
    (name: string): readonly string[] | undefined => {
      switch (name) {
        case 'image-id':
          return [image.imageId];
        case 'name':
          return [image.name];
        case 'state':
          return [image.state];
        case 'owner-id':
          return [image.ownerId];
        case 'description':
          return image.description === undefined ? [] : [image.description];
        case 'architecture':
          return [image.architecture];
        case 'is-public':
          return [String(image.launchPermissions.groupAll)];
        case 'image-type':
          return ['machine'];
        case 'root-device-type':
          return ['ebs'];
        case 'block-device-mapping.snapshot-id':
          return image.blockDeviceMappings.map((m) => m.snapshotId);
        case 'block-device-mapping.encrypted':
          return image.blockDeviceMappings.map((m) => String(m.encrypted));
        default:
          return tagFilterValues(image.tags, name);
      }
    };

  /** Both request forms: `LaunchPermission.Add.N.*` and the older flat `OperationType` + `UserId.N`. */
  const readLaunchPermissionChanges = (
    input: Input,
  ): { add: LaunchPermissionChange; remove: LaunchPermissionChange } => {
    const fromList = (items: Input[]): LaunchPermissionChange => ({
      userIds: items.flatMap((i) => i.optString('UserId') ?? []),
      groupAll: items.some((i) => i.has('Group')),
      organizationArns: items.flatMap((i) => i.optString('OrganizationArn') ?? []),
      organizationalUnitArns: items.flatMap((i) => i.optString('OrganizationalUnitArn') ?? []),
    });
    const structured = input.optObject('LaunchPermission');
    const add = fromList(structured?.objects('Add') ?? []);
    const remove = fromList(structured?.objects('Remove') ?? []);
    for (const item of [...(structured?.objects('Add') ?? []), ...(structured?.objects('Remove') ?? [])]) {
      const group = item.optString('Group');
      if (group !== undefined && group !== 'all') {
        throw new AwsApiError(
          'InvalidAMIAttributeItemValue',
          `Invalid attribute item value "${group}" for UserGroup item type.`,
        );
      }
    }
    const operation = input.optString('OperationType');
    const flat: LaunchPermissionChange = {
      userIds: input.strings('UserId'),
      groupAll: input.strings('UserGroup').length > 0,
      organizationArns: input.strings('OrganizationArn'),
      organizationalUnitArns: input.strings('OrganizationalUnitArn'),
    };
    for (const group of input.strings('UserGroup')) {
      if (group !== 'all') {
        throw new AwsApiError(
          'InvalidAMIAttributeItemValue',
          `Invalid attribute item value "${group}" for UserGroup item type.`,
        );
      }
    }
    const flatUsed =
      flat.userIds.length + flat.organizationArns.length + flat.organizationalUnitArns.length > 0 ||
      flat.groupAll;
    if (flatUsed) {
      if (operation !== 'add' && operation !== 'remove') {
        throw new AwsApiError(
          'MissingParameter',
          'The request must contain the parameter OperationType (add or remove).',
        );
      }
      const target = operation === 'add' ? add : remove;
      target.userIds.push(...flat.userIds);
      target.organizationArns.push(...flat.organizationArns);
      target.organizationalUnitArns.push(...flat.organizationalUnitArns);
      target.groupAll ||= flat.groupAll;
    }
    for (const change of [add, remove]) {
      for (const userId of change.userIds) {
        if (!ACCOUNT_ID.test(userId)) {
          throw new AwsApiError(
            'InvalidAMIAttributeItemValue',
            `Invalid attribute item value "${userId}" for userId item type.`,
          );
        }
      }
      for (const arn of change.organizationArns) {
        if (!ORGANIZATION_ARN.test(arn)) throw invalidParameterValue(`Invalid organization ARN: ${arn}`);
      }
      for (const arn of change.organizationalUnitArns) {
        if (!OU_ARN.test(arn)) throw invalidParameterValue(`Invalid organizational unit ARN: ${arn}`);
      }
    }
    return { add, remove };
  };

  const isEmpty = (c: LaunchPermissionChange): boolean =>
    c.userIds.length + c.organizationArns.length + c.organizationalUnitArns.length === 0 && !c.groupAll;

  return {
    DescribeImages(input) {
      const ids = input.strings('ImageId');
      ids.forEach(checkImageId);
      const owners = input.strings('Owner').map((o) => (o === 'self' ? account.accountId : o));
      const executableBy = input.strings('ExecutableBy').map((e) => (e === 'self' ? account.accountId : e));
      const filters = readFilters(input);
      checkFilterNames(filters, IMAGE_FILTERS);
      // A deregistered image named explicitly drops out of the answer; one that never existed is an error.
      const missing = ids.filter((id) => !images.has(id));
      if (missing.length > 0) throw imageNotFound(missing);
      const candidates = ids.length > 0 ? ids.map((id) => images.get(id)!) : [...images.values()];
      const imagesSet = candidates
        .filter((image) => image.state !== 'deregistered')
        .filter((image) => owners.length === 0 || owners.includes(image.ownerId))
        .filter(
          (image) =>
            executableBy.length === 0 ||
            executableBy.some(
              (who) =>
                (who === 'all' && image.launchPermissions.groupAll) ||
                who === image.ownerId ||
                image.launchPermissions.userIds.has(who) ||
                image.launchPermissions.groupAll,
            ),
        )
        .filter((image) => matchesFilters(filters, imageFilterValues(image)))
        .map((image) => ({
          imageId: image.imageId,
          imageLocation: `${image.ownerId}/${image.name}`,
          imageState: image.state,
          imageOwnerId: image.ownerId,
          creationDate: image.creationDate.toISOString(),
          isPublic: image.launchPermissions.groupAll,
          architecture: image.architecture,
          imageType: 'machine',
          name: image.name,
          description: image.description,
          rootDeviceType: 'ebs',
          rootDeviceName: image.rootDeviceName,
          blockDeviceMapping: blockDevices(image),
          virtualizationType: 'hvm',
          hypervisor: 'xen',
          enaSupport: true,
          tagSet: tagSet(image.tags),
          deregistrationProtection: protectionValue(image),
        }));
      return { imagesSet };
    },

    DescribeImageAttribute(input) {
      const attribute = input.string('Attribute');
      const image = ownImage(input.string('ImageId'));
      if (!(IMAGE_ATTRIBUTES as readonly string[]).includes(attribute)) {
        throw invalidParameterValue(
          `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`,
        );
      }
      const permissions = image.launchPermissions;
      switch (attribute) {
        case 'launchPermission':
          return {
            imageId: image.imageId,
            launchPermission: [
              ...(permissions.groupAll ? [{ group: 'all' }] : []),
              ...[...permissions.userIds].map((userId) => ({ userId })),
              ...[...permissions.organizationArns].map((organizationArn) => ({ organizationArn })),
              ...[...permissions.organizationalUnitArns].map((organizationalUnitArn) => ({
                organizationalUnitArn,
              })),
            ],
          };
        case 'description':
          return { imageId: image.imageId, description: { value: image.description } };
        case 'blockDeviceMapping':
          return { imageId: image.imageId, blockDeviceMapping: blockDevices(image) };
        case 'deregistrationProtection':
          return { imageId: image.imageId, deregistrationProtection: { value: protectionValue(image) } };
        case 'productCodes':
          return { imageId: image.imageId, productCodes: [] };
        default:
          // The local account models none of the boot/kernel attributes: EC2 answers those with an empty value.
          return { imageId: image.imageId };
      }
    },

    ModifyImageAttribute(input) {
      const image = ownImage(input.string('ImageId'));
      const attribute = input.optString('Attribute');
      const description =
        input.optString('Description.Value') ??
        (attribute === 'description' ? input.optString('Value') : undefined);
      if (attribute !== undefined && attribute !== 'launchPermission' && attribute !== 'description') {
        throw invalidParameterValue(
          `Value (${attribute}) for parameter attribute is invalid. The local account modifies launchPermission and description.`,
        );
      }
      const { add, remove } = readLaunchPermissionChanges(input);
      if (isEmpty(add) && isEmpty(remove) && description === undefined) {
        throw new AwsApiError('InvalidParameterCombination', 'No attributes specified.');
      }
      const permissions = image.launchPermissions;
      for (const id of add.userIds) permissions.userIds.add(id);
      for (const arn of add.organizationArns) permissions.organizationArns.add(arn);
      for (const arn of add.organizationalUnitArns) permissions.organizationalUnitArns.add(arn);
      if (add.groupAll) permissions.groupAll = true;
      for (const id of remove.userIds) permissions.userIds.delete(id);
      for (const arn of remove.organizationArns) permissions.organizationArns.delete(arn);
      for (const arn of remove.organizationalUnitArns) permissions.organizationalUnitArns.delete(arn);
      if (remove.groupAll) permissions.groupAll = false;
      if (description !== undefined) {
        // `description` is read-only on the record: replace the record so holders of the old one see a snapshot.
        images.set(image.imageId, { ...image, description });
      }
      return undefined;
    },

    ResetImageAttribute(input) {
      const attribute = input.string('Attribute');
      const image = ownImage(input.string('ImageId'));
      if (attribute !== 'launchPermission') {
        throw invalidParameterValue(
          `Value (${attribute}) for parameter attribute is invalid. Only launchPermission can be reset.`,
        );
      }
      image.launchPermissions.userIds.clear();
      image.launchPermissions.organizationArns.clear();
      image.launchPermissions.organizationalUnitArns.clear();
      image.launchPermissions.groupAll = false;
      return ok;
    },

    EnableImageDeregistrationProtection(input) {
      const image = ownImage(input.string('ImageId'));
      const withCooldown = input.optBoolean('WithCooldown') ?? false;
      image.deregistrationProtection = withCooldown ? 'enabled-with-cooldown' : 'enabled';
      cooldownUntil.delete(image.imageId);
      return { return: 'true' };
    },

    DisableImageDeregistrationProtection(input) {
      const image = ownImage(input.string('ImageId'));
      if (image.deregistrationProtection === 'enabled-with-cooldown') {
        cooldownUntil.set(image.imageId, new Date(account.now().getTime() + COOLDOWN_MS));
      }
      image.deregistrationProtection = 'disabled';
      return { return: 'true' };
    },

    DeregisterImage(input) {
      const image = ownImage(input.string('ImageId'));
      const deleteSnapshots = input.optBoolean('DeleteAssociatedSnapshots') ?? false;
      if (image.deregistrationProtection !== 'disabled') {
        throw new AwsApiError(
          'OperationNotPermitted',
          `The image ${image.imageId} has deregistration protection enabled. Disable deregistration protection before you deregister the image.`,
        );
      }
      const until = cooldownUntil.get(image.imageId);
      if (until && until > account.now()) {
        throw new AwsApiError(
          'OperationNotPermitted',
          `The image ${image.imageId} is protected from deregistration until ${until.toISOString()} (cooldown after protection was disabled).`,
        );
      }
      image.state = 'deregistered';
      cooldownUntil.delete(image.imageId);
      if (!deleteSnapshots) return ok;
      const deleteSnapshotResultSet = image.blockDeviceMappings.map((m) => ({
        snapshotId: m.snapshotId,
        returnCode: snapshots.delete(m.snapshotId) ? 'success' : 'skipped',
      }));
      return { ...ok, deleteSnapshotResultSet };
    },

    DescribeSnapshots(input) {
      const ids = input.strings('SnapshotId');
      const found = ids.map(snapshot);
      const owners = input.strings('Owner').map((o) => (o === 'self' ? account.accountId : o));
      const restorableBy = input.strings('RestorableBy').map((r) => (r === 'self' ? account.accountId : r));
      const filters = readFilters(input);
      const valuesOf =
        (s: Snapshot) =>
        (name: string): readonly string[] | undefined => {
          switch (name) {
            case 'snapshot-id':
              return [s.snapshotId];
            case 'owner-id':
              return [s.ownerId];
            case 'status':
              return ['completed'];
            case 'encrypted':
              return [String(s.encrypted)];
            case 'volume-size':
              return [String(s.volumeSize)];
            case 'description':
              return s.description === undefined ? [] : [s.description];
            default:
              return [];
          }
        };
      checkFilterNames(filters, SNAPSHOT_FILTERS);
      const snapshotSet = (ids.length > 0 ? found : [...snapshots.values()])
        .filter((s) => owners.length === 0 || owners.includes(s.ownerId))
        .filter(
          (s) =>
            restorableBy.length === 0 ||
            restorableBy.some(
              (who) =>
                who === s.ownerId ||
                s.createVolumePermissions.userIds.has(who) ||
                s.createVolumePermissions.groupAll,
            ),
        )
        .filter((s) => matchesFilters(filters, valuesOf(s)))
        .map((s) => ({
          snapshotId: s.snapshotId,
          volumeId: 'vol-ffffffff',
          status: 'completed',
          startTime: s.startTime,
          progress: '100%',
          ownerId: s.ownerId,
          volumeSize: s.volumeSize,
          description: s.description,
          encrypted: s.encrypted,
          kmsKeyId: s.kmsKeyId,
          storageTier: 'standard',
        }));
      return { snapshotSet };
    },

    DescribeSnapshotAttribute(input) {
      const attribute = input.string('Attribute');
      const found = snapshot(input.string('SnapshotId'));
      if (attribute === 'productCodes') return { snapshotId: found.snapshotId, productCodes: [] };
      if (attribute !== 'createVolumePermission') {
        throw invalidParameterValue(
          `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`,
        );
      }
      const permissions = found.createVolumePermissions;
      return {
        snapshotId: found.snapshotId,
        createVolumePermission: [
          ...(permissions.groupAll ? [{ group: 'all' }] : []),
          ...[...permissions.userIds].map((userId) => ({ userId })),
        ],
      };
    },

    ModifySnapshotAttribute(input) {
      const found = ownSnapshot(input.string('SnapshotId'));
      const attribute = input.optString('Attribute');
      if (attribute !== undefined && attribute !== 'createVolumePermission') {
        throw invalidParameterValue(
          `Value (${attribute}) for parameter attribute is invalid. Only createVolumePermission can be modified.`,
        );
      }
      const read = (items: Input[]) => ({
        userIds: items.flatMap((i) => i.optString('UserId') ?? []),
        groups: items.flatMap((i) => i.optString('Group') ?? []),
      });
      const structured = input.optObject('CreateVolumePermission');
      const add = read(structured?.objects('Add') ?? []);
      const remove = read(structured?.objects('Remove') ?? []);
      const flatUsers = input.strings('UserId');
      const flatGroups = input.strings('UserGroup');
      if (flatUsers.length + flatGroups.length > 0) {
        const operation = input.optString('OperationType');
        if (operation !== 'add' && operation !== 'remove') throw missingParameter('OperationType');
        const target = operation === 'add' ? add : remove;
        target.userIds.push(...flatUsers);
        target.groups.push(...flatGroups);
      }
      const addCount = add.userIds.length + add.groups.length;
      const removeCount = remove.userIds.length + remove.groups.length;
      if (addCount > 0 && removeCount > 0) {
        throw new AwsApiError(
          'InvalidParameterCombination',
          'You may add or remove create volume permissions in one request, not both.',
        );
      }
      if (addCount + removeCount === 0) {
        throw new AwsApiError(
          'InvalidParameterCombination',
          'No permissions to add or remove were specified.',
        );
      }
      for (const userId of [...add.userIds, ...remove.userIds]) {
        if (!ACCOUNT_ID.test(userId)) {
          throw new AwsApiError(
            'InvalidAMIAttributeItemValue',
            `Invalid attribute item value "${userId}" for userId item type.`,
          );
        }
      }
      for (const group of [...add.groups, ...remove.groups]) {
        if (group !== 'all') {
          throw new AwsApiError(
            'InvalidAMIAttributeItemValue',
            `Invalid attribute item value "${group}" for UserGroup item type.`,
          );
        }
      }
      if (add.groups.length > 0 && found.encrypted) {
        throw invalidParameterValue('Encrypted snapshots cannot be made public.');
      }
      const permissions = found.createVolumePermissions;
      for (const id of add.userIds) permissions.userIds.add(id);
      if (add.groups.length > 0) permissions.groupAll = true;
      for (const id of remove.userIds) permissions.userIds.delete(id);
      if (remove.groups.length > 0) permissions.groupAll = false;
      return undefined;
    },
  };
}
