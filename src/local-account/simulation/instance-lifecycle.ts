import type { LocalAccount } from '../account.ts';
import type { AutoScalingGroup, Instance } from '../state.ts';
import { resolveLaunchTemplate, type ResolvedLaunchTemplate } from './launch-templates.ts';
import { SIMULATION_TIMING } from './timing.ts';

/** Hooks for whoever launched an instance (the refresh engine) to follow it through its life. */
export interface LaunchObserver {
  onInService?(instance: Instance): void;
  /**
   * The instance's first health check, when the group's health check grace period ends. Return true when the
   * observer deals with an unhealthy instance itself; otherwise the group replaces it.
   */
  onHealthChecked?(instance: Instance, healthy: boolean): boolean;
}

export interface LaunchRequest {
  readonly template: ResolvedLaunchTemplate;
  /** Default: the group's zone with the fewest instances. */
  readonly availabilityZone?: string;
  readonly observer?: LaunchObserver;
  /** Default: whether an `unhealthyInstances` fault covers the image in this group. */
  readonly failsHealthCheck?: boolean;
  /** The instance never leaves Pending (a `stallRefresh` fault). Default false. */
  readonly stalls?: boolean;
}

const isLive = (instance: Instance): boolean =>
  instance.lifecycleState === 'Pending' || instance.lifecycleState === 'InService';

/**
 * The instances of Auto Scaling groups: launching (Pending -> InService), health checks, termination
 * (Terminating -> Terminated), and keeping a group at its desired capacity. Everything later than "now" is
 * scheduled on the account's virtual clock.
 */
export class InstanceLifecycle {
  constructor(private readonly account: LocalAccount) {}

  /** The group's instances that are not yet terminated (including Terminating ones), in launch order. */
  instances(group: AutoScalingGroup): Instance[] {
    const found: Instance[] = [];
    for (const id of group.instanceIds) {
      const instance = this.account.state.instances.get(id);
      if (instance && instance.lifecycleState !== 'Terminated') found.push(instance);
    }
    return found;
  }

  /** Pending and InService instances: what counts towards the group's capacity. */
  liveInstances(group: AutoScalingGroup): Instance[] {
    return this.instances(group).filter(isLive);
  }

  launch(group: AutoScalingGroup, request: LaunchRequest): Instance {
    const { template } = request;
    const groupName = group.autoScalingGroupName;
    const instance: Instance = {
      instanceId: this.account.ids.resource('i'),
      imageId: template.imageId,
      instanceType: template.instanceType,
      availabilityZone: request.availabilityZone ?? this.zoneForLaunch(group),
      launchTime: this.account.now(),
      launchTemplate: {
        launchTemplateId: template.launchTemplateId,
        launchTemplateName: template.launchTemplateName,
        version: String(template.versionNumber),
      },
      autoScalingGroupName: groupName,
      lifecycleState: 'Pending',
      healthStatus: 'Healthy',
      ec2State: 'pending',
    };
    this.account.state.instances.set(instance.instanceId, instance);
    group.instanceIds.push(instance.instanceId);
    if (request.stalls) return instance;
    const failsHealthCheck =
      request.failsHealthCheck ?? this.account.faults.instancesUnhealthy(groupName, template.imageId);
    this.account.clock.schedule(SIMULATION_TIMING.instanceLaunchSeconds, () => {
      if (instance.lifecycleState !== 'Pending') return;
      instance.lifecycleState = 'InService';
      instance.ec2State = 'running';
      request.observer?.onInService?.(instance);
      // Auto Scaling acts on health checks only once the grace period has passed.
      this.account.clock.schedule(group.healthCheckGracePeriod, () =>
        this.healthCheck(group, instance, !failsHealthCheck, request.observer),
      );
    });
    return instance;
  }

  terminate(instance: Instance): void {
    if (!isLive(instance)) return;
    instance.lifecycleState = 'Terminating';
    instance.ec2State = 'shutting-down';
    this.account.clock.schedule(SIMULATION_TIMING.instanceTerminateSeconds, () => {
      instance.lifecycleState = 'Terminated';
      instance.ec2State = 'terminated';
      const group = instance.autoScalingGroupName
        ? this.account.state.autoScalingGroups.get(instance.autoScalingGroupName)
        : undefined;
      if (group) group.instanceIds = group.instanceIds.filter((id) => id !== instance.instanceId);
    });
  }

  /**
   * Launches or terminates instances until the group holds its desired capacity. Scale-in follows the default
   * termination policy, simplified: unhealthy instances first, then the zone with the most instances, then
   * the oldest instance.
   */
  reconcileCapacity(group: AutoScalingGroup): void {
    const live = this.liveInstances(group);
    const missing = group.desiredCapacity - live.length;
    if (missing > 0) {
      const template = this.tryResolve(group);
      if (!template) return;
      for (let i = 0; i < missing; i++) this.launch(group, { template });
    } else if (missing < 0) {
      for (const instance of this.chooseForScaleIn(live, -missing)) this.terminate(instance);
    }
  }

  /** Terminates every instance of the group (a forced delete). */
  terminateAll(group: AutoScalingGroup): void {
    for (const instance of this.liveInstances(group)) this.terminate(instance);
  }

  private healthCheck(
    group: AutoScalingGroup,
    instance: Instance,
    healthy: boolean,
    observer: LaunchObserver | undefined,
  ): void {
    if (instance.lifecycleState !== 'InService') return;
    if (!healthy) instance.healthStatus = 'Unhealthy';
    const handled = observer?.onHealthChecked?.(instance, healthy) ?? false;
    if (!healthy && !handled) this.replaceUnhealthy(group, instance);
  }

  /**
   * Replaces an unhealthy instance from the group's own launch template. AWS would keep replacing instances
   * that keep failing; the emulator stops when the group's image is itself marked unhealthy, so that virtual
   * time can settle (`runUntilIdle`) and the unhealthy instances stay visible.
   */
  private replaceUnhealthy(group: AutoScalingGroup, instance: Instance): void {
    if (this.account.state.autoScalingGroups.get(group.autoScalingGroupName) !== group) return;
    const template = this.tryResolve(group);
    if (!template || this.account.faults.instancesUnhealthy(group.autoScalingGroupName, template.imageId))
      return;
    this.terminate(instance);
    this.launch(group, { template, availabilityZone: instance.availabilityZone });
  }

  private tryResolve(group: AutoScalingGroup): ResolvedLaunchTemplate | undefined {
    try {
      return resolveLaunchTemplate(this.account, group.launchTemplate);
    } catch {
      // The template or its image went away: AWS would record a failed scaling activity and launch nothing.
      return undefined;
    }
  }

  /** The group's zone with the fewest live instances (ties: the first listed), as AWS balances zones. */
  zoneForLaunch(group: AutoScalingGroup): string {
    const counts = this.zoneCounts(group, this.liveInstances(group));
    let best = group.availabilityZones[0] ?? `${this.account.region}a`;
    for (const zone of group.availabilityZones)
      if ((counts.get(zone) ?? 0) < (counts.get(best) ?? 0)) best = zone;
    return best;
  }

  private zoneCounts(group: AutoScalingGroup, live: readonly Instance[]): Map<string, number> {
    const counts = new Map<string, number>(group.availabilityZones.map((zone) => [zone, 0]));
    for (const instance of live)
      counts.set(instance.availabilityZone, (counts.get(instance.availabilityZone) ?? 0) + 1);
    return counts;
  }

  private chooseForScaleIn(live: readonly Instance[], count: number): Instance[] {
    const candidates = [...live];
    const chosen: Instance[] = [];
    while (chosen.length < count && candidates.length > 0) {
      const zoneCounts = new Map<string, number>();
      for (const c of candidates)
        zoneCounts.set(c.availabilityZone, (zoneCounts.get(c.availabilityZone) ?? 0) + 1);
      candidates.sort(
        (a, b) =>
          Number(b.healthStatus === 'Unhealthy') - Number(a.healthStatus === 'Unhealthy') ||
          (zoneCounts.get(b.availabilityZone) ?? 0) - (zoneCounts.get(a.availabilityZone) ?? 0) ||
          a.launchTime.getTime() - b.launchTime.getTime(),
      );
      chosen.push(candidates.shift()!);
    }
    return chosen;
  }
}
