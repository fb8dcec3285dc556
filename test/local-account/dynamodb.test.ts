/**
 * DynamoDB in the local account (dynalite behind LocalAccount.handleAsync), through the real SDK client: every
 * operation and condition the rollout ledger uses (the design contract's "DynamoDB operations"), AWS's errors,
 * the call record and the throttle faults. test/oracles/moto-dynamodb.test.ts compares the same calls with moto.
 */
import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import type { RunningEmulator } from '../../src/local-account/server.ts';

const TABLE = 'ami-rollout-ledger';

let account: LocalAccount;
let dynamodb: DynamoDBClient;

beforeEach(() => {
  account = createLocalAccount();
  dynamodb = new DynamoDBClient({ ...inProcessClientConfig(account), maxAttempts: 1 });
});

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DynamoDBServiceException) {
      const item = (error as ConditionalCheckFailedException).Item;
      return {
        code: error.name,
        status: error.$metadata.httpStatusCode,
        message: error.message,
        ...(item ? { item: unmarshall(item) } : {}),
      };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

const createTable = (client = dynamodb, extra: object = {}) =>
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
      ...extra,
    }),
  );

const key = (pk: string, sk: string): Record<string, AttributeValue> => marshall({ pk, sk });

const get = async (pk: string, sk: string) => {
  const { Item } = await dynamodb.send(
    new GetItemCommand({ TableName: TABLE, Key: key(pk, sk), ConsistentRead: true }),
  );
  return Item ? unmarshall(Item) : undefined;
};

const lockItem = (executionArn: string) =>
  marshall({ pk: 'LOCK', sk: 'LOCK', executionArn, rolloutId: 'r-1', acquiredAt: '2026-01-01T00:00:00Z' });

const acquire = (executionArn: string, condition = 'attribute_not_exists(pk)', arn?: string) =>
  dynamodb.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: lockItem(executionArn),
      ConditionExpression: condition,
      ...(arn ? { ExpressionAttributeValues: marshall({ ':arn': arn }) } : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    }),
  );

describe('CreateTable and DescribeTable', () => {
  it('answers CREATING, then DescribeTable shows the table ACTIVE, on demand, created at virtual time', async () => {
    account.advance(3600);
    const { TableDescription } = await createTable();
    expect(TableDescription?.TableStatus).toBe('CREATING');
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table).toMatchObject({
      TableName: TABLE,
      TableStatus: 'ACTIVE',
      TableArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`,
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    });
    expect(Table?.CreationDateTime?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(Table?.TableId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Table?.SSEDescription).toBeUndefined();
  });

  it('shows SSEDescription for a table encrypted with the AWS managed KMS key', async () => {
    const { TableDescription } = await createTable(dynamodb, { SSESpecification: { Enabled: true } });
    expect(TableDescription?.SSEDescription).toMatchObject({ Status: 'ENABLED', SSEType: 'KMS' });
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: TABLE }));
    expect(Table?.SSEDescription?.KMSMasterKeyArn).toMatch(/^arn:aws:kms:us-east-1:123456789012:key\//);
  });

  it('fails with ResourceInUseException when the table exists', async () => {
    await createTable();
    expect(await failure(createTable())).toMatchObject({ code: 'ResourceInUseException', status: 400 });
  });

  it('fails with ResourceNotFoundException for a table that does not exist', async () => {
    expect(await failure(dynamodb.send(new DescribeTableCommand({ TableName: 'absent' })))).toMatchObject({
      code: 'ResourceNotFoundException',
      message: 'Requested resource not found: Table: absent not found',
    });
    expect(await failure(get('a', 'b'))).toMatchObject({ code: 'ResourceNotFoundException' });
  });
});

describe('the lock: PutItem and DeleteItem with conditions', () => {
  beforeEach(() => createTable());

  it('acquires a free lock, and refuses a held one with ConditionalCheckFailedException carrying the holder', async () => {
    await acquire('arn:exec:first');
    expect(await failure(acquire('arn:exec:second'))).toEqual({
      code: 'ConditionalCheckFailedException',
      status: 400,
      message: 'The conditional request failed',
      item: unmarshall(lockItem('arn:exec:first')),
    });
    expect((await get('LOCK', 'LOCK'))?.['executionArn']).toBe('arn:exec:first');
  });

  it('leaves Item out of the failure without ReturnValuesOnConditionCheckFailure', async () => {
    await acquire('arn:exec:first');
    const refused = await failure(
      dynamodb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: lockItem('arn:exec:second'),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    expect(refused).toEqual({
      code: 'ConditionalCheckFailedException',
      status: 400,
      message: 'The conditional request failed',
    });
  });

  it('re-acquires for the same execution with attribute_not_exists(pk) OR executionArn = :arn', async () => {
    const condition = 'attribute_not_exists(pk) OR executionArn = :arn';
    await acquire('arn:exec:first', condition, 'arn:exec:first');
    await acquire('arn:exec:first', condition, 'arn:exec:first');
    expect(await failure(acquire('arn:exec:second', condition, 'arn:exec:second'))).toMatchObject({
      code: 'ConditionalCheckFailedException',
      item: { executionArn: 'arn:exec:first' },
    });
  });

  it('releases only for the holder: DeleteItem with executionArn = :arn', async () => {
    await acquire('arn:exec:first');
    const release = (arn: string) =>
      dynamodb.send(
        new DeleteItemCommand({
          TableName: TABLE,
          Key: key('LOCK', 'LOCK'),
          ConditionExpression: 'executionArn = :arn',
          ExpressionAttributeValues: marshall({ ':arn': arn }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    expect(await failure(release('arn:exec:other'))).toMatchObject({
      code: 'ConditionalCheckFailedException',
      item: { executionArn: 'arn:exec:first' },
    });
    await release('arn:exec:first');
    expect(await get('LOCK', 'LOCK')).toBeUndefined();
    // Released already: the condition finds no item, and the failure carries none.
    expect(await failure(release('arn:exec:first'))).toEqual({
      code: 'ConditionalCheckFailedException',
      status: 400,
      message: 'The conditional request failed',
    });
  });

  it('refuses a ReturnValuesOnConditionCheckFailure outside ALL_OLD and NONE, naming the member', async () => {
    const refused = await failure(
      dynamodb.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: lockItem('arn:exec:first'),
          ReturnValuesOnConditionCheckFailure: 'ALL_NEW' as 'ALL_OLD',
        }),
      ),
    );
    expect(refused).toMatchObject({ code: 'ValidationException' });
    expect(refused.message).toContain("'returnValuesOnConditionCheckFailure'");
    expect(await get('LOCK', 'LOCK')).toBeUndefined();
  });
});

describe('UpdateItem, as the ledger updates a rollout and its groups', () => {
  beforeEach(async () => {
    await createTable();
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshall({ pk: 'r-1', sk: 'ROLLOUT', status: 'RUNNING', cursor: 0, stale: true }),
      }),
    );
  });

  const update = (input: {
    key?: Record<string, AttributeValue>;
    expression: string;
    condition?: string;
    names?: Record<string, string>;
    values?: Record<string, unknown>;
  }) =>
    dynamodb.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: input.key ?? key('r-1', 'ROLLOUT'),
        UpdateExpression: input.expression,
        ...(input.condition ? { ConditionExpression: input.condition } : {}),
        ...(input.names ? { ExpressionAttributeNames: input.names } : {}),
        ...(input.values ? { ExpressionAttributeValues: marshall(input.values) } : {}),
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );

  it('applies SET, if_not_exists, list_append, REMOVE and ADD in one expression, and returns ALL_NEW', async () => {
    const { Attributes } = await update({
      expression:
        'SET image = :image, #status = :status, firstSeen = if_not_exists(firstSeen, :now), ' +
        'events = list_append(if_not_exists(events, :empty), :event) REMOVE stale ADD attempts :one',
      condition: 'attribute_exists(pk)',
      names: { '#status': 'status' },
      values: {
        ':image': 'ami-0123456789abcdef0',
        ':status': 'ROLLING_BACK',
        ':now': '2026-01-01T00:00:00Z',
        ':empty': [],
        ':event': ['started'],
        ':one': 1,
      },
    });
    expect(unmarshall(Attributes!)).toEqual({
      pk: 'r-1',
      sk: 'ROLLOUT',
      image: 'ami-0123456789abcdef0',
      status: 'ROLLING_BACK',
      cursor: 0,
      firstSeen: '2026-01-01T00:00:00Z',
      events: ['started'],
      attempts: 1,
    });
    const again = await update({
      expression:
        'SET firstSeen = if_not_exists(firstSeen, :now), events = list_append(events, :event) ADD attempts :one',
      values: { ':now': 'later', ':event': ['again'], ':one': 1 },
    });
    expect(unmarshall(again.Attributes!)).toMatchObject({
      firstSeen: '2026-01-01T00:00:00Z',
      events: ['started', 'again'],
      attempts: 2,
    });
  });

  it('refuses attribute_exists(pk) on a missing item, creating nothing', async () => {
    expect(
      await failure(
        update({
          key: key('r-1', 'GROUP#000007'),
          expression: 'SET #status = :s',
          condition: 'attribute_exists(pk)',
          names: { '#status': 'status' },
          values: { ':s': 'FAILED' },
        }),
      ),
    ).toEqual({
      code: 'ConditionalCheckFailedException',
      status: 400,
      message: 'The conditional request failed',
    });
    expect(await get('r-1', 'GROUP#000007')).toBeUndefined();
  });

  it('checks #status IN (:a, :b), #cursor = :c and attribute_not_exists(failure)', async () => {
    const advance = (from: number, statuses: [string, string]) =>
      update({
        expression: 'SET #cursor = :next',
        condition: '#status IN (:a, :b) AND #cursor = :c AND attribute_not_exists(failure)',
        names: { '#status': 'status', '#cursor': 'cursor' },
        values: { ':a': statuses[0], ':b': statuses[1], ':c': from, ':next': from + 1 },
      });
    expect(unmarshall((await advance(0, ['RUNNING', 'ROLLING_BACK'])).Attributes!)['cursor']).toBe(1);
    // A cursor already moved (a FinishBatch run twice): refused, with the item as it is.
    expect(await failure(advance(0, ['RUNNING', 'ROLLING_BACK']))).toMatchObject({
      code: 'ConditionalCheckFailedException',
      item: { cursor: 1 },
    });
    expect(await failure(advance(1, ['DONE', 'FAILED']))).toMatchObject({
      code: 'ConditionalCheckFailedException',
    });
    await update({ expression: 'SET failure = :f', values: { ':f': { group: 'web' } } });
    expect(await failure(advance(1, ['RUNNING', 'ROLLING_BACK']))).toMatchObject({
      code: 'ConditionalCheckFailedException',
      item: { failure: { group: 'web' } },
    });
  });

  it('refuses an expression naming a value it was not given, with ValidationException', async () => {
    const refused = await failure(update({ expression: 'SET image = :missing' }));
    expect(refused).toMatchObject({ code: 'ValidationException', status: 400 });
    expect(refused.message).toContain(':missing');
  });

  it('changes no prototype through an attribute named __proto__', async () => {
    // Sent raw: the SDK's own deserializer cannot read such an attribute back.
    const send = (body: object) =>
      account.handleAsync({
        method: 'POST',
        path: '/',
        headers: {
          'x-amz-target': 'DynamoDB_20120810.UpdateItem',
          'content-type': 'application/x-amz-json-1.0',
        },
        body: JSON.stringify({
          TableName: TABLE,
          Key: key('r-1', 'ROLLOUT'),
          ReturnValues: 'ALL_NEW',
          ...body,
        }),
      });
    const names = { '#proto': '__proto__', '#polluted': 'polluted' };
    const values = { ':v': { S: 'yes' }, ':m': { M: { polluted: { S: 'yes' } } } };
    for (const expression of ['SET #proto.#polluted = :v', 'SET #proto = :m', 'SET #proto.#polluted = :v']) {
      const reply = await send({
        UpdateExpression: expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      expect([200, 400]).toContain(reply.status);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('refuses a key that does not match the schema', async () => {
    const refused = await failure(
      update({ key: marshall({ pk: 'r-1' }), expression: 'SET a = :a', values: { ':a': 1 } }),
    );
    expect(refused).toMatchObject({
      code: 'ValidationException',
      message: 'The provided key element does not match the schema',
    });
  });
});

describe('Query and BatchWriteItem, as the ledger writes and reads a plan', () => {
  beforeEach(() => createTable());

  const groups = (count: number, padding = '') =>
    Array.from({ length: count }, (_, i) => ({
      PutRequest: {
        Item: marshall({ pk: 'r-1', sk: `GROUP#${String(i).padStart(6, '0')}`, name: `g${i}`, padding }),
      },
    }));

  const query = (limit?: number, start?: Record<string, AttributeValue>) =>
    dynamodb.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: marshall({ ':pk': 'r-1', ':prefix': 'GROUP#' }),
        ConsistentRead: true,
        ...(limit ? { Limit: limit } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );

  it('writes 25 items in one call, with no UnprocessedItems, and refuses 26', async () => {
    const written = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: groups(25) } }));
    expect(written.UnprocessedItems).toEqual({});
    const refused = await failure(
      dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: groups(26) } })),
    );
    expect(refused).toMatchObject({ code: 'ValidationException' });
    expect(refused.message).toContain('less than or equal to 25');
    expect((await query()).Items).toHaveLength(25);
  });

  it('pages by Limit with LastEvaluatedKey and ExclusiveStartKey, in sort key order, and only the prefix', async () => {
    await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: groups(7) } }));
    await dynamodb.send(
      new PutItemCommand({ TableName: TABLE, Item: marshall({ pk: 'r-1', sk: 'ROLLOUT' }) }),
    );
    const names: string[] = [];
    let start: Record<string, AttributeValue> | undefined;
    let pages = 0;
    do {
      const page = await query(3, start);
      names.push(...(page.Items ?? []).map((item) => String(unmarshall(item)['name'])));
      start = page.LastEvaluatedKey;
      pages++;
    } while (start);
    expect(names).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6']);
    expect(pages).toBe(3);
  });

  it('stops a page at 1 MB of items, with a LastEvaluatedKey to go on from', async () => {
    // 12 items of about 100 KB: more than 1 MB in all.
    const big = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 12; i += 4) {
      await dynamodb.send(
        new BatchWriteItemCommand({ RequestItems: { [TABLE]: groups(12, big).slice(i, i + 4) } }),
      );
    }
    const first = await query();
    expect(first.Count).toBeLessThan(12);
    expect(first.Count).toBeGreaterThanOrEqual(10);
    expect(first.LastEvaluatedKey).toBeDefined();
    const rest = await query(undefined, first.LastEvaluatedKey);
    expect((first.Count ?? 0) + (rest.Count ?? 0)).toBe(12);
    expect(rest.LastEvaluatedKey).toBeUndefined();
  });
});

describe('the call record and faults', () => {
  beforeEach(() => createTable());

  it('records each DynamoDB call, with the error code of a failed one', async () => {
    await acquire('arn:exec:first');
    await failure(acquire('arn:exec:second'));
    expect(account.calls.filter((c) => c.service === 'dynamodb')).toEqual([
      expect.objectContaining({ action: 'CreateTable' }),
      expect.objectContaining({ action: 'PutItem' }),
      expect.objectContaining({ action: 'PutItem', errorCode: 'ConditionalCheckFailedException' }),
    ]);
    expect(account.calls[0]).not.toHaveProperty('errorCode');
  });

  it('throttles the next N calls of an operation with dynamodbThrottle, changing nothing', async () => {
    account.faults.add({
      kind: 'dynamodbThrottle',
      operation: 'PutItem',
      calls: 2,
      code: 'ThrottlingException',
    });
    for (let i = 0; i < 2; i++) {
      expect(await failure(acquire('arn:exec:first'))).toMatchObject({
        code: 'ThrottlingException',
        status: 400,
      });
    }
    expect(await get('LOCK', 'LOCK')).toBeUndefined();
    await acquire('arn:exec:first');
    expect((await get('LOCK', 'LOCK'))?.['executionArn']).toBe('arn:exec:first');
  });

  it('is ridden out by the SDK retrying ProvisionedThroughputExceededException, each attempt recorded', async () => {
    account.faults.add({ kind: 'dynamodbThrottle', calls: 2 });
    const retrying = new DynamoDBClient({ ...inProcessClientConfig(account), maxAttempts: 3 });
    const before = account.calls.length;
    const answer = await retrying.send(
      new GetItemCommand({ TableName: TABLE, Key: key('LOCK', 'LOCK'), ConsistentRead: true }),
    );
    expect(answer.$metadata.attempts).toBe(3);
    expect(account.calls.slice(before).map((c) => c.errorCode ?? 'ok')).toEqual([
      'ProvisionedThroughputExceededException',
      'ProvisionedThroughputExceededException',
      'ok',
    ]);
  });

  it('answers the generic throttle fault for a DynamoDB operation with ProvisionedThroughputExceededException', async () => {
    account.faults.add({ kind: 'throttle', operation: 'dynamodb:Query', calls: 1 });
    const query = () =>
      dynamodb.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: marshall({ ':pk': 'r-1' }),
        }),
      );
    expect(await failure(query())).toMatchObject({
      code: 'ProvisionedThroughputExceededException',
      message: 'You exceeded your maximum allowed provisioned throughput.',
    });
    expect((await query()).Count).toBe(0);
  });
});

describe('the wire', () => {
  const request = (target: string, body: string) => ({
    method: 'POST',
    path: '/',
    headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' },
    body,
  });

  it('answers an operation it does not serve with UnknownOperationException, naming the ones it does', async () => {
    const reply = await account.handleAsync(request('DynamoDB_20120810.TransactWriteItems', '{}'));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({
      __type: 'com.amazon.coral.service#UnknownOperationException',
      message: expect.stringContaining('BatchWriteItem'),
    });
  });

  it('answers a body that is not JSON with SerializationException', async () => {
    const reply = await account.handleAsync(request('DynamoDB_20120810.GetItem', '{"TableName":'));
    expect(JSON.parse(reply.body)).toMatchObject({
      __type: 'com.amazon.coral.service#SerializationException',
    });
    expect(account.calls.at(-1)).toMatchObject({ service: 'dynamodb', errorCode: 'SerializationException' });
  });

  it('sends the body CRC32 in x-amz-crc32, as DynamoDB does', async () => {
    const reply = await account.handleAsync(request('DynamoDB_20120810.ListTables', '{}'));
    const { crc32 } = await import('node:zlib');
    expect(reply.headers['x-amz-crc32']).toBe(String(crc32(reply.body)));
  });

  it('is not answered by the synchronous handle, which says to use handleAsync', () => {
    const reply = account.handle(request('DynamoDB_20120810.ListTables', '{}'));
    expect(reply.status).toBe(500);
    expect(reply.body).toContain('handleAsync');
  });

  describe('over HTTP', () => {
    let emulator: RunningEmulator;
    afterEach(() => emulator.close());

    it('serves the SDK at the emulator endpoint, alongside the other services', async () => {
      emulator = await serve(account, 0);
      const remote = new DynamoDBClient({
        region: 'us-east-1',
        endpoint: emulator.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
      await createTable(remote);
      await remote.send(new PutItemCommand({ TableName: TABLE, Item: lockItem('arn:exec:http') }));
      expect((await get('LOCK', 'LOCK'))?.['executionArn']).toBe('arn:exec:http');
      const refused = await failure(
        remote.send(
          new PutItemCommand({
            TableName: TABLE,
            Item: lockItem('arn:exec:other'),
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      expect(refused).toMatchObject({
        code: 'ConditionalCheckFailedException',
        item: { executionArn: 'arn:exec:http' },
      });
      remote.destroy();
    });
  });
});
