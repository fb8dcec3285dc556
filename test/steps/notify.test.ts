import { describe, expect, it } from 'vitest';
import { createNotify } from '../../src/steps/notify.ts';
import { createRollbackAmi } from '../../src/steps/rollback-ami.ts';
import { createUpdateLaunchTemplates } from '../../src/steps/update-launch-templates.ts';
import { harness, NEW_IMAGE, OLD_IMAGE, preflighted, TOPIC } from './harness.ts';

describe('notify', () => {
  it('publishes a subject, an actionable message and structured attributes', async () => {
    const h = await harness();
    const updated = await createUpdateLaunchTemplates(h.deps)({ rollout: await preflighted(h) });
    const rolledBack = await createRollbackAmi(h.deps)({ rollout: updated });
    const result = await createNotify(h.deps)({
      outcome: 'ROLLED_BACK',
      rollout: rolledBack,
      error: {
        Error: 'LaunchTemplateUpdateError',
        Cause: JSON.stringify({ errorMessage: 'ModifyLaunchTemplate refused' }),
      },
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:ami-rollout:rollout-1',
    });
    const [published] = h.account.state.published;
    expect(published?.topicArn).toBe(TOPIC);
    expect(published?.messageId).toBe(result.messageId);
    expect(published?.subject).toBe(`[ami-rollout] ${NEW_IMAGE} FAILED and was rolled back`);
    expect(published?.message).toContain('ModifyLaunchTemplate refused');
    expect(published?.message).toContain(`Rollback to ${OLD_IMAGE}`);
    expect(published?.messageAttributes).toMatchObject({
      outcome: { dataType: 'String', value: 'ROLLED_BACK' },
      rolloutId: { dataType: 'String', value: 'rollout-1' },
      imageId: { dataType: 'String', value: NEW_IMAGE },
      errorName: { dataType: 'String', value: 'LaunchTemplateUpdateError' },
    });
    expect(h.logs.at(-1)).toMatchObject({
      action: 'notification-published',
      rolloutId: 'rollout-1',
      imageId: NEW_IMAGE,
    });
  });

  it('reports a preflight failure from the execution input alone', async () => {
    const h = await harness();
    await createNotify(h.deps)({
      outcome: 'FAILED',
      rolloutId: 'rollout-9',
      imageId: 'ami-0ffffffffffffffff',
      error: { Error: 'ImageNotFoundError', Cause: 'image ami-0ffffffffffffffff does not exist' },
    });
    expect(h.account.state.published[0]?.subject).toBe(
      '[ami-rollout] ami-0ffffffffffffffff FAILED, nothing was changed',
    );
  });

  it('fails with NotificationError when the topic does not exist', async () => {
    const h = await harness({
      config: (c) => ({ ...c, notificationTopicArn: 'arn:aws:sns:us-east-1:111122223333:missing' }),
    });
    await expect(
      createNotify(h.deps)({ outcome: 'SUCCEEDED', rolloutId: 'r', imageId: NEW_IMAGE }),
    ).rejects.toMatchObject({
      name: 'NotificationError',
    });
  });

  it('fails with InvalidEventError without an outcome', async () => {
    const h = await harness();
    await expect(createNotify(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });
});
