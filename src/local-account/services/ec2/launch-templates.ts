import type { LocalAccount } from '../../account.ts';
import { AwsApiError, missingParameter } from '../../errors.ts';
import type { Input } from '../../protocols/input.ts';
import type { LaunchTemplate, LaunchTemplateData, LaunchTemplateVersion } from '../../state.ts';
import type { Operation } from '../service.ts';
import {
  checkFilterNames,
  invalidParameterValue,
  LAUNCH_TEMPLATE_ID,
  matchesFilters,
  readFilters,
  readTags,
  tagFilterValues,
  tagSet,
} from './common.ts';
import { dataFromRequest, dataToResponse } from './launch-template-data.ts';

/** EC2's rule for launch template names: 3-128 of letters, digits and `( ) . - / _`. */
const TEMPLATE_NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;
const TEMPLATE_FILTERS = ['launch-template-name', 'create-time'];
const VERSION_FILTERS = ['image-id', 'instance-type', 'is-default-version'];

const versionNotFound = (spec: string, template: LaunchTemplate): AwsApiError =>
  new AwsApiError(
    'InvalidLaunchTemplateId.VersionNotFound',
    `Could not find the specified version ${spec} for the launch template with ID ${template.launchTemplateId}.`,
  );

export function launchTemplateOperations(account: LocalAccount): Record<string, Operation> {
  const templates = account.state.launchTemplates;
  const createdBy = (): string => `arn:aws:iam::${account.accountId}:root`;

  const byId = (id: string): LaunchTemplate => {
    if (!LAUNCH_TEMPLATE_ID.test(id)) {
      throw new AwsApiError(
        'InvalidLaunchTemplateId.Malformed',
        `The specified ID for the launch template, ${id}, is malformed.`,
      );
    }
    const template = templates.get(id);
    if (!template) {
      throw new AwsApiError(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, with template ID ${id}, does not exist.`,
      );
    }
    return template;
  };

  const byName = (name: string): LaunchTemplate => {
    const template = [...templates.values()].find((t) => t.launchTemplateName === name);
    if (!template) {
      throw new AwsApiError(
        'InvalidLaunchTemplateName.NotFoundException',
        `The specified launch template, with template name ${name}, does not exist.`,
      );
    }
    return template;
  };

  /** The one template an operation is about: by `LaunchTemplateId` or `LaunchTemplateName`, never both. */
  const targetTemplate = (input: Input): LaunchTemplate => {
    const id = input.optString('LaunchTemplateId');
    const name = input.optString('LaunchTemplateName');
    if (id !== undefined && name !== undefined) {
      throw new AwsApiError(
        'InvalidParameterCombination',
        'Specify either the launch template ID or the launch template name, but not both.',
      );
    }
    if (id !== undefined) return byId(id);
    if (name !== undefined) return byName(name);
    throw missingParameter('launchTemplateName or launchTemplateId');
  };

  const resolveVersion = (template: LaunchTemplate, spec: string): LaunchTemplateVersion => {
    const number =
      spec === '$Latest'
        ? template.latestVersion
        : spec === '$Default'
          ? template.defaultVersion
          : /^\d+$/.test(spec)
            ? Number(spec)
            : Number.NaN;
    const version = template.versions.get(number);
    if (!version) throw versionNotFound(spec, template);
    return version;
  };

  const readData = (input: Input): LaunchTemplateData => {
    const raw = input.optObject('LaunchTemplateData');
    if (!raw) throw missingParameter('LaunchTemplateData');
    return dataFromRequest(raw.raw);
  };

  const readVersionDescription = (input: Input): string | undefined => {
    const description = input.optString('VersionDescription');
    if (description !== undefined && description.length > 255) {
      throw invalidParameterValue('VersionDescription must be at most 255 characters.');
    }
    return description;
  };

  /** `resolve:ssm:NAME[:VERSION|:LABEL]` -> the parameter's value, as ResolveAlias asks. Unresolvable stays as is. */
  const resolveAlias = (imageId: string): string => {
    if (!imageId.startsWith('resolve:ssm:')) return imageId;
    const reference = imageId.slice('resolve:ssm:'.length);
    const colon = reference.lastIndexOf(':');
    const name = colon > 0 ? reference.slice(0, colon) : reference;
    const selector = colon > 0 ? reference.slice(colon + 1) : undefined;
    const versions = account.state.parameters.get(name)?.versions ?? [];
    const chosen =
      selector === undefined
        ? versions.at(-1)
        : versions.find((v) => String(v.version) === selector || v.labels.includes(selector));
    return chosen?.value ?? imageId;
  };

  const templateItem = (t: LaunchTemplate) => ({
    launchTemplateId: t.launchTemplateId,
    launchTemplateName: t.launchTemplateName,
    createTime: t.createTime,
    createdBy: createdBy(),
    defaultVersionNumber: t.defaultVersion,
    latestVersionNumber: t.latestVersion,
    tagSet: tagSet(t.tags),
  });

  const versionItem = (t: LaunchTemplate, v: LaunchTemplateVersion, resolve = false) => {
    const data =
      resolve && typeof v.data.ImageId === 'string'
        ? { ...v.data, ImageId: resolveAlias(v.data.ImageId) }
        : v.data;
    return {
      launchTemplateId: t.launchTemplateId,
      launchTemplateName: t.launchTemplateName,
      versionNumber: v.versionNumber,
      versionDescription: v.description,
      createTime: v.createTime,
      createdBy: createdBy(),
      defaultVersion: v.versionNumber === t.defaultVersion,
      launchTemplateData: dataToResponse(data),
    };
  };

  const newVersion = (
    number: number,
    data: LaunchTemplateData,
    description?: string,
  ): LaunchTemplateVersion => ({
    versionNumber: number,
    ...(description !== undefined ? { description } : {}),
    createTime: account.now(),
    data: Object.freeze(data),
  });

  return {
    CreateLaunchTemplate(input) {
      const name = input.string('LaunchTemplateName');
      if (!TEMPLATE_NAME.test(name)) {
        throw new AwsApiError(
          'InvalidLaunchTemplateName.MalformedException',
          `The launch template name ${name} is malformed: use 3-128 letters, digits and ( ) . - / _.`,
        );
      }
      // EC2 does not check that ImageId exists here: a bad image fails the launch, not the template.
      const data = readData(input);
      const description = readVersionDescription(input);
      const tags = input.objects('TagSpecification').flatMap((spec) => {
        const type = spec.optString('ResourceType');
        if (type !== 'launch-template') {
          throw invalidParameterValue(
            `'${String(type)}' is not a valid taggable resource type for this operation.`,
          );
        }
        return readTags(spec);
      });
      if ([...templates.values()].some((t) => t.launchTemplateName === name)) {
        throw new AwsApiError(
          'InvalidLaunchTemplateName.AlreadyExistsException',
          `Launch template name already in use.`,
        );
      }
      const template: LaunchTemplate = {
        launchTemplateId: account.ids.resource('lt'),
        launchTemplateName: name,
        createTime: account.now(),
        defaultVersion: 1,
        latestVersion: 1,
        versions: new Map([[1, newVersion(1, data, description)]]),
        tags: new Map(tags),
      };
      templates.set(template.launchTemplateId, template);
      return { launchTemplate: templateItem(template) };
    },

    CreateLaunchTemplateVersion(input) {
      const template = targetTemplate(input);
      const sourceSpec = input.optString('SourceVersion');
      const source = sourceSpec === undefined ? undefined : resolveVersion(template, sourceSpec);
      const overlay = readData(input);
      const description = readVersionDescription(input);
      // EC2 overlays top-level members: a member given here replaces the source's member whole (lists included).
      const data: LaunchTemplateData = { ...(source?.data ?? {}), ...overlay };
      const number = template.latestVersion + 1;
      const version = newVersion(number, data, description);
      template.versions.set(number, version);
      template.latestVersion = number;
      return { launchTemplateVersion: versionItem(template, version) };
    },

    ModifyLaunchTemplate(input) {
      const template = targetTemplate(input);
      const spec = input.optString('SetDefaultVersion');
      // SetDefaultVersion is "the version number of the launch template to set as the default version" (API
      // reference): $Latest and $Default name no version number, and EC2 answers them as it answers any version
      // the template lacks (InvalidLaunchTemplateId.VersionNotFound, as for DefaultVersion "666", checked
      // against AWS by LocalStack's test_modify_launch_template; the exact text for $Latest is not published).
      if (spec !== undefined && !/^\d+$/.test(spec)) throw versionNotFound(spec, template);
      const version = spec === undefined ? undefined : resolveVersion(template, spec);
      if (version) template.defaultVersion = version.versionNumber;
      return { launchTemplate: templateItem(template) };
    },

    DeleteLaunchTemplate(input) {
      const template = targetTemplate(input);
      templates.delete(template.launchTemplateId);
      return { launchTemplate: templateItem(template) };
    },

    DescribeLaunchTemplates(input) {
      const ids = input.strings('LaunchTemplateId');
      const names = input.strings('LaunchTemplateName');
      const filters = readFilters(input);
      checkFilterNames(filters, TEMPLATE_FILTERS);
      const named = [...ids.map(byId), ...names.map(byName)];
      const candidates = ids.length + names.length > 0 ? [...new Set(named)] : [...templates.values()];
      const launchTemplates = candidates
        .filter((t) =>
          matchesFilters(filters, (name) => {
            if (name === 'launch-template-name') return [t.launchTemplateName];
            if (name === 'create-time') return [t.createTime.toISOString()];
            return tagFilterValues(t.tags, name);
          }),
        )
        .map(templateItem);
      return { launchTemplates };
    },

    DescribeLaunchTemplateVersions(input) {
      const specs = input.strings('LaunchTemplateVersion');
      const min = input.optString('MinVersion');
      const max = input.optString('MaxVersion');
      const resolve = input.optBoolean('ResolveAlias') ?? false;
      const filters = readFilters(input);
      checkFilterNames(filters, VERSION_FILTERS);
      const hasTarget = input.has('LaunchTemplateId') || input.has('LaunchTemplateName');
      let found: { template: LaunchTemplate; version: LaunchTemplateVersion }[];
      if (hasTarget) {
        const template = targetTemplate(input);
        const bound = (spec: string | undefined, fallback: number): number =>
          spec === undefined ? fallback : resolveVersion(template, spec).versionNumber;
        const low = bound(min, 1);
        const high = bound(max, template.latestVersion);
        const versions =
          specs.length > 0
            ? specs.map((spec) => resolveVersion(template, spec))
            : [...template.versions.values()].sort((a, b) => b.versionNumber - a.versionNumber);
        found = versions
          .filter((v) => v.versionNumber >= low && v.versionNumber <= high)
          .map((version) => ({ template, version }));
      } else {
        // Without a template EC2 describes $Latest and/or $Default of every template, and nothing else.
        if (specs.length === 0 || specs.some((s) => s !== '$Latest' && s !== '$Default')) {
          throw missingParameter('launchTemplateName or launchTemplateId');
        }
        found = [...templates.values()].flatMap((template) =>
          [...new Set(specs.map((spec) => resolveVersion(template, spec)))].map((version) => ({
            template,
            version,
          })),
        );
      }
      const launchTemplateVersionSet = found
        .filter(({ template, version }) =>
          matchesFilters(filters, (name) => {
            if (name === 'image-id')
              return typeof version.data.ImageId === 'string' ? [version.data.ImageId] : [];
            if (name === 'instance-type')
              return typeof version.data.InstanceType === 'string' ? [version.data.InstanceType] : [];
            if (name === 'is-default-version')
              return [String(version.versionNumber === template.defaultVersion)];
            return [];
          }),
        )
        .map(({ template, version }) => versionItem(template, version, resolve));
      return { launchTemplateVersionSet };
    },

    DeleteLaunchTemplateVersions(input) {
      const template = targetTemplate(input);
      const specs = input.strings('LaunchTemplateVersion');
      if (specs.length === 0) throw missingParameter('LaunchTemplateVersion');
      const identity = {
        launchTemplateId: template.launchTemplateId,
        launchTemplateName: template.launchTemplateName,
      };
      const deleted: { launchTemplateId: string; launchTemplateName: string; versionNumber: number }[] = [];
      const failed: object[] = [];
      for (const spec of specs) {
        const number = Number(spec);
        if (number === template.defaultVersion) {
          failed.push({
            ...identity,
            versionNumber: number,
            responseError: {
              code: 'unexpectedError',
              message:
                'Cannot delete the default version of a launch template; delete the launch template instead.',
            },
          });
        } else if (!/^\d+$/.test(spec) || !template.versions.has(number)) {
          failed.push({
            ...identity,
            versionNumber: Number.isFinite(number) ? number : undefined,
            responseError: {
              code: 'launchTemplateVersionDoesNotExist',
              message: 'The specified launch template version does not exist.',
            },
          });
        } else {
          template.versions.delete(number);
          deleted.push({ ...identity, versionNumber: number });
        }
      }
      return {
        successfullyDeletedLaunchTemplateVersionSet: deleted,
        unsuccessfullyDeletedLaunchTemplateVersionSet: failed,
      };
    },
  };
}
