import { createRequire } from 'node:module';
import type { LocalAccount } from '../account.ts';
import type { DynamoDbThrottlingCode } from '../faults.ts';
import type { AsyncJsonService, JsonAnswer } from './service.ts';

/**
 * DynamoDB, served by dynalite (github.com/architect/dynalite: DynamoDB's validations, expressions, conditions,
 * paging and error messages, on an in-memory memory-level store) inside the local account. dynalite is used
 * below its HTTP layer: its validation and action modules are called directly, so requests never leave the
 * process and the account's protocol bounds, call record and faults apply as for every other service.
 *
 * Added here, where dynalite departs from DynamoDB's API reference (each checked against moto in
 * test/oracles/moto-dynamodb.test.ts):
 * - `ReturnValuesOnConditionCheckFailure: ALL_OLD` (PutItem, UpdateItem, DeleteItem): a failed condition carries
 *   the item as it was in ConditionalCheckFailedException's `Item`. dynalite drops the member.
 * - `SSESpecification` on CreateTable: kept, and shown as `SSEDescription` by CreateTable and DescribeTable.
 * - CreationDateTime is the account's virtual time (dynalite takes the real clock).
 * Requests run one at a time, so the item a failed condition reports is the one the condition saw.
 */
export const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810';

/** The operations dynalite implements for API version 2012-08-10 (its index.js `validOperations`). */
export const DYNAMODB_OPERATIONS = [
  'BatchGetItem',
  'BatchWriteItem',
  'CreateTable',
  'DeleteItem',
  'DeleteTable',
  'DescribeTable',
  'DescribeTimeToLive',
  'GetItem',
  'ListTables',
  'PutItem',
  'Query',
  'Scan',
  'TagResource',
  'UntagResource',
  'ListTagsOfResource',
  'UpdateItem',
  'UpdateTable',
] as const;

export type DynamoDbOperation = (typeof DYNAMODB_OPERATIONS)[number];

/** The error shapes' namespace in `__type`, as DynamoDB sends it (developer guide, "Error handling"). */
const NAMESPACE = 'com.amazonaws.dynamodb.v20120810';

// The parts of dynalite this module uses (it ships no type declarations).
type Callback = (error: DynaliteError | null, result?: Record<string, unknown>) => void;
interface DynaliteError extends Error {
  statusCode?: number;
  body?: Record<string, unknown>;
}
interface TableDescription {
  readonly TableName: string;
  readonly TableStatus: string;
  readonly KeySchema: readonly { AttributeName: string; KeyType: string }[];
  readonly TableArn: string;
  CreationDateTime: number;
  TableId: string;
}
interface DynaliteStore {
  readonly tableDb: { awsAccountId: string; awsRegion: string };
  getTable(
    name: string,
    checkStatus: boolean,
    callback: (error: DynaliteError | null, table?: TableDescription) => void,
  ): void;
}
interface DynaliteDb {
  create(options: Record<string, unknown>): DynaliteStore;
}
interface ActionValidation {
  readonly types: Record<string, unknown>;
  readonly custom?: unknown;
}
interface DynaliteValidations {
  checkTypes(data: unknown, types: Record<string, unknown>): Record<string, unknown>;
  checkValidations(
    data: unknown,
    types: Record<string, unknown>,
    custom: unknown,
    store: DynaliteStore,
  ): void;
}
type DynaliteAction = (store: DynaliteStore, data: Record<string, unknown>, callback: Callback) => void;

const requireDynalite = createRequire(import.meta.url);
const dynaliteDb = requireDynalite('dynalite/db') as DynaliteDb;
const validations = requireDynalite('dynalite/validations') as DynaliteValidations;
const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);
const modules = new Map<string, { action: DynaliteAction; validation: ActionValidation }>(
  DYNAMODB_OPERATIONS.map((name) => [
    name,
    {
      action: requireDynalite(`dynalite/actions/${lowerFirst(name)}`) as DynaliteAction,
      validation: requireDynalite(`dynalite/validations/${lowerFirst(name)}`) as ActionValidation,
    },
  ]),
);

/** The messages of botocore's DynamoDB model (the shapes' `message` documentation) and the developer guide. */
const THROTTLING_MESSAGES: Readonly<Record<DynamoDbThrottlingCode, string>> = {
  ProvisionedThroughputExceededException: 'You exceeded your maximum allowed provisioned throughput.',
  ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
  RequestLimitExceeded: 'Throughput exceeds the current throughput quota for your account.',
};
const THROTTLING_NAMESPACES: Readonly<Record<DynamoDbThrottlingCode, string>> = {
  ProvisionedThroughputExceededException: NAMESPACE,
  ThrottlingException: 'com.amazon.coral.availability',
  RequestLimitExceeded: NAMESPACE,
};

const RETURN_VALUES_ON_CONDITION_CHECK_FAILURE = ['ALL_OLD', 'NONE'];
const CONDITIONAL_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

const error = (status: number, type: string, message: string): JsonAnswer => ({
  status,
  errorCode: type.slice(type.indexOf('#') + 1),
  body: { __type: type, message },
});

/** The DynamoDB of one local account. */
export class DynamoDbService implements AsyncJsonService {
  readonly name = 'dynamodb';
  readonly targetPrefix = DYNAMODB_TARGET_PREFIX;
  readonly jsonVersion = '1.0' as const;
  readonly operations: readonly string[] = DYNAMODB_OPERATIONS;
  private readonly store: DynaliteStore;
  /** The SSESpecification each table was created with (dynalite does not keep it). */
  private readonly encryption = new Map<string, Record<string, unknown>>();
  /** The tail of the request queue: one request at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The id of the account's AWS managed key for DynamoDB, `alias/aws/dynamodb`. */
  private readonly awsManagedKeyId: string;

  constructor(private readonly account: LocalAccount) {
    // A table is CREATING in the CreateTable answer, and ACTIVE before the next request (see created).
    this.store = dynaliteDb.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    // dynalite reads these from AWS_ACCOUNT_ID / AWS_REGION when the store is created.
    this.store.tableDb.awsAccountId = account.accountId;
    this.store.tableDb.awsRegion = account.region;
    this.awsManagedKeyId = account.ids.uuid('kms-key-aws-dynamodb');
  }

  throttled(code: DynamoDbThrottlingCode = 'ProvisionedThroughputExceededException'): JsonAnswer {
    return error(400, `${THROTTLING_NAMESPACES[code]}#${code}`, THROTTLING_MESSAGES[code]);
  }

  /** Answers one request (its body already parsed), after every request before it has been answered. */
  answer(action: string, body: Record<string, unknown>): Promise<JsonAnswer> {
    const answer = this.queue.then(() => this.run(action, body));
    this.queue = answer.catch(() => undefined);
    return answer;
  }

  private async run(action: string, body: Record<string, unknown>): Promise<JsonAnswer> {
    const module = modules.get(action);
    if (!module) {
      return error(
        400,
        'com.amazon.coral.service#UnknownOperationException',
        `The local account's DynamoDB does not serve ${action}: it serves ${DYNAMODB_OPERATIONS.join(', ')}.`,
      );
    }
    const onFailure = CONDITIONAL_WRITES.has(action)
      ? body['ReturnValuesOnConditionCheckFailure']
      : undefined;
    if (onFailure !== undefined && !RETURN_VALUES_ON_CONDITION_CHECK_FAILURE.includes(String(onFailure))) {
      return error(
        400,
        'com.amazon.coral.validate#ValidationException',
        `1 validation error detected: Value '${String(onFailure)}' at 'returnValuesOnConditionCheckFailure' ` +
          `failed to satisfy constraint: Member must satisfy enum value set: [${RETURN_VALUES_ON_CONDITION_CHECK_FAILURE.join(', ')}]`,
      );
    }
    const sse = action === 'CreateTable' ? body['SSESpecification'] : undefined;
    let data: Record<string, unknown>;
    try {
      data = validations.checkTypes(body, module.validation.types);
      validations.checkValidations(data, module.validation.types, module.validation.custom, this.store);
    } catch (thrown) {
      return fromDynalite(thrown);
    }
    const result = await this.call(module.action, data);
    if (result.status === 200) {
      if (action === 'CreateTable') return { ...result, body: await this.created(result.body, sse) };
      if (action === 'DescribeTable') this.describeEncryption(result.body['Table']);
      if (action === 'DeleteTable') this.encryption.delete(String(data['TableName']));
      return result;
    }
    if (onFailure === 'ALL_OLD' && result.errorCode === 'ConditionalCheckFailedException') {
      const item = await this.currentItem(action, data);
      if (item) return { ...result, body: { ...result.body, Item: item } };
    }
    return result;
  }

  private call(action: DynaliteAction, data: Record<string, unknown>): Promise<JsonAnswer> {
    return new Promise((resolve) => {
      try {
        action(this.store, data, (failure, output) => {
          if (failure) resolve(fromDynalite(failure));
          else resolve({ status: 200, body: output ?? {} });
        });
      } catch (thrown) {
        resolve(fromDynalite(thrown));
      }
    });
  }

  /**
   * After CreateTable: the table carries the account's virtual creation time and a UUID from the account's ids,
   * and is ACTIVE before the next request. dynalite turns it ACTIVE on a timer (createTableMs 0) by writing the
   * same description object back, so what is set here is what it stores. Returns the answer as it was at
   * creation (CREATING).
   */
  private async created(output: Record<string, unknown>, sse: unknown): Promise<Record<string, unknown>> {
    const table = output['TableDescription'] as TableDescription;
    table.CreationDateTime = this.account.now().getTime() / 1000;
    table.TableId = this.account.ids.uuid('dynamodb-table');
    if (isEnabledEncryption(sse)) this.encryption.set(table.TableName, sse);
    this.describeEncryption(table);
    const answer = structuredClone(output);
    for (let attempt = 0; attempt < 100; attempt++) {
      const stored = await this.table(table.TableName);
      if (stored?.TableStatus === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return answer;
  }

  /**
   * SSEDescription as DescribeTable shows it: present only for a table encrypted with a KMS key (the AWS managed
   * key `alias/aws/dynamodb` unless one is named); a table on the AWS owned key, the default, shows none.
   */
  private describeEncryption(table: unknown): void {
    if (!table || typeof table !== 'object') return;
    const description = table as Record<string, unknown>;
    const sse = this.encryption.get(String(description['TableName']));
    if (!sse) return;
    const named = typeof sse['KMSMasterKeyId'] === 'string' ? sse['KMSMasterKeyId'] : undefined;
    const { accountId, region } = this.account;
    description['SSEDescription'] = {
      Status: 'ENABLED',
      SSEType: 'KMS',
      KMSMasterKeyArn: named?.startsWith('arn:')
        ? named
        : `arn:aws:kms:${region}:${accountId}:key/${named ?? this.awsManagedKeyId}`,
    };
  }

  private table(name: string): Promise<TableDescription | undefined> {
    return new Promise((resolve) => this.store.getTable(name, false, (_e, table) => resolve(table)));
  }

  /** The item a failed conditional write found, read as GetItem with ConsistentRead would. */
  private async currentItem(action: string, data: Record<string, unknown>): Promise<unknown> {
    const tableName = String(data['TableName']);
    let key = data['Key'] as Record<string, unknown> | undefined;
    if (action === 'PutItem') {
      const table = await this.table(tableName);
      const item = data['Item'] as Record<string, unknown>;
      if (!table) return undefined;
      key = Object.fromEntries(table.KeySchema.map((k) => [k.AttributeName, item[k.AttributeName]]));
    }
    const getItem = modules.get('GetItem')!.action;
    const found = await this.call(getItem, { TableName: tableName, Key: key, ConsistentRead: true });
    return found.status === 200 ? found.body['Item'] : undefined;
  }
}

/** CreateTable's SSESpecification asks for a KMS key when Enabled is true (API reference, SSESpecification). */
function isEnabledEncryption(sse: unknown): sse is Record<string, unknown> {
  return !!sse && typeof sse === 'object' && (sse as Record<string, unknown>)['Enabled'] === true;
}

/** A dynalite error (its `statusCode` and DynamoDB error body) as an answer; anything else is an internal failure. */
function fromDynalite(thrown: unknown): JsonAnswer {
  const failure = thrown as DynaliteError;
  if (failure && typeof failure.statusCode === 'number' && failure.body) {
    const type = String(failure.body['__type'] ?? `${NAMESPACE}#InternalServerError`);
    return { status: failure.statusCode, errorCode: type.slice(type.indexOf('#') + 1), body: failure.body };
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return error(500, `${NAMESPACE}#InternalServerError`, `The local account failed: ${message}`);
}

/** Adds DynamoDB to `account`. */
export function dynamoDbService(account: LocalAccount): DynamoDbService {
  return new DynamoDbService(account);
}
