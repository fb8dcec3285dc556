import type { LocalAccount } from '../account.ts';
import { AwsApiError, missingParameter } from '../errors.ts';
import type { Input } from '../protocols/input.ts';
import type { Instance } from '../state.ts';
import {
  checkFilterNames,
  checkImageId,
  imageNotFound,
  INSTANCE_ID,
  invalidParameterValue,
  LAUNCH_TEMPLATE_ID,
  malformed,
  matchesFilters,
  ok,
  readFilters,
  readTags,
  tagLimitExceeded,
  TAGS_PER_RESOURCE_LIMIT,
} from './ec2/common.ts';
import { imageOperations } from './ec2/images.ts';
import { launchTemplateOperations } from './ec2/launch-templates.ts';
import type { Operation, ServiceDefinition } from './service.ts';

/** EC2's numeric instance state codes. */
const STATE_CODES: Record<Instance['ec2State'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
};

const INSTANCE_FILTERS = [
  'instance-id',
  'image-id',
  'instance-state-name',
  'instance-state-code',
  'instance-type',
  'availability-zone',
  'launch-time',
];

const TAG_FILTERS = ['resource-id', 'resource-type', 'key', 'value'];

/**
 * The EC2 API of the local account: images, snapshots and their sharing, launch templates and their versions,
 * and a read-only view of the instances the Auto Scaling simulation runs.
 */
export function ec2Service(account: LocalAccount): ServiceDefinition {
  const operations: Record<string, Operation> = {
    ...imageOperations(account),
    ...launchTemplateOperations(account),
    ...instanceOperations(account),
    ...tagOperations(account),
  };
  return {
    name: 'ec2',
    protocol: 'ec2',
    apiVersion: '2016-11-15',
    xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
    throttling: { code: 'RequestLimitExceeded', httpStatus: 503 },
    operations: Object.fromEntries(Object.entries(operations).map(([action, op]) => [action, asEc2(op)])),
  };
}

/**
 * EC2 conventions every operation shares: DryRun answers DryRunOperation without touching anything, and a bad
 * parameter is `InvalidParameterValue` (the shared `Input` reports it as Auto Scaling's `ValidationError`).
 */
function asEc2(operation: Operation): Operation {
  return (input, ctx) => {
    try {
      if (input.optBoolean('DryRun') === true) {
        throw new AwsApiError(
          'DryRunOperation',
          'Request would have succeeded, but DryRun flag is set.',
          412,
        );
      }
      return operation(input, ctx);
    } catch (error) {
      if (error instanceof AwsApiError && error.code === 'ValidationError') {
        throw new AwsApiError('InvalidParameterValue', error.message, error.httpStatus);
      }
      throw error;
    }
  };
}

function instanceOperations(account: LocalAccount): Record<string, Operation> {
  const { instances } = account.state;

  /** The tags EC2 Auto Scaling and launch templates put on every instance they launch. */
  const tagsOf = (instance: Instance): Map<string, string> => {
    const tags = new Map<string, string>();
    if (instance.autoScalingGroupName) tags.set('aws:autoscaling:groupName', instance.autoScalingGroupName);
    if (instance.launchTemplate) {
      tags.set('aws:ec2launchtemplate:id', instance.launchTemplate.launchTemplateId);
      tags.set('aws:ec2launchtemplate:version', instance.launchTemplate.version);
    }
    return tags;
  };

  const valuesOf =
    (instance: Instance) =>
    (name: string): readonly string[] => {
      switch (name) {
        case 'instance-id':
          return [instance.instanceId];
        case 'image-id':
          return [instance.imageId];
        case 'instance-state-name':
          return [instance.ec2State];
        case 'instance-state-code':
          return [String(STATE_CODES[instance.ec2State])];
        case 'instance-type':
          return [instance.instanceType];
        case 'availability-zone':
          return [instance.availabilityZone];
        case 'launch-time':
          return [instance.launchTime.toISOString()];
        default: {
          const tags = tagsOf(instance);
          if (name.startsWith('tag:')) {
            const value = tags.get(name.slice(4));
            return value === undefined ? [] : [value];
          }
          return name === 'tag-key' ? [...tags.keys()] : name === 'tag-value' ? [...tags.values()] : [];
        }
      }
    };

  return {
    DescribeInstances(input) {
      const ids = input.strings('InstanceId');
      for (const id of ids) {
        if (!INSTANCE_ID.test(id)) throw malformed('InvalidInstanceID.Malformed', id, 'i');
      }
      const missing = ids.filter((id) => !instances.has(id));
      if (missing.length > 0) {
        throw new AwsApiError(
          'InvalidInstanceID.NotFound',
          missing.length === 1
            ? `The instance ID '${missing[0]}' does not exist`
            : `The instance IDs '${missing.join(', ')}' do not exist`,
        );
      }
      const filters = readFilters(input);
      checkFilterNames(filters, INSTANCE_FILTERS);
      const selected = ids.length > 0 ? ids.map((id) => instances.get(id)!) : [...instances.values()];
      // One reservation per instance: the simulation launches instances one at a time, as Auto Scaling does.
      const reservationSet = selected
        .filter((instance) => matchesFilters(filters, valuesOf(instance)))
        .map((instance) => ({
          reservationId: `r-${instance.instanceId.slice(2)}`,
          ownerId: account.accountId,
          groupSet: [],
          instancesSet: [
            {
              instanceId: instance.instanceId,
              imageId: instance.imageId,
              instanceState: { code: STATE_CODES[instance.ec2State], name: instance.ec2State },
              amiLaunchIndex: 0,
              instanceType: instance.instanceType,
              launchTime: instance.launchTime,
              placement: { availabilityZone: instance.availabilityZone, tenancy: 'default' },
              monitoring: { state: 'disabled' },
              architecture: 'x86_64',
              rootDeviceType: 'ebs',
              rootDeviceName: '/dev/xvda',
              virtualizationType: 'hvm',
              hypervisor: 'xen',
              tagSet: [...tagsOf(instance)].map(([key, value]) => ({ key, value })),
            },
          ],
        }));
      return { reservationSet };
    },
  };
}

/** Tags on images and launch templates, the two taggable resources the rollout reads tags from. */
function tagOperations(account: LocalAccount): Record<string, Operation> {
  const { images, launchTemplates } = account.state;

  const tagMapOf = (resourceId: string): Map<string, string> => {
    if (resourceId.startsWith('ami-')) {
      checkImageId(resourceId);
      const image = images.get(resourceId);
      if (!image || image.state === 'deregistered') throw imageNotFound([resourceId]);
      return image.tags;
    }
    if (resourceId.startsWith('lt-')) {
      const template = LAUNCH_TEMPLATE_ID.test(resourceId) ? launchTemplates.get(resourceId) : undefined;
      if (!template) {
        throw new AwsApiError(
          'InvalidLaunchTemplateId.NotFound',
          `The specified launch template, with template ID ${resourceId}, does not exist.`,
        );
      }
      return template.tags;
    }
    throw invalidParameterValue(
      `The local account tags images and launch templates only, not ${resourceId}.`,
    );
  };

  const readResources = (input: Input): Map<string, string>[] => {
    const resources = input.strings('ResourceId');
    if (resources.length === 0) throw missingParameter('ResourceId');
    return resources.map(tagMapOf);
  };

  return {
    CreateTags(input) {
      const targets = readResources(input);
      const tags = readTags(input);
      if (tags.length === 0) throw missingParameter('Tag');
      // Checked for every resource before any is tagged, so a refused call changes nothing.
      for (const target of targets) {
        const keys = new Set([...target.keys(), ...tags.map(([key]) => key)]);
        if (keys.size > TAGS_PER_RESOURCE_LIMIT) throw tagLimitExceeded();
      }
      for (const target of targets) for (const [key, value] of tags) target.set(key, value);
      return ok;
    },

    DeleteTags(input) {
      const targets = readResources(input);
      // Without a value a tag goes whatever its value; with one, only when the value matches.
      const tags = input.objects('Tag').map((t) => ({ key: t.string('Key'), value: t.optString('Value') }));
      for (const target of targets) {
        const keys = tags.length > 0 ? tags : [...target.keys()].map((key) => ({ key, value: undefined }));
        for (const { key, value } of keys) {
          if (value === undefined || target.get(key) === value) target.delete(key);
        }
      }
      return ok;
    },

    DescribeTags(input) {
      const filters = readFilters(input);
      checkFilterNames(filters, TAG_FILTERS);
      const rows = [
        ...[...images.values()]
          .filter((image) => image.state !== 'deregistered')
          .flatMap((image) =>
            [...image.tags].map(([key, value]) => ({ id: image.imageId, type: 'image', key, value })),
          ),
        ...[...launchTemplates.values()].flatMap((t) =>
          [...t.tags].map(([key, value]) => ({
            id: t.launchTemplateId,
            type: 'launch-template',
            key,
            value,
          })),
        ),
      ];
      const tagSet = rows
        .filter((row) =>
          matchesFilters(filters, (name) => {
            if (name === 'resource-id') return [row.id];
            if (name === 'resource-type') return [row.type];
            if (name === 'key') return [row.key];
            if (name === 'value') return [row.value];
            return name === `tag:${row.key}` ? [row.value] : name === 'tag-key' ? [row.key] : [];
          }),
        )
        .map((row) => ({ resourceId: row.id, resourceType: row.type, key: row.key, value: row.value }));
      return { tagSet };
    },
  };
}
