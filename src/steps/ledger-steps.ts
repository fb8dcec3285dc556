import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { describeExecution } from '../adapters/sfn.ts';
import { isRunningExecution } from '../core/start-decision.ts';
import {
  acquireLock,
  getGroup,
  getRollout,
  getTemplate,
  Ledger,
  listGroups,
  listTemplates,
  type LockItem,
  putGroups,
  putTemplates,
  readLock,
  takeOverLock,
  updateRollout,
} from '../adapters/ledger.ts';
import {
  ownerExecutionArn,
  rolloutView,
  ledgerChanges,
  type LedgerGroup,
  type LedgerRolloutItem,
} from '../core/ledger-records.ts';
import type { FleetRollback, RefreshRecord, Rollout } from '../core/rollout.ts';
import { InvalidEventError, LedgerError, RolloutInProgressError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseEvent, type StepClients, type StepDependencies } from './dependencies.ts';

/**
 * The steps and the ledger. A step of the rollout machine gets `{ rollout: { rolloutId, ... } }` (a key, never
 * the fleet); one of the group machine gets `{ group: { rolloutId, phase, groupIndex } }`. The fleet-wide steps
 * keep reasoning about the rollout record (core/rollout.ts): `onRolloutView` reads it from the ledger, runs the
 * step on it and writes back what changed. The group steps work on one group's item.
 */

export type LedgerDependencies = StepDependencies<never> & Pick<StepClients, 'dynamodb'>;

export function ledgerOf(deps: { ledgerTable?: string; dynamodb?: DynamoDBClient }): Ledger {
  if (!deps.ledgerTable || !deps.dynamodb) {
    throw new LedgerError(
      'the rollout ledger is not configured: set AMI_ROLLOUT_LEDGER_TABLE to the DynamoDB table the stack created',
    );
  }
  return new Ledger(deps.dynamodb, deps.ledgerTable);
}

/** What the rollout machine carries at `$.rollout`: keys and counts. */
export const rolloutRefSchema = z
  .object({
    rolloutId: z.string().min(1),
    imageId: z.string().min(1),
    executionArn: z.string().optional(),
    groups: z.number().int().min(0).optional(),
    waves: z.number().int().min(0).optional(),
    mode: z.enum(['rollout', 'rollback']).optional(),
    rollbackReason: z.string().optional(),
  })
  .passthrough();
export type RolloutRef = z.infer<typeof rolloutRefSchema>;

/**
 * `mode`: `rollback` once a rollback-only execution runs the rollout (the rollout machine then skips the forward
 * steps and ends as a requested rollback), with the operator's reason.
 */
export const refOf = (item: LedgerRolloutItem): RolloutRef => ({
  rolloutId: item.rolloutId,
  imageId: item.imageId,
  executionArn: item.executionArn,
  groups: item.groupCount,
  waves: item.waveCount,
  mode: item.rollbackRun ? 'rollback' : 'rollout',
  ...(item.rollbackRun ? { rollbackReason: item.rollbackRun.reason } : {}),
});

/** The rollout, its templates and groups, as the fleet-wide steps see them. */
export async function readRollout(
  ledger: Ledger,
  rolloutId: string,
): Promise<{ item: LedgerRolloutItem; groups: LedgerGroup[]; view: Rollout }> {
  const item = await getRollout(ledger, rolloutId);
  if (!item) {
    throw new LedgerError(
      `rollout ${rolloutId} is not in the ledger ${ledger.tableName}: Preflight writes it; start the rollout through the state machine`,
    );
  }
  const [templates, groups] = await Promise.all([
    listTemplates(ledger, rolloutId),
    listGroups(ledger, rolloutId),
  ]);
  return { item, groups, view: rolloutView(item, templates, groups) };
}

/**
 * A fleet-wide step (ShareAmi, UpdateLaunchTemplates, RollbackAmi) on the ledger: the step runs on the rollout
 * record read from it, and what it changed (templates, groups' pins, the rollback record) is written back. The
 * result is the same small reference the event carried.
 */
export function onRolloutView(
  deps: { ledgerTable?: string; dynamodb?: DynamoDBClient },
  step: string,
  inner: (event: unknown) => Promise<Partial<Rollout>>,
): (event: unknown) => Promise<RolloutRef> {
  return async (event) => {
    const { rollout: ref } = parseEvent(z.object({ rollout: rolloutRefSchema }).passthrough(), event, step);
    const ledger = ledgerOf(deps);
    const { item, groups, view } = await readRollout(ledger, ref.rolloutId);
    const after = await inner({ ...(event as object), rollout: view });
    const changes = ledgerChanges(view, { ...view, ...after } as Rollout, groups);
    await putTemplates(ledger, ref.rolloutId, changes.templates);
    await putGroups(ledger, ref.rolloutId, changes.groups);
    if (after.rollback && JSON.stringify(after.rollback) !== JSON.stringify(item.rollback))
      await updateRollout(ledger, ref.rolloutId, { rollback: after.rollback });
    return refOf(item);
  };
}

/** The group machine's event: which rollout, which group, which way. */
export const groupEventSchema = z.object({
  group: z
    .object({
      rolloutId: z.string().min(1),
      phase: z.enum(['forward', 'rollback']),
      groupIndex: z.number().int().min(0),
    })
    .passthrough(),
});

export type GroupOutcome = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

export interface GroupResult {
  readonly rolloutId: string;
  readonly phase: 'forward' | 'rollback';
  readonly groupIndex: number;
  readonly autoScalingGroupName: string;
  readonly outcome: GroupOutcome;
}

/** One group's rollout item and template, read for a group step. */
export async function readGroup(
  ledger: Ledger,
  rolloutId: string,
  groupIndex: number,
): Promise<{ item: LedgerRolloutItem; group: LedgerGroup; view: Rollout }> {
  const [item, group] = await Promise.all([
    getRollout(ledger, rolloutId),
    getGroup(ledger, rolloutId, groupIndex),
  ]);
  if (!item || !group) {
    throw new LedgerError(
      `rollout ${rolloutId} has no group ${groupIndex} in the ledger ${ledger.tableName}; the group machine runs only groups Preflight planned`,
    );
  }
  const template = await getTemplate(ledger, rolloutId, group.launchTemplateId);
  if (!template) {
    throw new LedgerError(`rollout ${rolloutId} has no record of launch template ${group.launchTemplateId}`);
  }
  // The group seen as a one-group rollout: the forward and rollback steps' own logic runs on it unchanged.
  const local = {
    ...group,
    index: 0,
    ...(group.refresh ? { refresh: { ...group.refresh, groupIndex: 0 } } : {}),
  };
  const view = rolloutView(
    { ...item, rollbackOrder: group.rollback ? [0] : undefined } as LedgerRolloutItem,
    [template],
    [local],
  );
  return { item, group, view: { ...view, groupIndex: 0, done: false } };
}

/** A refresh record with the group's place in the whole rollout (the view numbers it 0). */
export const globalRefresh = (refresh: RefreshRecord, group: LedgerGroup): RefreshRecord => ({
  ...refresh,
  groupIndex: group.index,
});

export const groupResult = (
  group: LedgerGroup,
  phase: 'forward' | 'rollback',
  rolloutId: string,
  outcome: GroupOutcome,
): GroupResult => ({
  rolloutId,
  phase,
  groupIndex: group.index,
  autoScalingGroupName: group.autoScalingGroupName,
  outcome,
});

/** The refresh record of `group` to report a failure with: its forward refresh, or what stopped it. */
export function failureRecord(group: LedgerGroup | undefined, reason: string): Record<string, unknown> {
  if (group?.refresh) return { ...group.refresh };
  return { autoScalingGroupName: group?.autoScalingGroupName ?? 'unknown', statusReason: reason };
}

/**
 * One rollout at a time, as a conditional write: the lock item holds the execution ARN. A lock whose holder has
 * ended (stopped, failed, timed out, or gone) without releasing it is taken over, with a warning naming it.
 */
export async function acquireRolloutLock(
  deps: Pick<StepDependencies<never>, 'now'> & Partial<Pick<StepClients, 'sfn'>>,
  ledger: Ledger,
  lock: Omit<LockItem, 'acquiredAt'>,
  log: Logger,
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const wanted: LockItem = { ...lock, acquiredAt: now().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await acquireLock(ledger, wanted);
    if (result.kind === 'acquired') return;
    const holder = result.holder;
    const status = await holderStatus(deps, holder.executionArn);
    if (isRunningExecution(status)) {
      throw new RolloutInProgressError(
        `another rollout holds the pipeline's lock: ${holder.rolloutId} (${holder.executionArn}, ${status} since ${holder.acquiredAt}); one rollout at a time, so this execution stops here and changed nothing. Start this one again when that rollout has ended.`,
      );
    }
    if (await takeOverLock(ledger, holder.executionArn, wanted)) {
      log.warn('stale-lock-recovered', {
        staleExecutionArn: holder.executionArn,
        staleRolloutId: holder.rolloutId,
        staleStatus: status,
        acquiredAt: holder.acquiredAt,
        message: `the lock was held by ${holder.executionArn}, which is ${status} and did not release it; this rollout took it over`,
      });
      return;
    }
  }
  throw new RolloutInProgressError(
    'the pipeline lock changed hands three times while this rollout tried to take it; start the rollout again',
  );
}

async function holderStatus(deps: Partial<Pick<StepClients, 'sfn'>>, executionArn: string): Promise<string> {
  if (!deps.sfn) {
    throw new LedgerError(
      `the pipeline lock is held by ${executionArn}, and this step was given no Step Functions client to see whether it still runs`,
    );
  }
  const found = await describeExecution(deps.sfn, executionArn);
  return found?.status ?? 'GONE';
}

/**
 * The lock must still be this rollout's (its own execution's, or the rollback-only execution's that took it
 * over): a redriven execution whose lock was taken over must not go on.
 */
export async function assertLockHeld(ledger: Ledger, item: LedgerRolloutItem): Promise<void> {
  const lock = await readLock(ledger);
  const owner = ownerExecutionArn(item);
  if (lock?.executionArn === owner) return;
  if (!lock) {
    // Released (the rollout's notify ran) and nobody else took it: take it back for this execution.
    const result = await acquireLock(ledger, {
      executionArn: owner,
      rolloutId: item.rolloutId,
      acquiredAt: new Date().toISOString(),
    });
    if (result.kind === 'acquired') return;
  }
  throw new RolloutInProgressError(
    `rollout ${item.rolloutId} no longer holds the pipeline's lock: ${lock ? `${lock.rolloutId} (${lock.executionArn}) took it` : 'another execution took it'}; this execution stops without touching the fleet`,
  );
}

/** The group's fleet rollback as the rollback steps' own logic sees it: a one-group rollback at index 0. */
export function rollbackViewOf(
  view: Rollout,
  group: LedgerGroup,
): Rollout & { fleetRollback: FleetRollback } {
  const rollback = group.rollback;
  if (!rollback) {
    throw new LedgerError(
      `group ${group.autoScalingGroupName} has no rollback planned in the ledger; the rollback batch plans it first`,
    );
  }
  const refresh = rollback.refresh ? { ...rollback.refresh, groupIndex: 0 } : undefined;
  return {
    ...view,
    fleetRollback: {
      groups: [
        {
          autoScalingGroupName: group.autoScalingGroupName,
          launchTemplateId: group.launchTemplateId,
          launchTemplateVersion: rollback.launchTemplateVersion,
          reason: rollback.reason,
        },
      ],
      index: 0,
      done: false,
      ...(refresh ? { refresh } : {}),
      refreshes: refresh ? [refresh] : [],
    },
  };
}

/** Parses a group step's event. */
export const parseGroupEvent = (event: unknown, step: string) =>
  parseEvent(groupEventSchema, event, step).group;

export { InvalidEventError };
