import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { onRolloutView, type RolloutRef } from './ledger-steps.ts';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { describeGroups, pinGroupTemplateVersion } from '../adapters/autoscaling.ts';
import {
  createTemplateVersion,
  describeDefaultVersion,
  describeTemplateVersion,
  setDefaultVersion,
  type TemplateVersion,
} from '../adapters/ec2.ts';
import { followsTemplate, planGroupPin, type GroupPinDecision } from '../core/group-pinning.ts';
import { planTemplateUpdate, rolloutVersionDescription } from '../core/template-plan.ts';
import { rolloutEventSchema, type GroupRecord, type Rollout, type TemplateRecord } from '../core/rollout.ts';
import { AutoScalingGroupNotFoundError, GroupTemplateMismatchError, InvalidEventError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';

/**
 * Update launch templates. First, before any default version moves, every group on `$Default` or `$Latest` is
 * pinned to the numbered version that setting resolves to (see core/group-pinning.ts), so no group launches the
 * new image before its turn; the number is recorded as the group's `pinnedVersion`. Then, for each template, a
 * new version from the current default with the new ImageId, made the default. A template already on the image
 * is skipped; a version this rollout created but did not make the default (a retry) is reused.
 * Event: `{ rollout }`. Result: the rollout with each template's `previousVersion` and `newVersion`, and each
 * pinned group's `pinnedVersion`.
 * A failure part-way leaves the templates already updated as they are: the rollback step reverts them from
 * the `previousVersion` preflight recorded, and gives the pinned groups their own setting back.
 */
export function createUpdateLaunchTemplates(
  deps: StepDependencies<'ec2' | 'autoscaling'>,
): (event: unknown) => Promise<Rollout> {
  const { ec2 } = deps;
  return async (event) => {
    const { rollout } = parseEvent(rolloutEventSchema, event, 'update_launch_templates');
    const { rolloutId, imageId } = rollout;
    const log = stepLogger(deps, 'update_launch_templates', { rolloutId, imageId });
    const groups = await pinGroups(deps, rollout, log);

    const updated: TemplateRecord[] = [];
    for (const record of rollout.templates) {
      const { launchTemplateId } = record;
      const current = await describeDefaultVersion(ec2, launchTemplateId);
      const latest = await describeTemplateVersion(ec2, launchTemplateId, '$Latest');
      const plan = planTemplateUpdate({
        rolloutId,
        imageId,
        defaultVersion: current,
        ...(latest ? { latestVersion: latest } : {}),
      });
      if (plan.kind === 'skip') {
        log.info('launch-template-already-on-image', {
          launchTemplateId,
          defaultVersion: plan.defaultVersion,
        });
        updated.push({
          ...record,
          newVersion: plan.defaultVersion,
          changed: record.previousVersion !== plan.defaultVersion,
        });
        continue;
      }
      let newVersion: number;
      if (plan.kind === 'set-default') {
        newVersion = plan.version;
        log.info('launch-template-version-reused', { launchTemplateId, version: newVersion });
      } else {
        newVersion = await createTemplateVersion(ec2, {
          launchTemplateId,
          sourceVersion: plan.sourceVersion,
          imageId,
          description: rolloutVersionDescription(rolloutId, imageId),
        });
        log.info('launch-template-version-created', {
          launchTemplateId,
          sourceVersion: plan.sourceVersion,
          version: newVersion,
        });
      }
      await setDefaultVersion(ec2, launchTemplateId, newVersion);
      log.info('launch-template-default-set', {
        launchTemplateId,
        previousVersion: current.versionNumber,
        newVersion,
      });
      updated.push({
        ...record,
        ...(current.launchTemplateName ? { launchTemplateName: current.launchTemplateName } : {}),
        previousVersion: current.versionNumber,
        ...(current.imageId ? { previousImageId: current.imageId } : {}),
        newVersion,
        changed: true,
      });
    }
    return { ...rollout, groups, templates: updated };
  };
}

/**
 * Pins every group that follows its template, before any template changes; returns the group records with
 * `pinnedVersion`. Every decision is made before the first call, so a group that cannot be pinned fails the step
 * with nothing changed. A retry finds the groups an earlier attempt pinned already on their number.
 */
async function pinGroups(
  deps: StepDependencies<'ec2' | 'autoscaling'>,
  rollout: Rollout,
  log: Logger,
): Promise<GroupRecord[]> {
  const { rolloutId, imageId } = rollout;
  const following = rollout.groups.filter((g) => followsTemplate(g.previousLaunchTemplateVersion));
  if (following.length === 0) return rollout.groups;
  const current = await describeGroups(
    deps.autoscaling,
    following.map((g) => g.autoScalingGroupName),
  );
  const resolvedCache = new Map<string, TemplateVersion | undefined>();
  const plans: { group: GroupRecord; decision: Exclude<GroupPinDecision, { kind: 'refuse' }> }[] = [];
  for (const group of rollout.groups) {
    if (!followsTemplate(group.previousLaunchTemplateVersion)) {
      plans.push({ group, decision: { kind: 'numbered' } });
      continue;
    }
    const template = rollout.templates.find((t) => t.launchTemplateId === group.launchTemplateId);
    if (!template) {
      throw new InvalidEventError(
        `update_launch_templates: group ${group.autoScalingGroupName} launches from ${group.launchTemplateId}, which the rollout does not update`,
      );
    }
    const facts = current.get(group.autoScalingGroupName);
    // A group created without a version follows $Default.
    const setting = facts?.launchTemplate?.version ?? '$Default';
    let resolved: TemplateVersion | undefined;
    if (facts && followsTemplate(setting)) {
      const key = `${template.launchTemplateId}:${setting}`;
      if (!resolvedCache.has(key)) {
        resolvedCache.set(key, await describeTemplateVersion(deps.ec2, template.launchTemplateId, setting));
      }
      resolved = resolvedCache.get(key);
    }
    const decision = planGroupPin({
      rolloutId,
      imageId,
      group,
      template,
      current: facts
        ? { setting, ...(facts.mixedInstancesPolicy ? { mixedInstancesPolicy: true } : {}) }
        : undefined,
      ...(resolved ? { resolved } : {}),
    });
    if (decision.kind === 'refuse') {
      throw decision.problem === 'gone'
        ? new AutoScalingGroupNotFoundError(`update_launch_templates: ${decision.reason}`)
        : new GroupTemplateMismatchError(`update_launch_templates: ${decision.reason}`);
    }
    plans.push({ group, decision });
  }

  const pinned: GroupRecord[] = [];
  for (const { group, decision } of plans) {
    const { autoScalingGroupName, launchTemplateId } = group;
    if (decision.kind === 'numbered') {
      pinned.push(group);
      continue;
    }
    if (decision.kind === 'pin') {
      await pinGroupTemplateVersion(deps.autoscaling, {
        autoScalingGroupName,
        launchTemplateId,
        version: decision.version,
      });
      log.info('group-pinned', {
        autoScalingGroupName,
        launchTemplateId,
        from: decision.from,
        to: decision.version,
        because: decision.because,
      });
    } else {
      log.info('group-already-pinned', { autoScalingGroupName, launchTemplateId, version: decision.version });
    }
    pinned.push({ ...group, pinnedVersion: decision.version });
  }
  return pinned;
}

/** The step as the rollout machine runs it: on the rollout the ledger holds (ledger-steps.ts). */
export const createUpdateLaunchTemplatesStep = (deps: StepDependencies<'ec2' | 'autoscaling' | 'dynamodb'>) =>
  onRolloutView(deps, 'createUpdateLaunchTemplates', createUpdateLaunchTemplates(deps));

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<RolloutRef> =>
  runInLambda(
    createUpdateLaunchTemplatesStep,
    { ec2: EC2Client, autoscaling: AutoScalingClient, dynamodb: DynamoDBClient },
    event,
  );
