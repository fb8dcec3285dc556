/**
 * The AWS CLI against DynamoDB on a running emulator: botocore has its own serializer and parser for AWS JSON 1.0,
 * and checks the `x-amz-crc32` header of DynamoDB answers, so agreement here means the wire format is
 * DynamoDB's, not merely something the JS SDK tolerates. Follows aws-cli-cloudwatch.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalAccount, serve, type LocalAccount } from '../../src/local-account/index.ts';
import type { RunningEmulator } from '../../src/local-account/server.ts';
import { cliError, missing, runAws } from '../support/tools.ts';

/** The CLI's exit code for an error the service answered with: 255 in CLI v1, 254 in CLI v2. */
const SERVICE_ERROR_EXIT_CODES = [254, 255];
const TABLE = 'ami-rollout-ledger';

const noCli = missing('aws', 'AWS CLI oracle for DynamoDB (test/oracles/aws-cli-dynamodb.test.ts)');

let account: LocalAccount;
let emulator: RunningEmulator;

const aws = (...args: string[]) => runAws(emulator.endpoint, args);
const json = (value: unknown) => JSON.stringify(value);
const lock = (executionArn: string) =>
  json({ pk: { S: 'LOCK' }, sk: { S: 'LOCK' }, executionArn: { S: executionArn } });

describe.skipIf(noCli)('the AWS CLI against DynamoDB on the local account', () => {
  beforeAll(async () => {
    account = createLocalAccount();
    emulator = await serve(account, 0);
    const created = await aws(
      'dynamodb',
      'create-table',
      '--table-name',
      TABLE,
      '--billing-mode',
      'PAY_PER_REQUEST',
      '--attribute-definitions',
      'AttributeName=pk,AttributeType=S',
      'AttributeName=sk,AttributeType=S',
      '--key-schema',
      'AttributeName=pk,KeyType=HASH',
      'AttributeName=sk,KeyType=RANGE',
    );
    expect(created.exitCode, created.stderr).toBe(0);
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it('describes the table it created, ACTIVE and on demand', async () => {
    const described = await aws('dynamodb', 'describe-table', '--table-name', TABLE);
    expect(described.exitCode, described.stderr).toBe(0);
    expect(described.json).toMatchObject({
      Table: {
        TableName: TABLE,
        TableStatus: 'ACTIVE',
        BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      },
    });
  });

  it('puts the lock with a condition, refuses a second holder with the item, and gets it consistently', async () => {
    const condition = ['--condition-expression', 'attribute_not_exists(pk)'];
    const first = await aws(
      'dynamodb',
      'put-item',
      '--table-name',
      TABLE,
      '--item',
      lock('arn:exec:cli'),
      ...condition,
    );
    expect(first.exitCode, first.stderr).toBe(0);
    const second = await aws(
      'dynamodb',
      'put-item',
      '--table-name',
      TABLE,
      '--item',
      lock('arn:exec:other'),
      ...condition,
      '--return-values-on-condition-check-failure',
      'ALL_OLD',
    );
    expect(SERVICE_ERROR_EXIT_CODES).toContain(second.exitCode);
    expect(cliError(second.stderr)).toMatchObject({
      code: 'ConditionalCheckFailedException',
      operation: 'PutItem',
      message: 'The conditional request failed',
    });
    const got = await aws(
      'dynamodb',
      'get-item',
      '--table-name',
      TABLE,
      '--key',
      json({ pk: { S: 'LOCK' }, sk: { S: 'LOCK' } }),
      '--consistent-read',
    );
    expect(got.exitCode, got.stderr).toBe(0);
    expect(got.json).toEqual({ Item: JSON.parse(lock('arn:exec:cli')) as unknown });
  });

  it('writes a batch, and queries a prefix page by page: the CLI follows LastEvaluatedKey', async () => {
    const written = await aws(
      'dynamodb',
      'batch-write-item',
      '--request-items',
      json({
        [TABLE]: Array.from({ length: 5 }, (_, i) => ({
          PutRequest: { Item: { pk: { S: 'r-1' }, sk: { S: `GROUP#00000${i}` }, name: { S: `group-${i}` } } },
        })),
      }),
    );
    expect(written.exitCode, written.stderr).toBe(0);
    expect(written.json).toEqual({ UnprocessedItems: {} });
    const queried = await aws(
      'dynamodb',
      'query',
      '--table-name',
      TABLE,
      '--key-condition-expression',
      'pk = :pk AND begins_with(sk, :prefix)',
      '--expression-attribute-values',
      json({ ':pk': { S: 'r-1' }, ':prefix': { S: 'GROUP#' } }),
      '--consistent-read',
      '--page-size',
      '2',
      '--query',
      'Items[].name.S',
    );
    expect(queried.exitCode, queried.stderr).toBe(0);
    expect(queried.json).toEqual(['group-0', 'group-1', 'group-2', 'group-3', 'group-4']);
    const pages = account.calls.filter((c) => c.service === 'dynamodb' && c.action === 'Query');
    expect(pages).toHaveLength(3);
  });

  it('answers a missing table with ResourceNotFoundException', async () => {
    const missingTable = await aws('dynamodb', 'describe-table', '--table-name', 'absent-table');
    expect(SERVICE_ERROR_EXIT_CODES).toContain(missingTable.exitCode);
    expect(cliError(missingTable.stderr)?.code).toBe('ResourceNotFoundException');
  });
});
