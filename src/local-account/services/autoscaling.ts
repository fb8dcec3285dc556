import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import type { Input } from '../protocols/input.ts';
import { capacityCause } from '../simulation/capacity.ts';
import { InstanceLifecycle } from '../simulation/instance-lifecycle.ts';
import {
  InstanceRefreshEngine,
  missingAlarms,
  previousConfigurationOf,
} from '../simulation/instance-refresh.ts';
import {
  findLaunchTemplate,
  isNumberedVersion,
  resolveLaunchTemplate,
  type ResolvedLaunchTemplate,
} from '../simulation/launch-templates.ts';
import { ACTIVE_STATUSES, CANCELLABLE_STATUSES, ROLLBACK_STATUSES } from '../simulation/refresh-decisions.ts';
import type {
  AutoScalingGroup,
  HealthCheckType,
  Instance,
  InstanceRefresh,
  LaunchTemplateSpec,
  RefreshPreferences,
  ScalingActivity,
} from '../state.ts';
import type { ServiceDefinition } from './service.ts';

const validation = (message: string): AwsApiError => new AwsApiError('ValidationError', message);

const notNull = (member: string): AwsApiError =>
  validation(
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  );

/**
 * EC2 Auto Scaling (query protocol, 2011-01-01): groups of launch-template instances and instance refreshes.
 * The fleet itself lives in simulation/: InstanceLifecycle launches and terminates instances, and
 * InstanceRefreshEngine runs refreshes on the account's virtual clock.
 */
export function autoScalingService(account: LocalAccount): ServiceDefinition {
  const lifecycle = new InstanceLifecycle(account);
  const refreshes = new InstanceRefreshEngine(account, lifecycle);
  const groups = account.state.autoScalingGroups;
  /** Tag keys with PropagateAtLaunch, per group (the shared state keeps tag values only). */
  const propagated = new Map<string, Set<string>>();

  const getGroup = (name: string): AutoScalingGroup => {
    const group = groups.get(name);
    if (!group) throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return group;
  };

  /** A LaunchTemplateSpecification from the request, checked against EC2's templates and images. */
  const readLaunchTemplate = (input: Input): LaunchTemplateSpec => {
    const template = findLaunchTemplate(account, {
      launchTemplateId: input.optString('LaunchTemplateId'),
      launchTemplateName: input.optString('LaunchTemplateName'),
    });
    const spec: LaunchTemplateSpec = {
      launchTemplateId: template.launchTemplateId,
      launchTemplateName: template.launchTemplateName,
      version: input.optString('Version') ?? '$Default',
    };
    resolveLaunchTemplate(account, spec);
    return spec;
  };

  /** TargetGroupARNs, each a target group of this account (at most 10 per call, as the API allows). */
  const readTargetGroupArns = (input: Input, required = false): string[] => {
    const arns = input.strings('TargetGroupARNs');
    if (required && arns.length === 0) throw notNull('targetGroupARNs');
    if (arns.length > 10) throw validation(`You can specify up to 10 target groups, not ${arns.length}.`);
    // AWS's message when a target group ARN does not name a target group.
    if (arns.some((arn) => !account.state.targetGroups.has(arn)))
      throw validation('Provided Target Groups may not be valid. Please ensure they exist and try again.');
    return [...new Set(arns)];
  };

  /** InstanceIds (at most `limit`), each an instance of `group` that is not terminating or terminated. */
  const readGroupInstances = (input: Input, group: AutoScalingGroup, limit: number): Instance[] => {
    const ids = input.strings('InstanceIds');
    if (ids.length > limit) throw validation(`You can specify up to ${limit} instances, not ${ids.length}.`);
    return [...new Set(ids)].map((id) => {
      const instance = account.state.instances.get(id);
      if (
        !instance ||
        instance.autoScalingGroupName !== group.autoScalingGroupName ||
        !group.instanceIds.includes(id) ||
        instance.lifecycleState === 'Terminated'
      ) {
        throw validation(
          `The instance ${id} is not part of Auto Scaling group ${group.autoScalingGroupName}.`,
        );
      }
      return instance;
    });
  };

  /** The time the group's last scaling activity ended, if none is still in progress (for HonorCooldown). */
  const cooldownBlocks = (group: AutoScalingGroup): ScalingActivity | undefined => {
    const nowMs = account.clock.now();
    for (let i = account.state.scalingActivities.length - 1; i >= 0; i--) {
      const activity = account.state.scalingActivities[i]!;
      if (activity.autoScalingGroupARN !== group.autoScalingGroupARN) continue;
      if (!activity.endTime) return activity;
      if (nowMs - activity.endTime.getTime() < DEFAULT_COOLDOWN_SECONDS * 1000) return activity;
    }
    return undefined;
  };

  // capacityChange: at its minute, the group's desired capacity is set as a scaling policy would set it.
  account.faults.onAdd((fault) => {
    if (fault.kind !== 'capacityChange') return;
    const apply = () => {
      if (!account.faults.list().some((f) => f.id === fault.id)) return;
      const group = groups.get(fault.group);
      if (!group) return;
      // Clamped to the group's bounds as they are at that minute, as a scaling policy's change is
      // (UG "Step and simple scaling policies": never above MaxSize nor below MinSize).
      const desired = Math.min(group.maxSize, Math.max(group.minSize, fault.desiredCapacity));
      const from = group.desiredCapacity;
      group.desiredCapacity = desired;
      lifecycle.reconcileCapacity(group, capacityCause.fault(fault.id, from, desired));
    };
    const delayMs = account.startTime.getTime() + fault.atMinute * 60_000 - account.clock.now();
    // A minute already past applies at once. Scheduled in the background, like the alarm fault: a minute far
    // ahead does not make `runUntilIdle` run the account to it.
    if (delayMs <= 0) apply();
    else account.clock.scheduleBackground(delayMs / 1000, apply);
  });

  const checkSizes = (min: number, max: number, desired: number): void => {
    if (min > max) throw validation(`Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
    if (desired < min || desired > max) {
      throw validation(
        `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`,
      );
    }
  };

  return {
    name: 'autoscaling',
    protocol: 'query',
    apiVersion: '2011-01-01',
    xmlns: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
    throttling: { code: 'Throttling', httpStatus: 400 },
    operations: {
      CreateAutoScalingGroup: (input) => {
        const name = input.string('AutoScalingGroupName');
        if (groups.has(name)) {
          throw new AwsApiError(
            'AlreadyExists',
            `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`,
          );
        }
        const minSize = input.optInt('MinSize', 0);
        const maxSize = input.optInt('MaxSize', 0);
        if (minSize === undefined) throw notNull('minSize');
        if (maxSize === undefined) throw notNull('maxSize');
        const desiredCapacity = input.optInt('DesiredCapacity', 0) ?? minSize;
        checkSizes(minSize, maxSize, desiredCapacity);
        const templateInput = input.optObject('LaunchTemplate');
        if (!templateInput && input.optObject('MixedInstancesPolicy')) {
          // AWS accepts it; the local account does not model instance types or overrides. Refused by name, so a
          // rehearsal never quietly runs a different group than the one described.
          throw validation(
            'MixedInstancesPolicy is not modelled by the local account (docs/local-account.md): give the group a LaunchTemplate instead.',
          );
        }
        if (!templateInput) {
          throw validation(
            'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.',
          );
        }
        const launchTemplate = readLaunchTemplate(templateInput);
        const vpcZoneIdentifier = input.optString('VPCZoneIdentifier');
        const subnets =
          vpcZoneIdentifier
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean) ?? [];
        const zones = input.strings('AvailabilityZones');
        // Subnets are not modelled: each subnet stands for one zone of the region, in order.
        const availabilityZones =
          zones.length > 0
            ? zones
            : subnets.length > 0
              ? subnets.map((_, i) => `${account.region}${String.fromCharCode(97 + (i % 6))}`)
              : [`${account.region}a`, `${account.region}b`, `${account.region}c`];
        const tags = input.objects('Tags').map((tag) => ({
          key: tag.string('Key'),
          value: tag.optString('Value') ?? '',
          propagateAtLaunch: tag.optBoolean('PropagateAtLaunch') ?? false,
        }));
        const healthCheckGracePeriod = input.optInt('HealthCheckGracePeriod', 0) ?? 0;
        const defaultInstanceWarmup = input.optInt('DefaultInstanceWarmup', -1);
        const healthCheckType = readHealthCheckType(input.optString('HealthCheckType')) ?? 'EC2';
        const targetGroupARNs = readTargetGroupArns(input);
        const newInstancesProtectedFromScaleIn =
          input.optBoolean('NewInstancesProtectedFromScaleIn') ?? false;
        const group: AutoScalingGroup = {
          autoScalingGroupName: name,
          autoScalingGroupARN:
            `arn:aws:autoscaling:${account.region}:${account.accountId}:autoScalingGroup:` +
            `${account.ids.uuid('autoScalingGroup')}:autoScalingGroupName/${name}`,
          launchTemplate,
          minSize,
          maxSize,
          desiredCapacity,
          availabilityZones,
          ...(vpcZoneIdentifier ? { vpcZoneIdentifier } : {}),
          healthCheckType,
          healthCheckGracePeriod,
          targetGroupARNs,
          ...(defaultInstanceWarmup !== undefined && defaultInstanceWarmup >= 0
            ? { defaultInstanceWarmup }
            : {}),
          ...(newInstancesProtectedFromScaleIn ? { newInstancesProtectedFromScaleIn } : {}),
          createdTime: account.now(),
          instanceIds: [],
          tags: new Map(tags.map((t) => [t.key, t.value])),
        };
        groups.set(name, group);
        propagated.set(name, new Set(tags.filter((t) => t.propagateAtLaunch).map((t) => t.key)));
        lifecycle.reconcileCapacity(group, capacityCause.created(desiredCapacity));
        return undefined;
      },

      DescribeAutoScalingGroups: (input) => {
        const names = input.strings('AutoScalingGroupNames');
        const filters = input
          .objects('Filters')
          .map((f) => ({ name: f.string('Name'), values: f.strings('Values') }));
        const { start, size } = page(input);
        let found = names.length > 0 ? names.flatMap((n) => groups.get(n) ?? []) : [...groups.values()];
        found = found.filter((group) => filters.every((f) => matchesFilter(group, f.name, f.values)));
        const slice = found.slice(start, start + size);
        return {
          AutoScalingGroups: slice.map((group) => describeGroup(group)),
          NextToken: start + size < found.length ? String(start + size) : undefined,
        };
      },

      UpdateAutoScalingGroup: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const templateInput = input.optObject('LaunchTemplate');
        const launchTemplate = templateInput ? readLaunchTemplate(templateInput) : undefined;
        const minSize = input.optInt('MinSize', 0) ?? group.minSize;
        const maxSize = input.optInt('MaxSize', 0) ?? group.maxSize;
        // Like AWS, a new min or max drags an unspecified desired capacity into range.
        const desiredCapacity =
          input.optInt('DesiredCapacity', 0) ?? Math.min(maxSize, Math.max(minSize, group.desiredCapacity));
        checkSizes(minSize, maxSize, desiredCapacity);
        const healthCheckGracePeriod = input.optInt('HealthCheckGracePeriod', 0);
        const defaultInstanceWarmup = input.optInt('DefaultInstanceWarmup', -1);
        const healthCheckType = readHealthCheckType(input.optString('HealthCheckType'));
        const newInstancesProtectedFromScaleIn = input.optBoolean('NewInstancesProtectedFromScaleIn');
        const previousDesired = group.desiredCapacity;
        if (launchTemplate) group.launchTemplate = launchTemplate;
        if (newInstancesProtectedFromScaleIn !== undefined)
          group.newInstancesProtectedFromScaleIn = newInstancesProtectedFromScaleIn;
        if (healthCheckType !== undefined) group.healthCheckType = healthCheckType;
        group.minSize = minSize;
        group.maxSize = maxSize;
        group.desiredCapacity = desiredCapacity;
        if (healthCheckGracePeriod !== undefined) group.healthCheckGracePeriod = healthCheckGracePeriod;
        if (defaultInstanceWarmup !== undefined) {
          group.defaultInstanceWarmup = defaultInstanceWarmup >= 0 ? defaultInstanceWarmup : undefined;
        }
        // Capacity changes go on during an instance refresh too (the refresh's desired configuration launches).
        lifecycle.reconcileCapacity(
          group,
          previousDesired === desiredCapacity
            ? undefined
            : capacityCause.updated(minSize, maxSize, previousDesired, desiredCapacity),
        );
        return undefined;
      },

      SetDesiredCapacity: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const desired = input.optInt('DesiredCapacity', 0);
        if (desired === undefined) throw notNull('desiredCapacity');
        const honorCooldown = input.optBoolean('HonorCooldown') ?? false;
        if (desired > group.maxSize) {
          throw validation(
            `New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`,
          );
        }
        if (desired < group.minSize) {
          throw validation(
            `New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`,
          );
        }
        // HonorCooldown (default false): refused while a scaling activity runs or within the group's default
        // cooldown (300 s) after the last one ended. AWS's wording for this refusal is not published.
        const blocking = honorCooldown ? cooldownBlocks(group) : undefined;
        if (blocking) {
          throw new AwsApiError(
            'ScalingActivityInProgress',
            `Scaling activity ${blocking.activityId} is in progress or in its cooldown and blocks this action: ` +
              'retry after the cooldown, or call SetDesiredCapacity without HonorCooldown.',
          );
        }
        const from = group.desiredCapacity;
        group.desiredCapacity = desired;
        lifecycle.reconcileCapacity(
          group,
          from === desired ? undefined : capacityCause.setDesired(from, desired),
        );
        return undefined;
      },

      EnterStandby: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const decrement = input.optBoolean('ShouldDecrementDesiredCapacity');
        if (decrement === undefined) throw notNull('shouldDecrementDesiredCapacity');
        const instances = readGroupInstances(input, group, 20);
        const notInService = instances.find((instance) => instance.lifecycleState !== 'InService');
        if (notInService) {
          throw validation(
            `The instance ${notInService.instanceId} is not in InService (it is ${notInService.lifecycleState}): ` +
              'only InService instances can enter Standby.',
          );
        }
        if (decrement && group.desiredCapacity - instances.length < group.minSize) {
          throw validation(
            `AutoScalingGroup ${group.autoScalingGroupName} has min-size=${group.minSize}, max-size=${group.maxSize}, ` +
              `and desired-size=${group.desiredCapacity}. To place into standby ${instances.length} instances, ` +
              'please update the AutoScalingGroup sizes appropriately.',
          );
        }
        return { Activities: lifecycle.enterStandby(group, instances, decrement).map(describeActivity) };
      },

      ExitStandby: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const instances = readGroupInstances(input, group, 20);
        const notStandby = instances.find((instance) => instance.lifecycleState !== 'Standby');
        if (notStandby) {
          throw validation(
            `The instance ${notStandby.instanceId} is not in Standby (it is ${notStandby.lifecycleState}).`,
          );
        }
        if (group.desiredCapacity + instances.length > group.maxSize) {
          throw validation(
            `AutoScalingGroup ${group.autoScalingGroupName} has min-size=${group.minSize}, max-size=${group.maxSize}, ` +
              `and desired-size=${group.desiredCapacity}. To exit standby ${instances.length} instances, ` +
              'please update the AutoScalingGroup sizes appropriately.',
          );
        }
        return { Activities: lifecycle.exitStandby(group, instances).map(describeActivity) };
      },

      SetInstanceProtection: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const protect = input.optBoolean('ProtectedFromScaleIn');
        if (protect === undefined) throw notNull('protectedFromScaleIn');
        const instances = readGroupInstances(input, group, 50);
        for (const instance of instances) instance.protectedFromScaleIn = protect;
        return {};
      },

      DescribeScalingActivities: (input) => {
        const name = input.optString('AutoScalingGroupName');
        const ids = input.strings('ActivityIds');
        if (ids.length > 50) throw validation(`You can specify up to 50 activity IDs, not ${ids.length}.`);
        const includeDeleted = input.optBoolean('IncludeDeletedGroups') ?? false;
        const filters = input
          .objects('Filters')
          .map((f) => ({ name: f.string('Name'), values: f.strings('Values') }));
        const bound = (value: string): number => {
          const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
          if (Number.isNaN(ms))
            throw validation(
              `The filter value '${value}' is not an ISO 8601 timestamp such as 2000-01-18T08:15:00Z.`,
            );
          return ms;
        };
        let lower = -Infinity;
        let upper = Infinity;
        let statuses: Set<string> | undefined;
        for (const filter of filters) {
          if (filter.name === 'StartTimeLowerBound') lower = Math.max(lower, ...filter.values.map(bound));
          else if (filter.name === 'StartTimeUpperBound')
            upper = Math.min(upper, ...filter.values.map(bound));
          else if (filter.name === 'Status') {
            if (name === undefined)
              throw validation('The Status filter can only be used together with AutoScalingGroupName.');
            statuses = new Set(filter.values);
          } else {
            throw validation(
              `The filter name '${filter.name}' is not valid: use StartTimeLowerBound, StartTimeUpperBound or Status.`,
            );
          }
        }
        const { start, size } = page(input, 100);
        const wanted = new Set(ids);
        const found = account.state.scalingActivities.filter((activity) => {
          if (name !== undefined && activity.autoScalingGroupName !== name) return false;
          if (wanted.size > 0 && !wanted.has(activity.activityId)) return false;
          if (!includeDeleted && groupStateOf(activity) === 'Deleted') return false;
          const startMs = activity.startTime.getTime();
          if (startMs < lower || startMs > upper) return false;
          return statuses === undefined || statuses.has(activity.statusCode);
        });
        // "Activities are sorted by start time. Activities still in progress are described first." (API):
        // in progress first, then newest first.
        const ordered = found
          .map((activity, index) => ({ activity, index }))
          .sort(
            (a, b) =>
              Number(a.activity.endTime !== undefined) - Number(b.activity.endTime !== undefined) ||
              b.activity.startTime.getTime() - a.activity.startTime.getTime() ||
              b.index - a.index,
          )
          .map(({ activity }) => activity);
        return {
          Activities: ordered.slice(start, start + size).map(describeActivity),
          NextToken: start + size < ordered.length ? String(start + size) : undefined,
        };
      },

      AttachLoadBalancerTargetGroups: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const arns = readTargetGroupArns(input, true);
        const added = arns.filter((arn) => !group.targetGroupARNs.includes(arn));
        group.targetGroupARNs.push(...added);
        lifecycle.registerWith(group, added);
        return {};
      },

      DetachLoadBalancerTargetGroups: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const arns = input.strings('TargetGroupARNs');
        if (arns.length === 0) throw notNull('targetGroupARNs');
        const removed = group.targetGroupARNs.filter((arn) => arns.includes(arn));
        group.targetGroupARNs = group.targetGroupARNs.filter((arn) => !arns.includes(arn));
        lifecycle.deregisterFrom(group, removed);
        return {};
      },

      DescribeLoadBalancerTargetGroups: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const { start, size } = page(input, 100);
        const states = group.targetGroupARNs.map((arn) => ({
          LoadBalancerTargetGroupARN: arn,
          State: targetGroupAttachmentState(account, group, arn),
        }));
        return {
          LoadBalancerTargetGroups: states.slice(start, start + size),
          NextToken: start + size < states.length ? String(start + size) : undefined,
        };
      },

      DeleteAutoScalingGroup: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const force = input.optBoolean('ForceDelete') ?? false;
        const name = group.autoScalingGroupName;
        if (!force && refreshes.activeRefresh(name)) {
          throw new AwsApiError(
            'ScalingActivityInProgress',
            `An instance refresh is in progress on ${name}.`,
          );
        }
        if (!force && lifecycle.instances(group).length > 0) {
          throw new AwsApiError(
            'ResourceInUse',
            'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.',
          );
        }
        refreshes.abandon(name);
        lifecycle.terminateAll(group);
        groups.delete(name);
        propagated.delete(name);
        return undefined;
      },

      DescribeAutoScalingInstances: (input) => {
        const ids = input.strings('InstanceIds');
        const { start, size } = page(input);
        const found: Instance[] =
          ids.length > 0
            ? ids.flatMap((id) => {
                const instance = account.state.instances.get(id);
                return instance?.autoScalingGroupName && instance.lifecycleState !== 'Terminated'
                  ? [instance]
                  : [];
              })
            : [...groups.values()].flatMap((group) => lifecycle.instances(group));
        return {
          AutoScalingInstances: found.slice(start, start + size).map((instance) => ({
            ...describeInstance(instance),
            AutoScalingGroupName: instance.autoScalingGroupName,
          })),
          NextToken: start + size < found.length ? String(start + size) : undefined,
        };
      },

      StartInstanceRefresh: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const strategy = input.optString('Strategy') ?? 'Rolling';
        if (strategy !== 'Rolling' && strategy !== 'ReplaceRootVolume') {
          throw validation(
            `1 validation error detected: Value '${strategy}' at 'strategy' failed to satisfy constraint: ` +
              'Member must satisfy enum value set: [Rolling, ReplaceRootVolume]',
          );
        }
        if (strategy === 'ReplaceRootVolume') {
          // AWS needs a mixed instances policy with ImageId overrides for it; the local account models none.
          throw validation(
            'The ReplaceRootVolume strategy requires a desired configuration with a MixedInstancesPolicy whose ' +
              'overrides specify an ImageId. The local account supports launch templates only: use Rolling.',
          );
        }
        const desiredInput = input.optObject('DesiredConfiguration');
        if (desiredInput?.has('MixedInstancesPolicy')) {
          throw validation(
            'The local account does not support a MixedInstancesPolicy: give a LaunchTemplate.',
          );
        }
        const desiredTemplateInput = desiredInput?.optObject('LaunchTemplate');
        if (desiredInput && !desiredTemplateInput) {
          throw validation('The DesiredConfiguration must contain a LaunchTemplate.');
        }
        const desired = desiredTemplateInput ? readLaunchTemplate(desiredTemplateInput) : undefined;
        const preferences = readPreferences(input.optObject('Preferences'));
        if (preferences.autoRollback) checkAutoRollback(account, group, desired);
        const unknownAlarms = missingAlarms(account, preferences.alarms ?? []);
        if (unknownAlarms.length > 0) {
          // AWS's wording for this is not published; the code is the generic one StartInstanceRefresh answers.
          throw validation(
            `The following CloudWatch alarms in AlarmSpecification do not exist: ${unknownAlarms.join(', ')}. ` +
              'Create them first (PutMetricAlarm), or remove them from AlarmSpecification.Alarms.',
          );
        }
        const name = group.autoScalingGroupName;
        const active = refreshes.activeRefresh(name);
        if (active && ACTIVE_STATUSES.has(active.status)) {
          throw new AwsApiError(
            'InstanceRefreshInProgress',
            'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.',
          );
        }
        const target: ResolvedLaunchTemplate = resolveLaunchTemplate(
          account,
          desired ?? group.launchTemplate,
        );
        const refresh: InstanceRefresh = {
          instanceRefreshId: account.ids.uuid('instanceRefresh'),
          autoScalingGroupName: name,
          strategy,
          status: 'Pending',
          startTime: account.now(),
          percentageComplete: 0,
          instancesToUpdate: 0,
          preferences,
          ...(desired ? { desiredConfiguration: { launchTemplate: desired } } : {}),
          previousConfiguration: previousConfigurationOf(group),
        };
        const history = account.state.instanceRefreshes.get(name) ?? [];
        history.push(refresh);
        account.state.instanceRefreshes.set(name, history);
        refreshes.start({ group, refresh, target });
        return { InstanceRefreshId: refresh.instanceRefreshId };
      },

      DescribeInstanceRefreshes: (input) => {
        // Unlike the mutating calls, an unknown group is not an error here: its history is simply empty.
        const name = input.string('AutoScalingGroupName');
        const ids = new Set(input.strings('InstanceRefreshIds'));
        const { start, size } = page(input);
        const history = [...(account.state.instanceRefreshes.get(name) ?? [])]
          .reverse()
          .filter((refresh) => ids.size === 0 || ids.has(refresh.instanceRefreshId));
        return {
          InstanceRefreshes: history.slice(start, start + size).map(describeRefresh),
          NextToken: start + size < history.length ? String(start + size) : undefined,
        };
      },

      CancelInstanceRefresh: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const active = refreshes.activeRefresh(group.autoScalingGroupName);
        if (!active || !CANCELLABLE_STATUSES.has(active.status))
          throw noActiveRefresh(group.autoScalingGroupName);
        refreshes.cancel(group.autoScalingGroupName);
        return { InstanceRefreshId: active.instanceRefreshId };
      },

      RollbackInstanceRefresh: (input) => {
        const group = getGroup(input.string('AutoScalingGroupName'));
        const active = refreshes.activeRefresh(group.autoScalingGroupName);
        if (!active || !ROLLBACK_STATUSES.has(active.status))
          throw noActiveRefresh(group.autoScalingGroupName);
        const irreversible = (why: string) =>
          new AwsApiError(
            'IrreversibleInstanceRefresh',
            `The instance refresh ${active.instanceRefreshId} cannot be rolled back: ${why}`,
          );
        if (!active.desiredConfiguration)
          throw irreversible('it was started without a desired configuration.');
        const previousVersion = active.previousConfiguration.launchTemplate.version;
        if (!isNumberedVersion(previousVersion)) {
          throw irreversible(
            `the group's previous launch template version is ${previousVersion}; a rollback needs a numbered version.`,
          );
        }
        const previousImage = imageIdOf(account, active.previousConfiguration.launchTemplate);
        if (previousImage?.startsWith('resolve:ssm:')) {
          throw irreversible(
            `the group's launch template takes its ImageId from a Systems Manager parameter (${previousImage}).`,
          );
        }
        refreshes.rollback(
          group.autoScalingGroupName,
          'Rollback started by user request (RollbackInstanceRefresh).',
        );
        return { InstanceRefreshId: active.instanceRefreshId };
      },
    },
  };

  /** InService while the group the activity belongs to exists, Deleted once it is gone (by ARN, not by name). */
  function groupStateOf(activity: ScalingActivity): 'InService' | 'Deleted' {
    return groups.get(activity.autoScalingGroupName)?.autoScalingGroupARN === activity.autoScalingGroupARN
      ? 'InService'
      : 'Deleted';
  }

  function describeActivity(activity: ScalingActivity): Record<string, unknown> {
    return {
      ActivityId: activity.activityId,
      AutoScalingGroupName: activity.autoScalingGroupName,
      Description: activity.description,
      Cause: activity.cause,
      StartTime: activity.startTime,
      EndTime: activity.endTime,
      StatusCode: activity.statusCode,
      StatusMessage: activity.statusMessage,
      Progress: activity.progress,
      Details: activity.details ?? '{}',
      AutoScalingGroupState: groupStateOf(activity),
      AutoScalingGroupARN: activity.autoScalingGroupARN,
    };
  }

  function describeGroup(group: AutoScalingGroup): Record<string, unknown> {
    const propagating = propagated.get(group.autoScalingGroupName) ?? new Set<string>();
    return {
      AutoScalingGroupName: group.autoScalingGroupName,
      AutoScalingGroupARN: group.autoScalingGroupARN,
      LaunchTemplate: describeTemplateSpec(group.launchTemplate),
      MinSize: group.minSize,
      MaxSize: group.maxSize,
      DesiredCapacity: group.desiredCapacity,
      DefaultCooldown: DEFAULT_COOLDOWN_SECONDS,
      AvailabilityZones: group.availabilityZones,
      LoadBalancerNames: [],
      TargetGroupARNs: group.targetGroupARNs,
      HealthCheckType: group.healthCheckType,
      HealthCheckGracePeriod: group.healthCheckGracePeriod,
      Instances: lifecycle.instances(group).map(describeInstance),
      CreatedTime: group.createdTime,
      SuspendedProcesses: [],
      VPCZoneIdentifier: group.vpcZoneIdentifier,
      EnabledMetrics: [],
      Tags: [...group.tags].map(([key, value]) => ({
        ResourceId: group.autoScalingGroupName,
        ResourceType: 'auto-scaling-group',
        Key: key,
        Value: value,
        PropagateAtLaunch: propagating.has(key),
      })),
      TerminationPolicies: ['Default'],
      NewInstancesProtectedFromScaleIn: group.newInstancesProtectedFromScaleIn ?? false,
      ServiceLinkedRoleARN: `arn:aws:iam::${account.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      CapacityRebalance: false,
      DefaultInstanceWarmup: group.defaultInstanceWarmup,
    };
  }
}

/**
 * An instance as Auto Scaling shows it. No ImageId: AWS fills that member only for root-volume replacements and
 * AMI overrides; for launch-template instances the image is what EC2 DescribeInstances shows.
 */
function describeInstance(instance: Instance): Record<string, unknown> {
  return {
    InstanceId: instance.instanceId,
    InstanceType: instance.instanceType,
    AvailabilityZone: instance.availabilityZone,
    LifecycleState: instance.lifecycleState,
    HealthStatus: instance.healthStatus,
    LaunchTemplate: instance.launchTemplate ? describeTemplateSpec(instance.launchTemplate) : undefined,
    ProtectedFromScaleIn: instance.protectedFromScaleIn ?? false,
  };
}

function describeTemplateSpec(spec: LaunchTemplateSpec): Record<string, unknown> {
  return {
    LaunchTemplateId: spec.launchTemplateId,
    LaunchTemplateName: spec.launchTemplateName,
    Version: spec.version,
  };
}

function describeRefresh(refresh: InstanceRefresh): Record<string, unknown> {
  const p = refresh.preferences;
  const rollback = refresh.rollbackDetails;
  return {
    InstanceRefreshId: refresh.instanceRefreshId,
    AutoScalingGroupName: refresh.autoScalingGroupName,
    Status: refresh.status,
    StatusReason: refresh.statusReason,
    StartTime: refresh.startTime,
    EndTime: refresh.endTime,
    PercentageComplete: refresh.percentageComplete,
    InstancesToUpdate: refresh.instancesToUpdate,
    ProgressDetails: {
      LivePoolProgress: {
        PercentageComplete: refresh.percentageComplete,
        InstancesToUpdate: refresh.instancesToUpdate,
      },
    },
    Preferences: {
      MinHealthyPercentage: p.minHealthyPercentage,
      InstanceWarmup: p.instanceWarmup,
      CheckpointPercentages: p.checkpointPercentages,
      CheckpointDelay: p.checkpointDelay,
      SkipMatching: p.skipMatching,
      AutoRollback: p.autoRollback,
      ScaleInProtectedInstances: p.scaleInProtectedInstances,
      StandbyInstances: p.standbyInstances,
      AlarmSpecification: p.alarms ? { Alarms: p.alarms } : undefined,
      MaxHealthyPercentage: p.maxHealthyPercentage,
      BakeTime: p.bakeTime,
    },
    DesiredConfiguration: refresh.desiredConfiguration
      ? { LaunchTemplate: describeTemplateSpec(refresh.desiredConfiguration.launchTemplate) }
      : undefined,
    RollbackDetails: rollback
      ? {
          RollbackReason: rollback.rollbackReason,
          RollbackStartTime: rollback.rollbackStartTime,
          PercentageCompleteOnRollback: rollback.percentageCompleteOnRollback,
          InstancesToUpdateOnRollback: rollback.instancesToUpdateOnRollback,
          ProgressDetailsOnRollback: {
            LivePoolProgress: {
              PercentageComplete: rollback.percentageCompleteOnRollback,
              InstancesToUpdate: rollback.instancesToUpdateOnRollback,
            },
          },
        }
      : undefined,
    Strategy: refresh.strategy,
  };
}

/** DefaultCooldown: the local account does not take it from the request; 300 s is AWS's default (API). */
const DEFAULT_COOLDOWN_SECONDS = 300;

const noActiveRefresh = (group: string): AwsApiError =>
  new AwsApiError(
    'ActiveInstanceRefreshNotFound',
    `No in progress or pending Instance Refresh found for Auto Scaling group ${group}`,
  );

/** MaxRecords (1-100, default 50 unless the operation says otherwise) and NextToken (an offset, as this account issues them). */
function page(input: Input, defaultSize = 50): { start: number; size: number } {
  const size = input.optInt('MaxRecords', 1, 100) ?? defaultSize;
  const token = input.optString('NextToken');
  const start = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0)
    throw new AwsApiError('InvalidNextToken', 'The token is not valid.');
  return { start, size };
}

function matchesFilter(group: AutoScalingGroup, name: string, values: readonly string[]): boolean {
  if (name === 'tag-key') return values.some((v) => group.tags.has(v));
  if (name === 'tag-value') return [...group.tags.values()].some((v) => values.includes(v));
  if (name.startsWith('tag:')) {
    const value = group.tags.get(name.slice(4));
    return value !== undefined && values.includes(value);
  }
  throw validation(`The filter name '${name}' is not valid: use tag-key, tag-value or tag:<key>.`);
}

/** RefreshPreferences, validated as AWS does, with the CLI/SDK defaults filled in. */
function readPreferences(p: Input | undefined): RefreshPreferences {
  const min = p?.optInt('MinHealthyPercentage', 0, 100);
  const max = p?.optInt('MaxHealthyPercentage', 100, 200);
  if (max !== undefined && min === undefined) {
    throw validation('MaxHealthyPercentage requires MinHealthyPercentage: specify both.');
  }
  const minHealthyPercentage = min ?? 90;
  if (max !== undefined && max - minHealthyPercentage > 100) {
    throw validation(
      `The difference between MaxHealthyPercentage (${max}) and MinHealthyPercentage (${minHealthyPercentage}) cannot be greater than 100.`,
    );
  }
  const checkpoints = p?.numbers('CheckpointPercentages') ?? [];
  checkpoints.forEach((percentage, i) => {
    if (!Number.isInteger(percentage) || percentage < 1 || percentage > 100) {
      throw validation(`CheckpointPercentages must be whole numbers from 1 to 100; ${percentage} is not.`);
    }
    if (i > 0 && percentage <= checkpoints[i - 1]!) {
      throw validation(
        `CheckpointPercentages must be unique and in ascending order: [${checkpoints.join(', ')}].`,
      );
    }
  });
  const checkpointDelay = p?.optInt('CheckpointDelay', 0, 172800);
  if (checkpointDelay !== undefined && checkpoints.length === 0) {
    throw validation('CheckpointDelay requires CheckpointPercentages: specify both.');
  }
  const scaleIn = p?.optString('ScaleInProtectedInstances') ?? 'Wait';
  if (scaleIn !== 'Refresh' && scaleIn !== 'Ignore' && scaleIn !== 'Wait') {
    throw validation(`ScaleInProtectedInstances must be Refresh, Ignore or Wait, not '${scaleIn}'.`);
  }
  const standby = p?.optString('StandbyInstances') ?? 'Wait';
  if (standby !== 'Terminate' && standby !== 'Ignore' && standby !== 'Wait') {
    throw validation(`StandbyInstances must be Terminate, Ignore or Wait, not '${standby}'.`);
  }
  const alarmInput = p?.optObject('AlarmSpecification');
  const alarms = alarmInput?.strings('Alarms');
  if (alarms && alarms.length > 10)
    throw validation(`AlarmSpecification allows at most 10 alarms, not ${alarms.length}.`);
  const instanceWarmup = p?.optInt('InstanceWarmup', 0);
  const bakeTime = p?.optInt('BakeTime', 0, 172800);
  return {
    minHealthyPercentage,
    ...(max !== undefined ? { maxHealthyPercentage: max } : {}),
    ...(instanceWarmup !== undefined ? { instanceWarmup } : {}),
    ...(checkpoints.length > 0
      ? { checkpointPercentages: checkpoints, checkpointDelay: checkpointDelay ?? 3600 }
      : {}),
    skipMatching: p?.optBoolean('SkipMatching') ?? false,
    autoRollback: p?.optBoolean('AutoRollback') ?? false,
    scaleInProtectedInstances: scaleIn,
    standbyInstances: standby,
    ...(alarms ? { alarms } : {}),
    ...(bakeTime !== undefined ? { bakeTime } : {}),
  };
}

/**
 * AutoRollback needs something to roll back between. AWS refuses it (ValidationError) when:
 * - there is no DesiredConfiguration;
 * - the group uses its launch template's `$Latest` or `$Default` version, whatever the desired configuration says
 *   (a numbered desired version on a `$Default` group is refused too: the rollback target is the group's own
 *   configuration, and it must be a numbered version);
 * - the group's launch template version takes its ImageId from Parameter Store (`resolve:ssm:...`).
 * Source: "Undo changes with a manual or auto rollback", Considerations
 * (docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html), and RefreshPreferences.AutoRollback
 * in the API reference ("A rollback is not supported ... The Auto Scaling group uses the launch template's $Latest
 * or $Default version"). The empty-DesiredConfiguration message is AWS's verbatim
 * (github.com/hashicorp/terraform-provider-aws/issues/29830); the other messages follow its wording, as AWS's
 * exact text for them was not found in public material.
 * A `$Latest` or `$Default` desired configuration is accepted: the API reference restricts the group's version
 * only, and botocore's own StartInstanceRefresh example sends AutoRollback with a desired version of `$Latest`.
 * What a rollback returns to is the group's previous, numbered version.
 */
function checkAutoRollback(
  account: LocalAccount,
  group: AutoScalingGroup,
  desired: LaunchTemplateSpec | undefined,
): void {
  if (!desired) {
    throw validation(
      "The request isn't valid. The AutoRollback parameter cannot be set to true when the DesiredConfiguration " +
        'parameter is empty. Set AutoRollback to false or specify a desired configuration and try again.',
    );
  }
  const current = group.launchTemplate;
  if (!isNumberedVersion(current.version)) {
    throw validation(
      "The request isn't valid. The AutoRollback parameter cannot be set to true when the Auto Scaling group " +
        `uses the launch template version ${current.version}. Set AutoRollback to false or update the group to a ` +
        'launch template version number and try again.',
    );
  }
  const imageId = imageIdOf(account, current);
  if (imageId?.startsWith('resolve:ssm:')) {
    throw validation(
      "The request isn't valid. The AutoRollback parameter cannot be set to true when the Auto Scaling group's " +
        `launch template uses a Systems Manager parameter (${imageId}) for its ImageId. Set AutoRollback to false ` +
        'or use a launch template version with an AMI ID and try again.',
    );
  }
}

/** The ImageId a numbered launch template version holds, as written (an AMI id or `resolve:ssm:...`). */
function imageIdOf(account: LocalAccount, spec: LaunchTemplateSpec): string | undefined {
  if (!isNumberedVersion(spec.version)) return undefined;
  return account.state.launchTemplates.get(spec.launchTemplateId)?.versions.get(Number(spec.version))?.data
    .ImageId;
}

/**
 * HealthCheckType: a comma-separated list of EC2, EBS, ELB and VPC_LATTICE (EC2 always applies). The local account
 * models EC2 and ELB; EBS and VPC_LATTICE are refused rather than silently not checked.
 */
function readHealthCheckType(value: string | undefined): HealthCheckType | undefined {
  if (value === undefined) return undefined;
  const types = value.split(',').map((t) => t.trim());
  const unknown = types.filter((t) => !['EC2', 'ELB', 'EBS', 'VPC_LATTICE'].includes(t));
  if (value.length > 32 || unknown.length > 0 || types.length === 0) {
    throw validation(
      `Value '${value}' at 'healthCheckType' failed to satisfy constraint: Member must be a comma-separated list of ` +
        'EC2, EBS, ELB and VPC_LATTICE, at most 32 characters.',
    );
  }
  const unmodelled = types.filter((t) => t === 'EBS' || t === 'VPC_LATTICE');
  if (unmodelled.length > 0) {
    throw validation(
      `The local account models the EC2 and ELB health check types only, not ${unmodelled.join(', ')}: use EC2 or ELB.`,
    );
  }
  return types.includes('ELB') ? 'ELB' : 'EC2';
}

/**
 * DescribeLoadBalancerTargetGroups' State: Adding while some InService instance is not yet registered, Added once
 * all are, InService once at least one of them passes the target group's ELB health check. (Removing/Removed are
 * not shown: the group drops a detached ARN at once and its instances drain.)
 */
function targetGroupAttachmentState(account: LocalAccount, group: AutoScalingGroup, arn: string): string {
  const targetGroup = account.state.targetGroups.get(arn);
  if (!targetGroup) return 'Removed';
  let allRegistered = true;
  for (const id of group.instanceIds) {
    const instance = account.state.instances.get(id);
    if (instance?.lifecycleState !== 'InService') continue;
    const target = targetGroup.targets.get(id);
    if (target?.state === 'healthy') return 'InService';
    if (!target) allRegistered = false;
  }
  return allRegistered ? 'Added' : 'Adding';
}
