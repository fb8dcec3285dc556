import { describe, expect, it } from 'vitest';
import type { LocalAccount } from '../../src/local-account/index.ts';
import { createRollbackAmi } from '../../src/steps/rollback-ami.ts';
import { createShareAmi } from '../../src/steps/share-ami.ts';
import { createUpdateLaunchTemplates } from '../../src/steps/update-launch-templates.ts';
import {
  BACKEND_TEMPLATE,
  harness,
  NEW_IMAGE,
  OLD_IMAGE,
  PARAM,
  preflighted,
  rolloutState,
  WEB_TEMPLATE,
} from './harness.ts';

const template = (account: LocalAccount, id: string) => {
  const t = account.state.launchTemplates.get(id)!;
  return {
    defaultVersion: t.defaultVersion,
    defaultImageId: t.versions.get(t.defaultVersion)?.data.ImageId,
    versions: t.versions.size,
    data: t.versions.get(t.defaultVersion)?.data,
  };
};

describe('update launch templates', () => {
  it('creates a version from the default with the new image, makes it the default, and records both numbers', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    const result = await createUpdateLaunchTemplates(h.deps)({ rollout });
    expect(result.templates).toEqual([
      {
        launchTemplateId: WEB_TEMPLATE,
        launchTemplateName: 'web',
        previousVersion: 1,
        previousImageId: OLD_IMAGE,
        newVersion: 2,
        changed: true,
      },
      {
        launchTemplateId: BACKEND_TEMPLATE,
        launchTemplateName: 'backend',
        previousVersion: 1,
        previousImageId: OLD_IMAGE,
        newVersion: 2,
        changed: true,
      },
    ]);
    const web = template(h.account, WEB_TEMPLATE);
    expect(web).toMatchObject({ defaultVersion: 2, defaultImageId: NEW_IMAGE, versions: 2 });
    // Only the image changes: the rest of the launch template data is carried over from the source version.
    expect(web.data).toMatchObject({ InstanceType: 't3.small' });
    expect(template(h.account, BACKEND_TEMPLATE).data).toMatchObject({ InstanceType: 'm7g.large' });
  });

  it('skips a template already on the image', async () => {
    const h = await harness({
      fleet: (f) => ({
        ...f,
        launchTemplates: f.launchTemplates?.map((t) =>
          t.name === 'backend' ? { ...t, imageId: NEW_IMAGE } : t,
        ),
      }),
    });
    const result = await createUpdateLaunchTemplates(h.deps)({ rollout: await preflighted(h) });
    expect(result.templates[1]).toMatchObject({
      launchTemplateId: BACKEND_TEMPLATE,
      previousVersion: 1,
      newVersion: 1,
      changed: false,
    });
    expect(template(h.account, BACKEND_TEMPLATE).versions).toBe(1);
  });

  it('is idempotent: a second run creates no version and returns the same numbers', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    const first = await createUpdateLaunchTemplates(h.deps)({ rollout });
    const state = rolloutState(h.account);
    const second = await createUpdateLaunchTemplates(h.deps)({ rollout });
    expect(rolloutState(h.account)).toEqual(state);
    expect(second.templates).toEqual(first.templates);
  });

  it('reuses the version it created when a retry finds it not yet the default', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    // The first attempt created version 2 and then failed before ModifyLaunchTemplate.
    h.account.faults.add({ kind: 'throttle', operation: 'ec2:ModifyLaunchTemplate', calls: 50 });
    await expect(createUpdateLaunchTemplates(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
    expect(template(h.account, WEB_TEMPLATE)).toMatchObject({ defaultVersion: 1, versions: 2 });
    h.account.faults.clear();
    const result = await createUpdateLaunchTemplates(h.deps)({ rollout });
    expect(result.templates.map((t) => t.newVersion)).toEqual([2, 2]);
    expect(template(h.account, WEB_TEMPLATE)).toMatchObject({ defaultVersion: 2, versions: 2 });
  });

  it('fails part-way, and the rollback puts the updated template back and leaves the other alone', async () => {
    const h = await harness();
    const rollout = await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    // The second template's update is refused after the first one went through.
    h.deps.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'ModifyLaunchTemplateCommand') {
          h.account.faults.add({ kind: 'throttle', operation: 'ec2:CreateLaunchTemplateVersion', calls: 50 });
        }
        return result;
      },
      { step: 'initialize', name: 'failSecondTemplate' },
    );
    await expect(createUpdateLaunchTemplates(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
    h.deps.ec2.middlewareStack.remove('failSecondTemplate');
    expect(template(h.account, WEB_TEMPLATE)).toMatchObject({ defaultVersion: 2, defaultImageId: NEW_IMAGE });
    expect(template(h.account, BACKEND_TEMPLATE)).toMatchObject({
      defaultVersion: 1,
      defaultImageId: OLD_IMAGE,
    });

    // The state machine's Catch hands the rollout as it was before the failed step to the rollback.
    const rolledBack = await createRollbackAmi(h.deps)({
      rollout,
      error: { Error: 'TransientAwsError', Cause: 'throttled' },
    });
    expect(template(h.account, WEB_TEMPLATE)).toMatchObject({
      defaultVersion: 1,
      defaultImageId: OLD_IMAGE,
      versions: 2,
    });
    expect(template(h.account, BACKEND_TEMPLATE)).toMatchObject({ defaultVersion: 1, versions: 1 });
    expect(h.account.state.parameters.get(PARAM)?.versions.at(-1)?.value).toBe(OLD_IMAGE);
    expect(rolledBack.rollback).toEqual({
      rollbackTargetImageId: OLD_IMAGE,
      templates: [
        { launchTemplateId: WEB_TEMPLATE, action: 'restored-default', defaultVersion: 1 },
        {
          launchTemplateId: BACKEND_TEMPLATE,
          action: 'unchanged',
          defaultVersion: 1,
          detail: 'default is already version 1',
        },
      ],
      parameter: 'restored',
    });
  });

  it('fails with LaunchTemplateNotFoundError when a template has gone', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    h.account.state.launchTemplates.delete(BACKEND_TEMPLATE);
    await expect(createUpdateLaunchTemplates(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'LaunchTemplateNotFoundError',
    });
  });
});
