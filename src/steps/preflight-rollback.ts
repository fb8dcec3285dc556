import { beginRollbackRun, getNewest, getRollout, listGroups, putGroups } from '../adapters/ledger.ts';
import { describeImage } from '../adapters/ec2.ts';
import { describeExecution } from '../adapters/sfn.ts';
import { getParameterValue } from '../adapters/ssm.ts';
import { decideRollback, refuseChangedAccount, rollbackRestart } from '../core/rollback-request.ts';
import type { StartEvent } from '../core/rollout.ts';
import { RollbackImageNotAvailableError, RollbackRefusedError } from '../errors.ts';
import { stepLogger, type StepClients, type StepDependencies } from './dependencies.ts';
import { acquireRolloutLock, ledgerOf, refOf, type RolloutRef } from './ledger-steps.ts';

export type RollbackPreflightDependencies = StepDependencies<'ec2' | 'ssm' | 'dynamodb'> &
  Partial<Pick<StepClients, 'sfn'>>;

/**
 * Preflight of a rollback-only execution (`ami-rollout rollback`; the input names the rollout, with `rollback`):
 * takes the pipeline's lock, then proves from the ledger and the account that the rollout may be put back
 * (core/rollback-request.ts): it stopped or ended, no newer rollout ran since, `{param}` still holds its image or
 * its rollback image, and the rollback image is there. Only then does it hand the rollout to this execution
 * (`rollbackRun`): failed by the operator's request, rolling back again from the first group not yet back.
 * A retried Preflight finds its own run and goes on. Result: the rollout's reference with `mode: rollback`.
 */
export async function preflightRollback(
  deps: RollbackPreflightDependencies,
  event: StartEvent & { rollback: NonNullable<StartEvent['rollback']> },
): Promise<RolloutRef> {
  const { rolloutId, imageId, rollback } = event;
  const own = event.executionArn ?? `direct:rollback:${rolloutId}`;
  const log = stepLogger(deps, 'preflight', { rolloutId, imageId });
  const ledger = ledgerOf(deps);
  const refusal = (reason: string) =>
    new RollbackRefusedError(`rollback of ${rolloutId}: ${reason}; nothing was changed`);
  await acquireRolloutLock(deps, ledger, { executionArn: own, rolloutId }, log);

  // Under the lock: no rollout can start, nor another rollback take it, while this decides. A refusal leaves
  // the lock to NotifyPreflightFailure, which releases it.
  const item = await getRollout(ledger, rolloutId);
  if (item && item.imageId !== imageId) {
    throw refusal(
      `the input names image ${imageId}, and the ledger's rollout ${rolloutId} rolled out ${item.imageId}; start it with \`ami-rollout rollback\``,
    );
  }
  const status = async (arn: string | undefined) =>
    arn && deps.sfn ? ((await describeExecution(deps.sfn, arn))?.status ?? 'GONE') : undefined;
  const decision = decideRollback({
    item,
    executionStatus: (await status(item?.executionArn)) ?? 'UNKNOWN',
    newest: await getNewest(ledger),
    own,
    ...(item?.rollbackRun && item.rollbackRun.executionArn !== own
      ? { rollbackRunStatus: await status(item.rollbackRun.executionArn) }
      : {}),
  });
  if (decision.kind === 'refuse' || decision.kind === 'already-rolled-back') throw refusal(decision.reason);
  // decideRollback refuses a rollout the ledger does not hold: `item` is there from here on.
  if (!item) throw refusal('the ledger has no record of it');
  if (decision.kind === 'resume') return refOf(item);

  const parameterName = deps.config.amiParameterName;
  const target = await describeImage(deps.ec2, item.rollbackTargetImageId);
  const changed = refuseChangedAccount({
    item,
    parameterName,
    parameterValue: await getParameterValue(deps.ssm, parameterName),
    rollbackImageState: target?.state,
  });
  if (changed?.kind === 'image-gone')
    throw new RollbackImageNotAvailableError(
      `rollback of ${rolloutId}: ${changed.reason}; nothing was changed`,
    );
  if (changed) throw refusal(changed.reason);

  const groups = await listGroups(ledger, rolloutId);
  const restart = rollbackRestart(item, groups);
  const at = (deps.now ?? (() => new Date()))().toISOString();
  const run = {
    executionArn: own,
    requestedAt: at,
    reason: rollback.reason,
    ...(rollback.requestedBy ? { by: rollback.requestedBy } : {}),
    after: decision.after,
  };
  const lastWave = Math.max(0, item.waveCount - 1);
  const taken = await beginRollbackRun(
    ledger,
    rolloutId,
    run,
    {
      wave: lastWave,
      reason: `rollback requested by an operator: ${rollback.reason}`,
      at,
      rollbackRequest: { reason: rollback.reason, ...(run.by ? { by: run.by } : {}) },
    },
    restart.rollbackCursor,
    item.rollbackRun?.executionArn,
  );
  if (!taken) {
    throw refusal(
      'another rollback execution recorded its run while this one decided; follow it with `ami-rollout status`',
    );
  }
  // Groups whose rollback refresh failed are tried again (after the run is ours: a refusal changed nothing).
  await putGroups(ledger, rolloutId, restart.retried);
  log.info('rollback-requested', {
    reason: rollback.reason,
    after: run.after,
    rollbackTargetImageId: item.rollbackTargetImageId,
    rollbackCursor: restart.rollbackCursor,
    retried: restart.retried.map((g) => g.autoScalingGroupName),
  });
  return refOf({ ...item, rollbackRun: run });
}
