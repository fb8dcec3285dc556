/**
 * Launch template data travels under three sets of names: the query request (`BlockDeviceMapping.1.Ebs...`),
 * the shape members the account stores (`BlockDeviceMappings`, as SDK users write them), and the response
 * elements (`blockDeviceMappingSet`). Request and response data have the same tree (botocore
 * RequestLaunchTemplateData / ResponseLaunchTemplateData), so the mapping is "same name" plus the renames below,
 * keyed by the member that encloses them; those tables were generated from the EC2 model.
 */
import { NamedItemList } from '../../protocols/query.ts';
import type { LaunchTemplateData } from '../../state.ts';

const REQUEST_TO_MEMBER: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '': {
    BlockDeviceMapping: 'BlockDeviceMappings',
    NetworkInterface: 'NetworkInterfaces',
    TagSpecification: 'TagSpecifications',
    ElasticGpuSpecification: 'ElasticGpuSpecifications',
    ElasticInferenceAccelerator: 'ElasticInferenceAccelerators',
    SecurityGroupId: 'SecurityGroupIds',
    SecurityGroup: 'SecurityGroups',
    LicenseSpecification: 'LicenseSpecifications',
    SecondaryInterface: 'SecondaryInterfaces',
  },
  NetworkInterfaces: { SecurityGroupId: 'Groups', Ipv4Prefix: 'Ipv4Prefixes', Ipv6Prefix: 'Ipv6Prefixes' },
  SecondaryInterfaces: { PrivateIpAddress: 'PrivateIpAddresses' },
  TagSpecifications: { Tag: 'Tags' },
  InstanceRequirements: {
    CpuManufacturer: 'CpuManufacturers',
    ExcludedInstanceType: 'ExcludedInstanceTypes',
    InstanceGeneration: 'InstanceGenerations',
    LocalStorageType: 'LocalStorageTypes',
    AcceleratorType: 'AcceleratorTypes',
    AcceleratorManufacturer: 'AcceleratorManufacturers',
    AcceleratorName: 'AcceleratorNames',
    AllowedInstanceType: 'AllowedInstanceTypes',
  },
  Cpu: { Reference: 'References' },
};

const MEMBER_TO_RESPONSE: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '': {
    BlockDeviceMappings: 'blockDeviceMappingSet',
    NetworkInterfaces: 'networkInterfaceSet',
    TagSpecifications: 'tagSpecificationSet',
    ElasticGpuSpecifications: 'elasticGpuSpecificationSet',
    ElasticInferenceAccelerators: 'elasticInferenceAcceleratorSet',
    SecurityGroupIds: 'securityGroupIdSet',
    SecurityGroups: 'securityGroupSet',
    LicenseSpecifications: 'licenseSet',
    SecondaryInterfaces: 'secondaryInterfaceSet',
  },
  NetworkInterfaces: {
    Groups: 'groupSet',
    Ipv6Addresses: 'ipv6AddressesSet',
    PrivateIpAddresses: 'privateIpAddressesSet',
    Ipv4Prefixes: 'ipv4PrefixSet',
    Ipv6Prefixes: 'ipv6PrefixSet',
  },
  SecondaryInterfaces: { PrivateIpAddresses: 'privateIpAddressesSet' },
  TagSpecifications: { Tags: 'tagSet' },
  InstanceRequirements: {
    CpuManufacturers: 'cpuManufacturerSet',
    ExcludedInstanceTypes: 'excludedInstanceTypeSet',
    InstanceGenerations: 'instanceGenerationSet',
    LocalStorageTypes: 'localStorageTypeSet',
    AcceleratorTypes: 'acceleratorTypeSet',
    AcceleratorManufacturers: 'acceleratorManufacturerSet',
    AcceleratorNames: 'acceleratorNameSet',
    AllowedInstanceTypes: 'allowedInstanceTypeSet',
  },
  Cpu: { References: 'referenceSet' },
};

interface Direction {
  readonly renames: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly fallback: (key: string) => string;
  /** The renames are keyed by the member name of the enclosing field, on whichever side holds member names. */
  readonly memberOf: (key: string, renamed: string) => string;
  readonly wrap?: (context: string, key: string, value: unknown) => unknown;
}

const fromRequest: Direction = {
  renames: REQUEST_TO_MEMBER,
  fallback: (key) => key,
  memberOf: (_key, renamed) => renamed,
};

const toResponse: Direction = {
  renames: MEMBER_TO_RESPONSE,
  fallback: (key) => key.charAt(0).toLowerCase() + key.slice(1),
  memberOf: (key) => key,
  // The one list in the response data whose items are not `<item>`: a network interface's security groups.
  wrap: (context, key, value) =>
    context === 'NetworkInterfaces' && key === 'Groups' && Array.isArray(value)
      ? new NamedItemList('groupId', value)
      : value,
};

/** `table[key]` when the table itself holds it: a caller's key such as `constructor` must not find Object's. */
const own = <T>(table: Readonly<Record<string, T>> | undefined, key: string): T | undefined =>
  table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;

function rename(value: unknown, context: string, direction: Direction): unknown {
  if (Array.isArray(value)) return value.map((item) => rename(item, context, direction));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  // Null-prototype, like the request it came from: stored data keeps whatever member names the caller sent.
  const renamedValue = Object.create(null) as Record<string, unknown>;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const renamed = own(own(direction.renames, context), key) ?? direction.fallback(key);
    const converted = rename(child, direction.memberOf(key, renamed), direction);
    renamedValue[renamed] = direction.wrap ? direction.wrap(context, key, converted) : converted;
  }
  return renamedValue;
}

/**
 * Query request data (`LaunchTemplateData.*` already nested) to the stored form, keyed by shape member names.
 * Leaves stay the strings the wire carried: the account keeps launch template data verbatim.
 */
export function dataFromRequest(raw: Record<string, unknown>): LaunchTemplateData {
  return rename(raw, '', fromRequest) as LaunchTemplateData;
}

/** Stored data to the `launchTemplateData` response element. */
export function dataToResponse(data: Readonly<LaunchTemplateData>): Record<string, unknown> {
  return rename(data, '', toResponse) as Record<string, unknown>;
}
