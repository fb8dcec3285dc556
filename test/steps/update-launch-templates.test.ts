import { SetDesiredCapacityCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { FleetFile, LocalAccount } from '../../src/local-account/index.ts';
import { createRollbackAmi } from '../../src/steps/rollback-ami.ts';
import { createShareAmi } from '../../src/steps/share-ami.ts';
import { createTriggerRollbackRefresh } from '../../src/steps/trigger-rollback-refresh.ts';
import { createUpdateLaunchTemplates } from '../../src/steps/update-launch-templates.ts';
import {
  BACKEND_TEMPLATE,
  harness,
  NEW_IMAGE,
  OLD_IMAGE,
  OTHER_IMAGE,
  PARAM,
  preflighted,
  rolloutState,
  WEB_TEMPLATE,
  writesSince,
  type Harness,
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

/** Each group's launch template version setting, as Auto Scaling holds it. */
const settings = (account: LocalAccount) =>
  Object.fromEntries(
    [...account.state.autoScalingGroups.values()].map((g) => [
      g.autoScalingGroupName,
      g.launchTemplate.version,
    ]),
  );

/** The images of a group's instances that are not terminated, by count. */
const groupImages = (account: LocalAccount, name: string) => {
  const images: Record<string, number> = {};
  for (const id of account.state.autoScalingGroups.get(name)!.instanceIds) {
    const instance = account.state.instances.get(id)!;
    if (instance.lifecycleState === 'Terminated') continue;
    images[instance.imageId] = (images[instance.imageId] ?? 0) + 1;
  }
  return images;
};

/** web on $Default, api on $Latest, worker on version 1. */
const mixedSettings = (f: FleetFile): FleetFile => ({
  ...f,
  autoScalingGroups: f.autoScalingGroups?.map((g) => ({
    ...g,
    launchTemplateVersion: ({ web: '$Default', api: '$Latest', worker: '1' } as Record<string, string>)[
      g.name
    ]!,
  })),
});

const scaleOut = async (h: Harness, group: string, desiredCapacity: number) => {
  await h.deps.autoscaling.send(
    new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: desiredCapacity }),
  );
  h.account.advance(600);
};

describe('update launch templates: pinning the groups first', () => {
  it('pins every group on $Default or $Latest to the number it resolves to, before any default moves, and records it', async () => {
    const h = await harness({ fleet: mixedSettings });
    // backend's latest version (2) is newer than its default (1): a $Latest group launches version 2 today.
    await h.deps.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: BACKEND_TEMPLATE,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: OTHER_IMAGE },
      }),
    );
    const rollout = await preflighted(h);
    const from = h.account.calls.length;
    const result = await createUpdateLaunchTemplates(h.deps)({ rollout });

    expect(result.groups).toEqual([
      {
        autoScalingGroupName: 'web',
        launchTemplateId: WEB_TEMPLATE,
        previousLaunchTemplateVersion: '$Default',
        pinnedVersion: 1,
      },
      {
        autoScalingGroupName: 'api',
        launchTemplateId: BACKEND_TEMPLATE,
        previousLaunchTemplateVersion: '$Latest',
        pinnedVersion: 2,
      },
      {
        autoScalingGroupName: 'worker',
        launchTemplateId: BACKEND_TEMPLATE,
        previousLaunchTemplateVersion: '1',
      },
    ]);
    expect(settings(h.account)).toEqual({ web: '1', api: '2', worker: '1' });
    // Both pins come before the first template change; the group on a number is not touched.
    expect(writesSince(h.account, from)).toEqual([
      'autoscaling:UpdateAutoScalingGroup',
      'autoscaling:UpdateAutoScalingGroup',
      'ec2:CreateLaunchTemplateVersion',
      'ec2:ModifyLaunchTemplate',
      'ec2:CreateLaunchTemplateVersion',
      'ec2:ModifyLaunchTemplate',
    ]);
    expect(result.templates.map((t) => [t.previousVersion, t.newVersion])).toEqual([
      [1, 2],
      [1, 3],
    ]);
  });

  it('keeps a group that scales out after the update on the old image', async () => {
    const h = await harness();
    await createUpdateLaunchTemplates(h.deps)({ rollout: await preflighted(h) });
    expect(template(h.account, WEB_TEMPLATE)).toMatchObject({ defaultImageId: NEW_IMAGE });
    await scaleOut(h, 'web', 4);
    expect(groupImages(h.account, 'web')).toEqual({ [OLD_IMAGE]: 4 });
  });

  it('is idempotent: a second run with the same event pins nothing again and returns the same record', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    const first = await createUpdateLaunchTemplates(h.deps)({ rollout });
    const from = h.account.calls.length;
    const second = await createUpdateLaunchTemplates(h.deps)({ rollout });
    expect(writesSince(h.account, from)).toEqual([]);
    expect(second).toEqual(first);
    expect(h.logs.filter((l) => l['action'] === 'group-already-pinned')).toHaveLength(3);
    // Run again on its own output too (the record already holds the pins and the new versions).
    const third = await createUpdateLaunchTemplates(h.deps)({ rollout: first });
    expect(writesSince(h.account, from)).toEqual([]);
    expect(third).toEqual(first);
  });

  it('on a retry after a lost response, pins to the old default, not the new version $Default names now', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    await createUpdateLaunchTemplates(h.deps)({ rollout }); // its response was lost
    // Between the attempts the group follows $Default again (by hand, or an older release of the pipeline).
    await h.deps.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web',
        LaunchTemplate: { LaunchTemplateId: WEB_TEMPLATE, Version: '$Default' },
      }),
    );
    const retried = await createUpdateLaunchTemplates(h.deps)({ rollout });
    expect(retried.groups[0]).toMatchObject({ autoScalingGroupName: 'web', pinnedVersion: 1 });
    expect(settings(h.account)['web']).toBe('1');
    expect(retried.templates.map((t) => t.newVersion)).toEqual([2, 2]);
    await scaleOut(h, 'web', 4);
    expect(groupImages(h.account, 'web')).toEqual({ [OLD_IMAGE]: 4 });
  });

  it('changes no template when a pin fails part-way, and a retry pins the rest', async () => {
    const h = await harness();
    const rollout = await preflighted(h);
    let pins = 0;
    h.deps.autoscaling.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateAutoScalingGroupCommand' && ++pins === 2) {
          h.account.faults.add({
            kind: 'throttle',
            operation: 'autoscaling:UpdateAutoScalingGroup',
            calls: 50,
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failSecondPin' },
    );
    await expect(createUpdateLaunchTemplates(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
    h.deps.autoscaling.middlewareStack.remove('failSecondPin');
    h.account.faults.clear();
    expect(settings(h.account)).toEqual({ web: '1', api: '$Default', worker: '$Default' });
    expect(template(h.account, WEB_TEMPLATE)).toMatchObject({ defaultVersion: 1, versions: 1 });
    expect(template(h.account, BACKEND_TEMPLATE)).toMatchObject({ defaultVersion: 1, versions: 1 });

    const retried = await createUpdateLaunchTemplates(h.deps)({ rollout });
    expect(retried.groups.map((g) => g.pinnedVersion)).toEqual([1, 1, 1]);
    expect(settings(h.account)).toEqual({ web: '1', api: '1', worker: '1' });
  });

  it('after a failure later in the step, the rollback gives every pinned group its setting back', async () => {
    const h = await harness();
    const rollout = await createShareAmi(h.deps)({ rollout: await preflighted(h) });
    h.account.faults.add({ kind: 'throttle', operation: 'ec2:ModifyLaunchTemplate', calls: 50 });
    await expect(createUpdateLaunchTemplates(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
    h.account.faults.clear();
    expect(settings(h.account)).toEqual({ web: '1', api: '1', worker: '1' });
    // The Catch hands the rollout from before the failed step (no pins recorded) to the rollback.
    const rolledBack = await createRollbackAmi(h.deps)({
      rollout,
      error: { Error: 'TransientAwsError', Cause: 'throttled' },
    });
    const done = await createTriggerRollbackRefresh(h.deps)({ rollout: rolledBack });
    expect(done.fleetRollback).toMatchObject({ done: true, groups: [] });
    expect(settings(h.account)).toEqual({ web: '$Default', api: '$Default', worker: '$Default' });
  });
});

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
      previousParameter: 'unchanged',
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
