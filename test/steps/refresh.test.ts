import {
  CancelInstanceRefreshCommand,
  StartInstanceRefreshCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../src/core/rollout.ts';
import { createCheckRefreshStatus } from '../../src/steps/check-refresh-status.ts';
import { createTriggerInstanceRefresh } from '../../src/steps/trigger-instance-refresh.ts';
import { createUpdateLaunchTemplates } from '../../src/steps/update-launch-templates.ts';
import { harness, NEW_IMAGE, preflighted, WEB_TEMPLATE, type Harness } from './harness.ts';

async function updated(h: Harness): Promise<Rollout> {
  return createUpdateLaunchTemplates(h.deps)({ rollout: await preflighted(h) });
}

/** Polls like the state machine does: wait pollIntervalSeconds, check, until the outcome settles. */
async function pollUntilSettled(h: Harness, rollout: Rollout, maxPolls = 200): Promise<Rollout> {
  let current = rollout;
  for (let i = 0; i < maxPolls; i++) {
    h.account.advance(h.config.pollIntervalSeconds);
    current = await createCheckRefreshStatus(h.deps)({ rollout: current });
    if (current.refresh?.outcome !== 'IN_PROGRESS') return current;
  }
  throw new Error(`refresh still in progress after ${maxPolls} polls`);
}

describe('trigger instance refresh', () => {
  it('starts a refresh to the explicit new version with the configured preferences', async () => {
    const h = await harness();
    const rollout = await createTriggerInstanceRefresh(h.deps)({ rollout: await updated(h) });
    expect(rollout.refresh).toMatchObject({
      groupIndex: 0,
      autoScalingGroupName: 'web',
      launchTemplateId: WEB_TEMPLATE,
      launchTemplateVersion: 2,
      outcome: 'IN_PROGRESS',
    });
    expect(rollout.done).toBe(false);
    expect(rollout.refreshes).toEqual([rollout.refresh]);
    const [started] = h.account.state.instanceRefreshes.get('web') ?? [];
    expect(started?.instanceRefreshId).toBe(rollout.refresh?.instanceRefreshId);
    expect(started?.desiredConfiguration?.launchTemplate).toMatchObject({
      launchTemplateId: WEB_TEMPLATE,
      version: '2',
    });
    // The group was on $Default; the update step pinned it to the version it ran, so AutoRollback can return to it.
    expect(started?.previousConfiguration.launchTemplate.version).toBe('1');
    // web has 2 instances and the config sets no healthy percentage: launch before terminate.
    expect(started?.preferences).toMatchObject({
      minHealthyPercentage: 100,
      maxHealthyPercentage: 200,
      skipMatching: true,
      autoRollback: true,
      instanceWarmup: 60,
    });
    expect(h.logs.at(-1)).toMatchObject({
      action: 'instance-refresh-started',
      autoScalingGroupName: 'web',
      rolloutId: 'rollout-1',
      imageId: NEW_IMAGE,
    });
  });

  it('adopts the refresh it already started when retried after a lost response', async () => {
    const h = await harness();
    const rollout = await updated(h);
    const first = await createTriggerInstanceRefresh(h.deps)({ rollout });
    const retry = await createTriggerInstanceRefresh(h.deps)({ rollout });
    expect(h.account.state.instanceRefreshes.get('web')).toHaveLength(1);
    expect(retry.refresh).toMatchObject({
      instanceRefreshId: first.refresh?.instanceRefreshId,
      adopted: true,
    });
  });

  it('pins a group found back on $Default at its turn to its recorded version again, with a warning', async () => {
    const h = await harness();
    const rollout = await updated(h);
    expect(rollout.groups[0]).toMatchObject({ autoScalingGroupName: 'web', pinnedVersion: 1 });
    // Someone sets the group back to $Default mid-rollout: it now resolves to the new version 2.
    await h.deps.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web',
        LaunchTemplate: { LaunchTemplateId: WEB_TEMPLATE, Version: '$Default' },
      }),
    );
    await createTriggerInstanceRefresh(h.deps)({ rollout });
    const [started] = h.account.state.instanceRefreshes.get('web') ?? [];
    // Pinned again before the refresh: AutoRollback returns the group to version 1, not to $Default.
    expect(started?.previousConfiguration.launchTemplate.version).toBe('1');
    expect(h.logs.find((l) => l['action'] === 'group-found-following-template')).toMatchObject({
      level: 'warn',
      autoScalingGroupName: 'web',
      from: '$Default',
      to: 1,
    });
  });

  it("fails with RefreshInProgressError when someone else's refresh is running on the group", async () => {
    const h = await harness();
    const rollout = await updated(h);
    await h.deps.autoscaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    await expect(createTriggerInstanceRefresh(h.deps)({ rollout })).rejects.toMatchObject({
      name: 'RefreshInProgressError',
    });
    expect(h.account.state.instanceRefreshes.get('web')).toHaveLength(1);
  });

  it('fails with InvalidEventError when the templates have not been updated', async () => {
    const h = await harness();
    await expect(
      createTriggerInstanceRefresh(h.deps)({ rollout: await preflighted(h) }),
    ).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });

  it('refreshes the groups one at a time in order, then reports done', async () => {
    const h = await harness();
    let rollout = await updated(h);
    const order: string[] = [];
    for (;;) {
      rollout = await createTriggerInstanceRefresh(h.deps)({ rollout });
      if (rollout.done) break;
      order.push(rollout.refresh!.autoScalingGroupName);
      rollout = await pollUntilSettled(h, rollout);
      expect(rollout.refresh?.outcome).toBe('SUCCEEDED');
    }
    expect(order).toEqual(['web', 'api', 'worker']);
    expect(rollout.groupIndex).toBe(3);
    expect(rollout.refreshes.map((r) => [r.autoScalingGroupName, r.status])).toEqual([
      ['web', 'Successful'],
      ['api', 'Successful'],
      ['worker', 'Successful'],
    ]);
    const instances = [...h.account.state.instances.values()].filter((i) => i.lifecycleState === 'InService');
    expect(new Set(instances.map((i) => i.imageId))).toEqual(new Set([NEW_IMAGE]));
  });
});

describe('check refresh status', () => {
  it('reports a refresh that is still running as IN_PROGRESS and keeps the group index', async () => {
    const h = await harness();
    const started = await createTriggerInstanceRefresh(h.deps)({ rollout: await updated(h) });
    const checked = await createCheckRefreshStatus(h.deps)({ rollout: started });
    expect(checked.refresh).toMatchObject({ outcome: 'IN_PROGRESS', nativeRollback: false });
    expect(['Pending', 'InProgress']).toContain(checked.refresh?.status);
    expect(checked.groupIndex).toBe(0);
  });

  it('moves to the next group on success, and checking twice does not skip a group', async () => {
    const h = await harness();
    const started = await createTriggerInstanceRefresh(h.deps)({ rollout: await updated(h) });
    const done = await pollUntilSettled(h, started);
    expect(done.refresh).toMatchObject({
      status: 'Successful',
      outcome: 'SUCCEEDED',
      percentageComplete: 100,
    });
    expect(done.groupIndex).toBe(1);
    const again = await createCheckRefreshStatus(h.deps)({ rollout: done });
    expect(again.groupIndex).toBe(1);
  });

  it('reports a failed refresh with its reason, and whether Auto Scaling rolled back', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, faults: [{ kind: 'unhealthyInstances', imageId: NEW_IMAGE }] }),
    });
    const started = await createTriggerInstanceRefresh(h.deps)({ rollout: await updated(h) });
    const failed = await pollUntilSettled(h, started);
    expect(failed.refresh?.outcome).toBe('FAILED');
    expect(['Failed', 'RollbackSuccessful', 'RollbackFailed']).toContain(failed.refresh?.status);
    expect(failed.refresh?.statusReason).toBeTruthy();
    // AutoRollback is on by default, so the group went back by itself.
    expect(failed.refresh).toMatchObject({ status: 'RollbackSuccessful', nativeRollback: true });
    expect(failed.groupIndex).toBe(0);
  });

  it('treats a cancelled refresh as a failure', async () => {
    const h = await harness();
    const started = await createTriggerInstanceRefresh(h.deps)({ rollout: await updated(h) });
    h.account.advance(20);
    await h.deps.autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
    const cancelling = await createCheckRefreshStatus(h.deps)({ rollout: started });
    expect(cancelling.refresh).toMatchObject({ status: 'Cancelling', outcome: 'IN_PROGRESS' });
    const cancelled = await pollUntilSettled(h, cancelling);
    expect(cancelled.refresh).toMatchObject({ status: 'Cancelled', outcome: 'FAILED' });
  });

  it('fails and cancels a refresh that runs past refreshTimeoutMinutes; checking again is harmless', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, faults: [{ kind: 'stallRefresh', group: 'web' }] }),
      config: (c) => ({ ...c, refreshTimeoutMinutes: 10 }),
    });
    const started = await createTriggerInstanceRefresh(h.deps)({ rollout: await updated(h) });
    const timedOut = await pollUntilSettled(h, started);
    expect(timedOut.refresh).toMatchObject({ outcome: 'FAILED', timedOut: true });
    expect(timedOut.refresh?.statusReason).toContain('refreshTimeoutMinutes (10 min), cancelled');
    h.account.advance(60);
    expect(h.account.state.instanceRefreshes.get('web')?.at(-1)?.status).toBe('Cancelled');
    // A retried check finds the refresh already stopped: still FAILED, and no error from the second cancel.
    const again = await createCheckRefreshStatus(h.deps)({
      rollout: { ...timedOut, refresh: started.refresh },
    });
    expect(again.refresh).toMatchObject({ status: 'Cancelled', outcome: 'FAILED' });
  });

  it('fails with InstanceRefreshNotFoundError for a refresh the group never had', async () => {
    const h = await harness();
    const started = await createTriggerInstanceRefresh(h.deps)({ rollout: await updated(h) });
    const bogus = {
      ...started,
      refresh: { ...started.refresh!, instanceRefreshId: '00000000-0000-4000-8000-000000000000' },
    };
    await expect(createCheckRefreshStatus(h.deps)({ rollout: bogus })).rejects.toMatchObject({
      name: 'InstanceRefreshNotFoundError',
    });
  });

  it('fails with InvalidEventError when there is no refresh to check', async () => {
    const h = await harness();
    await expect(createCheckRefreshStatus(h.deps)({ rollout: await updated(h) })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });
});
