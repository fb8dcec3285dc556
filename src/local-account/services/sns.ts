import type { LocalAccount } from '../account.ts';
import { AwsApiError } from '../errors.ts';
import type { Input } from '../protocols/input.ts';
import type { PublishedMessage, Subscription, Topic } from '../state.ts';
import type { Operation, ServiceDefinition } from './service.ts';
import { pageOffset, pageToken } from '../protocols/paging.ts';

/** Publish: message plus attributes up to 256 KiB (API_Publish). */
export const MAX_MESSAGE_BYTES = 262_144;
/** Publish: AWS enforces Subject <= 100 characters (getmoto/moto#1503 confirms 100 passes, 101 fails). */
export const MAX_SUBJECT_LENGTH = 100;
const PAGE_SIZE = 100;

/** Topic attributes CreateTopic accepts (API_CreateTopic). */
const TOPIC_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'DisplayName',
  'FifoTopic',
  'Policy',
  'SignatureVersion',
  'TracingConfig',
  'KmsMasterKeyId',
  'ArchivePolicy',
  'BeginningArchiveTime',
  'ContentBasedDeduplication',
  'FifoThroughputScope',
]);
/** Protocols that need the endpoint's owner to confirm; the local account never confirms them. */
const CONFIRMED_BY_ENDPOINT = new Set(['email', 'email-json', 'http', 'https']);
const PROTOCOLS = new Set([...CONFIRMED_BY_ENDPOINT, 'sms', 'sqs', 'application', 'lambda', 'firehose']);

const invalidParameter = (message: string): AwsApiError => new AwsApiError('InvalidParameter', message);
const invalidValue = (message: string): AwsApiError => new AwsApiError('ParameterValueInvalid', message);
const topicNotFound = (): AwsApiError => new AwsApiError('NotFound', 'Topic does not exist', 404);

/**
 * SNS (query protocol): CreateTopic, ListTopics, DeleteTopic, GetTopicAttributes, Subscribe,
 * ListSubscriptionsByTopic, Publish. Nothing is delivered: every published message is appended to
 * `account.state.published`, which tests and `GET /_local/sns/messages` read.
 */
export function snsService(account: LocalAccount): ServiceDefinition {
  const { topics, published } = account.state;

  const topicArnOf = (name: string): string => `arn:aws:sns:${account.region}:${account.accountId}:${name}`;

  const requireTopic = (arn: string | undefined, member = 'TopicArn'): Topic => {
    if (arn === undefined || arn === '') {
      throw invalidParameter(`Invalid parameter: ${member} Reason: no value for required parameter`);
    }
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(arn)) {
      throw invalidParameter(`Invalid parameter: ${member}`);
    }
    const topic = topics.get(arn);
    if (!topic) throw topicNotFound();
    return topic;
  };

  const isPending = (subscription: Subscription): boolean => CONFIRMED_BY_ENDPOINT.has(subscription.protocol);

  const CreateTopic: Operation = (input) => {
    const name = input.optString('Name') ?? '';
    const attributes = readAttributes(input, 'Attributes');
    for (const key of attributes.keys()) {
      if (!TOPIC_ATTRIBUTES.has(key))
        throw invalidParameter(`Invalid parameter: AttributeName Reason: ${key}`);
    }
    const fifo = attributes.get('FifoTopic') === 'true';
    const pattern = fifo ? /^[A-Za-z0-9_-]{1,251}\.fifo$/ : /^[A-Za-z0-9_-]{1,256}$/;
    if (!pattern.test(name)) throw invalidParameter('Invalid parameter: Topic Name');
    const arn = topicArnOf(name);
    const existing = topics.get(arn);
    if (existing) {
      // CreateTopic is idempotent by name, as long as it is not asked for different attributes.
      for (const [key, value] of attributes) {
        if (existing.attributes.get(key) !== value) {
          throw invalidParameter(
            'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
          );
        }
      }
      return { TopicArn: arn };
    }
    topics.set(arn, { topicArn: arn, name, attributes: new Map(attributes), subscriptions: [] });
    return { TopicArn: arn };
  };

  const ListTopics: Operation = (input) => {
    const all = [...topics.keys()];
    const start = readNextToken(input.optString('NextToken'), all.length);
    const page = all.slice(start, start + PAGE_SIZE);
    const end = start + page.length;
    return {
      Topics: page.map((arn) => ({ TopicArn: arn })),
      ...(end < all.length ? { NextToken: pageToken(end) } : {}),
    };
  };

  const DeleteTopic: Operation = (input) => {
    const arn = input.optString('TopicArn');
    // DeleteTopic is idempotent: deleting a topic that does not exist is not an error (API_DeleteTopic).
    try {
      requireTopic(arn);
    } catch (error) {
      if (error instanceof AwsApiError && error.code === 'NotFound') return undefined;
      throw error;
    }
    topics.delete(arn!);
    return undefined;
  };

  const GetTopicAttributes: Operation = (input) => {
    const topic = requireTopic(input.optString('TopicArn'));
    const pending = topic.subscriptions.filter(isPending).length;
    const defaults: [string, string][] = [
      ['TopicArn', topic.topicArn],
      ['Owner', account.accountId],
      ['Policy', JSON.stringify(defaultPolicy(topic.topicArn, account.accountId))],
      ['DisplayName', ''],
      ['SubscriptionsPending', String(pending)],
      ['SubscriptionsConfirmed', String(topic.subscriptions.length - pending)],
      ['SubscriptionsDeleted', '0'],
      ['EffectiveDeliveryPolicy', JSON.stringify(DEFAULT_EFFECTIVE_DELIVERY_POLICY)],
    ];
    return { Attributes: new Map([...defaults, ...topic.attributes]) };
  };

  const Subscribe: Operation = (input) => {
    const topic = requireTopic(input.optString('TopicArn'));
    const protocol = input.optString('Protocol');
    if (protocol === undefined || protocol === '') {
      throw invalidParameter('Invalid parameter: Protocol Reason: no value for required parameter');
    }
    if (!PROTOCOLS.has(protocol)) {
      throw invalidParameter(
        `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
      );
    }
    const endpoint = input.optString('Endpoint') ?? '';
    if ((protocol === 'email' || protocol === 'email-json') && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(endpoint)) {
      throw invalidParameter('Invalid parameter: Email address');
    }
    if ((protocol === 'http' || protocol === 'https') && !endpoint.startsWith(`${protocol}://`)) {
      throw invalidParameter(`Invalid parameter: Endpoint must match the specified protocol`);
    }
    const returnArn = input.optBoolean('ReturnSubscriptionArn') ?? false;
    let subscription = topic.subscriptions.find((s) => s.protocol === protocol && s.endpoint === endpoint);
    if (!subscription) {
      subscription = {
        subscriptionArn: `${topic.topicArn}:${account.ids.uuid('subscription')}`,
        topicArn: topic.topicArn,
        protocol,
        endpoint,
      };
      topic.subscriptions.push(subscription);
    }
    // An email subscription waits for its owner to confirm; until then AWS hides its ARN (API_Subscribe).
    return {
      SubscriptionArn:
        isPending(subscription) && !returnArn ? 'pending confirmation' : subscription.subscriptionArn,
    };
  };

  const ListSubscriptionsByTopic: Operation = (input) => {
    const topic = requireTopic(input.optString('TopicArn'));
    const start = readNextToken(input.optString('NextToken'), topic.subscriptions.length);
    const page = topic.subscriptions.slice(start, start + PAGE_SIZE);
    const end = start + page.length;
    return {
      Subscriptions: page.map((s) => ({
        SubscriptionArn: isPending(s) ? 'PendingConfirmation' : s.subscriptionArn,
        Owner: account.accountId,
        Protocol: s.protocol,
        Endpoint: s.endpoint,
        TopicArn: s.topicArn,
      })),
      ...(end < topic.subscriptions.length ? { NextToken: pageToken(end) } : {}),
    };
  };

  const Publish: Operation = (input) => {
    if (input.has('PhoneNumber')) {
      throw invalidParameter('Invalid parameter: PhoneNumber Reason: the local account does not send SMS');
    }
    const topicArn = input.optString('TopicArn') ?? input.optString('TargetArn');
    const message = input.optString('Message');
    if (message === undefined || message === '') throw invalidParameter('Invalid parameter: Empty message');
    const subject = input.optString('Subject');
    // Subjects: ASCII text starting with a letter, number or punctuation; no line breaks or control characters.
    if (subject !== undefined && (subject.length > MAX_SUBJECT_LENGTH || !/^[!-~][ -~]*$/.test(subject))) {
      throw invalidParameter('Invalid parameter: Subject');
    }
    const structure = input.optString('MessageStructure');
    if (structure !== undefined) {
      if (structure !== 'json') throw invalidParameter('Invalid parameter: MessageStructure');
      if (!hasDefaultEntry(message)) {
        throw invalidParameter(
          'Invalid parameter: Message Structure - No default entry in JSON message body',
        );
      }
    }
    const attributes = readMessageAttributes(input);
    const attributeBytes = Object.entries(attributes).reduce(
      (sum, [name, { dataType, value }]) =>
        sum + Buffer.byteLength(name) + Buffer.byteLength(dataType) + Buffer.byteLength(value),
      0,
    );
    if (Buffer.byteLength(message) + attributeBytes > MAX_MESSAGE_BYTES) {
      throw invalidParameter('Invalid parameter: Message too long');
    }
    const topic = requireTopic(topicArn, input.has('TopicArn') ? 'TopicArn' : 'TopicArn or TargetArn');
    const fifo = topic.attributes.get('FifoTopic') === 'true';
    const groupId = input.optString('MessageGroupId');
    if (fifo && !groupId) {
      throw invalidParameter('Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
    }
    const messageId = account.ids.uuid('message');
    const record: PublishedMessage = {
      messageId,
      topicArn: topic.topicArn,
      ...(subject !== undefined ? { subject } : {}),
      message,
      messageAttributes: attributes,
      publishedAt: account.now(),
    };
    published.push(record);
    return {
      MessageId: messageId,
      ...(fifo ? { SequenceNumber: String(published.length).padStart(20, '0') } : {}),
    };
  };

  return {
    name: 'sns',
    protocol: 'query',
    apiVersion: '2010-03-31',
    xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
    throttling: { code: 'Throttled', httpStatus: 429 },
    operations: {
      CreateTopic,
      ListTopics,
      DeleteTopic,
      GetTopicAttributes,
      Subscribe,
      ListSubscriptionsByTopic,
      Publish,
    },
  };
}

/** A query-protocol map (`Attributes.entry.N.key/value`, expanded to `[{key, value}]`). */
function readAttributes(input: Input, path: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const entry of input.objects(path)) {
    attributes.set(entry.string('key'), entry.optString('value') ?? '');
  }
  return attributes;
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue`, validated like SNS does. */
function readMessageAttributes(input: Input): PublishedMessage['messageAttributes'] {
  // Null-prototype: an attribute may be named `__proto__` (SNS's name rules allow it), and is then just an attribute.
  const attributes = Object.create(null) as Record<string, { dataType: string; value: string }>;
  for (const entry of input.objects('MessageAttributes')) {
    const name = entry.optString('Name') ?? '';
    if (
      name === '' ||
      name.length > 256 ||
      /^(aws\.|amazon\.)/i.test(name) ||
      !/^[A-Za-z0-9_.-]+$/.test(name)
    ) {
      throw invalidValue(`The message attribute name '${name}' is invalid.`);
    }
    const dataType = entry.optString('Value.DataType') ?? '';
    if (!/^(String|Number|Binary)(\..+)?$/.test(dataType)) {
      throw invalidValue(
        `The message attribute '${name}' has an invalid message attribute type, the set of supported type ` +
          'prefixes is Binary, Number, and String.',
      );
    }
    const value =
      entry.optString(dataType.startsWith('Binary') ? 'Value.BinaryValue' : 'Value.StringValue') ?? '';
    if (value === '') {
      throw invalidValue(`The message attribute '${name}' must contain non-empty message attribute value.`);
    }
    if (dataType.startsWith('Number') && !Number.isFinite(Number(value))) {
      throw invalidValue(`Could not cast message attribute '${name}' value to number.`);
    }
    if (dataType.startsWith('String.Array') && !isJsonArray(value)) {
      throw invalidValue(`The message attribute '${name}' with type 'String.Array' must use a JSON array.`);
    }
    attributes[name] = { dataType, value };
  }
  return attributes;
}

function isJsonArray(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

function hasDefaultEntry(message: string): boolean {
  try {
    const parsed: unknown = JSON.parse(message);
    return (
      parsed !== null &&
      typeof parsed === 'object' &&
      typeof (parsed as Record<string, unknown>)['default'] === 'string'
    );
  } catch {
    return false;
  }
}

function readNextToken(token: string | undefined, total: number): number {
  const offset = pageOffset(token, total);
  if (offset === undefined) throw invalidParameter('Invalid parameter: NextToken');
  return offset;
}

const DEFAULT_EFFECTIVE_DELIVERY_POLICY = {
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: 'linear',
    },
    disableSubscriptionOverrides: false,
    defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
  },
};

function defaultPolicy(topicArn: string, accountId: string) {
  return {
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: topicArn,
        Condition: { StringEquals: { 'AWS:SourceOwner': accountId } },
      },
    ],
  };
}
