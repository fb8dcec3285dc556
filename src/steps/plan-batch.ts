import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { planFleetRollback } from '../core/fleet-rollback.ts';
import type { LedgerGroup } from '../core/ledger-records.ts';
import {
  nextForwardBatch,
  nextRollbackBatch,
  rollbackOrder,
  lanesFor,
  type BatchPlan,
} from '../core/wave-plan.ts';
import { InvalidEventError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { assertLockHeld, ledgerOf, readRollout } from './ledger-steps.ts';
import { discoverUnrecordedRefreshes } from './trigger-rollback-refresh.ts';
import { getRollout, listGroups, listWaves, putGroups, updateRollout } from '../adapters/ledger.ts';

export const batchEventSchema = z.object({
  rolloutId: z.string().min(1),
  phase: z.enum(['forward', 'rollback']),
});

/** No group left: the batch's lanes are empty and FinishBatch says what comes next. */
const emptyPlan = (at: number): BatchPlan => ({
  from: at,
  to: at,
  items: [],
  maxParallel: 1,
  lanes: lanesFor([], 1),
  waitSeconds: 0,
  waves: [],
});

/**
 * Plan batch: the first state of a batch execution. Reads the ledger's cursor and returns the next slice of the
 * plan (core/wave-plan.ts): group indexes dealt to lanes, their concurrency, and what is left of the bake of the
 * wave before. The rollback's first batch plans the fleet rollback itself: every group a refresh of this rollout
 * reached (including a refresh whose record was lost, found on the group), newest wave first, into the ledger.
 * Checks that this rollout still holds the pipeline's lock. Reads only, except for the rollback plan, which a
 * second run finds already written.
 * Event: `{ rolloutId, phase }`. Result: the plan (`$.plan`).
 */
export function createPlanBatch(
  deps: StepDependencies<'autoscaling' | 'dynamodb'>,
): (event: unknown) => Promise<BatchPlan> {
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rolloutId, phase } = parseEvent(batchEventSchema, event, 'plan_batch');
    const ledger = ledgerOf(deps);
    const item = await getRollout(ledger, rolloutId);
    if (!item) {
      throw new InvalidEventError(
        `plan_batch: rollout ${rolloutId} is not in the ledger ${ledger.tableName}; Preflight writes it`,
      );
    }
    await assertLockHeld(ledger, item);
    const log = stepLogger(deps, 'plan_batch', { rolloutId, imageId: item.imageId });
    const waves = await listWaves(ledger, rolloutId);
    if (phase === 'forward') {
      if (item.failure) return emptyPlan(item.forwardCursor);
      const plan = nextForwardBatch(waves, item.forwardCursor, now()) ?? emptyPlan(item.forwardCursor);
      log.info('batch-planned', {
        phase,
        from: plan.from,
        to: plan.to,
        waves: plan.waves,
        maxParallel: plan.maxParallel,
        waitSeconds: plan.waitSeconds,
      });
      return plan;
    }
    let order = item.rollbackOrder;
    let groups: LedgerGroup[] | undefined;
    if (!order) {
      const read = await readRollout(ledger, rolloutId);
      groups = read.groups;
      const discovered = await discoverUnrecordedRefreshes(deps, read.view);
      const planned = planFleetRollback(read.view, discovered);
      if (planned.kind === 'invalid') throw new InvalidEventError(`plan_batch: ${planned.reason}`);
      const byName = new Map(groups.map((g) => [g.autoScalingGroupName, g]));
      const found = new Map(discovered.map((r) => [r.autoScalingGroupName, r]));
      const touched: LedgerGroup[] = [];
      for (const target of planned.fleetRollback.groups) {
        const group = byName.get(target.autoScalingGroupName);
        if (!group) continue;
        const lost = found.get(group.autoScalingGroupName);
        touched.push({
          ...group,
          ...(lost && !group.refresh ? { refresh: { ...lost, groupIndex: group.index } } : {}),
          rollback: {
            launchTemplateVersion: target.launchTemplateVersion,
            reason: target.reason,
            status: 'PENDING',
          },
        });
      }
      // A group planned before (a second run of this step) keeps its rollback's state.
      const fresh = touched.filter((g) => !byName.get(g.autoScalingGroupName)?.rollback);
      await putGroups(ledger, rolloutId, fresh);
      order = rollbackOrder(touched);
      await updateRollout(ledger, rolloutId, { rollbackOrder: order, rollbackCursor: 0, phase: 'rollback' });
      log.info('fleet-rollback-planned', {
        groups: touched.length,
        first: touched.slice(0, 10).map((g) => g.autoScalingGroupName),
      });
    }
    const waveOf = await waveLookup(ledger, rolloutId, groups);
    const cursor = item.rollbackOrder ? item.rollbackCursor : 0;
    const plan = nextRollbackBatch(waves, order, waveOf, cursor) ?? emptyPlan(cursor);
    log.info('batch-planned', {
      phase,
      from: plan.from,
      to: plan.to,
      waves: plan.waves,
      maxParallel: plan.maxParallel,
    });
    return plan;
  };
}

async function waveLookup(
  ledger: ReturnType<typeof ledgerOf>,
  rolloutId: string,
  groups: readonly LedgerGroup[] | undefined,
): Promise<(index: number) => number> {
  const all = groups ?? (await listGroups(ledger, rolloutId));
  const waves = new Map(all.map((g) => [g.index, g.wave]));
  return (index) => waves.get(index) ?? -1;
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<BatchPlan> =>
  runInLambda(createPlanBatch, { autoscaling: AutoScalingClient, dynamodb: DynamoDBClient }, event);
