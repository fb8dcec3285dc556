import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  describeGroups,
  describeRefreshes,
  pinGroupTemplateVersion,
  startRefresh,
} from '../adapters/autoscaling.ts';
import { pinAtTurn } from '../core/group-pinning.ts';
import {
  decideExistingRefresh,
  nextGroup,
  refreshPreferencesRequest,
  type ExistingRefresh,
} from '../core/refresh-plan.ts';
import { rolloutEventSchema, type RefreshRecord, type Rollout } from '../core/rollout.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvalidEventError, RefreshInProgressError } from '../errors.ts';
import {
  globalRefresh,
  groupResult,
  ledgerOf,
  parseGroupEvent,
  readGroup,
  type GroupResult,
} from './ledger-steps.ts';
import { restoreGroupVersions } from './group-versions.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { putGroup } from '../adapters/ledger.ts';

/**
 * Trigger instance refresh: starts the refresh of the group at `rollout.groupIndex`, to the numbered template
 * version the update step created (never `$Latest`/`$Default`, so AutoRollback works and a rollback has a
 * version to return to). A refresh this rollout already started (a retry after a lost response) is adopted.
 * The update step pinned the group to a number already; one found on `$Default`/`$Latest` is pinned again
 * with a warning (see `pinAtTurn`). After the last group, every pinned group gets its own setting back.
 * Event: `{ rollout }`. Result: the rollout with `refresh` (group, refresh id, index) and `done: false`, or
 * `done: true` when every group has been refreshed.
 */
export function createTriggerInstanceRefresh(
  deps: StepDependencies<'autoscaling' | 'ec2'>,
): (event: unknown) => Promise<Rollout> {
  const { config, autoscaling } = deps;
  return async (event) => {
    const { rollout } = parseEvent(rolloutEventSchema, event, 'trigger_instance_refresh');
    const { rolloutId, imageId } = rollout;
    const decision = nextGroup(rollout);
    if (decision.kind === 'invalid')
      throw new InvalidEventError(`trigger_instance_refresh: ${decision.reason}`);
    if (decision.kind === 'done') {
      const log = stepLogger(deps, 'trigger_instance_refresh', { rolloutId, imageId });
      await restoreGroupVersions(deps, rollout.groups, log);
      log.info('all-groups-refreshed', { groups: rollout.groups.map((g) => g.autoScalingGroupName) });
      return { ...rollout, done: true };
    }

    const { group, groupIndex, launchTemplateId, launchTemplateVersion } = decision;
    const autoScalingGroupName = group.autoScalingGroupName;
    const log = stepLogger(deps, 'trigger_instance_refresh', { rolloutId, imageId, autoScalingGroupName });
    const desired = {
      launchTemplateId,
      version: launchTemplateVersion,
      ...optionalName(
        rollout.templates.find((t) => t.launchTemplateId === launchTemplateId)?.launchTemplateName,
      ),
    };

    const adoptOrFail = (refreshes: readonly ExistingRefresh[]): ExistingRefresh | undefined => {
      const existing = decideExistingRefresh(refreshes, desired);
      if (existing.kind === 'conflict') {
        throw new RefreshInProgressError(
          `group ${autoScalingGroupName} has instance refresh ${existing.refresh.instanceRefreshId} (${existing.refresh.status}) that this rollout did not start; wait for it or cancel it, then redrive`,
        );
      }
      return existing.kind === 'adopt' ? existing.refresh : undefined;
    };

    let adopted = adoptOrFail(await describeRefreshes(autoscaling, autoScalingGroupName));
    let instanceRefreshId = adopted?.instanceRefreshId;
    if (!instanceRefreshId) {
      const template = rollout.templates.find((t) => t.launchTemplateId === launchTemplateId);
      const current = (await describeGroups(autoscaling, [autoScalingGroupName])).get(autoScalingGroupName);
      const turn = template
        ? pinAtTurn(group, template, current?.launchTemplate?.version)
        : ({ kind: 'ok' } as const);
      if (turn.kind === 'repin') {
        // The update step pinned every group before any default moved; someone set it back since.
        await pinGroupTemplateVersion(autoscaling, {
          autoScalingGroupName,
          launchTemplateId,
          version: turn.version,
        });
        log.warn('group-found-following-template', {
          launchTemplateId,
          from: turn.from,
          to: turn.version,
          reason: `the group was set to ${turn.from} after the rollout pinned it, so it may have launched the new image before its turn; pinned again to version ${turn.version} (AutoRollback and the fleet rollback need a number), and its refresh replaces those instances now`,
        });
      }
      const started = await startRefresh(autoscaling, {
        autoScalingGroupName,
        launchTemplateId,
        launchTemplateVersion,
        preferences: refreshPreferencesRequest(config.refreshPreferences, {
          desiredCapacity: current?.desiredCapacity,
        }),
      });
      if (started.kind === 'started') {
        instanceRefreshId = started.instanceRefreshId;
      } else {
        // Started between our Describe and Start (a concurrent retry): adopt it if it is ours.
        adopted = adoptOrFail(await describeRefreshes(autoscaling, autoScalingGroupName));
        if (!adopted) {
          throw new RefreshInProgressError(
            `group ${autoScalingGroupName} refused a new instance refresh: one is already in progress`,
            {
              cause: started.error,
            },
          );
        }
        instanceRefreshId = adopted.instanceRefreshId;
      }
    }

    const refresh: RefreshRecord = {
      groupIndex,
      autoScalingGroupName,
      instanceRefreshId,
      launchTemplateId,
      launchTemplateVersion,
      startedAt: (adopted?.startTime ?? (deps.now ?? (() => new Date()))()).toISOString(),
      ...(adopted ? { adopted: true, status: adopted.status } : { status: 'Pending' }),
      outcome: 'IN_PROGRESS',
    };
    log.info(adopted ? 'instance-refresh-adopted' : 'instance-refresh-started', {
      instanceRefreshId,
      groupIndex,
      launchTemplateId,
      launchTemplateVersion,
    });
    return {
      ...rollout,
      done: false,
      refresh,
      refreshes: [...rollout.refreshes.filter((r) => r.groupIndex !== groupIndex), refresh],
    };
  };
}

function optionalName(name: string | undefined): { launchTemplateName?: string } {
  return name === undefined ? {} : { launchTemplateName: name };
}

/**
 * The step as the group machine runs it, on one group of the ledger: a group already done is left alone (a
 * redriven batch runs it again); a group whose turn comes after the rollout failed is SKIPPED, and starts
 * nothing. Otherwise the group is marked STARTING before its refresh starts (so a rollback finds a refresh whose
 * response was lost), then REFRESHING with the refresh's record.
 * Event: `{ group: { rolloutId, phase, groupIndex } }`. Result: `{ ..., outcome }` (IN_PROGRESS to poll).
 */
export function createTriggerInstanceRefreshStep(
  deps: StepDependencies<'autoscaling' | 'ec2' | 'dynamodb'>,
): (event: unknown) => Promise<GroupResult> {
  const inner = createTriggerInstanceRefresh(deps);
  return async (event) => {
    const { rolloutId, groupIndex } = parseGroupEvent(event, 'trigger_instance_refresh');
    const ledger = ledgerOf(deps);
    const { item, group, view } = await readGroup(ledger, rolloutId, groupIndex);
    const result = (outcome: GroupResult['outcome']) => groupResult(group, 'forward', rolloutId, outcome);
    if (group.status === 'SUCCEEDED' || group.status === 'FAILED' || group.status === 'SKIPPED')
      return result(group.status);
    if (group.status === 'REFRESHING') return result('IN_PROGRESS');
    if (item.failure && group.status === 'PENDING') {
      await putGroup(ledger, rolloutId, { ...group, status: 'SKIPPED' });
      stepLogger(deps, 'trigger_instance_refresh', {
        rolloutId,
        imageId: item.imageId,
        autoScalingGroupName: group.autoScalingGroupName,
      }).info('group-skipped', {
        reason: `the rollout failed at group ${item.failure.autoScalingGroupName}: no new refresh starts`,
      });
      return result('SKIPPED');
    }
    if (group.status === 'PENDING') await putGroup(ledger, rolloutId, { ...group, status: 'STARTING' });
    const after = await inner({ rollout: view });
    if (!after.refresh)
      throw new InvalidEventError(`trigger_instance_refresh: group ${groupIndex} started no refresh`);
    const refresh = globalRefresh(after.refresh, group);
    const { pinnedVersion } = after.groups[0] ?? {};
    await putGroup(ledger, rolloutId, {
      ...group,
      ...(pinnedVersion !== undefined ? { pinnedVersion } : {}),
      status: 'REFRESHING',
      refresh,
      ...(refresh.startedAt ? { startedAt: refresh.startedAt } : {}),
    });
    return result('IN_PROGRESS');
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<GroupResult> =>
  runInLambda(
    createTriggerInstanceRefreshStep,
    { autoscaling: AutoScalingClient, ec2: EC2Client, dynamodb: DynamoDBClient },
    event,
  );
