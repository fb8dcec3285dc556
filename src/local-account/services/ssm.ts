import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import type { Input } from '../protocols/input.ts';
import type { Parameter, ParameterVersion } from '../state.ts';
import type { Operation, ServiceDefinition } from './service.ts';
import { pageOffset, pageToken } from '../protocols/paging.ts';

/** Parameter Store keeps the 100 newest versions of a parameter (ParameterMaxVersionLimitExceeded doc). */
export const PARAMETER_VERSION_LIMIT = 100;
/** A parameter version carries at most 10 labels (LabelParameterVersion doc). */
export const LABELS_PER_VERSION_LIMIT = 10;
/** GetParameterHistory and DescribeParameters: MaxResults 1-50 (botocore model `MaxResults`). */
const MAX_RESULTS_LIMIT = 50;
const STANDARD_VALUE_LIMIT = 4096;
const ADVANCED_VALUE_LIMIT = 8192;
const HIERARCHY_DEPTH_LIMIT = 15;

type ParameterType = ParameterVersion['type'];
const PARAMETER_TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];
const DATA_TYPES = ['text', 'aws:ec2:image', 'aws:ssm:integration'] as const;
const TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'] as const;
/** The AMI id formats EC2 hands out: 8 hex digits (old) or 17. */
const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;

const validation = (message: string): AwsApiError => new AwsApiError('ValidationException', message);
const notFound = (name: string): AwsApiError =>
  new AwsApiError('ParameterNotFound', `Parameter ${name} not found.`);
const versionNotFound = (name: string, version: number | string): AwsApiError =>
  new AwsApiError(
    'ParameterVersionNotFound',
    `Systems Manager could not find version ${version} of ${name}. Verify the version and try again.`,
  );

/**
 * SSM Parameter Store (JSON 1.1, `AmazonSSM.*`): GetParameter(s), PutParameter, GetParameterHistory,
 * LabelParameterVersion, DeleteParameter, DescribeParameters.
 *
 * `DataType: aws:ec2:image` follows AWS's documented asynchronous validation: the value's format is checked on the
 * call (ValidationException), and the AMI's existence "later". The local account settles that later check at once:
 * when the image is not in the account (or not `available`, or not shared with it), PutParameter still answers 200
 * with the version it would have written, and the parameter is left exactly as it was, as AWS leaves it once its
 * validation fails. So a 200 does not prove the write here either; read the parameter back.
 */
export function ssmService(account: LocalAccount): ServiceDefinition {
  const { parameters } = account.state;

  const arnOf = (name: string): string =>
    `arn:aws:ssm:${account.region}:${account.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;

  const requireParameter = (name: string): Parameter => {
    const parameter = parameters.get(name);
    if (!parameter || parameter.versions.length === 0) throw notFound(name);
    return parameter;
  };

  const latest = (parameter: Parameter): ParameterVersion =>
    parameter.versions[parameter.versions.length - 1]!;

  /** `name`, `name:version` or `name:label` -> the version it selects. */
  const select = (
    reference: string,
  ): { parameter: Parameter; version: ParameterVersion; selector?: string } => {
    const [name = '', selector, ...rest] = fromArn(reference).split(':');
    if (rest.length > 0) throw notFound(reference);
    const parameter = requireParameter(readName(name));
    if (selector === undefined) return { parameter, version: latest(parameter) };
    if (/^\d+$/.test(selector)) {
      const version = parameter.versions.find((v) => v.version === Number(selector));
      if (!version) throw versionNotFound(parameter.name, selector);
      return { parameter, version, selector: `:${selector}` };
    }
    const version = parameter.versions.find((v) => v.labels.includes(selector));
    if (!version) throw notFound(reference);
    return { parameter, version, selector: `:${selector}` };
  };

  /**
   * GetParameter(s) also accept the parameter's ARN (optionally with a selector). The ARN of `/a/b` is
   * `...:parameter/a/b` and of `x` is `...:parameter/x`, so a one-level name is tried without and with the slash.
   */
  const fromArn = (reference: string): string => {
    const prefix = `arn:aws:ssm:${account.region}:${account.accountId}:parameter/`;
    if (!reference.startsWith(prefix)) return reference;
    const rest = reference.slice(prefix.length);
    const bare = rest.split(':')[0] ?? '';
    return bare.includes('/') || parameters.has(`/${bare}`) ? `/${rest}` : rest;
  };

  /** What SSM returns as the value: SecureString values stay encrypted unless WithDecryption is set. */
  const valueOf = (version: ParameterVersion, withDecryption: boolean): string =>
    version.type === 'SecureString' && !withDecryption
      ? Buffer.from(`kms:alias/aws/ssm:${version.value}`).toString('base64')
      : version.value;

  const parameterView = (
    parameter: Parameter,
    version: ParameterVersion,
    withDecryption: boolean,
    selector?: string,
  ) => ({
    Name: parameter.name,
    Type: version.type,
    Value: valueOf(version, withDecryption),
    Version: version.version,
    ...(selector ? { Selector: selector } : {}),
    LastModifiedDate: version.lastModifiedDate,
    ARN: arnOf(parameter.name),
    DataType: version.dataType,
  });

  const metadataView = (parameter: Parameter, version: ParameterVersion) => ({
    Name: parameter.name,
    Type: version.type,
    ...(version.type === 'SecureString' ? { KeyId: 'alias/aws/ssm' } : {}),
    LastModifiedDate: version.lastModifiedDate,
    LastModifiedUser: `arn:aws:iam::${account.accountId}:root`,
    ...(version.description ? { Description: version.description } : {}),
    Version: version.version,
    Tier: 'Standard',
    Policies: [],
    DataType: version.dataType,
  });

  /** True when an image the parameter names can be launched by this account, AWS's async aws:ec2:image check. */
  const imageUsable = (imageId: string): boolean => {
    const image = account.state.images.get(imageId);
    if (!image || image.state !== 'available') return false;
    const shared = image.launchPermissions;
    return image.ownerId === account.accountId || shared.groupAll || shared.userIds.has(account.accountId);
  };

  const GetParameter: Operation = (input) => {
    const { parameter, version, selector } = select(readRawName(input));
    const withDecryption = input.optBoolean('WithDecryption') ?? false;
    return { Parameter: parameterView(parameter, version, withDecryption, selector) };
  };

  const GetParameters: Operation = (input) => {
    const names = input.strings('Names');
    if (names.length < 1 || names.length > 10) {
      throw validation(
        `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: ` +
          'Member must have length less than or equal to 10, Member must have length greater than or equal to 1',
      );
    }
    const withDecryption = input.optBoolean('WithDecryption') ?? false;
    const found: ReturnType<typeof parameterView>[] = [];
    const invalid: string[] = [];
    for (const name of new Set(names)) {
      try {
        const { parameter, version, selector } = select(name.trim());
        found.push(parameterView(parameter, version, withDecryption, selector));
      } catch (error) {
        if (!(error instanceof AwsApiError) || error.code === 'ValidationException') throw error;
        invalid.push(name);
      }
    }
    return { Parameters: found, InvalidParameters: invalid };
  };

  const PutParameter: Operation = (input) => {
    const name = readName(readRawName(input), { forWrite: true });
    const value = input.optString('Value');
    if (value === undefined) throw mustNotBeNull('value');
    if (value === '') {
      throw validation(
        "1 validation error detected: Value '' at 'value' failed to satisfy constraint: " +
          'Member must have length greater than or equal to 1',
      );
    }
    const type = input.optString('Type');
    if (type !== undefined && !isParameterType(type)) {
      throw validation(
        `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: ` +
          'Member must satisfy enum value set: [SecureString, StringList, String]',
      );
    }
    const tier = input.optString('Tier');
    if (tier !== undefined && !(TIERS as readonly string[]).includes(tier)) {
      throw validation(
        `1 validation error detected: Value '${tier}' at 'tier' failed to satisfy constraint: ` +
          `Member must satisfy enum value set: [${TIERS.join(', ')}]`,
      );
    }
    const limit = tier === 'Advanced' ? ADVANCED_VALUE_LIMIT : STANDARD_VALUE_LIMIT;
    if (Buffer.byteLength(value) > limit) {
      throw validation(
        tier === 'Advanced'
          ? `Advanced tier parameters support a maximum parameter value of ${limit} characters.`
          : `Standard tier parameters support a maximum parameter value of ${limit} characters. To create a ` +
              'larger parameter value, upgrade the parameter to use the advanced-parameter tier.',
      );
    }
    const description = input.optString('Description');
    if (description !== undefined && description.length > 1024) {
      throw validation(
        `1 validation error detected: Value at 'description' failed to satisfy constraint: ` +
          'Member must have length less than or equal to 1024',
      );
    }
    const overwrite = input.optBoolean('Overwrite') ?? false;
    if (overwrite && input.objects('Tags').length > 0) {
      throw validation(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please " +
          'remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or ' +
          'RemoveTagsFromResource.',
      );
    }
    const existing = parameters.get(name);
    const previous = existing && existing.versions.length > 0 ? latest(existing) : undefined;
    if (previous && !overwrite) {
      throw new AwsApiError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const resolvedType = (type as ParameterType | undefined) ?? previous?.type;
    if (!resolvedType) throw validation('A parameter type is required when you create a parameter.');
    const dataType = input.optString('DataType') ?? previous?.dataType ?? 'text';
    if (!(DATA_TYPES as readonly string[]).includes(dataType)) {
      throw validation(
        `The following data type is not supported: ${dataType} (Data type names are all lowercase.)`,
      );
    }
    if (dataType === 'aws:ec2:image') {
      if (resolvedType !== 'String') {
        throw validation(`The data type ${dataType} is only supported for parameters of type String.`);
      }
      if (!AMI_ID.test(value)) {
        throw validation(
          `Parameter value ${value} is not a valid AMI ID. An AMI ID looks like ami-0123456789abcdef0 ` +
            '(ami- and 8 or 17 lowercase hex digits).',
        );
      }
    }
    if (
      existing &&
      existing.versions.length >= PARAMETER_VERSION_LIMIT &&
      existing.versions[0]!.labels.length > 0
    ) {
      throw new AwsApiError(
        'ParameterMaxVersionLimitExceeded',
        `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite ` +
          `flag. Version ${existing.versions[0]!.version}, the oldest version, can't be deleted because it has a ` +
          'label associated with it. Move the label to another version of the parameter, and try again.',
      );
    }
    const versionNumber = (previous?.version ?? 0) + 1;
    const response = { Version: versionNumber, Tier: tier === 'Advanced' ? 'Advanced' : 'Standard' };
    // aws:ec2:image: AWS answers before it has checked the image; when that check fails, nothing is written.
    if (dataType === 'aws:ec2:image' && !imageUsable(value)) return response;

    const created: ParameterVersion = {
      version: versionNumber,
      value,
      type: resolvedType,
      dataType,
      ...((description ?? previous?.description) !== undefined
        ? { description: description ?? previous?.description }
        : {}),
      lastModifiedDate: account.now(),
      labels: [],
    };
    const parameter = existing ?? { name, versions: [] };
    parameter.versions.push(created);
    if (parameter.versions.length > PARAMETER_VERSION_LIMIT) parameter.versions.shift();
    parameters.set(name, parameter);
    return response;
  };

  const GetParameterHistory: Operation = (input) => {
    const parameter = requireParameter(readName(readRawName(input)));
    const withDecryption = input.optBoolean('WithDecryption') ?? false;
    const maxResults = readMaxResults(input);
    const start = readNextToken(input.optString('NextToken'), parameter.versions.length);
    const page = parameter.versions.slice(start, start + maxResults);
    const end = start + page.length;
    return {
      Parameters: page.map((version) => ({
        ...metadataView(parameter, version),
        Value: valueOf(version, withDecryption),
        Labels: [...version.labels],
      })),
      ...(end < parameter.versions.length ? { NextToken: pageToken(end) } : {}),
    };
  };

  const LabelParameterVersion: Operation = (input) => {
    const parameter = requireParameter(readName(readRawName(input)));
    const requested = input.optInt('ParameterVersion', 1);
    const labels = input.strings('Labels');
    if (labels.length < 1 || labels.length > LABELS_PER_VERSION_LIMIT) {
      throw validation(
        `1 validation error detected: Value '[${labels.join(', ')}]' at 'labels' failed to satisfy constraint: ` +
          'Member must have length less than or equal to 10, Member must have length greater than or equal to 1',
      );
    }
    for (const label of labels) {
      if (label.length < 1 || label.length > 100) {
        throw validation(
          `1 validation error detected: Value '[${label}]' at 'labels' failed to satisfy constraint: ` +
            'Member must satisfy constraint: [Member must have length less than or equal to 100, ' +
            'Member must have length greater than or equal to 1]',
        );
      }
    }
    const target =
      requested === undefined
        ? latest(parameter)
        : parameter.versions.find((version) => version.version === requested);
    if (!target) throw versionNotFound(parameter.name, requested ?? '');
    const invalid = labels.filter((label) => !isValidLabel(label));
    const adding = [...new Set(labels.filter(isValidLabel))].filter(
      (label) => !target.labels.includes(label),
    );
    if (target.labels.length + adding.length > LABELS_PER_VERSION_LIMIT) {
      throw new AwsApiError(
        'ParameterVersionLabelLimitExceeded',
        'A parameter version can have maximum 10 labels. Move one or more labels to another version and try again.',
      );
    }
    // A label names one version of a parameter: attaching it here moves it off any other version.
    for (const version of parameter.versions) {
      if (version !== target) version.labels = version.labels.filter((label) => !adding.includes(label));
    }
    target.labels.push(...adding);
    return { InvalidLabels: invalid, ParameterVersion: target.version };
  };

  const DeleteParameter: Operation = (input) => {
    const name = readName(readRawName(input));
    requireParameter(name);
    parameters.delete(name);
    return {};
  };

  const DescribeParameters: Operation = (input) => {
    const maxResults = readMaxResults(input);
    const filters = input.objects('ParameterFilters').map((filter) => ({
      key: filter.string('Key'),
      option: filter.optString('Option') ?? 'Equals',
      values: filter.strings('Values'),
    }));
    for (const filter of input.objects('Filters')) {
      filters.push({ key: filter.string('Key'), option: 'Equals', values: filter.strings('Values') });
    }
    for (const { key, option } of filters) {
      if (!['Name', 'Type', 'DataType'].includes(key)) {
        throw new AwsApiError(
          'InvalidFilterKey',
          `The filter key ${key} is not supported by the local account.`,
        );
      }
      if (option !== 'Equals' && option !== 'BeginsWith') {
        throw new AwsApiError(
          'InvalidFilterOption',
          `The filter option ${option} is not valid for key ${key}.`,
        );
      }
    }
    const matches = (parameter: Parameter): boolean => {
      const version = latest(parameter);
      return filters.every(({ key, option, values }) => {
        const field = key === 'Name' ? parameter.name : key === 'Type' ? version.type : version.dataType;
        return option === 'BeginsWith' ? values.some((v) => field.startsWith(v)) : values.includes(field);
      });
    };
    const all = [...parameters.values()]
      .filter((p) => p.versions.length > 0)
      .sort((a, b) => a.name.localeCompare(b.name))
      .filter(matches);
    const start = readNextToken(input.optString('NextToken'), all.length);
    const page = all.slice(start, start + maxResults);
    const end = start + page.length;
    return {
      Parameters: page.map((p) => ({ ...metadataView(p, latest(p)), ARN: arnOf(p.name) })),
      ...(end < all.length ? { NextToken: pageToken(end) } : {}),
    };
  };

  const operations: Record<string, Operation> = {
    GetParameter,
    GetParameters,
    PutParameter,
    GetParameterHistory,
    LabelParameterVersion,
    DeleteParameter,
    DescribeParameters,
  };
  return {
    name: 'ssm',
    protocol: 'json',
    targetPrefix: 'AmazonSSM',
    jsonVersion: '1.1',
    throttling: { code: 'ThrottlingException', httpStatus: 400 },
    operations: Object.fromEntries(
      Object.entries(operations).map(([action, operation]) => [action, asSsmErrors(operation)]),
    ),
  };
}

/** SSM is a JSON service: a malformed member is a `ValidationException`, not the query services' codes. */
function asSsmErrors(operation: Operation): Operation {
  return (input, ctx) => {
    try {
      return operation(input, ctx);
    } catch (error) {
      if (
        error instanceof AwsApiError &&
        (error.code === 'ValidationError' || error.code === 'MissingParameter')
      ) {
        throw validation(error.message);
      }
      throw error;
    }
  };
}

const mustNotBeNull = (member: string): AwsApiError =>
  validation(
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  );

function readRawName(input: Input): string {
  const name = input.optString('Name');
  if (name === undefined) throw mustNotBeNull('name');
  return name;
}

/**
 * SSM trims spaces around a name and refuses spaces inside it. Writes also check the naming rules of
 * PutParameter's `Name` doc: charset, no aws/ssm prefix, fully qualified when hierarchical, at most 15 levels.
 */
function readName(raw: string, options: { forWrite?: boolean } = {}): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 2048) {
    throw validation(
      `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: ` +
        'Member must have length less than or equal to 2048, Member must have length greater than or equal to 1',
    );
  }
  if (/\s/.test(name)) throw validation(`Parameter name: can't contain spaces. Got '${name}'.`);
  if (!options.forWrite) return name;
  if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) {
    throw validation(
      'Parameter name: can contain only the following symbols and letters: a-zA-Z0-9_.- and the slash ' +
        `character (/) to delineate hierarchies. Got '${name}'.`,
    );
  }
  if (/^\/?(aws|ssm)/i.test(name)) {
    throw validation('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw validation('Parameter name must be a fully qualified name.');
  }
  if (name.split('/').length - 1 > HIERARCHY_DEPTH_LIMIT) {
    throw new AwsApiError(
      'HierarchyLevelLimitExceededException',
      `A hierarchy can have a maximum of ${HIERARCHY_DEPTH_LIMIT} levels. Got '${name}'.`,
    );
  }
  return name;
}

function readMaxResults(input: Input): number {
  const value = input.optNumber('MaxResults');
  if (value === undefined) return MAX_RESULTS_LIMIT;
  if (!Number.isInteger(value) || value < 1 || value > MAX_RESULTS_LIMIT) {
    throw validation(
      `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: ` +
        (value < 1
          ? 'Member must have value greater than or equal to 1'
          : `Member must have value less than or equal to ${MAX_RESULTS_LIMIT}`),
    );
  }
  return value;
}

function readNextToken(token: string | undefined, total: number): number {
  const offset = pageOffset(token, total);
  if (offset === undefined) throw new AwsApiError('InvalidNextToken', "The specified token isn't valid.");
  return offset;
}

function isParameterType(type: string): type is ParameterType {
  return (PARAMETER_TYPES as readonly string[]).includes(type);
}

/**
 * LabelParameterVersion's rules: letters, digits, `.`, `-`, `_`; not starting with a digit, `aws` or `ssm`
 * (case-insensitive). A label that breaks them is not attached and comes back in `InvalidLabels`.
 */
function isValidLabel(label: string): boolean {
  return /^[a-zA-Z0-9_.-]+$/.test(label) && !/^\d/.test(label) && !/^(aws|ssm)/i.test(label);
}
