import { describeGroups, pinGroupTemplateVersion } from '../adapters/autoscaling.ts';
import { describeTemplateVersion } from '../adapters/ec2.ts';
import { TransientAwsError } from '../errors.ts';
import type { GroupRecord } from '../core/rollout.ts';
import type { Logger } from '../log.ts';
import type { StepDependencies } from './dependencies.ts';

/**
 * Gives each named group its own launch template version setting back (`$Default` or `$Latest`), where the
 * rollout pinned it to a number for AutoRollback and Auto Scaling left it numbered. Only when the setting now
 * resolves to the very version the group is pinned to: then nothing is replaced and nothing changes what a new
 * instance runs. (After a rollback `$Latest` still names the bad version, since versions are immutable: such a
 * group stays on its safe number, with a warning.) Anything else going wrong is logged, never a reason to roll
 * back or to fail a rollback; throttling is thrown, for the state machine to retry.
 */
export async function restoreGroupVersions(
  deps: StepDependencies<'autoscaling' | 'ec2'>,
  groups: readonly GroupRecord[],
  touched: ReadonlySet<string>,
  log: Logger,
): Promise<void> {
  const toRestore = groups.filter(
    (g) => touched.has(g.autoScalingGroupName) && !/^\d+$/.test(g.previousLaunchTemplateVersion),
  );
  if (toRestore.length === 0) return;
  try {
    const current = await describeGroups(
      deps.autoscaling,
      toRestore.map((g) => g.autoScalingGroupName),
    );
    for (const group of toRestore) {
      const now = current.get(group.autoScalingGroupName)?.launchTemplate?.version;
      if (now === undefined || now === group.previousLaunchTemplateVersion) continue;
      const resolved = await describeTemplateVersion(
        deps.ec2,
        group.launchTemplateId,
        group.previousLaunchTemplateVersion,
      );
      if (String(resolved?.versionNumber) !== now) {
        log.warn('group-version-kept', {
          autoScalingGroupName: group.autoScalingGroupName,
          pinned: now,
          setting: group.previousLaunchTemplateVersion,
          resolvesTo: resolved?.versionNumber,
          reason: `${group.previousLaunchTemplateVersion} names version ${resolved?.versionNumber ?? '?'}, not the version ${now} the instances run; the group stays on ${now}`,
        });
        continue;
      }
      await pinGroupTemplateVersion(deps.autoscaling, {
        autoScalingGroupName: group.autoScalingGroupName,
        launchTemplateId: group.launchTemplateId,
        version: group.previousLaunchTemplateVersion,
      });
      log.info('group-version-restored', {
        autoScalingGroupName: group.autoScalingGroupName,
        from: now,
        to: group.previousLaunchTemplateVersion,
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
