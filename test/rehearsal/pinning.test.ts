/**
 * No group gets the new image before its turn (issue 9, item 8), through the real state machine definition and
 * the real step handlers on a local account in virtual time. A group on `$Default` that scales out while an
 * earlier group refreshes must launch the old image: the update step pinned it before the templates moved.
 */
import { SetDesiredCapacityCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { beforeAll, describe, expect, it } from 'vitest';
import { isActiveRefreshStatus } from '../../src/core/refresh-status.ts';
import { inProcessClientConfig, type LocalAccount } from '../../src/local-account/index.ts';
import { rehearse, type Rehearsal } from '../../src/rehearsal/rehearse.ts';
import { config, fleet, NEW_IMAGE, PREVIOUS_IMAGE } from './example-fleet.ts';

// The example fleet: web (4), api (3), worker (2 of max 4), all on `$Default` of two templates.
const BACKEND_TEMPLATE = 'lt-0a1b2c3d4e5f60002';

/** What the account looked like just after the `capacityChange` fault ran. */
interface CapacityChangeSeen {
  readonly atMinute: number;
  /** The group's desired capacity just after the change. */
  readonly desiredCapacity: number;
  /** The image the group's template default launched at that moment. */
  readonly templateDefaultImageId: string | undefined;
  readonly groupSetting: string;
  readonly groupRefreshing: boolean;
  /** Groups with a refresh running at that moment. */
  readonly refreshing: string[];
}

/**
 * Looks at the account at the minute of a `capacityChange` fault, just after it ran: the fault was added when
 * the account was made, so its clock task comes first among the tasks due at that minute.
 */
function observeCapacityChange(
  account: LocalAccount,
  change: { group: string; atMinute: number },
): CapacityChangeSeen[] {
  const seen: CapacityChangeSeen[] = [];
  const delaySeconds =
    (account.startTime.getTime() + change.atMinute * 60_000 - account.now().getTime()) / 1000;
  account.clock.schedule(delaySeconds, () => {
    const group = account.state.autoScalingGroups.get(change.group)!;
    const template = account.state.launchTemplates.get(group.launchTemplate.launchTemplateId)!;
    const active = (name: string) =>
      (account.state.instanceRefreshes.get(name) ?? []).some((r) => isActiveRefreshStatus(r.status));
    seen.push({
      atMinute: change.atMinute,
      desiredCapacity: group.desiredCapacity,
      templateDefaultImageId: template.versions.get(template.defaultVersion)?.data.ImageId,
      groupSetting: group.launchTemplate.version,
      groupRefreshing: active(change.group),
      refreshing: [...account.state.autoScalingGroups.keys()].filter(active),
    });
  });
  return seen;
}

/** Every instance a group ever launched (terminated ones included), oldest first. */
const launchedBy = (account: LocalAccount, group: string) =>
  [...account.state.instances.values()]
    .filter((i) => i.autoScalingGroupName === group)
    .sort((a, b) => a.launchTime.getTime() - b.launchTime.getTime());

/** When the group's first refresh of the rollout started, if it had one. */
const turnOf = (account: LocalAccount, group: string): Date | undefined =>
  account.state.instanceRefreshes.get(group)?.[0]?.startTime;

/** Images of the instances that are not terminated, account-wide. */
const liveImages = (account: LocalAccount) =>
  new Set(
    [...account.state.instances.values()]
      .filter((i) => i.lifecycleState !== 'Terminated')
      .map((i) => i.imageId),
  );

const settings = (account: LocalAccount) =>
  Object.fromEntries(
    [...account.state.autoScalingGroups.values()].map((g) => [
      g.autoScalingGroupName,
      g.launchTemplate.version,
    ]),
  );

/** worker (last in order, on `$Default`) scales from 2 to 4 at minute 3, while web, the first group, refreshes. */
const SCALE_OUT = { group: 'worker', atMinute: 3, desiredCapacity: 4 } as const;

async function runWithScaleOut(
  faults: Parameters<typeof rehearse>[0]['faults'] = [],
): Promise<{ rehearsal: Rehearsal; seen: CapacityChangeSeen[] }> {
  let seen: CapacityChangeSeen[] = [];
  const rehearsal = await rehearse({
    config,
    fleet,
    imageId: NEW_IMAGE,
    faults: [{ kind: 'capacityChange', ...SCALE_OUT }, ...faults],
    prepare: (account) => {
      seen = observeCapacityChange(account, SCALE_OUT);
    },
  });
  return { rehearsal, seen };
}

/** The scale-out happened when the bug would show: templates already moved, worker not yet at its turn. */
function expectScaleOutMidRollout(seen: readonly CapacityChangeSeen[]): void {
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({
    desiredCapacity: SCALE_OUT.desiredCapacity,
    templateDefaultImageId: NEW_IMAGE,
    groupRefreshing: false,
    refreshing: ['web'],
  });
  // Pinned by the update step: the scale-out resolves a number, not $Default.
  expect(seen[0]?.groupSetting).toBe('1');
}

describe('a group scaled out before its turn, in a rollout that succeeds', () => {
  let rehearsal: Rehearsal;
  let seen: CapacityChangeSeen[];
  beforeAll(async () => {
    ({ rehearsal, seen } = await runWithScaleOut());
  });

  it('scales out while an earlier group refreshes, after the templates moved', () => {
    expect(rehearsal.report.status).toBe('SUCCEEDED');
    expectScaleOutMidRollout(seen);
  });

  it('launches the old image for every instance the group starts before its turn', () => {
    const { account } = rehearsal;
    const turn = turnOf(account, 'worker')!;
    const before = launchedBy(account, 'worker').filter((i) => i.launchTime < turn);
    // The 2 seeded and the 2 from the scale-out.
    expect(before).toHaveLength(4);
    expect(before.map((i) => [i.imageId, i.launchTemplate?.version])).toEqual(
      before.map(() => [PREVIOUS_IMAGE, '1']),
    );
  });

  it('ends with every instance of the group, scale-out included, on the new image and its setting back', () => {
    const { account } = rehearsal;
    const running = launchedBy(account, 'worker').filter((i) => i.lifecycleState === 'InService');
    expect(running.map((i) => i.imageId)).toEqual([NEW_IMAGE, NEW_IMAGE, NEW_IMAGE, NEW_IMAGE]);
    expect(settings(account)).toEqual({ web: '$Default', api: '$Default', worker: '$Default' });
  });
});

describe('a group scaled out before its turn, in a rollout that fails at a later group', () => {
  let rehearsal: Rehearsal;
  let seen: CapacityChangeSeen[];
  beforeAll(async () => {
    // api, the second group, fails; worker is never refreshed.
    ({ rehearsal, seen } = await runWithScaleOut([
      { kind: 'unhealthyInstances', imageId: NEW_IMAGE, group: 'api' },
    ]));
  });

  it('scales out mid-rollout and rolls back', () => {
    expect(rehearsal.report.status).toBe('ROLLED_BACK');
    expectScaleOutMidRollout(seen);
    expect(turnOf(rehearsal.account, 'worker')).toBeUndefined();
  });

  it('never launched the new image in the group that was never refreshed', () => {
    const launched = launchedBy(rehearsal.account, 'worker');
    expect(launched).toHaveLength(4);
    expect(new Set(launched.map((i) => i.imageId))).toEqual(new Set([PREVIOUS_IMAGE]));
  });

  it('leaves no instance anywhere on the new image, and every group on its own setting again', () => {
    const { account } = rehearsal;
    // web's last new-image instances are still draining from its target group (300 s deregistration delay):
    // out of service, being terminated. Once the drain is over, none is left.
    const draining = [...account.state.instances.values()].filter(
      (i) => i.imageId === NEW_IMAGE && i.lifecycleState !== 'Terminated',
    );
    expect(draining.every((i) => i.lifecycleState === 'Terminating')).toBe(true);
    account.advance(600);
    expect(liveImages(account)).toEqual(new Set([PREVIOUS_IMAGE]));
    expect(settings(account)).toEqual({ web: '$Default', api: '$Default', worker: '$Default' });
    const template = account.state.launchTemplates.get(BACKEND_TEMPLATE)!;
    expect(template.versions.get(template.defaultVersion)?.data.ImageId).toBe(PREVIOUS_IMAGE);
  });

  it('launches the old image on a scale-out after the rollback', async () => {
    const { account } = rehearsal;
    const autoscaling = new AutoScalingClient(inProcessClientConfig(account));
    await autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'worker', DesiredCapacity: 2 }),
    );
    account.advance(600);
    await autoscaling.send(
      new SetDesiredCapacityCommand({ AutoScalingGroupName: 'worker', DesiredCapacity: 4 }),
    );
    account.advance(600);
    const latest = launchedBy(account, 'worker').slice(-2);
    expect(latest.map((i) => [i.imageId, i.lifecycleState])).toEqual([
      [PREVIOUS_IMAGE, 'InService'],
      [PREVIOUS_IMAGE, 'InService'],
    ]);
    expect(launchedBy(account, 'worker')).toHaveLength(6);
  });
});
