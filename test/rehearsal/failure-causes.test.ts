/**
 * Launch failures and alarm failures roll back like any other failure, and the notification names the cause.
 * Each scenario runs the real definition and steps on a local account (see scenarios.test.ts) once, in a
 * `beforeAll`, with a fault the local account models as AWS documents it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { parseFleet, type LocalAccount } from '../../src/local-account/index.ts';
import type { Rehearsal } from '../../src/rehearsal/rehearse.ts';
import {
  exampleConfig as sharedExampleConfig,
  exampleFleet as sharedExampleFleet,
  inServiceImages,
  NEW_IMAGE,
  PREVIOUS_IMAGE,
  run,
} from './example-fleet.ts';

// The per-group mechanisms, without the example's health gate (its fleet-wide alarm would catch each of these
// faults first: test/rehearsal/gate.test.ts).
const { gate: _gate, ...exampleConfig } = sharedExampleConfig as Record<string, unknown>;
const noGateConfig = parseConfig(exampleConfig, 'examples/rollout.config.json without its gate');
const runNoGate = (options: Parameters<typeof run>[0]) => run({ config: noGateConfig, ...options });
const exampleFleet = sharedExampleFleet as Record<string, unknown>;

const refreshStatuses = (account: LocalAccount, group: string) =>
  (account.state.instanceRefreshes.get(group) ?? []).map((r) => r.status);

/** Runs `then` once `condition` holds, checking every virtual second. */
function when(account: LocalAccount, condition: () => boolean, then: () => void): void {
  const check = () => (condition() ? then() : account.clock.schedule(1, check));
  account.clock.schedule(1, check);
}

/** ROLLED_BACK, every group back on the previous image, one notification whose second line names the cause. */
function expectRolledBackWithCause(rehearsal: Rehearsal, failingGroup: string, cause: RegExp): void {
  const { account, report } = rehearsal;
  expect(report.status).toBe('ROLLED_BACK');
  expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
  expect(inServiceImages(account)).toEqual({
    web: { [PREVIOUS_IMAGE]: 4 },
    api: { [PREVIOUS_IMAGE]: 3 },
    worker: { [PREVIOUS_IMAGE]: 2 },
  });
  expect(report.notifications.map((n) => n.subject)).toEqual([
    `[ami-rollout] ${NEW_IMAGE} FAILED and was rolled back (${failingGroup})`,
  ]);
  const [headline, causeLine] = report.notifications[0]!.message.split('\n');
  expect(headline).toContain('FAILED and was rolled back');
  expect(causeLine).toMatch(cause);
}

describe('a launch failure (launchFailure fault on the new image, in api)', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await runNoGate({
      faults: [{ kind: 'launchFailure', imageId: NEW_IMAGE, group: 'api', reason: 'kmsKeyNotUsable' }],
    });
  }, 300_000);

  it('rolls the fleet back, and the notification says the launch failed and what EC2 answered', () => {
    expectRolledBackWithCause(
      rehearsal,
      'api',
      /^Cause \(group api\): launch failed: .*Client\.InvalidKMSKey\.InvalidState/,
    );
  });

  it('never touched worker, after api', () => {
    expect(refreshStatuses(rehearsal.account, 'worker')).toEqual([]);
  });
});

describe('the new image deregistered mid-rollout, while api is refreshing', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await runNoGate({
      prepare: (account) =>
        when(
          account,
          () => refreshStatuses(account, 'api').includes('InProgress'),
          () => {
            // What DeregisterImage does (src/local-account/services/ec2/images.ts): its launches fail by themselves.
            account.state.images.get(NEW_IMAGE)!.state = 'deregistered';
          },
        ),
    });
  }, 300_000);

  it('fails api on launches of the missing image and rolls web back too', () => {
    expectRolledBackWithCause(
      rehearsal,
      'api',
      /^Cause \(group api\): launch failed: .*InvalidAMIID\.NotFound/,
    );
    expect(refreshStatuses(rehearsal.account, 'web')).toEqual(['Successful', 'Successful']);
  });
});

describe('an alarm in ALARM during a later group (worker) refresh', () => {
  const alarmName = 'worker-errors';
  const alarmConfig = parseConfig(
    {
      ...exampleConfig,
      refreshPreferences: {
        ...(exampleConfig['refreshPreferences'] as Record<string, unknown>),
        alarmNames: [alarmName],
      },
    },
    'alarm config',
  );
  const alarmFleet = parseFleet(
    {
      ...exampleFleet,
      alarms: [
        {
          name: alarmName,
          namespace: 'App',
          metricName: 'Errors',
          dimensions: { AutoScalingGroupName: 'worker' },
          statistic: 'Sum',
          threshold: 1,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
          treatMissingData: 'notBreaching',
        },
      ],
    },
    'alarm fleet',
  );
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await runNoGate({
      config: alarmConfig,
      fleet: alarmFleet,
      prepare: (account) => {
        const startMs = account.clock.now();
        when(
          account,
          () => refreshStatuses(account, 'worker').includes('InProgress'),
          () => {
            account.faults.add({
              kind: 'alarm',
              alarmName,
              atMinute: Math.ceil((account.clock.now() - startMs) / 60_000),
              state: 'ALARM',
            });
          },
        );
      },
    });
  }, 300_000);

  it('rolls the fleet back, and the notification names the alarm in ALARM', () => {
    expectRolledBackWithCause(rehearsal, 'worker', /^Cause \(group worker\): alarm worker-errors in ALARM: /);
    expect(refreshStatuses(rehearsal.account, 'web')).toEqual(['Successful', 'Successful']);
    expect(refreshStatuses(rehearsal.account, 'api')).toEqual(['Successful', 'Successful']);
  });
});

describe('the new image deregistered between two groups', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await runNoGate({
      prepare: (account) =>
        when(
          account,
          () => refreshStatuses(account, 'web').includes('Successful'),
          () => {
            account.state.images.get(NEW_IMAGE)!.state = 'deregistered';
          },
        ),
    });
  }, 300_000);

  it('is refused by StartInstanceRefresh on api; the fleet rolls back and the notification says why', () => {
    const { account, report } = rehearsal;
    expect(report.status).toBe('ROLLED_BACK');
    expect(inServiceImages(account)).toEqual({
      web: { [PREVIOUS_IMAGE]: 4 },
      api: { [PREVIOUS_IMAGE]: 3 },
      worker: { [PREVIOUS_IMAGE]: 2 },
    });
    expect(refreshStatuses(account, 'api')).toEqual([]);
    expect(report.notifications[0]!.message.split('\n')[1]).toMatch(
      /^Cause \(InstanceRefreshStartError\): launch failed: StartInstanceRefresh api .*does not exist/,
    );
  });
});
