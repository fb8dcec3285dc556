import type { LocalAccount } from '../account.ts';
import { cloudWatchOf } from '../services/cloudwatch-alarms.ts';
import type { AutoScalingGroup, Instance, InstanceRefresh, LaunchTemplateSpec } from '../state.ts';
import {
  usesElbHealthChecks,
  type InstanceLifecycle,
  type RefreshCapacityView,
} from './instance-lifecycle.ts';
import {
  isNumberedVersion,
  launchedFrom,
  resolveLaunchTemplate,
  type ResolvedLaunchTemplate,
} from './launch-templates.ts';
import {
  decideNextStep,
  heldBackBy,
  percentageComplete,
  percentageCompleteDuringRollback,
  REFRESH_RETRY_SECONDS,
  respondToAlarms,
  type BatchPlan,
} from './refresh-decisions.ts';
import { SIMULATION_TIMING } from './timing.ts';

/** One replacement under way: the new instance, and the old one it takes over from once it is ready. */
interface Replacement {
  /** Set for launch-first replacements: terminated when the new instance is ready. */
  readonly oldInstanceId?: string;
  readonly availabilityZone: string;
  /** The instance launched for it; unset while a failed launch waits to be tried again. */
  instanceId?: string;
  inService: boolean;
  warm: boolean;
  healthChecked: boolean;
}

/** The engine's working state for a refresh that still owns its group. */
interface RefreshRun {
  readonly refresh: InstanceRefresh;
  readonly group: AutoScalingGroup;
  mode: 'forward' | 'rollback';
  /** What new instances launch from in this phase. */
  target: ResolvedLaunchTemplate;
  /** Instances to replace in this phase, in order; `queue[next..]` have not been started. */
  queue: string[];
  next: number;
  /** Replacements under way, by the id of the instance launched for them (or a placeholder while relaunching). */
  readonly inFlight: Set<Replacement>;
  replaced: number;
  total: number;
  checkpointsPassed: number;
  readonly warmupSeconds: number;
  /** Bumped whenever the run changes phase, so timers and instance callbacks of the old phase do nothing. */
  epoch: number;
  /**
   * Since when the refresh has been unable to make progress (replacements failing their health checks or
   * failing to launch, instances held back in Standby or by scale-in protection), and why: after
   * REFRESH_RETRY_SECONDS of it the refresh fails. Cleared by any finished replacement.
   */
  blocked?: { readonly sinceMs: number; reason: string };
  /** A timer is set to look again at instances held back (Standby / scale-in protection with Wait). */
  pollingHeldBack: boolean;
}

export interface StartRefreshRequest {
  readonly group: AutoScalingGroup;
  readonly refresh: InstanceRefresh;
  /** The resolved desired configuration (or the group's own template when none was given). */
  readonly target: ResolvedLaunchTemplate;
}

/**
 * Runs instance refreshes in virtual time: Pending -> InProgress -> (checkpoints) -> Baking -> Successful, or
 * Failed / Cancelling -> Cancelled / RollbackInProgress -> RollbackSuccessful | RollbackFailed. Each step is
 * decided by `decideNextStep` (refresh-decisions.ts); this class carries it out and moves the refresh's record.
 * Nothing polls: instances report back through their launch observers, pauses are clock timers.
 */
export class InstanceRefreshEngine implements RefreshCapacityView {
  private readonly runs = new Map<string, RefreshRun>();

  constructor(
    private readonly account: LocalAccount,
    private readonly instances: InstanceLifecycle,
  ) {
    // Capacity changes during a refresh go on beside it (instance-lifecycle.ts, RefreshCapacityView).
    instances.attachRefreshes(this);
    // AlarmSpecification: a state change to ALARM reaches every refresh that watches the alarm at once.
    cloudWatchOf(account).onStateChange((alarm) => {
      if (alarm.stateValue !== 'ALARM') return;
      for (const run of [...this.runs.values()]) {
        if (run.refresh.preferences.alarms?.includes(alarm.alarmName)) this.checkAlarms(run);
      }
    });
  }

  /**
   * While a refresh owns the group, scale-out launches from the refresh's target: the desired configuration
   * going forward (AWS documents this), the previous configuration while rolling back (assumed: AWS documents
   * no other).
   */
  launchTemplateDuringRefresh(group: AutoScalingGroup): ResolvedLaunchTemplate | undefined {
    const run = this.runs.get(group.autoScalingGroupName);
    return run?.group === group ? run.target : undefined;
  }

  replacementsUnderWay(group: AutoScalingGroup): {
    readonly instanceIds: ReadonlySet<string>;
    readonly count: number;
  } {
    const run = this.runs.get(group.autoScalingGroupName);
    if (!run || run.group !== group) return { instanceIds: new Set(), count: 0 };
    const instanceIds = new Set<string>();
    for (const replacement of run.inFlight) {
      if (replacement.oldInstanceId) instanceIds.add(replacement.oldInstanceId);
      if (replacement.instanceId) instanceIds.add(replacement.instanceId);
    }
    return { instanceIds, count: run.inFlight.size };
  }

  /** The refresh that currently owns `groupName`, if any. */
  activeRefresh(groupName: string): InstanceRefresh | undefined {
    return this.runs.get(groupName)?.refresh;
  }

  start({ group, refresh, target }: StartRefreshRequest): void {
    const { skipMatching, standbyInstances, scaleInProtectedInstances } = refresh.preferences;
    const candidates = this.instances
      .instances(group)
      .filter((instance) => instance.lifecycleState !== 'Terminating')
      .filter((instance) => !skipMatching || !launchedFrom(instance, target));
    const queue: string[] = [];
    const heldBack: string[] = [];
    for (const instance of candidates) {
      if (instance.lifecycleState === 'Standby') {
        // Terminate: Standby instances do not count towards capacity, so nothing replaces them.
        if (standbyInstances === 'Terminate') this.instances.terminate(instance);
        if (standbyInstances === 'Wait') heldBack.push(instance.instanceId);
        continue;
      }
      if (instance.protectedFromScaleIn && scaleInProtectedInstances !== 'Refresh') {
        if (scaleInProtectedInstances === 'Wait') heldBack.push(instance.instanceId);
        continue;
      }
      queue.push(instance.instanceId);
    }
    // Instances the refresh has to wait for come last: everything else is replaced first.
    queue.push(...heldBack);
    const run: RefreshRun = {
      refresh,
      group,
      mode: 'forward',
      target,
      queue,
      next: 0,
      inFlight: new Set(),
      replaced: 0,
      total: queue.length,
      checkpointsPassed: 0,
      warmupSeconds:
        refresh.preferences.instanceWarmup ?? group.defaultInstanceWarmup ?? group.healthCheckGracePeriod,
      epoch: 0,
      pollingHeldBack: false,
    };
    refresh.instancesToUpdate = run.total;
    refresh.percentageComplete = 0;
    this.runs.set(group.autoScalingGroupName, run);
    this.later(run, SIMULATION_TIMING.refreshStartSeconds, () => {
      refresh.status = 'InProgress';
      if (this.checkAlarms(run) || this.cancelledByFault(run)) return;
      this.step(run);
    });
  }

  /** CancelInstanceRefresh: replacements stop, nothing is undone; Cancelling, then Cancelled. */
  cancel(groupName: string, reason = 'The instance refresh was cancelled by user request.'): void {
    const run = this.runs.get(groupName);
    if (!run) return;
    run.epoch++;
    run.refresh.status = 'Cancelling';
    run.refresh.statusReason = reason;
    this.later(run, SIMULATION_TIMING.refreshCancelSeconds, () => {
      run.refresh.status = 'Cancelled';
      this.finish(run);
    });
  }

  /**
   * Rolls the group back to the configuration it had before the refresh: every instance launched from anything
   * else is replaced with the previous (numbered) version. `previous` must be resolvable; callers check.
   */
  rollback(groupName: string, reason: string): void {
    const run = this.runs.get(groupName);
    if (!run) return;
    let previous: ResolvedLaunchTemplate;
    try {
      previous = resolveLaunchTemplate(this.account, run.refresh.previousConfiguration.launchTemplate);
    } catch (error) {
      run.epoch++;
      run.refresh.status = 'RollbackFailed';
      run.refresh.statusReason = `Rollback failed: ${error instanceof Error ? error.message : String(error)}`;
      this.finish(run);
      return;
    }
    const percentageOnRollback = run.refresh.percentageComplete;
    const instancesToUpdateOnRollback = run.refresh.instancesToUpdate;
    const queue = this.instances
      .liveInstances(run.group)
      .filter((instance) => !launchedFrom(instance, previous))
      .map((instance) => instance.instanceId);
    run.epoch++;
    run.mode = 'rollback';
    run.target = previous;
    run.queue = queue;
    run.next = 0;
    run.inFlight.clear();
    run.replaced = 0;
    run.total = queue.length;
    run.blocked = undefined;
    run.pollingHeldBack = false;
    run.refresh.status = 'RollbackInProgress';
    run.refresh.statusReason = reason;
    // InstancesToUpdate keeps the instances the refresh had not updated: a rollback need not replace them.
    run.refresh.rollbackDetails = {
      rollbackReason: reason,
      rollbackStartTime: this.account.now(),
      percentageCompleteOnRollback: percentageOnRollback,
      instancesToUpdateOnRollback,
    };
    this.later(run, 0, () => this.step(run));
  }

  /** Takes the next step `decideNextStep` chooses. */
  private step(run: RefreshRun): void {
    const { refresh, group } = run;
    const preferences = refresh.preferences;
    const decision = decideNextStep({
      mode: run.mode,
      capacity: group.desiredCapacity,
      total: run.total,
      replaced: run.replaced,
      inFlight: run.inFlight.size,
      remaining: run.queue.length - run.next,
      minHealthyPercentage: preferences.minHealthyPercentage,
      maxHealthyPercentage: preferences.maxHealthyPercentage ?? 100,
      checkpointPercentages: preferences.checkpointPercentages ?? [],
      checkpointsPassed: run.checkpointsPassed,
      checkpointDelaySeconds: preferences.checkpointDelay ?? 3600,
      bakeTimeSeconds: preferences.bakeTime ?? 0,
    });
    switch (decision.kind) {
      case 'wait-for-batch':
        return;
      case 'replace':
        return this.replaceBatch(run, decision);
      case 'checkpoint': {
        const count = preferences.checkpointPercentages?.length ?? 0;
        const resumeAt = new Date(this.account.now().getTime() + decision.delaySeconds * 1000);
        refresh.statusReason =
          `Waiting at checkpoint ${decision.index + 1} of ${count} (${decision.percentage}%): ` +
          `${run.replaced} of ${run.total} instances replaced. The instance refresh continues after the checkpoint ` +
          `delay of ${decision.delaySeconds} seconds, at ${resumeAt.toISOString()}.`;
        this.later(run, decision.delaySeconds, () => {
          run.checkpointsPassed++;
          refresh.statusReason = undefined;
          this.step(run);
        });
        return;
      }
      case 'bake':
        refresh.status = 'Baking';
        refresh.statusReason = `Waiting the bake time of ${decision.seconds} seconds before completing.`;
        this.later(run, decision.seconds, () => this.complete(run));
        return;
      case 'complete':
        return this.complete(run);
    }
  }

  private replaceBatch(run: RefreshRun, plan: BatchPlan): void {
    let launchFirst = plan.launchBeforeTerminate;
    let terminateFirst = plan.terminateThenLaunch;
    let heldBack: string | undefined;
    while (launchFirst + terminateFirst > 0 && run.next < run.queue.length) {
      const old = this.account.state.instances.get(run.queue[run.next]!);
      if (!old || old.lifecycleState === 'Terminating' || old.lifecycleState === 'Terminated') {
        // Gone already (scaled in, terminated through EC2): nothing left to replace.
        run.next++;
        run.replaced++;
        continue;
      }
      heldBack = heldBackBy(old, run.refresh.preferences);
      if (heldBack !== undefined) break;
      run.next++;
      const launchBeforeTerminate = launchFirst > 0;
      if (launchBeforeTerminate) launchFirst--;
      else {
        terminateFirst--;
        this.instances.terminate(old);
      }
      const replacement: Replacement = {
        ...(launchBeforeTerminate ? { oldInstanceId: old.instanceId } : {}),
        availabilityZone: old.availabilityZone,
        inService: false,
        warm: false,
        healthChecked: false,
      };
      run.inFlight.add(replacement);
      this.launchFor(run, replacement);
    }
    this.describeWaiting(run);
    this.updateProgress(run);
    if (run.inFlight.size > 0) return;
    if (heldBack !== undefined) {
      // Nothing else to do until the held-back instances return to service or lose their protection.
      this.block(run, heldBack);
      this.pollHeldBack(run);
      return;
    }
    this.step(run);
  }

  /**
   * Launches the new instance of a replacement. A launch that fails (RunInstances refused, or the instance
   * terminated as it started) is tried again after a pause, while the refresh counts towards its hour.
   */
  private launchFor(run: RefreshRun, replacement: Replacement): void {
    const forward = run.mode === 'forward';
    const groupName = run.group.autoScalingGroupName;
    const stalls = forward && this.account.faults.refreshStalls(groupName);
    // A failRollback fault: the previous configuration no longer comes up healthy.
    const failsHealthCheck = !forward && this.account.faults.rollbackFails(groupName) ? true : undefined;
    const epoch = run.epoch;
    const current = () => run.epoch === epoch && this.runs.get(groupName) === run;
    const launched = this.instances.launch(run.group, {
      template: run.target,
      availabilityZone: replacement.availabilityZone,
      stalls,
      ...(failsHealthCheck ? { failsHealthCheck } : {}),
      cause: `an instance was launched in response to an instance refresh (${run.refresh.instanceRefreshId})`,
      observer: {
        onInService: () => {
          if (!current() || replacement.instanceId !== instance?.instanceId) return;
          replacement.inService = true;
          this.account.clock.schedule(run.warmupSeconds, () => {
            if (!current() || replacement.instanceId !== instance?.instanceId) return;
            replacement.warm = true;
            this.onReplacementProgress(run, replacement);
          });
        },
        onHealthChecked: (_instance, healthy) => {
          if (!current()) {
            // A run that has turned to rolling back still owns the instance: the rollback replaces it.
            return this.runs.get(groupName) === run && run.mode === 'rollback';
          }
          // A replacement already counted that turns unhealthy later is the group's to replace.
          if (!run.inFlight.has(replacement) || replacement.instanceId !== instance?.instanceId) return false;
          if (!healthy) {
            this.onUnhealthy(run, replacement, _instance);
            return true;
          }
          replacement.healthChecked = true;
          this.onReplacementProgress(run, replacement);
          return true;
        },
      },
    });
    const instance = launched.ok ? launched.instance : undefined;
    if (launched.ok) {
      replacement.instanceId = launched.instance.instanceId;
      return;
    }
    replacement.instanceId = undefined;
    const { failure } = launched;
    this.block(
      run,
      `Instance refresh could not launch a new instance from ${run.target.launchTemplateName} version ` +
        `${run.target.versionNumber} (${run.target.imageId}): ${failure.code}: ${failure.message}`,
    );
    this.later(run, SIMULATION_TIMING.launchRetrySeconds, () => {
      if (run.inFlight.has(replacement)) this.launchFor(run, replacement);
    });
  }

  /** A replacement counts once its new instance is healthy and has warmed up (AWS's PercentageComplete rule). */
  private onReplacementProgress(run: RefreshRun, replacement: Replacement): void {
    if (!run.inFlight.has(replacement) || !replacement.warm || !replacement.healthChecked) return;
    run.inFlight.delete(replacement);
    if (replacement.oldInstanceId) {
      const old = this.account.state.instances.get(replacement.oldInstanceId);
      if (old) this.instances.terminate(old);
    }
    run.replaced++;
    run.blocked = undefined;
    this.updateProgress(run);
    if (this.cancelledByFault(run)) return;
    if (run.inFlight.size > 0) this.describeWaiting(run);
    else this.step(run);
  }

  /**
   * A new instance failed its health checks. Auto Scaling terminates it and launches another in its place, and
   * keeps doing so; the refresh fails (or rolls back) only once it has made no progress for an hour.
   */
  private onUnhealthy(run: RefreshRun, replacement: Replacement, instance: Instance): void {
    const what = run.mode === 'rollback' ? 'launched from the previous configuration ' : '';
    this.block(
      run,
      `New instance ${instance.instanceId} ${what}(${run.target.launchTemplateName} version ` +
        `${run.target.versionNumber}, ${instance.imageId}) failed its health checks.`,
    );
    this.instances.terminate(instance);
    replacement.inService = false;
    replacement.warm = false;
    replacement.healthChecked = false;
    this.launchFor(run, replacement);
  }

  /**
   * The refresh cannot make progress. The user guide ("How an instance refresh works", Limitations): when it is
   * waiting for instances on standby or protected from scale in, or its new instances do not pass their health
   * checks, Amazon EC2 Auto Scaling keeps retrying for an hour, with a status message; if the problem persists,
   * the operation fails. The hour runs from the first time it got stuck since its last finished replacement.
   */
  private block(run: RefreshRun, reason: string): void {
    run.refresh.statusReason = `${reason} Amazon EC2 Auto Scaling keeps retrying for up to an hour.`;
    if (run.blocked) {
      run.blocked.reason = reason;
      return;
    }
    const blocked = { sinceMs: this.account.clock.now(), reason };
    run.blocked = blocked;
    this.later(run, REFRESH_RETRY_SECONDS, () => {
      if (run.blocked !== blocked) return;
      const failure =
        `${run.mode === 'rollback' ? 'Rollback' : 'Instance refresh'} failed: ${blocked.reason} ` +
        `It could not make progress for ${REFRESH_RETRY_SECONDS / 60} minutes.`;
      if (run.mode === 'rollback') {
        run.epoch++;
        run.refresh.status = 'RollbackFailed';
        run.refresh.statusReason = failure;
        this.finish(run);
        return;
      }
      this.failOrRollBack(run, failure);
    });
  }

  /** Looks again, a minute later, at the instances the refresh waits for (Standby, scale-in protection). */
  private pollHeldBack(run: RefreshRun): void {
    if (run.pollingHeldBack) return;
    run.pollingHeldBack = true;
    this.later(run, SIMULATION_TIMING.heldBackPollSeconds, () => {
      run.pollingHeldBack = false;
      this.step(run);
    });
  }

  /**
   * AlarmSpecification: while the refresh is InProgress or Baking, any of its alarms in ALARM fails it, or rolls
   * it back with AutoRollback. Returns true when the refresh stopped going forward.
   */
  private checkAlarms(run: RefreshRun): boolean {
    if (run.mode !== 'forward') return false;
    const cloudWatch = cloudWatchOf(this.account);
    const inAlarm = (run.refresh.preferences.alarms ?? []).filter(
      (name) => cloudWatch.stateOf(name) === 'ALARM',
    );
    const response = respondToAlarms(run.refresh.status, inAlarm);
    if (response.kind === 'carry-on') return false;
    this.failOrRollBack(run, response.reason);
    return true;
  }

  /** A forward refresh fails, or rolls back when AutoRollback is on. Returns true when it rolls back. */
  private failOrRollBack(run: RefreshRun, failure: string): boolean {
    const previousVersion = run.refresh.previousConfiguration.launchTemplate.version;
    // StartInstanceRefresh already refuses AutoRollback on a $Default/$Latest group; this is only a guard.
    if (run.refresh.preferences.autoRollback && isNumberedVersion(previousVersion)) {
      this.rollback(run.group.autoScalingGroupName, failure);
      return true;
    }
    run.epoch++;
    run.refresh.status = 'Failed';
    run.refresh.statusReason = run.refresh.preferences.autoRollback
      ? `${failure} AutoRollback could not run: the group's previous launch template version is ` +
        `${previousVersion}, not a numbered version.`
      : failure;
    this.finish(run);
    return false;
  }

  /** The `cancelRefresh` fault: an operator cancels once PercentageComplete reaches the fault's percentage. */
  private cancelledByFault(run: RefreshRun): boolean {
    if (run.mode !== 'forward') return false;
    const at = this.account.faults.cancelAt(run.group.autoScalingGroupName);
    if (at === undefined || run.refresh.percentageComplete < at) return false;
    this.cancel(run.group.autoScalingGroupName);
    return true;
  }

  private complete(run: RefreshRun): void {
    const { refresh, group } = run;
    if (run.mode === 'forward') {
      refresh.status = 'Successful';
      // A partial refresh (its last checkpoint below 100) ends with the rest of the group not replaced, and
      // PercentageComplete says how much was.
      refresh.percentageComplete = percentageComplete(run.replaced, run.total);
      refresh.instancesToUpdate = 0;
      // On success the group takes on the desired configuration, as given ($Latest stays $Latest).
      if (refresh.desiredConfiguration)
        group.launchTemplate = { ...refresh.desiredConfiguration.launchTemplate };
    } else if (this.account.faults.rollbackFails(group.autoScalingGroupName)) {
      refresh.status = 'RollbackFailed';
      refresh.statusReason = 'Rollback failed: the group could not return to its previous configuration.';
      this.finish(run);
      return;
    } else {
      refresh.status = 'RollbackSuccessful';
      refresh.percentageComplete = 0;
    }
    refresh.statusReason = undefined;
    this.finish(run);
  }

  /** Ends the run: the refresh stops owning the group, which goes back to holding its desired capacity. */
  private finish(run: RefreshRun): void {
    run.epoch++;
    run.refresh.endTime = this.account.now();
    this.runs.delete(run.group.autoScalingGroupName);
    if (this.account.state.autoScalingGroups.get(run.group.autoScalingGroupName) === run.group) {
      this.instances.reconcileCapacity(run.group);
    }
  }

  /** Abandons the run at once (the group is being deleted). */
  abandon(groupName: string): void {
    const run = this.runs.get(groupName);
    if (!run) return;
    run.epoch++;
    run.refresh.status = 'Cancelled';
    run.refresh.statusReason = 'The Auto Scaling group was deleted.';
    run.refresh.endTime = this.account.now();
    this.runs.delete(groupName);
  }

  private updateProgress(run: RefreshRun): void {
    const { refresh } = run;
    if (run.mode === 'forward') {
      refresh.instancesToUpdate = run.total - run.replaced;
      refresh.percentageComplete = percentageComplete(run.replaced, run.total);
    } else if (refresh.rollbackDetails) {
      refresh.percentageComplete = percentageCompleteDuringRollback(
        refresh.rollbackDetails.percentageCompleteOnRollback,
        run.replaced,
        run.total,
      );
    }
  }

  private describeWaiting(run: RefreshRun): void {
    if (run.mode !== 'forward' || run.inFlight.size === 0 || run.blocked) return;
    const example = [...run.inFlight].find((r) => r.instanceId !== undefined);
    if (!example) return;
    // What AWS says while ELB has not yet reported on a new instance (re:Post "asg instance refresh spends too
    // much time evaluating instance health" quotes it).
    run.refresh.statusReason =
      example.inService && !example.healthChecked && usesElbHealthChecks(run.group)
        ? `Waiting for remaining instances to be available. For example: ${example.instanceId} has insufficient ` +
          'data to evaluate its health with Elastic Load Balancing.'
        : `Waiting for instances to warm up before continuing. For example: ${example.instanceId} is warming up.`;
  }

  /** Schedules `fn` for this phase of the run only. */
  private later(run: RefreshRun, seconds: number, fn: () => void): void {
    const epoch = run.epoch;
    this.account.clock.schedule(seconds, () => {
      if (run.epoch === epoch && this.runs.get(run.group.autoScalingGroupName) === run) fn();
    });
  }
}

/**
 * The AlarmSpecification alarms that do not exist in the account. StartInstanceRefresh refuses a refresh that
 * names one: the alarms are looked up when the refresh starts (the user guide: "To specify an alarm, you must
 * first create it").
 */
export function missingAlarms(account: LocalAccount, names: readonly string[]): string[] {
  const alarms = cloudWatchOf(account).alarms;
  return names.filter((name) => !alarms.has(name));
}

/** The previous configuration a rollback returns to, as the group held it when the refresh started. */
export const previousConfigurationOf = (group: AutoScalingGroup): { launchTemplate: LaunchTemplateSpec } => ({
  launchTemplate: { ...group.launchTemplate },
});
