import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type {
  LedgerGroup,
  LedgerRolloutItem,
  LedgerTemplate,
  LedgerWave,
  NewestRollout,
} from '../core/ledger-records.ts';

/**
 * The rollout ledger: one DynamoDB table, the durable record of every rollout (its plan, each group's state)
 * and the lock that lets one rollout run at a time. The state machines carry only keys and cursors; every step
 * reads and writes what it needs here. Items (pk, sk):
 * - (rolloutId, ROLLOUT): the rollout (image, rollback target, cursors, failure);
 * - (rolloutId, WAVE#0000), (rolloutId, TEMPLATE#lt-...), (rolloutId, GROUP#000000): the plan and its state;
 * - (LOCK, LOCK): which execution holds the pipeline;
 * - (NEWEST, NEWEST): the newest rollout that wrote a plan (a rollback must be of it).
 * Reads are strongly consistent: a step must see what the step before it wrote.
 */

export const LOCK_KEY = { pk: 'LOCK', sk: 'LOCK' } as const;
const NEWEST_KEY = { pk: 'NEWEST', sk: 'NEWEST' } as const;
const ROLLOUT_SK = 'ROLLOUT';
const pad = (n: number, width: number) => String(n).padStart(width, '0');
export const groupKey = (rolloutId: string, index: number) => ({
  pk: rolloutId,
  sk: `GROUP#${pad(index, 6)}`,
});
const waveKey = (rolloutId: string, index: number) => ({ pk: rolloutId, sk: `WAVE#${pad(index, 4)}` });
const templateKey = (rolloutId: string, id: string) => ({ pk: rolloutId, sk: `TEMPLATE#${id}` });

export interface LockItem {
  readonly executionArn: string;
  readonly rolloutId: string;
  readonly acquiredAt: string;
}

export type LockResult = { readonly kind: 'acquired' } | { readonly kind: 'held'; readonly holder: LockItem };

const toItem = (value: object): Record<string, AttributeValue> =>
  marshall(value, { removeUndefinedValues: true, convertClassInstanceToMap: false });

/**
 * The ledger table and the client to reach it. Each operation below is its own function (not a method), so a
 * function's bundle holds only the DynamoDB commands of the operations it calls: its role is granted exactly
 * those (test/infra/permissions.test.ts reads them from the bundle).
 */
export class Ledger {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}
}

// ----- the lock

/** Takes the lock for `executionArn`, or finds it already ours (a retried step). */
export async function acquireLock(ledger: Ledger, lock: LockItem): Promise<LockResult> {
  try {
    await ledger.client.send(
      new PutItemCommand({
        TableName: ledger.tableName,
        Item: toItem({ ...LOCK_KEY, ...lock }),
        ConditionExpression: 'attribute_not_exists(pk) OR executionArn = :arn',
        ExpressionAttributeValues: { ':arn': { S: lock.executionArn } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'acquired' };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const holder = error.Item ? (unmarshall(error.Item) as LockItem) : await readLock(ledger);
    if (!holder) return acquireLock(ledger, lock);
    return { kind: 'held', holder };
  }
}

/** Takes over a lock whose holder has ended, if it is still that holder's (another may have taken it first). */
export async function takeOverLock(
  ledger: Ledger,
  staleExecutionArn: string,
  lock: LockItem,
): Promise<boolean> {
  try {
    await ledger.client.send(
      new PutItemCommand({
        TableName: ledger.tableName,
        Item: toItem({ ...LOCK_KEY, ...lock, recoveredFrom: staleExecutionArn }),
        ConditionExpression: 'executionArn = :stale',
        ExpressionAttributeValues: { ':stale': { S: staleExecutionArn } },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Releases the lock if `executionArn` holds it; releasing twice, or a lock taken over since, is a no-op. */
export async function releaseLock(ledger: Ledger, executionArn: string): Promise<boolean> {
  try {
    await ledger.client.send(
      new DeleteItemCommand({
        TableName: ledger.tableName,
        Key: toItem(LOCK_KEY),
        ConditionExpression: 'executionArn = :arn',
        ExpressionAttributeValues: { ':arn': { S: executionArn } },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export async function readLock(ledger: Ledger): Promise<LockItem | undefined> {
  const { Item } = await ledger.client.send(
    new GetItemCommand({ TableName: ledger.tableName, Key: toItem(LOCK_KEY), ConsistentRead: true }),
  );
  return Item ? (unmarshall(Item) as LockItem) : undefined;
}

// ----- the plan

/** Writes a rollout's plan: the rollout item last, so a rollout item found means its plan is whole. */
export async function writePlan(
  ledger: Ledger,
  plan: {
    readonly rollout: LedgerRolloutItem;
    readonly waves: readonly LedgerWave[];
    readonly templates: readonly LedgerTemplate[];
    readonly groups: readonly LedgerGroup[];
  },
): Promise<void> {
  const id = plan.rollout.rolloutId;
  const items = [
    ...plan.waves.map((w) => ({ ...waveKey(id, w.index), ...w })),
    ...plan.templates.map((t) => ({ ...templateKey(id, t.launchTemplateId), ...t })),
    ...plan.groups.map((g) => ({ ...groupKey(id, g.index), ...g })),
  ];
  await batchPut(ledger, items);
  await putRollout(ledger, plan.rollout);
}

export async function putRollout(ledger: Ledger, rollout: LedgerRolloutItem): Promise<void> {
  await ledger.client.send(
    new PutItemCommand({
      TableName: ledger.tableName,
      Item: toItem({ pk: rollout.rolloutId, sk: ROLLOUT_SK, ...rollout }),
    }),
  );
}

export async function putTemplates(
  ledger: Ledger,
  rolloutId: string,
  templates: readonly LedgerTemplate[],
): Promise<void> {
  await batchPut(
    ledger,
    templates.map((t) => ({ ...templateKey(rolloutId, t.launchTemplateId), ...t })),
  );
}

export async function putGroups(
  ledger: Ledger,
  rolloutId: string,
  groups: readonly LedgerGroup[],
): Promise<void> {
  await batchPut(
    ledger,
    groups.map((g) => ({ ...groupKey(rolloutId, g.index), ...g })),
  );
}

export async function putGroup(ledger: Ledger, rolloutId: string, group: LedgerGroup): Promise<void> {
  await ledger.client.send(
    new PutItemCommand({
      TableName: ledger.tableName,
      Item: toItem({ ...groupKey(rolloutId, group.index), ...group }),
    }),
  );
}

export async function putWave(ledger: Ledger, rolloutId: string, wave: LedgerWave): Promise<void> {
  await ledger.client.send(
    new PutItemCommand({
      TableName: ledger.tableName,
      Item: toItem({ ...waveKey(rolloutId, wave.index), ...wave }),
    }),
  );
}

export async function getRollout(ledger: Ledger, rolloutId: string): Promise<LedgerRolloutItem | undefined> {
  const item = await readItem(ledger, { pk: rolloutId, sk: ROLLOUT_SK });
  return item as LedgerRolloutItem | undefined;
}

export async function getGroup(
  ledger: Ledger,
  rolloutId: string,
  index: number,
): Promise<LedgerGroup | undefined> {
  return (await readItem(ledger, groupKey(rolloutId, index))) as LedgerGroup | undefined;
}

export async function getTemplate(
  ledger: Ledger,
  rolloutId: string,
  id: string,
): Promise<LedgerTemplate | undefined> {
  return (await readItem(ledger, templateKey(rolloutId, id))) as LedgerTemplate | undefined;
}

/**
 * A conditional UpdateItem of the rollout item: true when it was applied, false when its condition did not hold
 * (ConditionalCheckFailed); any other error is thrown.
 */
async function updateRolloutIf(
  ledger: Ledger,
  rolloutId: string,
  update: {
    readonly set: string;
    /** Attributes to remove, as `a, b`. */
    readonly remove?: string;
    readonly condition: string;
    readonly values: Record<string, unknown>;
    readonly names?: Record<string, string>;
  },
): Promise<boolean> {
  try {
    await ledger.client.send(
      new UpdateItemCommand({
        TableName: ledger.tableName,
        Key: toItem({ pk: rolloutId, sk: ROLLOUT_SK }),
        UpdateExpression: `SET ${update.set}${update.remove ? ` REMOVE ${update.remove}` : ''}`,
        ConditionExpression: update.condition,
        ...(update.names ? { ExpressionAttributeNames: update.names } : {}),
        ExpressionAttributeValues: toItem(update.values),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Records the rollout's first failure (a later one does not replace it): later groups of the wave see it
 * and do not start.
 */
export async function recordFailure(
  ledger: Ledger,
  rolloutId: string,
  failure: NonNullable<LedgerRolloutItem['failure']>,
): Promise<void> {
  await updateRolloutIf(ledger, rolloutId, {
    set: 'failure = :failure',
    condition: 'attribute_exists(pk) AND attribute_not_exists(failure)',
    values: { ':failure': failure },
  });
}

/**
 * Records an operator's abort as the rollout's failure, unless it has one already or its rollback has begun
 * (conditional: an abort racing a failing group or the rollback changes nothing). True when it was recorded.
 */
export async function requestAbort(
  ledger: Ledger,
  rolloutId: string,
  failure: NonNullable<LedgerRolloutItem['failure']>,
): Promise<boolean> {
  return updateRolloutIf(ledger, rolloutId, {
    set: 'failure = :failure',
    condition:
      'attribute_exists(pk) AND attribute_not_exists(failure) AND attribute_not_exists(rollbackOrder) AND (attribute_not_exists(phase) OR phase = :forward)',
    values: { ':failure': failure, ':forward': 'forward' },
  });
}

/**
 * Hands a stopped or ended rollout to a rollback-only execution: it holds the rollout from now on
 * (`rollbackRun`), the rollout is failed (the operator's request, unless a failure is recorded already) and
 * rolling back again from `rollbackCursor`; its end (`outcome`, `endedAt`) is the rollback run's to write.
 * Conditional on the run recorded before it (`previousRun`: none, or the one that ended), so of two rollback
 * executions racing only one takes it. True when this call recorded the run.
 */
export async function beginRollbackRun(
  ledger: Ledger,
  rolloutId: string,
  run: NonNullable<LedgerRolloutItem['rollbackRun']>,
  failure: NonNullable<LedgerRolloutItem['failure']>,
  rollbackCursor: number,
  previousRun: string | undefined,
): Promise<boolean> {
  return updateRolloutIf(ledger, rolloutId, {
    set: 'rollbackRun = :run, failure = if_not_exists(failure, :failure), phase = :rollback, rollbackCursor = :cursor',
    remove: 'outcome, endedAt',
    condition:
      previousRun === undefined
        ? 'attribute_exists(pk) AND attribute_not_exists(rollbackRun)'
        : 'attribute_exists(pk) AND rollbackRun.executionArn = :previous',
    values: {
      ':run': run,
      ':failure': failure,
      ':rollback': 'rollback',
      ':cursor': rollbackCursor,
      ...(previousRun === undefined ? {} : { ':previous': previousRun }),
    },
  });
}

/** Records the newest rollout that wrote a plan (Preflight, after the plan). */
export async function putNewest(ledger: Ledger, newest: NewestRollout): Promise<void> {
  await ledger.client.send(
    new PutItemCommand({ TableName: ledger.tableName, Item: toItem({ ...NEWEST_KEY, ...newest }) }),
  );
}

export async function getNewest(ledger: Ledger): Promise<NewestRollout | undefined> {
  return (await readItem(ledger, NEWEST_KEY)) as NewestRollout | undefined;
}

/**
 * Claims the next health-gate check of the rollout for the caller: true when no check was claimed at or after
 * `notBefore` (ISO 8601; one format, so the strings compare as times). Many groups poll at once; this lets one
 * of them read the gate's alarms per poll interval, for the whole fleet.
 */
export async function claimGateCheck(
  ledger: Ledger,
  rolloutId: string,
  at: string,
  notBefore: string,
): Promise<boolean> {
  return updateRolloutIf(ledger, rolloutId, {
    set: 'gateClaimedAt = :at',
    condition:
      'attribute_exists(pk) AND (attribute_not_exists(gateClaimedAt) OR gateClaimedAt <= :notBefore)',
    values: { ':at': at, ':notBefore': notBefore },
  });
}

/**
 * Moves a cursor of the rollout (`forward` or `rollback`) from `from` to `to`; a step run twice finds it
 * moved already and changes nothing. Returns false when the cursor was not at `from`.
 */
export async function moveCursor(
  ledger: Ledger,
  rolloutId: string,
  cursor: 'forwardCursor' | 'rollbackCursor',
  from: number,
  to: number,
  extra: Partial<LedgerRolloutItem> = {},
): Promise<boolean> {
  const names: Record<string, string> = { '#cursor': cursor };
  const values: Record<string, unknown> = { ':from': from, ':to': to };
  const sets = ['#cursor = :to'];
  Object.entries(extra).forEach(([key, value], i) => {
    names[`#x${i}`] = key;
    values[`:x${i}`] = value;
    sets.push(`#x${i} = :x${i}`);
  });
  return updateRolloutIf(ledger, rolloutId, {
    set: sets.join(', '),
    condition: '#cursor = :from',
    names,
    values,
  });
}

/** Sets fields of the rollout item (which must exist). */
export async function updateRollout(
  ledger: Ledger,
  rolloutId: string,
  fields: Partial<LedgerRolloutItem>,
): Promise<void> {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return;
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = entries.map(([key, value], i) => {
    names[`#f${i}`] = key;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  await ledger.client.send(
    new UpdateItemCommand({
      TableName: ledger.tableName,
      Key: toItem({ pk: rolloutId, sk: ROLLOUT_SK }),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: toItem(values),
    }),
  );
}

export async function listGroups(ledger: Ledger, rolloutId: string): Promise<LedgerGroup[]> {
  return (await queryItems(ledger, rolloutId, 'GROUP#')) as unknown as LedgerGroup[];
}

export async function listWaves(ledger: Ledger, rolloutId: string): Promise<LedgerWave[]> {
  return (await queryItems(ledger, rolloutId, 'WAVE#')) as unknown as LedgerWave[];
}

export async function listTemplates(ledger: Ledger, rolloutId: string): Promise<LedgerTemplate[]> {
  return (await queryItems(ledger, rolloutId, 'TEMPLATE#')) as unknown as LedgerTemplate[];
}

async function readItem(
  ledger: Ledger,
  key: { pk: string; sk: string },
): Promise<Record<string, unknown> | undefined> {
  const { Item } = await ledger.client.send(
    new GetItemCommand({ TableName: ledger.tableName, Key: toItem(key), ConsistentRead: true }),
  );
  return Item ? strip(unmarshall(Item)) : undefined;
}

/** Every item of `rolloutId` whose sort key starts with `prefix`, in key order, page by page. */
async function queryItems(
  ledger: Ledger,
  rolloutId: string,
  prefix: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ledger.client.send(
      new QueryCommand({
        TableName: ledger.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: rolloutId }, ':prefix': { S: prefix } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) items.push(strip(unmarshall(item)));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** BatchWriteItem, 25 puts a call, sending back what DynamoDB left unprocessed until all is written. */
async function batchPut(ledger: Ledger, items: readonly Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests: WriteRequest[] = items
      .slice(i, i + 25)
      .map((item) => ({ PutRequest: { Item: toItem(item) } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      if (attempt > 10)
        throw new Error(`BatchWriteItem left ${requests.length} items unprocessed after 10 tries`);
      const { UnprocessedItems } = await ledger.client.send(
        new BatchWriteItemCommand({ RequestItems: { [ledger.tableName]: requests } }),
      );
      requests = UnprocessedItems?.[ledger.tableName] ?? [];
    }
  }
}

/** An item without its keys. */
function strip(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}
