import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { onRolloutView, type RolloutRef } from './ledger-steps.ts';
import { EC2Client } from '@aws-sdk/client-ec2';
import { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import {
  createTemplateVersion,
  describeDefaultVersion,
  describeTemplateVersion,
  setDefaultVersion,
} from '../adapters/ec2.ts';
import { getParameter, getParameterValue, putParameterValue } from '../adapters/ssm.ts';
import {
  planParameterRollback,
  planPreviousParameterRollback,
  previousParameterName,
} from '../core/parameter-plan.ts';
import { caughtErrorSchema, rolloutSchema, type RollbackRecord } from '../core/rollout.ts';
import { planTemplateRollback, rollbackVersionDescription } from '../core/template-plan.ts';
import { NoRollbackTargetError, RollbackError, TransientAwsError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';

/**
 * The rollback event: the rollout as far as it got. Only `rolloutId` and `imageId` are required, so a
 * rollback also works after a failure before preflight's record existed, or by hand from the CLI.
 */
export const rollbackEventSchema = z.object({
  rollout: rolloutSchema.partial().required({ rolloutId: true, imageId: true }),
  error: caughtErrorSchema.optional(),
});
export type RollbackEvent = z.infer<typeof rollbackEventSchema>;
export type RolledBackRollout = RollbackEvent['rollout'] & { rollback: RollbackRecord };

/**
 * Rollback AMI: points every template's default version back to the version it had before the rollout (or,
 * when that version is unknown or gone, a new version with the rollback image), then puts `{param}` back, and
 * `{param}-previous` to what it held before the rollout.
 * Only templates whose default launches the rolled-out image are touched, so it is safe to run twice and
 * after a rollout that stopped part-way. Every template is attempted even when one fails.
 * Event: `{ rollout, error? }`. Result: the rollout with `rollback` (what was restored).
 */
export function createRollbackAmi(
  deps: StepDependencies<'ec2' | 'ssm'>,
): (event: unknown) => Promise<RolledBackRollout> {
  const { config, ec2, ssm } = deps;
  return async (event) => {
    const { rollout } = parseEvent(rollbackEventSchema, event, 'rollback_ami');
    const { rolloutId, imageId } = rollout;
    const log = stepLogger(deps, 'rollback_ami', { rolloutId, imageId });
    const parameterName = config.amiParameterName;

    let rollbackTargetImageId = rollout.rollbackTargetImageId;
    if (!rollbackTargetImageId) {
      const saved = await getParameterValue(ssm, previousParameterName(parameterName));
      if (saved && saved !== imageId) rollbackTargetImageId = saved;
    }
    if (!rollbackTargetImageId) {
      throw new NoRollbackTargetError(
        `rollback of ${imageId}: the rollout records no rollback target and ${previousParameterName(parameterName)} holds none; point the templates back by hand`,
      );
    }

    const records =
      rollout.templates && rollout.templates.length > 0
        ? rollout.templates.map((t) => ({
            launchTemplateId: t.launchTemplateId,
            previousVersion: t.previousVersion as number | undefined,
          }))
        : config.launchTemplateIds.map((launchTemplateId) => ({
            launchTemplateId,
            previousVersion: undefined,
          }));
    const results: RollbackRecord['templates'] = [];
    const failures: unknown[] = [];
    for (const { launchTemplateId, previousVersion } of records) {
      try {
        const currentDefault = await describeDefaultVersion(ec2, launchTemplateId);
        const previous =
          previousVersion !== undefined
            ? await describeTemplateVersion(ec2, launchTemplateId, String(previousVersion))
            : undefined;
        const latest = await describeTemplateVersion(ec2, launchTemplateId, '$Latest');
        const plan = planTemplateRollback({
          rolloutId,
          imageId,
          rollbackTargetImageId,
          currentDefault,
          ...(previous ? { previousVersion: previous } : {}),
          ...(latest ? { latestVersion: latest } : {}),
        });
        if (plan.kind === 'unchanged') {
          log.info('launch-template-left-alone', { launchTemplateId, reason: plan.reason });
          results.push({
            launchTemplateId,
            action: 'unchanged',
            defaultVersion: currentDefault.versionNumber,
            detail: plan.reason,
          });
        } else if (plan.kind === 'restore-default') {
          await setDefaultVersion(ec2, launchTemplateId, plan.version);
          log.info('launch-template-default-restored', {
            launchTemplateId,
            from: currentDefault.versionNumber,
            to: plan.version,
          });
          results.push({ launchTemplateId, action: 'restored-default', defaultVersion: plan.version });
        } else {
          const version = await createTemplateVersion(ec2, {
            launchTemplateId,
            sourceVersion: plan.sourceVersion,
            imageId: plan.imageId,
            description: rollbackVersionDescription(rolloutId, plan.imageId),
          });
          await setDefaultVersion(ec2, launchTemplateId, version);
          log.info('launch-template-rollback-version-created', {
            launchTemplateId,
            sourceVersion: plan.sourceVersion,
            version,
            rollbackTargetImageId,
          });
          results.push({
            launchTemplateId,
            action: 'created-version',
            defaultVersion: version,
            detail:
              previousVersion === undefined
                ? 'no previous version recorded'
                : `version ${previousVersion} is gone`,
          });
        }
      } catch (error) {
        failures.push(error);
        log.error('launch-template-rollback-failed', { launchTemplateId, error });
        results.push({
          launchTemplateId,
          action: 'failed',
          detail: error instanceof Error ? error.message : String(error),
        });
      }
    }

    let parameter: RollbackRecord['parameter'] = 'unchanged';
    let previousParameter: RollbackRecord['previousParameter'] = 'unchanged';
    try {
      const current = await getParameter(ssm, parameterName);
      const write = planParameterRollback({
        parameterName,
        rollbackTargetImageId,
        ...optionalValue(current?.value),
      });
      if (write) {
        // The parameter keeps its DataType (aws:ec2:image stays aws:ec2:image, checked by SSM with
        // ec2:DescribeImages); a parameter that is gone is recreated as its -previous twin is typed.
        const dataType =
          current?.dataType ??
          (await getParameter(ssm, previousParameterName(parameterName)))?.dataType ??
          'text';
        await putParameterValue(ssm, write.name, write.value, dataType);
        parameter = 'restored';
        log.info('parameter-restored', { parameter: write.name, value: write.value, dataType });
      }
      const previous = await getParameter(ssm, previousParameterName(parameterName));
      const writePrevious = planPreviousParameterRollback({
        parameterName,
        rollbackTargetImageId,
        before: rollout.parameterBefore,
        ...(previous?.value !== undefined ? { previousParameterValue: previous.value } : {}),
      });
      if (writePrevious) {
        const dataType = previous?.dataType ?? current?.dataType ?? 'text';
        await putParameterValue(ssm, writePrevious.name, writePrevious.value, dataType);
        previousParameter = 'restored';
        log.info('previous-parameter-restored', {
          parameter: writePrevious.name,
          value: writePrevious.value,
          dataType,
        });
      }
    } catch (error) {
      failures.push(error);
      log.error('parameter-rollback-failed', { parameter: parameterName, error });
    }

    if (failures.length > 0) {
      const summary = `rollback of ${imageId} to ${rollbackTargetImageId} is incomplete: ${failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ')}`;
      // Transient failures only: the state machine retries the whole (idempotent) rollback.
      if (failures.every((f) => f instanceof TransientAwsError))
        throw new TransientAwsError(summary, { cause: failures[0] });
      throw new RollbackError(summary, { cause: failures[0] });
    }
    log.info('rollback-complete', { rollbackTargetImageId });
    return {
      ...rollout,
      rollbackTargetImageId,
      rollback: { rollbackTargetImageId, templates: results, parameter, previousParameter },
    };
  };
}

function optionalValue(value: string | undefined): { parameterValue?: string } {
  return value === undefined ? {} : { parameterValue: value };
}

/** The step as the rollout machine runs it: on the rollout the ledger holds (ledger-steps.ts). */
export const createRollbackAmiStep = (deps: StepDependencies<'ec2' | 'ssm' | 'dynamodb'>) =>
  onRolloutView(deps, 'createRollbackAmi', createRollbackAmi(deps));

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<RolloutRef> =>
  runInLambda(createRollbackAmiStep, { ec2: EC2Client, ssm: SSMClient, dynamodb: DynamoDBClient }, event);
