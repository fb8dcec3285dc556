import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { NotificationError } from '../errors.ts';
import { translateAwsError } from './aws-error.ts';

export interface PublishRequest {
  readonly topicArn: string;
  readonly subject: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** FIFO topics only: a retried publish with the same id is delivered once. */
  readonly deduplicationId?: string;
  readonly groupId?: string;
}

export async function publish(sns: SNSClient, request: PublishRequest): Promise<string> {
  const fifo = request.topicArn.endsWith('.fifo');
  try {
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: request.topicArn,
        Subject: request.subject,
        Message: request.message,
        MessageAttributes: Object.fromEntries(
          Object.entries(request.attributes)
            .filter(([, value]) => value !== '')
            .map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
        ),
        ...(fifo && request.deduplicationId ? { MessageDeduplicationId: request.deduplicationId } : {}),
        ...(fifo && request.groupId ? { MessageGroupId: request.groupId } : {}),
      }),
    );
    return MessageId ?? '';
  } catch (error) {
    throw translateAwsError(error, `Publish to ${request.topicArn}`, (m, o) => new NotificationError(m, o));
  }
}
