import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { onRolloutView, type RolloutRef } from './ledger-steps.ts';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { describeImage, protectImage, shareImage, shareSnapshot } from '../adapters/ec2.ts';
import { getParameter, putParameterValue } from '../adapters/ssm.ts';
import { planParameterSwitch, previousParameterName } from '../core/parameter-plan.ts';
import { rolloutEventSchema, type Rollout } from '../core/rollout.ts';
import { ImageNotFoundError, ImageShareError, RollbackImageNotAvailableError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';

/**
 * Share AMI: shares the image (and its snapshots) with the configured accounts, organizations and OUs,
 * protects the rollback image from deregistration (best effort: only its owner can), then records the
 * rollback target at `{param}-previous` and the new image at `{param}`, in that order.
 * Event: `{ rollout }`. Result: the rollout (`rollbackTargetImageId` is what `{param}-previous` now holds).
 */
export function createShareAmi(deps: StepDependencies<'ec2' | 'ssm'>): (event: unknown) => Promise<Rollout> {
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
      if ((await shareImage(ec2, imageId, targets)) === 'not-owner') {
        throw new ImageShareError(
          `image ${imageId} is owned by account ${image.ownerId}, and only the owner can share an image; share it from account ${image.ownerId}, or remove shareWithAccountIds, shareWithOrganizationArns and shareWithOrganizationalUnitArns from the configuration`,
        );
      }
      log.info('image-shared', targets);
      // Organizations and OUs launch a shared AMI without snapshot permissions; accounts get them for copies.
      // One account per call: IAM bounds this role's ModifySnapshotAttribute by ec2:Add/userId, a
      // single-valued key, so each call names exactly one account the policy can check.
      for (const snapshotId of image.snapshotIds) {
        for (const accountId of targets.accountIds) await shareSnapshot(ec2, snapshotId, [accountId]);
        if (targets.accountIds.length > 0)
          log.info('snapshot-shared', { snapshotId, accountIds: targets.accountIds });
      }
    }

    const parameterName = config.amiParameterName;
    const current = await getParameter(ssm, parameterName);
    const previous = await getParameter(ssm, previousParameterName(parameterName));
    const plan = planParameterSwitch({
      parameterName,
      imageId,
      rollbackTargetImageId: rollout.rollbackTargetImageId,
      ...optional('parameterValue', current?.value),
      ...optional('previousParameterValue', previous?.value),
    });
    // Each write keeps its parameter's DataType; a parameter created here takes its sibling's.
    const dataTypes = new Map([
      [parameterName, current?.dataType ?? previous?.dataType ?? 'text'],
      [previousParameterName(parameterName), previous?.dataType ?? current?.dataType ?? 'text'],
    ]);

    const target = await describeImage(ec2, plan.rollbackTargetImageId);
    if (!target || target.state !== 'available') {
      throw new RollbackImageNotAvailableError(
        `the rollback image ${plan.rollbackTargetImageId} is ${target ? target.state : 'gone'}; not switching ${parameterName} to ${imageId}`,
      );
    }
    if (!target.deregistrationProtection?.startsWith('enabled')) {
      // Protection only guards against a clean-up deleting the image mid-rollout, and a central image account
      // keeps its own images, so a refusal (another owner, or IAM denies the call) is a warning, not a failure.
      const protection = await protectImage(ec2, plan.rollbackTargetImageId);
      if (protection.kind === 'protected') {
        log.info('rollback-image-protected', { rollbackTargetImageId: plan.rollbackTargetImageId });
      } else {
        log.warn('rollback-image-not-protected', {
          rollbackTargetImageId: plan.rollbackTargetImageId,
          ownerId: target.ownerId,
          errorCode: protection.code,
          reason:
            protection.code === 'AuthFailure'
              ? `only the owner (account ${target.ownerId}) can enable deregistration protection; enable it there so the rollback image cannot be deregistered during the rollout`
              : `IAM denied ec2:EnableImageDeregistrationProtection (${protection.message}); allow it for this role`,
        });
      }
    }

    for (const write of plan.writes) {
      const dataType = dataTypes.get(write.name) ?? 'text';
      const version = await putParameterValue(ssm, write.name, write.value, dataType);
      log.info('parameter-written', { parameter: write.name, value: write.value, dataType, version });
    }
    if (plan.writes.length === 0) log.info('parameters-already-current', { parameter: parameterName });
    return { ...rollout, rollbackTargetImageId: plan.rollbackTargetImageId };
  };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** The step as the rollout machine runs it: on the rollout the ledger holds (ledger-steps.ts). */
export const createShareAmiStep = (deps: StepDependencies<'ec2' | 'ssm' | 'dynamodb'>) =>
  onRolloutView(deps, 'createShareAmi', createShareAmi(deps));

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<RolloutRef> =>
  runInLambda(createShareAmiStep, { ec2: EC2Client, ssm: SSMClient, dynamodb: DynamoDBClient }, event);
