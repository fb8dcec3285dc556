import type { LocalAccount } from '../account.ts';
import type { LaunchFailureReason } from '../faults.ts';
import type { AutoScalingGroup, Instance, ScalingActivity } from '../state.ts';
import { chooseForScaleIn, ScalingActivityLog, zoneDetails } from './capacity.ts';
import {
  imageLaunchProblem,
  resolveLaunchTemplate,
  type ResolvedLaunchTemplate,
} from './launch-templates.ts';
import { loadBalancingOf, type LoadBalancing } from './load-balancing.ts';
import { SIMULATION_TIMING } from './timing.ts';

/** Hooks for whoever launched an instance (the refresh engine) to follow it through its life. */
export interface LaunchObserver {
  onInService?(instance: Instance): void;
  /**
   * Auto Scaling's verdict on the instance's health, once its health check grace period has passed: healthy
   * once it passes the group's health checks (EC2 status checks; under ELB health checks, also its load
   * balancer target health), unhealthy when one fails. A healthy instance can later turn unhealthy (a failing
   * ELB health check). Return true when the observer deals with an unhealthy instance itself; otherwise the
   * group replaces it.
   */
  onHealthChecked?(instance: Instance, healthy: boolean): boolean;
}

export interface LaunchRequest {
  readonly template: ResolvedLaunchTemplate;
  /** Default: the group's zone with the fewest instances. */
  readonly availabilityZone?: string;
  readonly observer?: LaunchObserver;
  /** Default: whether an `unhealthyInstances` fault covers the image in this group (the image does not boot). */
  readonly failsHealthCheck?: boolean;
  /** The instance never leaves Pending (a `stallRefresh` fault). Default false. */
  readonly stalls?: boolean;
  /** Why the instance is launched (a phrase: "an instance was started in response to ..."), for its activity. */
  readonly cause?: string;
  /** Sentences that come before it in the activity's Cause (what changed the desired capacity), if any. */
  readonly causePrefix?: string;
}

/**
 * What the instance refresh engine tells the lifecycle about a group it owns, so capacity changes during a
 * refresh go on beside it as AWS documents: "If a scale-out event occurs during an instance refresh, Amazon EC2
 * Auto Scaling launches new instances with the desired configuration instead of the group's current settings"
 * (UG "Replacing Auto Scaling instances based on an instance refresh", Desired configuration), and scaling
 * activities "run in parallel" (same page, Considerations).
 */
export interface RefreshCapacityView {
  /** What scale-out launches from while a refresh owns the group (the refresh's target); undefined when none does. */
  launchTemplateDuringRefresh(group: AutoScalingGroup): ResolvedLaunchTemplate | undefined;
  /**
   * The refresh's replacements under way: the instances they involve (an old instance and its new one) and how
   * many there are. Each replacement counts as one instance of capacity, and its instances are not the group's
   * to scale in.
   */
  replacementsUnderWay(group: AutoScalingGroup): {
    readonly instanceIds: ReadonlySet<string>;
    readonly count: number;
  };
}

/** Why a launch did not give an instance: what RunInstances (or the instance, as it started) answered. */
export interface LaunchFailure {
  readonly reason: LaunchFailureReason | 'notAuthorized';
  readonly code: string;
  readonly message: string;
}

export type LaunchResult =
  | { readonly ok: true; readonly instance: Instance }
  | { readonly ok: false; readonly failure: LaunchFailure };

/** The error each `launchFailure` reason stands for, as EC2 reports it. */
const LAUNCH_FAILURES: Record<LaunchFailureReason, (imageId: string) => LaunchFailure> = {
  imageNotFound: (imageId) => ({
    reason: 'imageNotFound',
    code: 'InvalidAMIID.NotFound',
    message: `The image id '[${imageId}]' does not exist.`,
  }),
  // EC2 accepts the launch, then terminates the instance while it is pending: its volume cannot be decrypted.
  kmsKeyNotUsable: () => ({
    reason: 'kmsKeyNotUsable',
    code: 'Client.InvalidKMSKey.InvalidState',
    message:
      'Instance became unhealthy while waiting for instance to be in InService state. Termination Reason: ' +
      'Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state',
  }),
  insufficientCapacity: () => ({
    reason: 'insufficientCapacity',
    code: 'InsufficientInstanceCapacity',
    message:
      'We currently do not have sufficient capacity in the Availability Zone you requested. Our system will be ' +
      'working on provisioning additional capacity.',
  }),
};

/** What the lifecycle knows about an InService instance's health checks. */
interface HealthTrack {
  readonly group: AutoScalingGroup;
  readonly instance: Instance;
  /** The image does not boot: EC2 status checks fail. */
  readonly bootFails: boolean;
  readonly observer: LaunchObserver | undefined;
  readonly graceEndsAtMs: number;
  verdict: 'pending' | 'healthy' | 'unhealthy';
}

const isLive = (instance: Instance): boolean =>
  instance.lifecycleState === 'Pending' || instance.lifecycleState === 'InService';

/** The group uses ELB health checks as well as EC2 status checks. */
export const usesElbHealthChecks = (group: AutoScalingGroup): boolean => group.healthCheckType === 'ELB';

/**
 * The instances of Auto Scaling groups: launching (Pending -> InService, or a failed launch), registration with
 * the group's target groups, health checks, termination (deregistration and draining, Terminating ->
 * Terminated), and keeping a group at its desired capacity. Everything later than "now" is scheduled on the
 * account's virtual clock.
 *
 * Health checks (user guide, "Health checks for instances in an Auto Scaling group" and "Set the health check
 * grace period"): Auto Scaling acts on a failed check only after the group's grace period, counted from
 * InService. EC2 status checks run once a minute, so an instance whose image does not boot is found impaired at
 * its first check, a minute after it starts running. Under ELB health checks an instance is also unhealthy when
 * a target group reports its target `unhealthy`, and is not yet known healthy while its target is `initial`.
 */
export class InstanceLifecycle {
  private readonly tracked = new Map<string, HealthTrack>();
  private readonly elb: LoadBalancing;
  private refreshes: RefreshCapacityView | undefined;
  /** The launch or termination activity of each instance still under way, by instance id. */
  private readonly openActivities = new Map<string, ScalingActivity>();
  readonly activities: ScalingActivityLog;

  constructor(private readonly account: LocalAccount) {
    this.elb = loadBalancingOf(account);
    this.activities = new ScalingActivityLog(account);
    this.elb.onTargetHealthChange((instanceId) => {
      const track = this.tracked.get(instanceId);
      if (track && this.account.clock.now() >= track.graceEndsAtMs) this.evaluate(track);
    });
  }

  /** The instance refresh engine: capacity changes during its refreshes go through it. */
  attachRefreshes(view: RefreshCapacityView): void {
    this.refreshes = view;
  }

  /** The group's instances that are not yet terminated (including Standby and Terminating ones), in launch order. */
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

  /**
   * Launches one instance, as Auto Scaling's RunInstances call would: refused when the image is gone or not
   * launchable here, or when a `launchFailure` fault says so. A refusal leaves a failed scaling activity.
   */
  launch(group: AutoScalingGroup, request: LaunchRequest): LaunchResult {
    const { template } = request;
    const groupName = group.autoScalingGroupName;
    const failure = this.launchFailure(groupName, template.imageId);
    const cause = this.cause(
      request.causePrefix,
      request.cause ??
        'an instance was started in response to a difference between desired and actual capacity',
    );
    if (failure) {
      this.recordFailedLaunch(group, cause, failure);
      return { ok: false, failure };
    }
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
      // The group's setting is copied at launch (UG "Use instance scale-in protection").
      ...(group.newInstancesProtectedFromScaleIn ? { protectedFromScaleIn: true } : {}),
    };
    this.account.state.instances.set(instance.instanceId, instance);
    group.instanceIds.push(instance.instanceId);
    this.openActivities.set(
      instance.instanceId,
      this.activities.start(group, {
        description: `Launching a new EC2 instance: ${instance.instanceId}`,
        cause,
        progress: 20,
        details: zoneDetails(instance.availabilityZone),
      }),
    );
    if (request.stalls) return { ok: true, instance };
    const bootFails =
      request.failsHealthCheck ?? this.account.faults.instancesUnhealthy(groupName, template.imageId);
    this.account.clock.schedule(SIMULATION_TIMING.instanceLaunchSeconds, () => {
      if (instance.lifecycleState !== 'Pending') return;
      instance.ec2State = 'running';
      this.enterService(group, instance, bootFails, request.observer, group.healthCheckGracePeriod);
    });
    return { ok: true, instance };
  }

  /**
   * A Pending instance comes into service: it registers with the group's target groups, and its health checks
   * start, acted on once `graceSeconds` have passed.
   */
  private enterService(
    group: AutoScalingGroup,
    instance: Instance,
    bootFails: boolean,
    observer: LaunchObserver | undefined,
    graceSeconds: number,
  ): void {
    instance.lifecycleState = 'InService';
    instance.inServiceAt = this.account.now();
    this.closeActivity(instance.instanceId);
    for (const arn of group.targetGroupARNs) {
      const targetGroup = this.account.state.targetGroups.get(arn);
      if (targetGroup) this.elb.register(targetGroup, instance.instanceId);
    }
    observer?.onInService?.(instance);
    const track: HealthTrack = {
      group,
      instance,
      bootFails,
      observer,
      graceEndsAtMs: this.account.clock.now() + graceSeconds * 1000,
      verdict: 'pending',
    };
    this.tracked.set(instance.instanceId, track);
    // Auto Scaling acts on health checks only once the grace period has passed.
    this.account.clock.schedule(graceSeconds, () => this.evaluate(track));
  }

  private closeActivity(instanceId: string): void {
    const activity = this.openActivities.get(instanceId);
    if (!activity) return;
    this.openActivities.delete(instanceId);
    this.activities.succeed(activity);
  }

  /** `At <t> <prefix sentences>.  At <t> <phrase>.`: an activity's Cause. */
  private cause(prefix: string | undefined, phrase: string): string {
    const sentence = this.activities.sentence(phrase);
    return prefix ? `${prefix}  ${sentence}` : sentence;
  }

  /**
   * Terminates an instance: it is deregistered from the group's target groups and drains for their
   * deregistration delay (Terminating, still running), then shuts down.
   */
  terminate(instance: Instance, cause?: string): void {
    if (!isLive(instance) && instance.lifecycleState !== 'Standby') return;
    instance.lifecycleState = 'Terminating';
    this.tracked.delete(instance.instanceId);
    const group = instance.autoScalingGroupName
      ? this.account.state.autoScalingGroups.get(instance.autoScalingGroupName)
      : undefined;
    // A launch still under way ends here; the termination is an activity of its own.
    const launching = this.openActivities.get(instance.instanceId);
    if (launching) {
      this.openActivities.delete(instance.instanceId);
      launching.statusCode = 'Cancelled';
      launching.endTime = this.account.now();
    }
    const drainSeconds = this.deregisterEverywhere(instance.instanceId);
    const activity = group
      ? this.activities.start(group, {
          description: `Terminating EC2 instance: ${instance.instanceId}`,
          cause:
            cause ??
            this.cause(
              undefined,
              this.refreshes?.launchTemplateDuringRefresh(group)
                ? 'an instance was taken out of service in response to an instance refresh'
                : 'an instance was taken out of service in response to a user request',
            ) +
              `  ${this.activities.sentence(`instance ${instance.instanceId} was selected for termination`)}`,
          statusCode: drainSeconds > 0 ? 'WaitingForELBConnectionDraining' : 'InProgress',
          progress: 50,
        })
      : undefined;
    const shutDown = () => {
      instance.ec2State = 'shutting-down';
      if (activity) activity.statusCode = 'InProgress';
      this.account.clock.schedule(SIMULATION_TIMING.instanceTerminateSeconds, () => {
        instance.lifecycleState = 'Terminated';
        instance.ec2State = 'terminated';
        if (activity) this.activities.succeed(activity);
        if (group) group.instanceIds = group.instanceIds.filter((id) => id !== instance.instanceId);
      });
    };
    if (drainSeconds === 0) shutDown();
    else this.account.clock.schedule(drainSeconds, shutDown);
  }

  /** Deregisters the instance from every target group that has it; returns the longest deregistration delay. */
  private deregisterEverywhere(instanceId: string): number {
    let drainSeconds = 0;
    for (const targetGroup of this.account.state.targetGroups.values()) {
      if (targetGroup.targets.has(instanceId))
        drainSeconds = Math.max(drainSeconds, this.elb.deregister(targetGroup, instanceId));
    }
    return drainSeconds;
  }

  /**
   * Launches or terminates instances until the group holds its desired capacity. `trigger` says what changed
   * the desired capacity (the first sentence of each activity's Cause). New instances launch from what the
   * group's launch template setting (`$Default`, `$Latest` or a number) resolves to now, at launch; while an
   * instance refresh owns the group, from the refresh's desired configuration (RefreshCapacityView). Scale-in
   * follows the default termination policy (capacity.ts) and never takes an instance protected from scale in,
   * nor one a refresh replacement involves. A launch that fails is not retried here (AWS retries with a
   * backoff); the failure is recorded as a scaling activity.
   */
  reconcileCapacity(group: AutoScalingGroup, trigger?: string): void {
    const live = this.liveInstances(group);
    const underWay = this.refreshes?.replacementsUnderWay(group);
    const free = underWay ? live.filter((instance) => !underWay.instanceIds.has(instance.instanceId)) : live;
    const current = free.length + (underWay?.count ?? 0);
    const missing = group.desiredCapacity - current;
    if (missing === 0) return;
    const prefix = trigger ? this.activities.sentence(trigger) : undefined;
    if (missing > 0) {
      const template = this.refreshes?.launchTemplateDuringRefresh(group) ?? this.tryResolve(group);
      if (!template) return;
      const cause =
        'an instance was started in response to a difference between desired and actual capacity, ' +
        `increasing the capacity from ${current} to ${group.desiredCapacity}`;
      for (let i = 0; i < missing; i++) {
        if (!this.launch(group, { template, cause, ...(prefix ? { causePrefix: prefix } : {}) }).ok) return;
      }
      return;
    }
    const shrinking = this.cause(
      prefix,
      'an instance was taken out of service in response to a difference between desired and actual capacity, ' +
        `shrinking the capacity from ${current} to ${group.desiredCapacity}`,
    );
    for (const instance of chooseForScaleIn(group, free, -missing, this.account.clock.now())) {
      this.terminate(
        instance,
        `${shrinking}  ${this.activities.sentence(`instance ${instance.instanceId} was selected for termination`)}`,
      );
    }
  }

  /**
   * EnterStandby: each instance (InService, callers check) leaves service: it is deregistered from the group's
   * target groups, is no longer health checked, and no longer counts towards capacity. With
   * `decrementDesiredCapacity` the desired capacity drops by one per instance; otherwise the group launches
   * replacements. Returns the activities, InProgress as AWS answers (botocore example: Progress 50).
   */
  enterStandby(
    group: AutoScalingGroup,
    instances: readonly Instance[],
    decrementDesiredCapacity: boolean,
  ): ScalingActivity[] {
    const activities: ScalingActivity[] = [];
    for (const instance of instances) {
      const from = group.desiredCapacity;
      if (decrementDesiredCapacity) group.desiredCapacity--;
      instance.lifecycleState = 'Standby';
      this.tracked.delete(instance.instanceId);
      const drainSeconds = this.deregisterEverywhere(instance.instanceId);
      const change = decrementDesiredCapacity
        ? `, shrinking the capacity from ${from} to ${group.desiredCapacity}`
        : '';
      const activity = this.activities.start(group, {
        description: `Moving EC2 instance to Standby: ${instance.instanceId}`,
        cause: this.activities.sentence(
          `instance ${instance.instanceId} was moved to standby in response to a user request${change}`,
        ),
        progress: 50,
        details: zoneDetails(instance.availabilityZone),
      });
      this.account.clock.schedule(drainSeconds, () => this.activities.succeed(activity));
      activities.push(activity);
    }
    if (!decrementDesiredCapacity) this.reconcileCapacity(group);
    return activities;
  }

  /**
   * ExitStandby: each instance (in Standby, callers check) goes to Pending, the desired capacity grows by one
   * per instance, and the instance is back InService, registered and health checked, a moment later. A group
   * that did not decrement its capacity on the way in is now too big, and scales in by its termination policy
   * (UG "How the standby state works"). Returns the activities, PreInService (botocore example: Progress 30).
   */
  exitStandby(group: AutoScalingGroup, instances: readonly Instance[]): ScalingActivity[] {
    const activities: ScalingActivity[] = [];
    for (const instance of instances) {
      const from = group.desiredCapacity;
      group.desiredCapacity++;
      instance.lifecycleState = 'Pending';
      const activity = this.activities.start(group, {
        description: `Moving EC2 instance out of Standby: ${instance.instanceId}`,
        cause: this.activities.sentence(
          `instance ${instance.instanceId} was moved out of standby in response to a user request, ` +
            `increasing the capacity from ${from} to ${group.desiredCapacity}`,
        ),
        statusCode: 'PreInService',
        progress: 30,
        details: zoneDetails(instance.availabilityZone),
      });
      this.openActivities.set(instance.instanceId, activity);
      activities.push(activity);
      const bootFails = this.account.faults.instancesUnhealthy(group.autoScalingGroupName, instance.imageId);
      this.account.clock.schedule(0, () => {
        if (instance.lifecycleState !== 'Pending') return;
        // No grace period: the instance has been running all along (UG: a health check on return to service).
        this.enterService(group, instance, bootFails, undefined, 0);
      });
    }
    this.reconcileCapacity(group);
    return activities;
  }

  /** Terminates every instance of the group (a forced delete). */
  terminateAll(group: AutoScalingGroup): void {
    for (const instance of this.instances(group)) this.terminate(instance);
  }

  /** Registers the group's InService instances with target groups just attached to it. */
  registerWith(group: AutoScalingGroup, targetGroupArns: readonly string[]): void {
    for (const arn of targetGroupArns) {
      const targetGroup = this.account.state.targetGroups.get(arn);
      if (!targetGroup) continue;
      for (const instance of this.instances(group))
        if (instance.lifecycleState === 'InService') this.elb.register(targetGroup, instance.instanceId);
    }
  }

  /** Deregisters the group's instances from target groups just detached from it (they drain, then leave). */
  deregisterFrom(group: AutoScalingGroup, targetGroupArns: readonly string[]): void {
    for (const arn of targetGroupArns) {
      const targetGroup = this.account.state.targetGroups.get(arn);
      if (!targetGroup) continue;
      for (const instance of this.instances(group)) this.elb.deregister(targetGroup, instance.instanceId);
    }
  }

  /** Is `imageId` refused for launch in `group`: a `launchFailure` fault, or EC2's own checks on the image? */
  launchFailure(groupName: string, imageId: string): LaunchFailure | undefined {
    const faulted = this.account.faults.launchFailure(groupName, imageId);
    if (faulted) return LAUNCH_FAILURES[faulted](imageId);
    const problem = imageLaunchProblem(this.account, imageId);
    if (!problem) return undefined;
    return problem.code === 'InvalidAMIID.NotFound'
      ? LAUNCH_FAILURES.imageNotFound(imageId)
      : { reason: 'notAuthorized', code: problem.code, message: problem.message };
  }

  /** Auto Scaling's health verdict on an InService instance, delivered once and again when it turns unhealthy. */
  private evaluate(track: HealthTrack): void {
    const { instance, group } = track;
    if (instance.lifecycleState !== 'InService' || track.verdict === 'unhealthy') return;
    if (this.tracked.get(instance.instanceId) !== track) return;
    const health = this.healthNow(track);
    if (health.kind === 'wait-until') {
      this.account.clock.schedule((health.atMs - this.account.clock.now()) / 1000, () =>
        this.evaluate(track),
      );
      return;
    }
    if (health.kind === 'waiting') return;
    if (health.kind === 'healthy') {
      if (track.verdict === 'healthy') return;
      track.verdict = 'healthy';
      track.observer?.onHealthChecked?.(instance, true);
      return;
    }
    track.verdict = 'unhealthy';
    instance.healthStatus = 'Unhealthy';
    const handled = track.observer?.onHealthChecked?.(instance, false) ?? false;
    if (!handled) this.replaceUnhealthy(group, instance);
  }

  private healthNow(
    track: HealthTrack,
  ):
    { kind: 'healthy' } | { kind: 'unhealthy' } | { kind: 'waiting' } | { kind: 'wait-until'; atMs: number } {
    const { instance, group } = track;
    if (track.bootFails) {
      const firstStatusCheckMs =
        (instance.inServiceAt?.getTime() ?? this.account.clock.now()) +
        SIMULATION_TIMING.ec2StatusCheckSeconds * 1000;
      return this.account.clock.now() < firstStatusCheckMs
        ? { kind: 'wait-until', atMs: firstStatusCheckMs }
        : { kind: 'unhealthy' };
    }
    if (!usesElbHealthChecks(group)) return { kind: 'healthy' };
    let initial = false;
    for (const arn of group.targetGroupARNs) {
      const target = this.account.state.targetGroups.get(arn)?.targets.get(instance.instanceId);
      if (target?.state === 'unhealthy') return { kind: 'unhealthy' };
      if (target?.state === 'initial') initial = true;
    }
    return initial ? { kind: 'waiting' } : { kind: 'healthy' };
  }

  /**
   * Replaces an unhealthy instance from the group's own launch template. AWS would keep replacing instances
   * that keep failing; the emulator stops when the group's own image is itself marked as failing, so that
   * virtual time can settle (`runUntilIdle`) and the unhealthy instances stay visible.
   */
  private replaceUnhealthy(group: AutoScalingGroup, instance: Instance): void {
    if (this.account.state.autoScalingGroups.get(group.autoScalingGroupName) !== group) return;
    const template = this.refreshes?.launchTemplateDuringRefresh(group) ?? this.tryResolve(group);
    if (!template || this.imageFails(group, template.imageId)) return;
    this.terminate(
      instance,
      this.cause(
        undefined,
        `an instance was taken out of service in response to a health check indicating it is unhealthy`,
      ) + `  ${this.activities.sentence(`instance ${instance.instanceId} was selected for termination`)}`,
    );
    this.launch(group, {
      template,
      availabilityZone: instance.availabilityZone,
      cause: `an instance was started in response to an unhealthy instance ${instance.instanceId} needing to be replaced`,
    });
  }

  /** Would instances from `imageId` fail the group's health checks (the faults that make them)? */
  private imageFails(group: AutoScalingGroup, imageId: string): boolean {
    const name = group.autoScalingGroupName;
    return (
      this.account.faults.instancesUnhealthy(name, imageId) ||
      (usesElbHealthChecks(group) &&
        group.targetGroupARNs.length > 0 &&
        this.account.faults.applicationFails(name, imageId))
    );
  }

  private tryResolve(group: AutoScalingGroup): ResolvedLaunchTemplate | undefined {
    try {
      return resolveLaunchTemplate(this.account, group.launchTemplate);
    } catch (error) {
      // The template or its image went away: AWS records a failed scaling activity and launches nothing.
      this.recordFailedLaunch(
        group,
        this.activities.sentence(
          'an instance was started in response to a difference between desired and actual capacity',
        ),
        {
          reason: 'imageNotFound',
          code: 'ValidationError',
          message: error instanceof Error ? error.message : String(error),
        },
      );
      return undefined;
    }
  }

  /** A launch that failed: a Failed activity, worded as AWS words it ("Launching EC2 instance failed."). */
  private recordFailedLaunch(group: AutoScalingGroup, cause: string, failure: LaunchFailure): void {
    this.activities.failed(
      group,
      'Launching a new EC2 instance.  Status Reason: ' + failure.message + ' Launching EC2 instance failed.',
      cause,
      failure.message,
    );
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
}
