import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ledgerOf, readRollout, rolloutRefSchema } from './ledger-steps.ts';
import { SNSClient } from '@aws-sdk/client-sns';
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { publish } from '../adapters/sns.ts';
import { composeNotification } from '../core/notification.ts';
import { caughtErrorSchema, rolloutSchema } from '../core/rollout.ts';
import { ConfigError } from '../errors.ts';
import { parseEvent, runInLambda, stepLogger, type StepDependencies } from './dependencies.ts';
import { readLock, releaseLock, updateRollout } from '../adapters/ledger.ts';

/**
 * The notify event. `outcome` is set by the state (`NotifySuccess` passes SUCCEEDED, the Catch paths FAILED,
 * ROLLED_BACK or ROLLBACK_FAILED); the rollout may be partial (a preflight failure has none yet, only the
 * execution input, at `input`, which may itself be malformed: a failure is still reported).
 */
export const notifyEventSchema = z
  .object({
    outcome: z.enum(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'ROLLBACK_FAILED']),
    rolloutId: z.string().min(1).optional(),
    imageId: z.string().min(1).optional(),
    rollout: rolloutSchema.partial().required({ rolloutId: true, imageId: true }).optional(),
    /** The execution input as it came, for a preflight failure: whatever it holds is reported. */
    input: z.record(z.string(), z.unknown()).optional(),
    error: caughtErrorSchema.optional(),
    /** `$$.Execution.Id`, for the link in the message. */
    executionArn: z.string().optional(),
  })
  .refine((e) => e.rollout || (e.rolloutId && e.imageId) || e.input || e.executionArn, {
    message: 'needs rollout, rolloutId and imageId, the execution input, or the execution ARN',
  });
export type NotifyEvent = z.infer<typeof notifyEventSchema>;

export interface NotifyResult {
  readonly messageId: string;
  readonly subject: string;
}

/**
 * Notify: publishes what happened to the SNS topic: a subject and a message a person can act on (image,
 * group, what failed, what was rolled back, where to look) and message attributes for machines.
 * SNS standard topics deliver at least once, so a retried notify can send twice; on a FIFO topic the
 * deduplication id (rollout, outcome, error) makes a retry a no-op.
 * Event: see `notifyEventSchema`. Result: `{ messageId, subject }`.
 */
export function createNotify(deps: StepDependencies<'sns'>): (event: unknown) => Promise<NotifyResult> {
  const { config, sns } = deps;
  return async (event) => {
    const parsed = parseEvent(notifyEventSchema, event, 'notify');
    const fromInput = (key: string) =>
      typeof parsed.input?.[key] === 'string' ? (parsed.input[key] as string) : undefined;
    const rolloutId =
      parsed.rollout?.rolloutId ??
      parsed.rolloutId ??
      fromInput('rolloutId') ??
      parsed.executionArn?.split(':').at(-1) ??
      'unknown';
    const imageId =
      parsed.rollout?.imageId ?? parsed.imageId ?? fromInput('imageId') ?? '(no image id in the input)';
    const log = stepLogger(deps, 'notify', { rolloutId, imageId });
    const topicArn = config.notificationTopicArn;
    if (!topicArn)
      throw new ConfigError('notificationTopicArn is not set; the notify step has nowhere to publish');
    const region = await sns.config.region();
    const notification = composeNotification({
      outcome: parsed.outcome,
      rolloutId,
      imageId,
      region,
      ...(parsed.rollout ? { rollout: parsed.rollout } : {}),
      ...(parsed.error ? { error: parsed.error } : {}),
      ...(parsed.executionArn ? { executionArn: parsed.executionArn } : {}),
    });
    const deduplicationId = createHash('sha256')
      .update(
        JSON.stringify([
          rolloutId,
          parsed.outcome,
          parsed.error?.Error ?? '',
          parsed.rollout?.refresh?.instanceRefreshId ?? '',
          // A rollout's rollback run (`ami-rollout rollback`) is a notification of its own.
          parsed.executionArn ?? '',
        ]),
      )
      .digest('hex')
      .slice(0, 64);
    const messageId = await publish(sns, { topicArn, ...notification, deduplicationId, groupId: rolloutId });
    log.info('notification-published', {
      topicArn,
      messageId,
      outcome: parsed.outcome,
      subject: notification.subject,
    });
    return { messageId, subject: notification.subject };
  };
}

/**
 * Notify as the rollout machine runs it: releases the pipeline's lock (if this execution holds it; a second
 * release is a no-op), records the outcome in the ledger, then publishes with the rollout record read from the
 * ledger. The lock goes first: a notification that cannot be sent must not hold the pipeline.
 */
export function createNotifyStep(
  deps: StepDependencies<'sns' | 'dynamodb'>,
): (event: unknown) => Promise<NotifyResult> {
  const inner = createNotify(deps);
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    const parsed = parseEvent(notifyRefEventSchema, event, 'notify');
    const ledger = ledgerOf(deps);
    // Only this execution's lock: a rollout refused at Preflight (the lock held by another) writes nothing.
    if (parsed.executionArn && (await readLock(ledger))?.executionArn === parsed.executionArn)
      await releaseLock(ledger, parsed.executionArn);
    // A failure inside a batch or group execution reaches the rollout as States.TaskFailed whose Cause is the
    // child execution's description: the notification names the child's own error.
    const error = unwrapChildFailure((event as { error?: unknown }).error);
    if (error) event = { ...(event as object), error };
    const ref = parsed.rollout;
    if (!ref) return inner(event);
    const { item, groups, view } = await readRollout(ledger, ref.rolloutId);
    // The group the rollout failed at, and the rollback refresh that failed, for the message's "Failing group".
    const failed = item.failure ? groups.find((g) => g.index === item.failure?.index) : undefined;
    const rollbackFailed = groups.find((g) => g.rollback?.status === 'FAILED')?.rollback?.refresh;
    const fleetRollback = view.fleetRollback;
    const shown = {
      ...view,
      ...(failed?.refresh ? { refresh: failed.refresh } : {}),
      ...(fleetRollback && rollbackFailed
        ? { fleetRollback: { ...fleetRollback, refresh: rollbackFailed } }
        : {}),
    };
    await updateRollout(ledger, ref.rolloutId, {
      phase: 'ended',
      outcome: parsed.outcome,
      endedAt: now().toISOString(),
    });
    return inner({ ...(event as object), rollout: shown });
  };
}

const notifyRefEventSchema = z
  .object({
    outcome: z.enum(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'ROLLBACK_FAILED']),
    executionArn: z.string().optional(),
    rollout: rolloutRefSchema.optional(),
  })
  .passthrough();

/** The Lambda entry point. */
export const handler = (event: unknown): Promise<NotifyResult> =>
  runInLambda(createNotifyStep, { sns: SNSClient, dynamodb: DynamoDBClient }, event);

/** The innermost error of a `.sync` child failure (States.TaskFailed, Cause the child's DescribeExecution). */
export function unwrapChildFailure(error: unknown): { Error: string; Cause?: string } | undefined {
  let current = error as { Error?: unknown; Cause?: unknown } | undefined;
  if (!current || typeof current.Error !== 'string') return undefined;
  for (let depth = 0; depth < 5 && current.Error === 'States.TaskFailed'; depth++) {
    let child: { Error?: unknown; Cause?: unknown } | undefined;
    try {
      child = typeof current.Cause === 'string' ? (JSON.parse(current.Cause) as typeof child) : undefined;
    } catch {
      break;
    }
    if (!child || typeof child.Error !== 'string') break;
    current = child;
  }
  return {
    Error: current.Error as string,
    ...(typeof current.Cause === 'string' ? { Cause: current.Cause } : {}),
  };
}
