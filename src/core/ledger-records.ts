import type { AlarmReading, GatePlan } from './gate.ts';
import type {
  FleetRollback,
  FleetRollbackGroup,
  GroupRecord,
  RefreshRecord,
  RollbackRecord,
  Rollout,
  TemplateRecord,
} from './rollout.ts';

/**
 * What the rollout ledger holds (adapters/ledger.ts), and the one translation between it and the rollout record
 * the fleet-wide steps reason about (`rolloutView`, `ledgerChanges`). Pure: no AWS here.
 */

/** A group's place in the rollout. */
export type GroupStatus =
  | 'PENDING'
  /** The trigger is starting its refresh (set before StartInstanceRefresh, so a lost response is found). */
  | 'STARTING'
  | 'REFRESHING'
  | 'SUCCEEDED'
  | 'FAILED'
  /** Not started: the rollout had already failed when its turn came. */
  | 'SKIPPED';

export type RollbackStatus = 'PENDING' | 'ROLLING_BACK' | 'ROLLED_BACK' | 'INCOMPLETE' | 'FAILED';

/** A group's rollback that has ended without failing (INCOMPLETE: Successful, some instances left behind). */
export const isRolledBack = (status: RollbackStatus | undefined): boolean =>
  status === 'ROLLED_BACK' || status === 'INCOMPLETE';

export interface LedgerGroup extends GroupRecord {
  readonly index: number;
  /** Index of the wave the group belongs to. */
  readonly wave: number;
  readonly status: GroupStatus;
  readonly refresh?: RefreshRecord;
  readonly startedAt?: string;
  readonly endedAt?: string;
  /** When a step last read the group's refresh (forward or back): the time its percentage is from. */
  readonly checkedAt?: string;
  /** Set when the fleet rollback plans this group. */
  readonly rollback?: {
    readonly launchTemplateVersion: number;
    readonly reason: string;
    readonly status: RollbackStatus;
    readonly refresh?: RefreshRecord;
    /** When the rollback refresh ended. */
    readonly endedAt?: string;
  };
}

export type LedgerTemplate = TemplateRecord;

export interface LedgerWave {
  readonly index: number;
  readonly name: string;
  readonly firstGroup: number;
  readonly groupCount: number;
  readonly maxParallel: number;
  readonly bakeMinutes: number;
  /** The alarms watched during the wave's refreshes and its bake: the gate's, then the wave's. Absent: none. */
  readonly alarmNames?: string[];
  /** How the wave found its groups: the names it lists and, per tag selector, the groups found. */
  readonly selectedByTags?: Readonly<Record<string, string>>;
  readonly endedAt?: string;
}

export interface LedgerRolloutItem {
  readonly rolloutId: string;
  readonly imageId: string;
  readonly executionArn: string;
  readonly createdAt: string;
  readonly rollbackTargetImageId: string;
  readonly rollbackTargetSource?: Rollout['rollbackTargetSource'];
  readonly groupCount: number;
  readonly waveCount: number;
  /** Index of the next group, in rollout order, the forward batches start from. */
  readonly forwardCursor: number;
  /** Index into `rollbackOrder` of the next group the rollback batches start from. */
  readonly rollbackCursor: number;
  /**
   * The first failure: later groups do not start. A group's refresh failed (`autoScalingGroupName`, `index`), or
   * the health gate fired (`alarm`: during a wave's refreshes, its bake, or the watch window).
   */
  readonly failure?: {
    readonly autoScalingGroupName?: string;
    readonly index?: number;
    readonly wave: number;
    readonly reason: string;
    readonly at: string;
    readonly alarm?: AlarmReading & { readonly during: 'refresh' | 'bake' | 'watch' };
    /** An operator aborted the rollout (`ami-rollout abort`): their reason, and who (the caller's ARN). */
    readonly abort?: { readonly reason: string; readonly by?: string };
    /** An operator asked for the rollout to be rolled back after it stopped or ended (`ami-rollout rollback`). */
    readonly rollbackRequest?: { readonly reason: string; readonly by?: string };
  };
  /** `{param}` and `{param}-previous` as Preflight found them, before any change: what a rollback restores. */
  readonly parameterBefore?: { readonly value?: string; readonly previousValue?: string };
  /**
   * The rollback-only execution (`ami-rollout rollback`) that now runs this rollout's rollback: it holds the
   * pipeline's lock in the rollout's stead. `after`: how the rollout had ended (or STOPPED) when it was asked.
   */
  readonly rollbackRun?: {
    readonly executionArn: string;
    readonly requestedAt: string;
    readonly reason: string;
    readonly by?: string;
    readonly after: string;
  };
  /** The health gate Preflight planned (absent for rollouts from before gates). */
  readonly gate?: GatePlan;
  /** When a step last claimed the gate's check (adapters/ledger.ts claimGateCheck). */
  readonly gateClaimedAt?: string;
  /** The gate's last reading: when, and each alarm's state then. */
  readonly gateCheck?: { readonly at: string; readonly alarms: readonly AlarmReading[] };
  readonly rollback?: RollbackRecord;
  /** The groups to refresh back, as batches of the fleet rollback take them (newest wave first). */
  readonly rollbackOrder?: readonly number[];
  readonly phase?: 'forward' | 'rollback' | 'ended';
  readonly outcome?: 'SUCCEEDED' | 'ROLLED_BACK' | 'ROLLBACK_FAILED' | 'FAILED';
  readonly endedAt?: string;
}

/** The execution that runs the rollout now: a rollback-only execution once one took it over, else its own. */
export const ownerExecutionArn = (item: Pick<LedgerRolloutItem, 'executionArn' | 'rollbackRun'>): string =>
  item.rollbackRun?.executionArn ?? item.executionArn;

/** The newest rollout that wrote a plan to the ledger (the item `(NEWEST, NEWEST)`), which a rollback must be. */
export interface NewestRollout {
  readonly rolloutId: string;
  readonly executionArn: string;
  readonly imageId: string;
  readonly createdAt: string;
}

/** The ledger as the fleet-wide steps see it: the rollout record of before (core/rollout.ts). */
export function rolloutView(
  rollout: LedgerRolloutItem,
  templates: readonly LedgerTemplate[],
  groups: readonly LedgerGroup[],
): Rollout {
  const ordered = [...groups].sort((a, b) => a.index - b.index);
  const refreshes = ordered.flatMap((g) => (g.refresh ? [{ ...g.refresh, groupIndex: g.index }] : []));
  const reached = ordered.filter((g) => g.status !== 'PENDING' && g.status !== 'SKIPPED');
  const fleetRollback = fleetRollbackView(rollout, ordered);
  return {
    rolloutId: rollout.rolloutId,
    imageId: rollout.imageId,
    rollbackTargetImageId: rollout.rollbackTargetImageId,
    ...(rollout.rollbackTargetSource ? { rollbackTargetSource: rollout.rollbackTargetSource } : {}),
    ...(rollout.parameterBefore ? { parameterBefore: rollout.parameterBefore } : {}),
    templates: templates.map(templateRecord),
    groups: ordered.map(groupRecord),
    groupIndex: reached.length > 0 ? Math.max(...reached.map((g) => g.index)) : 0,
    done: ordered.length > 0 && ordered.every((g) => g.status === 'SUCCEEDED'),
    refreshes,
    ...(rollout.rollback ? { rollback: rollout.rollback } : {}),
    ...(fleetRollback ? { fleetRollback } : {}),
  };
}

function fleetRollbackView(
  rollout: LedgerRolloutItem,
  groups: readonly LedgerGroup[],
): FleetRollback | undefined {
  if (!rollout.rollbackOrder) return undefined;
  const byIndex = new Map(groups.map((g) => [g.index, g]));
  const planned = rollout.rollbackOrder.flatMap((index) => {
    const group = byIndex.get(index);
    return group?.rollback ? [{ group, rollback: group.rollback }] : [];
  });
  const rollbackGroups: FleetRollbackGroup[] = planned.map(({ group, rollback }) => ({
    autoScalingGroupName: group.autoScalingGroupName,
    launchTemplateId: group.launchTemplateId,
    launchTemplateVersion: rollback.launchTemplateVersion,
    reason: rollback.reason,
  }));
  const refreshes = planned.flatMap(({ rollback }, position) =>
    rollback.refresh ? [{ ...rollback.refresh, groupIndex: position }] : [],
  );
  // `index`: the groups before it are back (the notification reads them as such); a failed one stops it.
  const firstNotBack = planned.findIndex(({ rollback }) => !isRolledBack(rollback.status));
  const index = firstNotBack < 0 ? planned.length : firstNotBack;
  return {
    groups: rollbackGroups,
    index,
    done: index === planned.length,
    refreshes,
  };
}

const templateRecord = (t: LedgerTemplate): TemplateRecord => ({
  launchTemplateId: t.launchTemplateId,
  ...(t.launchTemplateName !== undefined ? { launchTemplateName: t.launchTemplateName } : {}),
  previousVersion: t.previousVersion,
  ...(t.previousImageId !== undefined ? { previousImageId: t.previousImageId } : {}),
  ...(t.newVersion !== undefined ? { newVersion: t.newVersion } : {}),
  ...(t.changed !== undefined ? { changed: t.changed } : {}),
});

const groupRecord = (g: LedgerGroup): GroupRecord => ({
  autoScalingGroupName: g.autoScalingGroupName,
  launchTemplateId: g.launchTemplateId,
  previousLaunchTemplateVersion: g.previousLaunchTemplateVersion,
  ...(g.pinnedVersion !== undefined ? { pinnedVersion: g.pinnedVersion } : {}),
});

/**
 * What a fleet-wide step changed, to write back: the templates and groups whose record differs, and the
 * rollout fields it owns (the rollback record, the rollback target).
 */
export function ledgerChanges(
  before: Rollout,
  after: Rollout,
  groups: readonly LedgerGroup[],
): { templates: LedgerTemplate[]; groups: LedgerGroup[] } {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const templates = after.templates.filter(
    (t) =>
      !same(
        t,
        before.templates.find((b) => b.launchTemplateId === t.launchTemplateId),
      ),
  );
  const byName = new Map(groups.map((g) => [g.autoScalingGroupName, g]));
  const changed: LedgerGroup[] = [];
  for (const record of after.groups) {
    const old = byName.get(record.autoScalingGroupName);
    if (!old || same(groupRecord(old), record)) continue;
    const { pinnedVersion: _dropped, ...rest } = old;
    changed.push({ ...rest, ...record });
  }
  return { templates, groups: changed };
}
