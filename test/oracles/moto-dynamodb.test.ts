/**
 * DynamoDB, differentially: one sequence of every call and condition the rollout ledger makes (the design
 * contract's "DynamoDB operations"; each condition both holding and failing), sent with the same SDK client
 * settings to moto_server and to the local account (dynalite), and the answers compared step by step: outputs
 * once generated values are normalized, error codes, and the `Item` of a failed condition. Follows
 * test/oracles/moto-cloudwatch.test.ts.
 *
 * moto is an independent emulator, not AWS: where the two disagree, the AWS API reference decides, and each
 * difference left out of the comparison says which document was checked.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { missing, resetMoto, startMoto, type RunningMoto } from '../support/tools.ts';

const TABLE = 'ami-rollout-ledger';

type Outcome =
  | { readonly ok: unknown }
  | { readonly error: { readonly code: string; readonly status?: number; readonly item?: unknown } };

interface ErrorLike {
  readonly name?: string;
  readonly Item?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

async function outcome<T extends object>(
  call: Promise<T>,
  pick: (output: T) => unknown = (o) => o,
): Promise<Outcome> {
  try {
    const output = await call;
    const { $metadata: _ignored, ...members } = output as T & { $metadata?: unknown };
    return { ok: normalize(pick(members as T)) };
  } catch (error) {
    const e = error as ErrorLike;
    if (!e.$metadata) throw error;
    return {
      error: {
        code: e.name ?? 'unknown',
        status: e.$metadata.httpStatusCode,
        ...(e.Item ? { item: normalize(e.Item) } : {}),
      },
    };
  }
}

/**
 * Members left out of every answer: moto sends ConsumedCapacity and ItemCollectionMetrics unasked; the API
 * reference (PutItem, UpdateItem, BatchWriteItem, Query output) returns them only when the request sets
 * ReturnConsumedCapacity / ReturnItemCollectionMetrics, which the ledger never does.
 */
const UNASKED = new Set(['ConsumedCapacity', 'ItemCollectionMetrics']);

function normalize(value: unknown): unknown {
  if (value instanceof Date) return '<date>';
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => v !== undefined && !UNASKED.has(k))
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

/**
 * What both must agree on in a table description. Left out:
 * - TableStatus in CreateTable's answer: the CreateTable reference says DynamoDB "immediately returns a response
 *   with a TableStatus of CREATING"; moto answers ACTIVE. The local account answers CREATING
 *   (test/local-account/dynamodb.test.ts); DescribeTable's ACTIVE is compared.
 * - TableId, TableArn's account, CreationDateTime, ItemCount and TableSizeBytes (generated, or refreshed by AWS
 *   about every six hours), ProvisionedThroughput (0/0 for on-demand in both but shaped differently), and
 *   members one of them leaves out (TableThroughputModeSummary, DeletionProtectionEnabled, WarmThroughput).
 */
const comparableTable = (table: TableDescription | undefined, withStatus: boolean) => ({
  TableName: table?.TableName,
  KeySchema: table?.KeySchema,
  AttributeDefinitions: [...(table?.AttributeDefinitions ?? [])].sort((a, b) =>
    String(a.AttributeName).localeCompare(String(b.AttributeName)),
  ),
  BillingMode: table?.BillingModeSummary?.BillingMode,
  ...(withStatus ? { TableStatus: table?.TableStatus } : {}),
});

const key = (pk: string, sk: string): Record<string, AttributeValue> => marshall({ pk, sk });
const lockItem = (executionArn: string) =>
  marshall({ pk: 'LOCK', sk: 'LOCK', executionArn, rolloutId: 'r-1', acquiredAt: '2026-01-01T00:00:00Z' });
const groupWrites = (from: number, count: number, rolloutId = 'r-1') =>
  Array.from({ length: count }, (_, i) => ({
    PutRequest: {
      Item: marshall({
        pk: rolloutId,
        sk: `GROUP#${String(from + i).padStart(6, '0')}`,
        name: `group-${from + i}`,
        wave: 0,
        status: 'PENDING',
      }),
    },
  }));

interface Step {
  readonly name: string;
  run(client: DynamoDBClient): Promise<Outcome>;
  /** Where moto departs from AWS: what each must answer, and the document that says what AWS does. */
  readonly motoDeparts?: { readonly moto: Outcome; readonly local: Outcome; readonly source: string };
}

const putLock =
  (arn: string, condition: string | undefined, conditionArn?: string, allOld = true) =>
  (client: DynamoDBClient) =>
    outcome(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: lockItem(arn),
          ...(condition ? { ConditionExpression: condition } : {}),
          ...(conditionArn ? { ExpressionAttributeValues: marshall({ ':arn': conditionArn }) } : {}),
          ...(allOld ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
        }),
      ),
    );

const updateRollout =
  (input: {
    sk?: string;
    expression: string;
    condition?: string;
    names?: Record<string, string>;
    values?: Record<string, unknown>;
  }) =>
  (client: DynamoDBClient) =>
    outcome(
      client.send(
        new UpdateItemCommand({
          TableName: TABLE,
          Key: key('r-1', input.sk ?? 'ROLLOUT'),
          UpdateExpression: input.expression,
          ...(input.condition ? { ConditionExpression: input.condition } : {}),
          ...(input.names ? { ExpressionAttributeNames: input.names } : {}),
          ...(input.values ? { ExpressionAttributeValues: marshall(input.values) } : {}),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      ),
    );

const releaseLock = (arn: string) => (client: DynamoDBClient) =>
  outcome(
    client.send(
      new DeleteItemCommand({
        TableName: TABLE,
        Key: key('LOCK', 'LOCK'),
        ConditionExpression: 'executionArn = :arn',
        ExpressionAttributeValues: marshall({ ':arn': arn }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    ),
  );

const getItem =
  (pk: string, sk: string, table = TABLE) =>
  (client: DynamoDBClient) =>
    outcome(client.send(new GetItemCommand({ TableName: table, Key: key(pk, sk), ConsistentRead: true })));

const createTable = (client: DynamoDBClient) =>
  outcome(
    client.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    ),
    (o) => comparableTable(o.TableDescription, false),
  );

/** Every page of the ledger's Query for one prefix, by `limit`. */
const queryPages = (prefix: string, limit?: number) => async (client: DynamoDBClient) => {
  const pages: Outcome[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await outcome(
      client.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: marshall({ ':pk': 'r-1', ':prefix': prefix }),
          ConsistentRead: true,
          ...(limit ? { Limit: limit } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    pages.push(page);
    const last =
      'ok' in page
        ? (page.ok as { LastEvaluatedKey?: Record<string, AttributeValue> }).LastEvaluatedKey
        : undefined;
    start = last;
  } while (start && pages.length < 20);
  return { ok: pages };
};

const ADVANCE = '#status IN (:a, :b) AND #cursor = :c AND attribute_not_exists(failure)';

/** The ledger's calls, in the order a rollout makes them, each condition both holding and failing. */
const STEPS: readonly Step[] = [
  { name: 'CreateTable PAY_PER_REQUEST pk/sk', run: createTable },
  { name: 'CreateTable again: ResourceInUseException', run: createTable },
  {
    name: 'DescribeTable',
    run: (c) =>
      outcome(c.send(new DescribeTableCommand({ TableName: TABLE })), (o) => comparableTable(o.Table, true)),
  },
  {
    name: 'DescribeTable of a missing table: ResourceNotFoundException',
    run: (c) => outcome(c.send(new DescribeTableCommand({ TableName: 'absent-table' }))),
  },
  {
    name: 'GetItem of a missing table: ResourceNotFoundException',
    run: getItem('LOCK', 'LOCK', 'absent-table'),
  },
  { name: 'GetItem of a missing item', run: getItem('LOCK', 'LOCK') },
  {
    name: 'lock: attribute_not_exists(pk) holds',
    run: putLock('arn:exec:first', 'attribute_not_exists(pk)'),
  },
  {
    name: 'lock: attribute_not_exists(pk) fails, ALL_OLD',
    run: putLock('arn:exec:second', 'attribute_not_exists(pk)'),
  },
  {
    name: 'lock: attribute_not_exists(pk) fails, without ReturnValuesOnConditionCheckFailure',
    run: putLock('arn:exec:second', 'attribute_not_exists(pk)', undefined, false),
  },
  {
    name: 'lock: attribute_not_exists(pk) OR executionArn = :arn holds for the holder',
    run: putLock('arn:exec:first', 'attribute_not_exists(pk) OR executionArn = :arn', 'arn:exec:first'),
  },
  {
    name: 'lock: attribute_not_exists(pk) OR executionArn = :arn fails for another',
    run: putLock('arn:exec:second', 'attribute_not_exists(pk) OR executionArn = :arn', 'arn:exec:second'),
  },
  { name: 'GetItem ConsistentRead of the lock', run: getItem('LOCK', 'LOCK') },
  {
    name: 'UpdateItem attribute_exists(pk) fails on a missing rollout',
    run: updateRollout({
      expression: 'SET #status = :s',
      condition: 'attribute_exists(pk)',
      names: { '#status': 'status' },
      values: { ':s': 'RUNNING' },
    }),
  },
  {
    name: 'UpdateItem creates the rollout: SET, #name, if_not_exists, list_append, ADD',
    run: updateRollout({
      expression:
        'SET imageId = :image, #status = :status, #cursor = :zero, startedAt = if_not_exists(startedAt, :now), ' +
        'events = list_append(if_not_exists(events, :empty), :event), stale = :true ADD attempts :one',
      names: { '#status': 'status', '#cursor': 'cursor' },
      values: {
        ':image': 'ami-0123456789abcdef0',
        ':status': 'RUNNING',
        ':zero': 0,
        ':now': '2026-01-01T00:00:00Z',
        ':empty': [],
        ':event': ['started'],
        ':true': true,
        ':one': 1,
      },
    }),
  },
  {
    name: 'UpdateItem attribute_exists(pk) holds: if_not_exists keeps, list_append appends, REMOVE, ADD',
    run: updateRollout({
      expression:
        'SET startedAt = if_not_exists(startedAt, :later), events = list_append(events, :event) REMOVE stale ADD attempts :one',
      condition: 'attribute_exists(pk)',
      values: { ':later': '2026-02-01T00:00:00Z', ':event': ['again'], ':one': 1 },
    }),
  },
  {
    name: 'UpdateItem #status IN, #cursor =, attribute_not_exists(failure) hold',
    run: updateRollout({
      expression: 'SET #cursor = :next',
      condition: ADVANCE,
      names: { '#status': 'status', '#cursor': 'cursor' },
      values: { ':a': 'RUNNING', ':b': 'ROLLING_BACK', ':c': 0, ':next': 1 },
    }),
  },
  {
    name: 'UpdateItem #cursor = :c fails (the cursor moved)',
    run: updateRollout({
      expression: 'SET #cursor = :next',
      condition: ADVANCE,
      names: { '#status': 'status', '#cursor': 'cursor' },
      values: { ':a': 'RUNNING', ':b': 'ROLLING_BACK', ':c': 0, ':next': 1 },
    }),
  },
  {
    name: 'UpdateItem #status IN (:a, :b) fails',
    run: updateRollout({
      expression: 'SET #cursor = :next',
      condition: ADVANCE,
      names: { '#status': 'status', '#cursor': 'cursor' },
      values: { ':a': 'DONE', ':b': 'FAILED', ':c': 1, ':next': 2 },
    }),
  },
  {
    name: 'UpdateItem attribute_not_exists(failure) holds: records the failure',
    run: updateRollout({
      expression: 'SET failure = :failure',
      condition: 'attribute_not_exists(failure)',
      values: { ':failure': { group: 'web', reason: 'instances unhealthy' } },
    }),
  },
  {
    name: 'UpdateItem attribute_not_exists(failure) fails: the first failure stays',
    run: updateRollout({
      expression: 'SET failure = :failure',
      condition: 'attribute_not_exists(failure)',
      values: { ':failure': { group: 'api', reason: 'later' } },
    }),
  },
  {
    name: 'UpdateItem naming a value not given: ValidationException',
    run: updateRollout({ expression: 'SET imageId = :missing' }),
  },
  {
    name: 'GetItem with a key that does not match the schema: ValidationException',
    run: (c) => outcome(c.send(new GetItemCommand({ TableName: TABLE, Key: marshall({ pk: 'r-1' }) }))),
  },
  {
    name: 'BatchWriteItem of 25 PutRequests',
    run: (c) => outcome(c.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: groupWrites(0, 25) } }))),
  },
  {
    name: 'BatchWriteItem of 26: ValidationException',
    // Another rollout's key, so that moto's accepting the batch leaves r-1's items alike in both.
    run: (c) =>
      outcome(
        c.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: groupWrites(0, 26, 'r-too-many') } })),
      ),
    motoDeparts: {
      moto: { ok: { UnprocessedItems: {} } },
      local: { error: { code: 'ValidationException', status: 400 } },
      source:
        'BatchWriteItem API reference: "up to 25 item put or delete operations" per call, and a ValidationException ' +
        'when "There are more than 25 requests in the batch"; moto 5 writes all 26',
    },
  },
  {
    name: 'BatchWriteItem of 5 more',
    run: (c) => outcome(c.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: groupWrites(25, 5) } }))),
  },
  { name: 'Query begins_with GROUP#, Limit 7, paged by ExclusiveStartKey', run: queryPages('GROUP#', 7) },
  { name: 'Query begins_with GROUP#, one page', run: queryPages('GROUP#') },
  { name: 'Query begins_with ROLLOUT', run: queryPages('ROLLOUT') },
  { name: 'Query begins_with a prefix nothing has', run: queryPages('WAVE#') },
  { name: 'release: executionArn = :arn fails for another, ALL_OLD', run: releaseLock('arn:exec:second') },
  { name: 'release: executionArn = :arn holds for the holder', run: releaseLock('arn:exec:first') },
  { name: 'release again: the condition finds no item', run: releaseLock('arn:exec:first') },
  { name: 'GetItem of the released lock', run: getItem('LOCK', 'LOCK') },
];

const noMoto = missing('moto', 'moto DynamoDB differential tests (test/oracles/moto-dynamodb.test.ts)');

describe.skipIf(noMoto)("moto and the local account answer the ledger's DynamoDB calls alike", () => {
  let moto: RunningMoto;
  let account: LocalAccount;

  beforeAll(async () => {
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  beforeEach(async () => {
    await resetMoto(moto.endpoint);
    account = createLocalAccount();
  });

  it('answers every step of the sequence with the same output or error code', async () => {
    const config = {
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    };
    const remote = new DynamoDBClient({ ...config, endpoint: moto.endpoint });
    const local = new DynamoDBClient({ ...inProcessClientConfig(account), maxAttempts: 1 });
    const differences: string[] = [];
    const codes = new Set<string>();
    for (const step of STEPS) {
      const fromMoto = await step.run(remote);
      const fromLocal = await step.run(local);
      if ('error' in fromLocal) codes.add(fromLocal.error.code);
      try {
        if (step.motoDeparts) {
          expect(fromMoto, `moto still departs from AWS: ${step.motoDeparts.source}`).toEqual(
            step.motoDeparts.moto,
          );
          expect(fromLocal, step.motoDeparts.source).toEqual(step.motoDeparts.local);
        } else {
          expect(fromLocal).toEqual(fromMoto);
        }
      } catch {
        differences.push(
          `${step.name}:\n  moto:  ${JSON.stringify(fromMoto)}\n  local: ${JSON.stringify(fromLocal)}`,
        );
      }
    }
    remote.destroy();
    expect(differences, differences.join('\n')).toEqual([]);
    // The sequence reaches each error the ledger must handle, so agreement covers them.
    expect([...codes].sort()).toEqual([
      'ConditionalCheckFailedException',
      'ResourceInUseException',
      'ResourceNotFoundException',
      'ValidationException',
    ]);
  });
});
