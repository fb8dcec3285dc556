import {
  CreateLaunchTemplateVersionCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EnableImageDeregistrationProtectionCommand,
  ModifyImageAttributeCommand,
  ModifyLaunchTemplateCommand,
  ModifySnapshotAttributeCommand,
  type EC2Client,
  type LaunchPermission,
} from '@aws-sdk/client-ec2';
import type { TemplateVersionFacts } from '../core/template-plan.ts';
import { ImageShareError, LaunchTemplateNotFoundError, LaunchTemplateUpdateError } from '../errors.ts';
import { hasAwsErrorCode, translateAwsError } from './aws-error.ts';

/** What the rollout needs to know about an image. */
export interface ImageFacts {
  readonly imageId: string;
  readonly state: string;
  readonly ownerId: string;
  readonly name?: string;
  readonly snapshotIds: readonly string[];
  /** True when any EBS snapshot is encrypted: its KMS key must be shared too, which this tool cannot do. */
  readonly encrypted: boolean;
  readonly deregistrationProtection?: string;
}

/** The image, or undefined when EC2 does not know it. */
export async function describeImage(ec2: EC2Client, imageId: string): Promise<ImageFacts | undefined> {
  try {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    const image = Images.find((i) => i.ImageId === imageId);
    if (!image) return undefined;
    const ebs = (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs ? [m.Ebs] : []));
    return {
      imageId,
      state: image.State ?? 'unknown',
      ownerId: image.OwnerId ?? '',
      ...(image.Name ? { name: image.Name } : {}),
      snapshotIds: ebs.flatMap((e) => (e.SnapshotId ? [e.SnapshotId] : [])),
      encrypted: ebs.some((e) => e.Encrypted === true),
      ...(image.DeregistrationProtection ? { deregistrationProtection: image.DeregistrationProtection } : {}),
    };
  } catch (error) {
    if (
      hasAwsErrorCode(error, 'InvalidAMIID.NotFound', 'InvalidAMIID.Malformed', 'InvalidAMIID.Unavailable')
    ) {
      return undefined;
    }
    throw translateAwsError(error, `DescribeImages ${imageId}`);
  }
}

/** A launch template's `IamInstanceProfile`: EC2 takes the profile's ARN or its name. */
export interface InstanceProfileReference {
  readonly arn?: string;
  readonly name?: string;
}

export interface TemplateVersion extends TemplateVersionFacts {
  readonly launchTemplateId: string;
  readonly launchTemplateName?: string;
  readonly defaultVersion: boolean;
  /** The instance profile instances launched from this version get; Auto Scaling checks iam:PassRole on it. */
  readonly instanceProfile?: InstanceProfileReference;
}

/**
 * One version of a template (`$Default`, `$Latest` or a number); undefined when that version does not exist.
 * A missing template is a `LaunchTemplateNotFoundError`.
 */
export async function describeTemplateVersion(
  ec2: EC2Client,
  launchTemplateId: string,
  version: string,
): Promise<TemplateVersion | undefined> {
  try {
    const { LaunchTemplateVersions = [] } = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: launchTemplateId, Versions: [version] }),
    );
    const found = LaunchTemplateVersions[0];
    if (!found || found.VersionNumber === undefined) return undefined;
    const profile = found.LaunchTemplateData?.IamInstanceProfile;
    const instanceProfile =
      profile?.Arn || profile?.Name
        ? { ...(profile.Arn ? { arn: profile.Arn } : {}), ...(profile.Name ? { name: profile.Name } : {}) }
        : undefined;
    return {
      launchTemplateId,
      ...(found.LaunchTemplateName ? { launchTemplateName: found.LaunchTemplateName } : {}),
      versionNumber: found.VersionNumber,
      ...(found.LaunchTemplateData?.ImageId ? { imageId: found.LaunchTemplateData.ImageId } : {}),
      ...(found.VersionDescription ? { description: found.VersionDescription } : {}),
      defaultVersion: found.DefaultVersion === true,
      ...(instanceProfile ? { instanceProfile } : {}),
    };
  } catch (error) {
    if (hasAwsErrorCode(error, 'InvalidLaunchTemplateId.VersionNotFound')) return undefined;
    if (
      hasAwsErrorCode(
        error,
        'InvalidLaunchTemplateId.NotFound',
        'InvalidLaunchTemplateId.Malformed',
        'InvalidLaunchTemplateName.NotFoundException',
      )
    ) {
      throw new LaunchTemplateNotFoundError(`launch template ${launchTemplateId} does not exist`, {
        cause: error,
      });
    }
    throw translateAwsError(error, `DescribeLaunchTemplateVersions ${launchTemplateId} ${version}`);
  }
}

/** The default version: every configured template has one, so its absence means the template is gone. */
export async function describeDefaultVersion(
  ec2: EC2Client,
  launchTemplateId: string,
): Promise<TemplateVersion> {
  const found = await describeTemplateVersion(ec2, launchTemplateId, '$Default');
  if (!found)
    throw new LaunchTemplateNotFoundError(`launch template ${launchTemplateId} has no default version`);
  return found;
}

/** A new version from `sourceVersion` with only the ImageId changed; returns its number. */
export async function createTemplateVersion(
  ec2: EC2Client,
  input: { launchTemplateId: string; sourceVersion: number; imageId: string; description: string },
): Promise<number> {
  try {
    const { LaunchTemplateVersion } = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: input.launchTemplateId,
        SourceVersion: String(input.sourceVersion),
        VersionDescription: input.description,
        LaunchTemplateData: { ImageId: input.imageId },
      }),
    );
    const version = LaunchTemplateVersion?.VersionNumber;
    if (version === undefined) {
      throw new LaunchTemplateUpdateError(
        `CreateLaunchTemplateVersion ${input.launchTemplateId} returned no version number`,
      );
    }
    return version;
  } catch (error) {
    throw translateAwsError(
      error,
      `CreateLaunchTemplateVersion ${input.launchTemplateId} from version ${input.sourceVersion} with ${input.imageId}`,
      (m, o) => new LaunchTemplateUpdateError(m, o),
    );
  }
}

export async function setDefaultVersion(
  ec2: EC2Client,
  launchTemplateId: string,
  version: number,
): Promise<void> {
  try {
    await ec2.send(
      new ModifyLaunchTemplateCommand({
        LaunchTemplateId: launchTemplateId,
        DefaultVersion: String(version),
      }),
    );
  } catch (error) {
    throw translateAwsError(
      error,
      `ModifyLaunchTemplate ${launchTemplateId} DefaultVersion=${version}`,
      (m, o) => new LaunchTemplateUpdateError(m, o),
    );
  }
}

export interface ShareTargets {
  readonly accountIds: readonly string[];
  readonly organizationArns: readonly string[];
  readonly organizationalUnitArns: readonly string[];
}

/** What sharing did; `not-owner`: another account owns the image, and only the owner can share it. */
export type ShareImageResult = 'shared' | 'nothing-to-share' | 'not-owner';

/** Adds launch permissions; adding one the image already has is not an error in EC2. */
export async function shareImage(
  ec2: EC2Client,
  imageId: string,
  targets: ShareTargets,
): Promise<ShareImageResult> {
  const add: LaunchPermission[] = [
    ...targets.accountIds.map((UserId) => ({ UserId })),
    ...targets.organizationArns.map((OrganizationArn) => ({ OrganizationArn })),
    ...targets.organizationalUnitArns.map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
  ];
  if (add.length === 0) return 'nothing-to-share';
  try {
    await ec2.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: add } }));
    return 'shared';
  } catch (error) {
    // EC2 answers AuthFailure "Not authorized for image:ami-..." when another account owns the image.
    if (hasAwsErrorCode(error, 'AuthFailure')) return 'not-owner';
    throw translateAwsError(
      error,
      `ModifyImageAttribute ${imageId} launchPermission`,
      (m, o) => new ImageShareError(m, o),
    );
  }
}

/** createVolumePermission for accounts (EC2 takes add or remove in one call, not both). */
export async function shareSnapshot(
  ec2: EC2Client,
  snapshotId: string,
  accountIds: readonly string[],
): Promise<void> {
  if (accountIds.length === 0) return;
  try {
    await ec2.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: snapshotId,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        UserIds: [...accountIds],
      }),
    );
  } catch (error) {
    throw translateAwsError(
      error,
      `ModifySnapshotAttribute ${snapshotId} createVolumePermission`,
      (m, o) => new ImageShareError(m, o),
    );
  }
}

/**
 * Whether protecting an image worked. Only the owner can protect an image: EC2 answers AuthFailure for another
 * account's image (the usual case when images are built in a central account) and UnauthorizedOperation when
 * IAM denies the call.
 */
export type ProtectImageResult =
  | { readonly kind: 'protected' }
  | {
      readonly kind: 'refused';
      readonly code: 'AuthFailure' | 'UnauthorizedOperation';
      readonly message: string;
    };

/** Keeps the rollback image from being deregistered while the fleet may need to go back to it. */
export async function protectImage(ec2: EC2Client, imageId: string): Promise<ProtectImageResult> {
  try {
    await ec2.send(new EnableImageDeregistrationProtectionCommand({ ImageId: imageId }));
    return { kind: 'protected' };
  } catch (error) {
    for (const code of ['AuthFailure', 'UnauthorizedOperation'] as const) {
      if (hasAwsErrorCode(error, code)) {
        return { kind: 'refused', code, message: error instanceof Error ? error.message : String(error) };
      }
    }
    throw translateAwsError(
      error,
      `EnableImageDeregistrationProtection ${imageId}`,
      (m, o) => new ImageShareError(m, o),
    );
  }
}

/** True when EC2 lists the image under one of `owners` (account ids or `self`, `amazon`, `aws-marketplace`). */
export async function imageOwnedBy(
  ec2: EC2Client,
  imageId: string,
  owners: readonly string[],
): Promise<boolean> {
  try {
    const { Images = [] } = await ec2.send(
      new DescribeImagesCommand({ ImageIds: [imageId], Owners: [...owners] }),
    );
    return Images.some((i) => i.ImageId === imageId);
  } catch (error) {
    if (hasAwsErrorCode(error, 'InvalidAMIID.NotFound')) return false;
    throw translateAwsError(error, `DescribeImages ${imageId} Owners=${owners.join(',')}`);
  }
}
