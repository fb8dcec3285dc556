import { describeGroups, pinGroupTemplateVersion } from '../adapters/autoscaling.ts';
import type { GroupRecord } from '../core/rollout.ts';
import type { Logger } from '../log.ts';
import type { StepDependencies } from './dependencies.ts';

/**
 * Gives each named group its own launch template version setting back (`$Default` or `$Latest`), where the
 * rollout pinned it to a number for AutoRollback and Auto Scaling left it numbered. By then the template's
 * default is the version the instances run, so nothing is replaced. A rollout leaves the groups' settings as it
 * found them; failing to do so is logged, never a reason to roll back or to fail a rollback.
 */
export async function restoreGroupVersions(
  deps: StepDependencies,
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
    log.warn('group-version-not-restored', {
      groups: toRestore.map((g) => g.autoScalingGroupName),
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
