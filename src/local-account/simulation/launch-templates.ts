import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import type { Instance, LaunchTemplate, LaunchTemplateSpec } from '../state.ts';

/** A launch template version as an instance is launched from it: numbered, with its image resolved. */
export interface ResolvedLaunchTemplate {
  readonly launchTemplateId: string;
  readonly launchTemplateName: string;
  readonly versionNumber: number;
  readonly imageId: string;
  readonly instanceType: string;
}

const invalidTemplate = (detail: string): AwsApiError =>
  new AwsApiError('ValidationError', `You must use a valid fully-formed launch template. ${detail}`);

/** `$Latest`, `$Default` or a version number: what the Version member of a LaunchTemplateSpecification holds. */
export const isNumberedVersion = (version: string): boolean => /^[1-9]\d*$/.test(version);

/** Finds a template by id or by name, as a LaunchTemplateSpecification names it (exactly one of the two). */
export function findLaunchTemplate(
  account: LocalAccount,
  ref: { readonly launchTemplateId?: string; readonly launchTemplateName?: string },
): LaunchTemplate {
  if (ref.launchTemplateId !== undefined && ref.launchTemplateName !== undefined) {
    throw new AwsApiError(
      'ValidationError',
      'Valid requests must contain either launchTemplateId or LaunchTemplateName, not both.',
    );
  }
  if (ref.launchTemplateId !== undefined) {
    const template = account.state.launchTemplates.get(ref.launchTemplateId);
    if (!template) {
      throw invalidTemplate(
        `The specified launch template, with template ID ${ref.launchTemplateId}, does not exist.`,
      );
    }
    return template;
  }
  if (ref.launchTemplateName !== undefined) {
    for (const template of account.state.launchTemplates.values()) {
      if (template.launchTemplateName === ref.launchTemplateName) return template;
    }
    throw invalidTemplate(
      `The specified launch template, with template name ${ref.launchTemplateName}, does not exist.`,
    );
  }
  throw new AwsApiError(
    'ValidationError',
    'Valid requests must contain either launchTemplateId or LaunchTemplateName.',
  );
}

/** Resolves `$Latest` / `$Default` / a number to the version an instance launched now would use. */
export function resolveLaunchTemplate(
  account: LocalAccount,
  spec: LaunchTemplateSpec,
): ResolvedLaunchTemplate {
  const template = findLaunchTemplate(account, { launchTemplateId: spec.launchTemplateId });
  const versionNumber =
    spec.version === '$Latest'
      ? template.latestVersion
      : spec.version === '$Default'
        ? template.defaultVersion
        : isNumberedVersion(spec.version)
          ? Number(spec.version)
          : undefined;
  if (versionNumber === undefined) {
    throw new AwsApiError(
      'ValidationError',
      `The launch template version '${spec.version}' is not valid: use $Latest, $Default or a version number.`,
    );
  }
  const version = template.versions.get(versionNumber);
  if (!version) {
    throw invalidTemplate(
      `The specified launch template, with template ID ${template.launchTemplateId}, version ${versionNumber}, does not exist.`,
    );
  }
  const imageId = resolveImageId(account, version.data.ImageId);
  return {
    launchTemplateId: template.launchTemplateId,
    launchTemplateName: template.launchTemplateName,
    versionNumber,
    imageId,
    instanceType: version.data.InstanceType ?? 't3.micro',
  };
}

/** The image a template's ImageId launches: an AMI id, or `resolve:ssm:name[:version]` read from Parameter Store. */
function resolveImageId(account: LocalAccount, imageRef: string | undefined): string {
  if (imageRef === undefined) throw invalidTemplate('The launch template does not specify an ImageId.');
  let imageId = imageRef;
  if (imageRef.startsWith('resolve:ssm:')) {
    const [name = '', selector] = imageRef.slice('resolve:ssm:'.length).split(':');
    const parameter = account.state.parameters.get(name);
    const version =
      selector === undefined
        ? parameter?.versions.at(-1)
        : parameter?.versions.find((v) => String(v.version) === selector || v.labels.includes(selector));
    if (!version)
      throw invalidTemplate(`The parameter ${name} in the image id '${imageRef}' does not exist.`);
    imageId = version.value;
  }
  const problem = imageLaunchProblem(account, imageId);
  if (problem) throw invalidTemplate(problem.message);
  return imageId;
}

/** Why EC2 would refuse to launch `imageId` in this account right now, if it would. */
export function imageLaunchProblem(
  account: LocalAccount,
  imageId: string,
): { readonly code: string; readonly message: string } | undefined {
  const image = account.state.images.get(imageId);
  if (!image || image.state !== 'available') {
    return { code: 'InvalidAMIID.NotFound', message: `The image id '[${imageId}]' does not exist.` };
  }
  const permitted =
    image.ownerId === account.accountId ||
    image.launchPermissions.groupAll ||
    image.launchPermissions.userIds.has(account.accountId) ||
    // The local account has no organization to check membership against: an organization share is trusted.
    image.launchPermissions.organizationArns.size > 0 ||
    image.launchPermissions.organizationalUnitArns.size > 0;
  if (!permitted) return { code: 'AuthFailure', message: `Not authorized for images: [${imageId}].` };
  return undefined;
}

/** Was `instance` launched from exactly this template version (what SkipMatching and rollbacks compare)? */
export function launchedFrom(instance: Instance, template: ResolvedLaunchTemplate): boolean {
  return (
    instance.launchTemplate?.launchTemplateId === template.launchTemplateId &&
    instance.launchTemplate.version === String(template.versionNumber)
  );
}
