import { describeImage, protectImage, shareImage, shareSnapshot } from '../adapters/ec2.ts';
import { getParameterValue, putParameterValue } from '../adapters/ssm.ts';
import { planParameterSwitch, previousParameterName } from '../core/parameter-plan.ts';
import { rolloutEventSchema, type Rollout } from '../core/rollout.ts';
import { ImageNotFoundError, RollbackImageNotAvailableError } from '../errors.ts';
import { lambdaDependencies, parseEvent, stepLogger, type StepDependencies } from './dependencies.ts';

/**
 * Share AMI: shares the image (and its snapshots) with the configured accounts, organizations and OUs,
 * protects the rollback image from deregistration, then records the rollback target at `{param}-previous`
 * and the new image at `{param}`, in that order.
 * Event: `{ rollout }`. Result: the rollout (`rollbackTargetImageId` is what `{param}-previous` now holds).
 */
export function createShareAmi(deps: StepDependencies): (event: unknown) => Promise<Rollout> {
  const { config, ec2, ssm } = deps;
  return async (event) => {
    const { rollout } = parseEvent(rolloutEventSchema, event, 'share_ami');
    const { rolloutId, imageId } = rollout;
    const log = stepLogger(deps, 'share_ami', { rolloutId, imageId });

    const image = await describeImage(ec2, imageId);
    if (!image) throw new ImageNotFoundError(`image ${imageId} no longer exists`);
    const targets = {
      accountIds: config.shareWithAccountIds,
      organizationArns: config.shareWithOrganizationArns,
      organizationalUnitArns: config.shareWithOrganizationalUnitArns,
    };
    if (
      targets.accountIds.length + targets.organizationArns.length + targets.organizationalUnitArns.length >
      0
    ) {
      await shareImage(ec2, imageId, targets);
      log.info('image-shared', targets);
      // Organizations and OUs launch a shared AMI without snapshot permissions; accounts get them for copies.
      for (const snapshotId of image.snapshotIds) {
        await shareSnapshot(ec2, snapshotId, targets.accountIds);
        if (targets.accountIds.length > 0)
          log.info('snapshot-shared', { snapshotId, accountIds: targets.accountIds });
      }
    }

    const parameterName = config.amiParameterName;
    const plan = planParameterSwitch({
      parameterName,
      imageId,
      rollbackTargetImageId: rollout.rollbackTargetImageId,
      ...optional('parameterValue', await getParameterValue(ssm, parameterName)),
      ...optional(
        'previousParameterValue',
        await getParameterValue(ssm, previousParameterName(parameterName)),
      ),
    });

    const target = await describeImage(ec2, plan.rollbackTargetImageId);
    if (!target || target.state !== 'available') {
      throw new RollbackImageNotAvailableError(
        `the rollback image ${plan.rollbackTargetImageId} is ${target ? target.state : 'gone'}; not switching ${parameterName} to ${imageId}`,
      );
    }
    if (!target.deregistrationProtection?.startsWith('enabled')) {
      await protectImage(ec2, plan.rollbackTargetImageId);
      log.info('rollback-image-protected', { rollbackTargetImageId: plan.rollbackTargetImageId });
    }

    for (const write of plan.writes) {
      const version = await putParameterValue(ssm, write.name, write.value);
      log.info('parameter-written', { parameter: write.name, value: write.value, version });
    }
    if (plan.writes.length === 0) log.info('parameters-already-current', { parameter: parameterName });
    return { ...rollout, rollbackTargetImageId: plan.rollbackTargetImageId };
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<Rollout> => createShareAmi(lambdaDependencies())(event);
