import { EC2Client } from '@aws-sdk/client-ec2';
import {
  createTemplateVersion,
  describeDefaultVersion,
  describeTemplateVersion,
  setDefaultVersion,
} from '../adapters/ec2.ts';
import { planTemplateUpdate, rolloutVersionDescription } from '../core/template-plan.ts';
import { rolloutEventSchema, type Rollout, type TemplateRecord } from '../core/rollout.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';

/**
 * Update launch templates: for each template, a new version from the current default with the new ImageId,
 * made the default. A template already on the image is skipped; a version this rollout created but did not
 * make the default (a retry) is reused.
 * Event: `{ rollout }`. Result: the rollout with each template's `previousVersion` and `newVersion`.
 * A failure part-way leaves the templates already updated as they are: the rollback step reverts them from
 * the `previousVersion` preflight recorded.
 */
export function createUpdateLaunchTemplates(
  deps: StepDependencies<'ec2'>,
): (event: unknown) => Promise<Rollout> {
  const { ec2 } = deps;
  return async (event) => {
    const { rollout } = parseEvent(rolloutEventSchema, event, 'update_launch_templates');
    const { rolloutId, imageId } = rollout;
    const log = stepLogger(deps, 'update_launch_templates', { rolloutId, imageId });

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
    return { ...rollout, templates: updated };
  };
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<Rollout> =>
  runInLambda(createUpdateLaunchTemplates, { ec2: EC2Client }, event);
