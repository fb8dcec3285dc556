import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  PublishCommand,
  SNSClient,
  SNSServiceException,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalAccount,
  inProcessClientConfig,
  type LocalAccount,
} from '../../src/local-account/index.ts';

let account: LocalAccount;
let sns: SNSClient;

beforeEach(() => {
  account = createLocalAccount();
  sns = new SNSClient({ ...inProcessClientConfig(account), maxAttempts: 1 });
});

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SNSServiceException) {
      return { code: error.name, status: error.$metadata.httpStatusCode, message: error.message };
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

const createTopic = async (name = 'ami-rollout-events') =>
  (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn!;

describe('CreateTopic', () => {
  it('returns the topic ARN built from region, account and name', async () => {
    expect(await createTopic()).toBe('arn:aws:sns:us-east-1:123456789012:ami-rollout-events');
  });

  it('is idempotent by name', async () => {
    const first = await createTopic();
    expect(await createTopic()).toBe(first);
    expect(account.state.topics.size).toBe(1);
  });

  it('keeps attributes such as KmsMasterKeyId and reports them in GetTopicAttributes', async () => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: 'encrypted',
        Attributes: { KmsMasterKeyId: 'alias/aws/sns', DisplayName: 'Ops' },
      }),
    );
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
    expect(Attributes).toMatchObject({
      TopicArn,
      Owner: '123456789012',
      KmsMasterKeyId: 'alias/aws/sns',
      DisplayName: 'Ops',
      SubscriptionsConfirmed: '0',
      SubscriptionsPending: '0',
    });
    expect(JSON.parse(Attributes!['Policy']!)).toMatchObject({ Version: '2008-10-17' });
  });

  it('fails with InvalidParameter for a name SNS does not allow, and creates nothing', async () => {
    const error = await failure(sns.send(new CreateTopicCommand({ Name: 'has space' })));
    expect(error).toMatchObject({
      code: 'InvalidParameterException',
      status: 400,
      message: 'Invalid parameter: Topic Name',
    });
    expect(account.state.topics.size).toBe(0);
  });

  it('fails with InvalidParameter when an existing name is asked for different attributes', async () => {
    await sns.send(new CreateTopicCommand({ Name: 't', Attributes: { DisplayName: 'A' } }));
    const error = await failure(
      sns.send(new CreateTopicCommand({ Name: 't', Attributes: { DisplayName: 'B' } })),
    );
    expect(error.code).toBe('InvalidParameterException');
    expect(
      account.state.topics.get('arn:aws:sns:us-east-1:123456789012:t')?.attributes.get('DisplayName'),
    ).toBe('A');
  });
});

describe('ListTopics and DeleteTopic', () => {
  it('lists every topic and forgets a deleted one', async () => {
    const a = await createTopic('a');
    const b = await createTopic('b');
    expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn: a }, { TopicArn: b }]);
    await sns.send(new DeleteTopicCommand({ TopicArn: a }));
    expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn: b }]);
  });

  it('pages past 100 topics with NextToken', async () => {
    for (let i = 0; i < 105; i++) await createTopic(`t${i}`);
    const first = await sns.send(new ListTopicsCommand({}));
    expect(first.Topics).toHaveLength(100);
    const second = await sns.send(new ListTopicsCommand({ NextToken: first.NextToken }));
    expect(second.Topics).toHaveLength(5);
    expect(second.NextToken).toBeUndefined();
  });

  it('treats deleting a topic that does not exist as success, as DeleteTopic is idempotent', async () => {
    await sns.send(new DeleteTopicCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:gone' }));
  });
});

describe('GetTopicAttributes', () => {
  it('fails with NotFound (HTTP 404) for an unknown topic', async () => {
    const error = await failure(
      sns.send(new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:nope' })),
    );
    expect(error).toMatchObject({ code: 'NotFoundException', status: 404, message: 'Topic does not exist' });
  });
});

describe('Subscribe and ListSubscriptionsByTopic', () => {
  it('returns "pending confirmation" for an email subscription and lists it as PendingConfirmation', async () => {
    const TopicArn = await createTopic();
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'ops@example.com' }),
    );
    expect(SubscriptionArn).toBe('pending confirmation');
    const { Subscriptions } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    expect(Subscriptions).toEqual([
      {
        SubscriptionArn: 'PendingConfirmation',
        Owner: '123456789012',
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn,
      },
    ]);
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
    expect(Attributes?.['SubscriptionsPending']).toBe('1');
  });

  it('returns the subscription ARN of a confirmed protocol such as sqs, once per endpoint', async () => {
    const TopicArn = await createTopic();
    const queue = 'arn:aws:sqs:us-east-1:123456789012:rollout';
    const first = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queue }));
    expect(first.SubscriptionArn).toMatch(new RegExp(`^${TopicArn}:[0-9a-f-]{36}$`));
    const again = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queue }));
    expect(again.SubscriptionArn).toBe(first.SubscriptionArn);
  });

  it.each([
    ['an unknown protocol', { Protocol: 'pigeon', Endpoint: 'x' }, 'does not support this protocol'],
    ['a malformed email address', { Protocol: 'email', Endpoint: 'not-an-address' }, 'Email address'],
  ])('fails with InvalidParameter for %s, and subscribes nothing', async (_label, request, message) => {
    const TopicArn = await createTopic();
    const error = await failure(sns.send(new SubscribeCommand({ TopicArn, ...request })));
    expect(error.code).toBe('InvalidParameterException');
    expect(error.message).toContain(message);
    expect(account.state.topics.get(TopicArn)?.subscriptions).toEqual([]);
  });

  it('fails with NotFound for an unknown topic', async () => {
    const error = await failure(
      sns.send(
        new SubscribeCommand({
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:nope',
          Protocol: 'email',
          Endpoint: 'ops@example.com',
        }),
      ),
    );
    expect(error.code).toBe('NotFoundException');
  });
});

describe('Publish', () => {
  it('records the message with its subject and attributes in account.state.published', async () => {
    const TopicArn = await createTopic();
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'Rollout failed: web',
        Message: '{"group":"web"}',
        MessageAttributes: {
          status: { DataType: 'String', StringValue: 'FAILED' },
          groups: { DataType: 'Number', StringValue: '3' },
        },
      }),
    );
    expect(MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(account.state.published).toEqual([
      {
        messageId: MessageId,
        topicArn: TopicArn,
        subject: 'Rollout failed: web',
        message: '{"group":"web"}',
        messageAttributes: {
          status: { dataType: 'String', value: 'FAILED' },
          groups: { dataType: 'Number', value: '3' },
        },
        publishedAt: account.now(),
      },
    ]);
  });

  it('accepts a subject of exactly 100 characters', async () => {
    const TopicArn = await createTopic();
    await sns.send(new PublishCommand({ TopicArn, Subject: 's'.repeat(100), Message: 'm' }));
    expect(account.state.published).toHaveLength(1);
  });

  it('fails with NotFound (HTTP 404) for an unknown topic, and records nothing', async () => {
    const error = await failure(
      sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:nope', Message: 'm' })),
    );
    expect(error).toMatchObject({ code: 'NotFoundException', status: 404 });
    expect(account.state.published).toEqual([]);
  });

  it.each([
    [
      'a subject over 100 characters',
      { Subject: 's'.repeat(101) },
      'InvalidParameterException',
      'Invalid parameter: Subject',
    ],
    [
      'a subject with a line break',
      { Subject: 'a\nb' },
      'InvalidParameterException',
      'Invalid parameter: Subject',
    ],
    ['an empty message', { Message: '' }, 'InvalidParameterException', 'Invalid parameter: Empty message'],
    [
      'a message over 256 KiB',
      { Message: 'x'.repeat(262_145) },
      'InvalidParameterException',
      'Invalid parameter: Message too long',
    ],
    [
      'a message attribute with an unknown data type',
      { MessageAttributes: { a: { DataType: 'Text', StringValue: 'x' } } },
      'InvalidParameterValueException',
      'the set of supported type prefixes is Binary, Number, and String',
    ],
    [
      'a Number attribute that is not a number',
      { MessageAttributes: { a: { DataType: 'Number', StringValue: 'many' } } },
      'InvalidParameterValueException',
      "Could not cast message attribute 'a' value to number.",
    ],
    [
      'a JSON message structure without a default entry',
      { MessageStructure: 'json', Message: '{"email":"x"}' },
      'InvalidParameterException',
      'No default entry',
    ],
  ])('fails for %s, and records nothing', async (_label, change, code, message) => {
    const TopicArn = await createTopic();
    const error = await failure(sns.send(new PublishCommand({ TopicArn, Message: 'm', ...change })));
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(account.state.published).toEqual([]);
  });
});
