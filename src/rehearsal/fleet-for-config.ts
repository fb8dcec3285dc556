import { gateOf, namedGroupsOf, wavesOf, type RolloutConfig } from '../config/schema.ts';
import { parseFleet, type Fleet } from '../local-account/fleet.ts';

/** The images a generated rehearsal fleet runs: the current one, and the new one to roll out. */
export const generatedImages = { current: 'ami-0c0ffee0000000001', next: 'ami-0c0ffee0000000002' } as const;

/**
 * The fleet a rehearsal runs on when none is given: the example fleet when the config describes it, otherwise
 * a fleet built to match the config (its templates, groups in order, parameter and topic), running one image
 * with a newer one ready, so any config can be rehearsed before it touches an account. Every group has a
 * health signal, as Preflight requires: each is behind its own load balancer (target group `tg-N`, ELB health
 * checks), and the alarms the config names exist (on the fleet's App/Errors metric, OK until a fault says
 * otherwise). A wave that selects groups by tags gets three tagged groups of its own (`<wave>-tagged-1..3`).
 */
export function fleetForConfig(config: RolloutConfig, example?: Fleet): Fleet {
  if (example && describesFleet(config, example)) return example;
  const topic = config.notificationTopicArn
    ? /^arn:[^:]+:sns:([^:]+):(\d{12}):(.+)$/.exec(config.notificationTopicArn)
    : null;
  const region = topic?.[1] ?? 'us-east-1';
  const accountId = topic?.[2] ?? '123456789012';
  // Preflight only accepts images from trusted owners: the images belong to one of them.
  const ownerId = config.trustedImageOwners.find((owner) => /^\d{12}$/.test(owner)) ?? accountId;
  // A wave that selects its groups by tags gets three groups of its own carrying those tags (after any it
  // names), so that Preflight's tag selection finds them as it would on a tagged fleet.
  const tagged = wavesOf(config).flatMap((wave) =>
    wave.autoScalingGroupTags
      ? [1, 2, 3].map((n) => ({ name: `${wave.name}-tagged-${n}`, tags: { ...wave.autoScalingGroupTags } }))
      : [],
  );
  const groups = [
    ...namedGroupsOf(config).map((name) => ({ name, tags: undefined as Record<string, string> | undefined })),
    ...tagged,
  ];
  return parseFleet(
    {
      accountId,
      region,
      images: [
        { imageId: generatedImages.current, name: 'rehearsal-current', ownerId },
        { imageId: generatedImages.next, name: 'rehearsal-next', ownerId },
      ],
      launchTemplates: config.launchTemplateIds.map((launchTemplateId, i) => ({
        launchTemplateId,
        name: `rehearsal-template-${i + 1}`,
        imageId: generatedImages.current,
      })),
      targetGroups: groups.map((_, i) => ({ name: generatedTargetGroup(i) })),
      autoScalingGroups: groups.map(({ name, tags }, i) => ({
        name,
        ...(tags ? { tags } : {}),
        launchTemplate: config.launchTemplateIds[i % config.launchTemplateIds.length]!,
        minSize: 1,
        maxSize: 6,
        desiredCapacity: 3,
        defaultInstanceWarmupSeconds: 60,
        healthCheckType: 'ELB',
        healthCheckGracePeriodSeconds: 60,
        targetGroups: [generatedTargetGroup(i)],
      })),
      alarms: [
        ...(config.refreshPreferences.alarmNames ?? []).map((alarmName) => ({
          name: alarmName,
          description: 'Generated for the rehearsal: the config names it in refreshPreferences.alarmNames',
          namespace: 'App',
          metricName: 'Errors',
          statistic: 'Sum',
          threshold: 1,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
          treatMissingData: 'notBreaching',
        })),
        // The health gate's alarms (fleet-wide and each wave's own): on the fleet's total App/Errors.
        ...gateAlarmNames(config)
          .filter((name) => !(config.refreshPreferences.alarmNames ?? []).includes(name))
          .map((alarmName) => ({
            name: alarmName,
            description: 'Generated for the rehearsal: the config names it in its health gate',
            namespace: 'App',
            metricName: 'Errors',
            statistic: 'Sum',
            threshold: 1,
            comparisonOperator: 'GreaterThanOrEqualToThreshold',
            treatMissingData: 'notBreaching',
          })),
      ],
      parameters: [
        { name: config.amiParameterName, value: generatedImages.current, dataType: 'aws:ec2:image' },
      ],
      topics: topic ? [{ name: topic[3]! }] : [],
    },
    'the fleet generated from the config',
  );
}

/** The target group (and load balancer) of the generated fleet's group number `index`: tg-1, tg-2, ... */
export const generatedTargetGroup = (index: number): string => `tg-${index + 1}`;

function describesFleet(config: RolloutConfig, fleet: Fleet): boolean {
  const templateIds = new Set(fleet.launchTemplates.map((t) => t.launchTemplateId));
  const groups = new Set(fleet.autoScalingGroups.map((g) => g.name));
  return (
    config.launchTemplateIds.every((id) => templateIds.has(id)) &&
    namedGroupsOf(config).every((name) => groups.has(name)) &&
    fleet.parameters.some((p) => p.name === config.amiParameterName)
  );
}

/**
 * The image to roll out when none is named: the last image in the fleet file that is available and is not the
 * one the parameter holds now.
 */
export function defaultImageToRollOut(config: RolloutConfig, fleet: Fleet): string | undefined {
  const current = fleet.parameters.find((p) => p.name === config.amiParameterName)?.value;
  return fleet.images.filter((i) => i.state === 'available' && i.imageId !== current).at(-1)?.imageId;
}

/** Every alarm the health gate watches: the gate's and each wave's own, once each. */
function gateAlarmNames(config: RolloutConfig): string[] {
  return [...new Set([...gateOf(config).alarmNames, ...wavesOf(config).flatMap((w) => w.alarmNames ?? [])])];
}
