import { describeGroups, pinGroupTemplateVersion } from '../adapters/autoscaling.ts';
import { describeTemplateVersion } from '../adapters/ec2.ts';
import { TransientAwsError } from '../errors.ts';
import { groupsToRestore, planGroupRestore } from '../core/group-pinning.ts';
import type { GroupRecord } from '../core/rollout.ts';
import type { Logger } from '../log.ts';
import type { StepDependencies } from './dependencies.ts';

/**
 * Gives every group that followed `$Default` or `$Latest` before the rollout its own setting back, where the
 * rollout pinned it to a number (the update step, before any default moved) and it is still numbered: after the
 * last group, and after a rollback (groups never refreshed included). Only when the setting now resolves to the
 * very version the group is on (see `planGroupRestore`): then nothing is replaced and nothing changes what a new
 * instance runs. Anything else going wrong is logged, never a reason to roll back or to fail a rollback;
 * throttling is thrown, for the state machine to retry.
 */
export async function restoreGroupVersions(
  deps: StepDependencies<'autoscaling' | 'ec2'>,
  groups: readonly GroupRecord[],
  log: Logger,
): Promise<void> {
  const toRestore = groupsToRestore(groups);
  if (toRestore.length === 0) return;
  try {
    const current = await describeGroups(
      deps.autoscaling,
      toRestore.map((g) => g.autoScalingGroupName),
    );
    for (const group of toRestore) {
      const currentSetting = current.get(group.autoScalingGroupName)?.launchTemplate?.version;
      const needsResolving =
        currentSetting !== undefined && currentSetting !== group.previousLaunchTemplateVersion;
      const resolved = needsResolving
        ? await describeTemplateVersion(deps.ec2, group.launchTemplateId, group.previousLaunchTemplateVersion)
        : undefined;
      const decision = planGroupRestore({
        group,
        currentSetting,
        resolvedVersion: resolved?.versionNumber,
      });
      if (decision.kind === 'skip') continue;
      if (decision.kind === 'keep') {
        log.warn('group-version-kept', {
          autoScalingGroupName: group.autoScalingGroupName,
          pinned: decision.pinned,
          setting: group.previousLaunchTemplateVersion,
          resolvesTo: resolved?.versionNumber,
          reason: decision.reason,
        });
        continue;
      }
      await pinGroupTemplateVersion(deps.autoscaling, {
        autoScalingGroupName: group.autoScalingGroupName,
        launchTemplateId: group.launchTemplateId,
        version: decision.to,
      });
      log.info('group-version-restored', {
        autoScalingGroupName: group.autoScalingGroupName,
        from: decision.from,
        to: decision.to,
      });
    }
  } catch (error) {
    if (error instanceof TransientAwsError) throw error;
    log.warn('group-version-not-restored', {
      groups: toRestore.map((g) => g.autoScalingGroupName),
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
