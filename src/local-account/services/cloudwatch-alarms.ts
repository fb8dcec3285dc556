/**
 * CloudWatch metric alarms in virtual time: the alarms of the account, the metrics they read, and the
 * evaluation that moves their state. The API (cloudwatch.ts) and the instance refresh (AlarmSpecification)
 * share this one engine per account, through `cloudWatchOf(account)`.
 *
 * Timing, from the CloudWatch user guide ("Alarm evaluation", "Metric alarm states") and the PutMetricAlarm
 * reference: an alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"); an update keeps its
 * state; standard alarms are evaluated once a minute and high-resolution ones (Period 10, 20 or 30) every
 * Period. Each evaluation reads the complete periods, aligned to the period, that end at or before its time.
 * SetAlarmState holds only until the next evaluation; an `alarm` fault holds until it is cleared.
 */
import type { LocalAccount } from '../account.ts';
import type { ActiveFault } from '../faults.ts';
import {
  evaluateAlarm,
  evaluationRangePeriods,
  type AlarmStateValue,
  type ComparisonOperator,
  type RangePeriod,
  type TreatMissingData,
} from './cloudwatch-evaluation.ts';
import {
  MetricStore,
  statisticValue,
  type MetricIdentity,
  type MetricSource,
  type Statistic,
} from './cloudwatch-metrics.ts';

/** What PutMetricAlarm sets; an update replaces all of it. */
export interface AlarmConfiguration {
  readonly alarmDescription?: string;
  readonly actionsEnabled: boolean;
  readonly okActions: readonly string[];
  readonly alarmActions: readonly string[];
  readonly insufficientDataActions: readonly string[];
  readonly metric: MetricIdentity;
  readonly statistic: Statistic;
  readonly periodSeconds: number;
  readonly unit?: string;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly treatMissingData?: TreatMissingData;
}

export interface MetricAlarm {
  readonly alarmName: string;
  readonly alarmArn: string;
  configuration: AlarmConfiguration;
  configurationUpdatedTimestamp: Date;
  stateValue: AlarmStateValue;
  stateReason: string;
  stateReasonData?: string;
  /** The last change to the state value or reason. */
  stateUpdatedTimestamp: Date;
  /** The last change to the state value. */
  stateTransitionedTimestamp: Date;
  tags: Map<string, string>;
}

/** A state change: previous is what the alarm held before. */
export type AlarmStateListener = (alarm: MetricAlarm, previous: AlarmStateValue) => void;

export class CloudWatchAlarms {
  /** By name. */
  readonly alarms = new Map<string, MetricAlarm>();
  readonly metrics: MetricStore;
  private readonly sources: MetricSource[] = [];
  private readonly listeners: AlarmStateListener[] = [];
  private tick: { readonly id: number; readonly intervalSeconds: number } | undefined;
  /** The minute whose source datapoints were last sampled, so a 10-second tick samples each minute once. */
  private sampledUpTo = -Infinity;

  constructor(private readonly account: LocalAccount) {
    this.metrics = new MetricStore(() => account.clock.now());
    account.faults.onAdd((fault) => this.onFaultAdded(fault));
  }

  /** A source of metrics sampled once a virtual minute while the account has alarms. Returns its removal. */
  addSource(source: MetricSource): () => void {
    this.sources.push(source);
    return () => {
      const index = this.sources.indexOf(source);
      if (index >= 0) this.sources.splice(index, 1);
    };
  }

  onStateChange(listener: AlarmStateListener): void {
    this.listeners.push(listener);
  }

  /** Creates the alarm in INSUFFICIENT_DATA, or replaces an existing alarm's configuration keeping its state. */
  putAlarm(name: string, configuration: AlarmConfiguration, tags: ReadonlyMap<string, string>): MetricAlarm {
    const now = this.account.now();
    const existing = this.alarms.get(name);
    if (existing) {
      existing.configuration = configuration;
      existing.configurationUpdatedTimestamp = now;
      for (const [key, value] of tags) existing.tags.set(key, value);
      this.scheduleTick();
      return existing;
    }
    const alarm: MetricAlarm = {
      alarmName: name,
      alarmArn: `arn:aws:cloudwatch:${this.account.region}:${this.account.accountId}:alarm:${name}`,
      configuration,
      configurationUpdatedTimestamp: now,
      stateValue: 'INSUFFICIENT_DATA',
      stateReason: 'Unchecked: Initial alarm creation',
      stateUpdatedTimestamp: now,
      stateTransitionedTimestamp: now,
      tags: new Map(tags),
    };
    this.alarms.set(name, alarm);
    // An alarm fault declared before its alarm existed takes hold at once.
    const held = this.account.faults.heldAlarmState(name, now.getTime(), this.account.startTime.getTime());
    if (held) this.applyFault(alarm, held);
    this.scheduleTick();
    return alarm;
  }

  /** Deletes the alarms that exist; names that do not are passed over, as DeleteAlarms does. */
  deleteAlarms(names: readonly string[]): void {
    for (const name of names) this.alarms.delete(name);
    if (this.alarms.size === 0) this.stopTick();
  }

  /** SetAlarmState: the state holds until the next evaluation (callers check that the alarm exists). */
  setAlarmState(alarm: MetricAlarm, state: AlarmStateValue, reason: string, reasonData?: string): void {
    this.transition(alarm, state, reason, reasonData);
  }

  /** The alarm's state now (evaluations run on the clock, so this is current). */
  stateOf(name: string): AlarmStateValue | undefined {
    return this.alarms.get(name)?.stateValue;
  }

  private transition(alarm: MetricAlarm, state: AlarmStateValue, reason: string, reasonData?: string): void {
    const previous = alarm.stateValue;
    const now = this.account.now();
    alarm.stateValue = state;
    alarm.stateReason = reason;
    if (reasonData === undefined) delete alarm.stateReasonData;
    else alarm.stateReasonData = reasonData;
    alarm.stateUpdatedTimestamp = now;
    if (previous === state) return;
    alarm.stateTransitionedTimestamp = now;
    for (const listener of this.listeners) listener(alarm, previous);
  }

  // ----- evaluation --------------------------------------------------------------------------------------

  /** Ticks run while alarms exist: every 10 s if any alarm has a sub-minute period, else every minute. */
  private scheduleTick(): void {
    if (this.alarms.size === 0) return this.stopTick();
    const intervalSeconds = [...this.alarms.values()].some((a) => a.configuration.periodSeconds < 60)
      ? 10
      : 60;
    if (this.tick?.intervalSeconds === intervalSeconds) return;
    this.stopTick();
    const intervalMs = intervalSeconds * 1000;
    const now = this.account.clock.now();
    const next = Math.floor(now / intervalMs) * intervalMs + intervalMs;
    const id = this.account.clock.scheduleBackground((next - now) / 1000, () => this.onTick());
    this.tick = { id, intervalSeconds };
  }

  private stopTick(): void {
    if (this.tick) this.account.clock.cancel(this.tick.id);
    this.tick = undefined;
  }

  private onTick(): void {
    this.tick = undefined;
    const nowMs = this.account.clock.now();
    if (nowMs % 60_000 === 0 && nowMs > this.sampledUpTo) {
      this.sampledUpTo = nowMs;
      for (const source of this.sources) source.sample(nowMs - 60_000, this.metrics);
    }
    for (const alarm of [...this.alarms.values()]) {
      const everyMs = Math.min(alarm.configuration.periodSeconds, 60) * 1000;
      if (nowMs % everyMs === 0 && this.alarms.get(alarm.alarmName) === alarm) this.evaluate(alarm, nowMs);
    }
    this.scheduleTick();
  }

  /** One evaluation of `alarm` at `nowMs` (a multiple of its evaluation interval). */
  private evaluate(alarm: MetricAlarm, nowMs: number): void {
    const held = this.account.faults.heldAlarmState(alarm.alarmName, nowMs, this.account.startTime.getTime());
    if (held) return this.applyFault(alarm, held);
    const config = alarm.configuration;
    const periodMs = config.periodSeconds * 1000;
    const endMs = Math.floor(nowMs / periodMs) * periodMs;
    const count = evaluationRangePeriods(config.evaluationPeriods);
    const startMs = endMs - count * periodMs;
    const aggregates = this.metrics.aggregateAllUnits(
      config.metric,
      startMs,
      endMs,
      config.periodSeconds,
      config.unit,
    );
    const range: RangePeriod[] = [];
    for (let i = 0; i < count; i++) {
      const periodStart = startMs + i * periodMs;
      const values = aggregates.get(periodStart);
      range.push(
        values
          ? {
              startMs: periodStart,
              value: statisticValue(values, config.statistic),
              sampleCount: values.sampleCount,
            }
          : { startMs: periodStart, value: undefined },
      );
    }
    const outcome = evaluateAlarm({
      range,
      evaluationPeriods: config.evaluationPeriods,
      ...(config.datapointsToAlarm !== undefined ? { datapointsToAlarm: config.datapointsToAlarm } : {}),
      threshold: config.threshold,
      comparisonOperator: config.comparisonOperator,
      ...(config.treatMissingData !== undefined ? { treatMissingData: config.treatMissingData } : {}),
      current: alarm.stateValue,
      statistic: config.statistic,
      periodSeconds: config.periodSeconds,
      nowMs,
    });
    // CloudWatch records a new reason only with a new state: an alarm that stays OK keeps the reason it got.
    if (outcome.kind === 'state' && outcome.state !== alarm.stateValue) {
      this.transition(alarm, outcome.state, outcome.reason, outcome.reasonData);
    }
  }

  // ----- the alarm fault ---------------------------------------------------------------------------------

  private onFaultAdded(fault: ActiveFault): void {
    if (fault.kind !== 'alarm') return;
    const dueMs = this.account.startTime.getTime() + fault.atMinute * 60_000;
    const apply = () => {
      const alarm = this.alarms.get(fault.alarmName);
      if (!alarm || !this.account.faults.list().some((f) => f.id === fault.id)) return;
      const held = this.account.faults.heldAlarmState(
        fault.alarmName,
        this.account.clock.now(),
        this.account.startTime.getTime(),
      );
      if (held) this.applyFault(alarm, held);
    };
    const delayMs = dueMs - this.account.clock.now();
    if (delayMs <= 0) apply();
    else this.account.clock.scheduleBackground(delayMs / 1000, apply);
  }

  private applyFault(alarm: MetricAlarm, fault: Extract<ActiveFault, { kind: 'alarm' }>): void {
    if (alarm.stateValue === fault.state) return;
    this.transition(
      alarm,
      fault.state,
      `Threshold Crossed: the local account's alarm fault ${fault.id} holds this alarm in ${fault.state} ` +
        `from minute ${fault.atMinute} of the account until the fault is cleared.`,
    );
  }
}

const registry = new WeakMap<LocalAccount, CloudWatchAlarms>();

/** The CloudWatch alarms and metrics of `account` (created on first use). */
export function cloudWatchOf(account: LocalAccount): CloudWatchAlarms {
  let engine = registry.get(account);
  if (!engine) {
    engine = new CloudWatchAlarms(account);
    registry.set(account, engine);
  }
  return engine;
}
