/**
 * Elastic Load Balancing target health, in virtual time: targets registered with a target group go through
 * `initial` -> `healthy` | `unhealthy` as the load balancer's health checks pass or fail, and through `draining`
 * when they are deregistered.
 *
 * Sources: the ELBv2 API reference (TargetHealth: states and reason codes; CreateTargetGroup: health check
 * interval, healthy and unhealthy threshold defaults; TargetGroupAttribute: deregistration_delay.timeout_seconds,
 * default 300) and the user guide page "Health checks for Application Load Balancer target groups" (a target is
 * healthy after HealthyThresholdCount consecutive successes, unhealthy after UnhealthyThresholdCount consecutive
 * failures; a target group no load balancer uses has its targets `unused`, Target.NotInUse).
 *
 * Nothing polls: a target's next change of state is computed from its health checks' outcome and scheduled once.
 * What a health check answers comes from the account's faults: an image that does not boot times out, an image
 * whose application is broken answers HTTP 500.
 */
import type { LocalAccount } from '../account.ts';
import type { Instance, Target, TargetGroup } from '../state.ts';

/** Seconds a deregistered target drains before it is removed, unless the target group says otherwise. */
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;

/** What the target's health checks get back right now. */
type CheckOutcome =
  | { readonly passes: true }
  | { readonly passes: false; readonly reason: string; readonly description: string };

/** Called whenever a target's state changes (Auto Scaling's ELB health check listens). */
export type TargetHealthListener = (instanceId: string, targetGroup: TargetGroup) => void;

export class LoadBalancing {
  private readonly listeners: TargetHealthListener[] = [];

  constructor(private readonly account: LocalAccount) {
    // A fault added or cleared changes what health checks answer from the next check on.
    account.faults.onChange(() => {
      for (const group of account.state.targetGroups.values())
        for (const target of group.targets.values()) this.plan(group, target);
    });
  }

  onTargetHealthChange(listener: TargetHealthListener): void {
    this.listeners.push(listener);
  }

  /** Is the target group used by a load balancer (the default action of one of its listeners)? */
  inUse(group: TargetGroup): boolean {
    for (const listener of this.account.state.listeners.values())
      if (listener.targetGroupArn === group.targetGroupArn) return true;
    return false;
  }

  register(group: TargetGroup, instanceId: string, port = group.port): void {
    const existing = group.targets.get(instanceId);
    // Registering a target that is already registered (and not draining) changes nothing, as on AWS.
    if (existing && existing.state !== 'draining') return;
    const target: Target = {
      instanceId,
      port,
      registeredAt: this.account.now(),
      state: 'initial',
      epoch: 0,
    };
    group.targets.set(instanceId, target);
    this.plan(group, target);
  }

  /** Starts draining the target; it is gone after the group's deregistration delay. Returns that delay. */
  deregister(group: TargetGroup, instanceId: string): number {
    const target = group.targets.get(instanceId);
    if (!target) return 0;
    if (target.state === 'draining') return 0;
    const delay = deregistrationDelay(group);
    target.epoch++;
    this.setState(
      group,
      target,
      'draining',
      'Target.DeregistrationInProgress',
      'Target deregistration is in progress',
    );
    const epoch = target.epoch;
    this.account.clock.schedule(delay, () => {
      if (target.epoch === epoch && group.targets.get(instanceId) === target)
        group.targets.delete(instanceId);
    });
    return delay;
  }

  /** A target group's listener was added or removed: its targets start or stop being health checked. */
  usageChanged(group: TargetGroup): void {
    for (const target of group.targets.values()) this.plan(group, target);
  }

  /** The state and reason DescribeTargetHealth shows for a registered target, as of now. */
  describe(group: TargetGroup, target: Target): { state: string; reason?: string; description?: string } {
    if (target.state === 'initial') {
      // The first health check goes out one interval after registration.
      const sinceRegistration = (this.account.now().getTime() - target.registeredAt.getTime()) / 1000;
      return sinceRegistration < group.healthCheckIntervalSeconds
        ? {
            state: 'initial',
            reason: 'Elb.RegistrationInProgress',
            description: 'Target registration is in progress',
          }
        : {
            state: 'initial',
            reason: 'Elb.InitialHealthChecking',
            description: 'Initial health checks in progress',
          };
    }
    return {
      state: target.state,
      ...(target.reason ? { reason: target.reason } : {}),
      ...(target.description ? { description: target.description } : {}),
    };
  }

  /**
   * Schedules the target's next change of state from what its health checks answer now: after
   * HealthyThresholdCount passing checks it is healthy, after UnhealthyThresholdCount failing ones unhealthy.
   */
  private plan(group: TargetGroup, target: Target): void {
    if (target.state === 'draining') return;
    target.epoch++;
    const instance = this.account.state.instances.get(target.instanceId);
    if (!instance || (instance.ec2State !== 'running' && instance.ec2State !== 'pending')) {
      this.setState(
        group,
        target,
        'unused',
        'Target.InvalidState',
        `Target is in the ${instance?.ec2State === 'terminated' ? 'terminated' : 'stopped'} state`,
      );
      return;
    }
    if (!this.inUse(group)) {
      this.setState(
        group,
        target,
        'unused',
        'Target.NotInUse',
        'Target group is not configured to receive traffic from the load balancer',
      );
      return;
    }
    if (target.state === 'unused') {
      target.state = 'initial';
      target.reason = undefined;
      target.description = undefined;
    }
    const outcome = this.checkOutcome(instance);
    const interval = group.healthCheckIntervalSeconds;
    let delay: number | undefined;
    if (outcome.passes && target.state !== 'healthy') delay = group.healthyThresholdCount * interval;
    if (!outcome.passes && target.state !== 'unhealthy') delay = group.unhealthyThresholdCount * interval;
    if (delay === undefined) return;
    const epoch = target.epoch;
    this.account.clock.schedule(delay, () => {
      if (target.epoch !== epoch || group.targets.get(target.instanceId) !== target) return;
      if (outcome.passes) this.setState(group, target, 'healthy');
      else this.setState(group, target, 'unhealthy', outcome.reason, outcome.description);
    });
  }

  private checkOutcome(instance: Instance): CheckOutcome {
    const group = instance.autoScalingGroupName ?? '';
    if (instance.ec2State === 'pending' || this.account.faults.instancesUnhealthy(group, instance.imageId))
      return { passes: false, reason: 'Target.Timeout', description: 'Request timed out' };
    if (this.account.faults.applicationFails(group, instance.imageId)) {
      return {
        passes: false,
        reason: 'Target.ResponseCodeMismatch',
        description: 'Health checks failed with these codes: [500]',
      };
    }
    return { passes: true };
  }

  private setState(
    group: TargetGroup,
    target: Target,
    state: Target['state'],
    reason?: string,
    description?: string,
  ): void {
    const changed = target.state !== state || target.reason !== reason;
    target.state = state;
    target.reason = reason;
    target.description = description;
    if (changed) for (const listener of this.listeners) listener(target.instanceId, group);
  }
}

export function deregistrationDelay(group: TargetGroup): number {
  const value = Number(group.attributes.get('deregistration_delay.timeout_seconds'));
  return Number.isInteger(value) && value >= 0 ? value : DEFAULT_DEREGISTRATION_DELAY_SECONDS;
}

/** The LoadBalancing simulation of `account`, shared by the ELBv2 API and Auto Scaling. */
const registry = new WeakMap<LocalAccount, LoadBalancing>();

export function loadBalancingOf(account: LocalAccount): LoadBalancing {
  let simulation = registry.get(account);
  if (!simulation) {
    simulation = new LoadBalancing(account);
    registry.set(account, simulation);
  }
  return simulation;
}
