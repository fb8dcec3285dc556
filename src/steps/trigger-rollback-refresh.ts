import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  globalRefresh,
  groupResult,
  ledgerOf,
  parseGroupEvent,
  readGroup,
  rollbackViewOf,
  type GroupResult,
} from './ledger-steps.ts';
import { EC2Client } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { cancelRefresh, describeGroups, describeRefreshes, startRefresh } from '../adapters/autoscaling.ts';
import { groupsToInspect, planFleetRollback, type FleetRollback } from '../core/fleet-rollback.ts';
import { isRolledBack } from '../core/ledger-records.ts';
import { decideExistingRefresh, rollbackRefreshPreferencesRequest } from '../core/refresh-plan.ts';
import {
  fleetRollbackSchema,
  refreshRecordSchema,
  rolloutSchema,
  type RefreshRecord,
} from '../core/rollout.ts';
import { InvalidEventError, RefreshInProgressError } from '../errors.ts';
import { restoreGroupVersions } from './group-versions.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { putGroup } from '../adapters/ledger.ts';

/** The rollout after RollbackAmi: possibly partial (a failure can come before the forward steps finished). */
export const fleetRollbackEventSchema = z.object({
  rollout: rolloutSchema
    .partial()
    .required({ rolloutId: true, imageId: true })
    .extend({
      templates: rolloutSchema.shape.templates.default([]),
      groups: rolloutSchema.shape.groups.default([]),
      refreshes: z.array(refreshRecordSchema).default([]),
      fleetRollback: fleetRollbackSchema.optional(),
    })
    .passthrough(),
});
export type FleetRollbackEvent = z.output<typeof fleetRollbackEventSchema>;
export type FleetRollbackRollout = FleetRollbackEvent['rollout'] & { fleetRollback: FleetRollback };

/**
 * Trigger rollback refresh: refreshes the next group that got the new image back to the numbered template
 * version it ran before, so its instances leave the bad image (templates alone would not replace them).
 * A refresh of this rollout still running on the group (it timed out, or is winding down) is cancelled first;
 * while the group is busy the step throws `RefreshInProgressError`, which the state machine retries.
 * Event: `{ rollout }`. Result: the rollout with `fleetRollback` (`done: true` when every group is back).
 */
export function createTriggerRollbackRefresh(
  deps: StepDependencies<'autoscaling' | 'ec2'>,
): (event: unknown) => Promise<FleetRollbackRollout> {
  const { config, autoscaling } = deps;
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const { rollout } = parseEvent(fleetRollbackEventSchema, event, 'trigger_rollback_refresh');
    const { rolloutId, imageId } = rollout;
    let plan = rollout.fleetRollback;
    if (!plan) {
      const planned = planFleetRollback(rollout, await discoverUnrecordedRefreshes(deps, rollout));
      if (planned.kind === 'invalid')
        throw new InvalidEventError(`trigger_rollback_refresh: ${planned.reason}`);
      plan = planned.fleetRollback;
    }
    const group = plan.groups[plan.index];
    if (!group) {
      const log = stepLogger(deps, 'trigger_rollback_refresh', { rolloutId, imageId });
      // Every pinned group, refreshed or not: the templates are back, so $Default names what they run again.
      await restoreGroupVersions(deps, rollout.groups, log);
      log.info('fleet-rolled-back', { groups: plan.groups.map((g) => g.autoScalingGroupName) });
      return { ...rollout, fleetRollback: { ...plan, done: true } };
    }
    const { autoScalingGroupName, launchTemplateId, launchTemplateVersion } = group;
    const log = stepLogger(deps, 'trigger_rollback_refresh', { rolloutId, imageId, autoScalingGroupName });

    const existing = await describeRefreshes(autoscaling, autoScalingGroupName);
    const decision = decideExistingRefresh(existing, { launchTemplateId, version: launchTemplateVersion });
    if (decision.kind === 'conflict') {
      // Our own forward refresh (recorded, or found towards the version this rollout created), still running:
      // stop it so the group can be refreshed back. Anyone else's refresh is waited for, never cancelled.
      const newVersion = rollout.templates.find((t) => t.launchTemplateId === launchTemplateId)?.newVersion;
      const ours =
        rollout.refreshes.some((r) => r.instanceRefreshId === decision.refresh.instanceRefreshId) ||
        (newVersion !== undefined &&
          decision.refresh.launchTemplateId === launchTemplateId &&
          decision.refresh.launchTemplateVersion === String(newVersion));
      if (
        ours &&
        decision.refresh.status !== 'Cancelling' &&
        decision.refresh.status !== 'RollbackInProgress'
      ) {
        await cancelRefresh(autoscaling, autoScalingGroupName);
        log.warn('forward-refresh-cancelled', {
          instanceRefreshId: decision.refresh.instanceRefreshId,
          status: decision.refresh.status,
        });
      }
      throw new RefreshInProgressError(
        `group ${autoScalingGroupName} is busy with instance refresh ${decision.refresh.instanceRefreshId} (${decision.refresh.status}); the rollback refresh starts when it has stopped`,
      );
    }

    let adopted = decision.kind === 'adopt' ? decision.refresh : undefined;
    let instanceRefreshId = adopted?.instanceRefreshId;
    if (!instanceRefreshId) {
      // A small group keeps its desired count on the way back too (see healthyPercentages).
      const current = (await describeGroups(autoscaling, [autoScalingGroupName])).get(autoScalingGroupName);
      const started = await startRefresh(autoscaling, {
        autoScalingGroupName,
        launchTemplateId,
        launchTemplateVersion,
        preferences: rollbackRefreshPreferencesRequest(config.refreshPreferences, {
          desiredCapacity: current?.desiredCapacity,
        }),
      });
      if (started.kind === 'in-progress') {
        throw new RefreshInProgressError(
          `group ${autoScalingGroupName} refused the rollback refresh: one is already in progress`,
          {
            cause: started.error,
          },
        );
      }
      instanceRefreshId = started.instanceRefreshId;
      adopted = undefined;
    }
    const refresh: RefreshRecord = {
      groupIndex: plan.index,
      autoScalingGroupName,
      instanceRefreshId,
      launchTemplateId,
      launchTemplateVersion,
      startedAt: (adopted?.startTime ?? now()).toISOString(),
      ...(adopted ? { adopted: true, status: adopted.status } : { status: 'Pending' }),
      outcome: 'IN_PROGRESS',
    };
    log.info(adopted ? 'rollback-refresh-adopted' : 'rollback-refresh-started', {
      instanceRefreshId,
      launchTemplateId,
      launchTemplateVersion,
      reason: group.reason,
    });
    return {
      ...rollout,
      fleetRollback: {
        ...plan,
        done: false,
        refresh,
        refreshes: [...plan.refreshes.filter((r) => r.groupIndex !== plan.index), refresh],
      },
    };
  };
}

/**
 * Refreshes this rollout started that its record lost: a forward trigger that started a refresh and failed before
 * returning (a timeout, say) leaves the group replacing instances with the new image and no record of it. A
 * refresh towards the template version this rollout created can only be this rollout's.
 */
export async function discoverUnrecordedRefreshes(
  deps: StepDependencies<'autoscaling'>,
  rollout: FleetRollbackEvent['rollout'],
): Promise<RefreshRecord[]> {
  const found: RefreshRecord[] = [];
  for (const { name, index } of groupsToInspect({
    ...rollout,
    groupIndex: rollout.groupIndex ?? rollout.groups.length - 1,
  })) {
    const group = rollout.groups[index];
    const template = rollout.templates.find((t) => t.launchTemplateId === group?.launchTemplateId);
    if (!template?.newVersion) continue;
    const ours = (await describeRefreshes(deps.autoscaling, name)).find(
      (r) =>
        r.launchTemplateId === template.launchTemplateId &&
        r.launchTemplateVersion === String(template.newVersion),
    );
    if (!ours) continue;
    found.push({
      groupIndex: index,
      autoScalingGroupName: name,
      instanceRefreshId: ours.instanceRefreshId,
      launchTemplateId: template.launchTemplateId,
      launchTemplateVersion: template.newVersion,
      status: ours.status,
      adopted: true,
    });
  }
  return found;
}

/**
 * The step as the group machine runs it: starts (or adopts) the group's rollback refresh and writes it to the
 * group's item as ROLLING_BACK. A group already back is left alone.
 * Event: `{ group: { rolloutId, phase, groupIndex } }`. Result: `{ ..., outcome }` (IN_PROGRESS to poll).
 */
export function createTriggerRollbackRefreshStep(
  deps: StepDependencies<'autoscaling' | 'ec2' | 'dynamodb'>,
): (event: unknown) => Promise<GroupResult> {
  const inner = createTriggerRollbackRefresh(deps);
  return async (event) => {
    const { rolloutId, groupIndex } = parseGroupEvent(event, 'trigger_rollback_refresh');
    const ledger = ledgerOf(deps);
    const { group, view } = await readGroup(ledger, rolloutId, groupIndex);
    const result = (outcome: GroupResult['outcome']) => groupResult(group, 'rollback', rolloutId, outcome);
    const rollback = group.rollback;
    if (isRolledBack(rollback?.status)) return result('SUCCEEDED');
    if (rollback?.status === 'FAILED') return result('FAILED');
    if (rollback?.status === 'ROLLING_BACK' && rollback.refresh) return result('IN_PROGRESS');
    const after = await inner({ rollout: rollbackViewOf(view, group) });
    const started = after.fleetRollback.refresh;
    if (!started || !rollback)
      throw new InvalidEventError(
        `trigger_rollback_refresh: group ${groupIndex} started no rollback refresh`,
      );
    await putGroup(ledger, rolloutId, {
      ...group,
      rollback: { ...rollback, status: 'ROLLING_BACK', refresh: globalRefresh(started, group) },
    });
    return result('IN_PROGRESS');
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<GroupResult> =>
  runInLambda(
    createTriggerRollbackRefreshStep,
    { autoscaling: AutoScalingClient, ec2: EC2Client, dynamodb: DynamoDBClient },
    event,
  );
