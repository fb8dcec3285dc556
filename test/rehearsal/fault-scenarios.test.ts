/**
 * The fault kinds a bad image brings on AWS, rehearsed through the real state machine definition and the real
 * step handlers on the example fleet (web and api behind a load balancer with ELB health checks, worker on EC2
 * checks watched by the `worker-app-errors` alarm). Each scenario runs once in a `beforeAll`; its `it`s read the
 * end state from the local account's own data and the rehearsal report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { RolloutConfigInput } from '../../src/config/schema.ts';
import type { LocalAccount } from '../../src/local-account/index.ts';
import { faultsFromFlags } from '../../src/rehearsal/fault-flags.ts';
import type { Rehearsal } from '../../src/rehearsal/rehearse.ts';
import {
  config,
  exampleConfig as sharedExampleConfig,
  fleet,
  inServiceImages,
  NEW_IMAGE,
  PREVIOUS_IMAGE,
  run,
} from './example-fleet.ts';

// The per-group mechanisms, without the example's health gate (its fleet-wide alarm would catch each of these
// faults first: test/rehearsal/gate.test.ts).
const { gate: _gate, ...exampleConfig } = sharedExampleConfig as RolloutConfigInput;
const noGateConfig = parseConfig(exampleConfig, 'examples/rollout.config.json without its gate');
const runNoGate = (options: Parameters<typeof run>[0]) => run({ config: noGateConfig, ...options });
const PARAMETER = '/ami-rollout/golden-ami';
const GROUPS = ['web', 'api', 'worker'] as const;
const SIZES = { web: 4, api: 3, worker: 2 } as const;

const everyInstanceOn = (imageId: string) =>
  Object.fromEntries(GROUPS.map((g) => [g, { [imageId]: SIZES[g] }]));

/** The refreshes the account saw on a group, oldest first. */
const refreshesOf = (account: LocalAccount, group: string) =>
  (account.state.instanceRefreshes.get(group) ?? []).map((r) => ({
    status: r.status,
    version: r.desiredConfiguration?.launchTemplate.version,
    // After a native rollback, why the refresh failed is its RollbackReason.
    reason: r.rollbackDetails?.rollbackReason ?? r.statusReason ?? '',
  }));

/** Everything a complete rollback promises: templates, parameter, and every instance on the previous image. */
function expectFleetRolledBack(rehearsal: Rehearsal, failingGroup: string): void {
  const { account, report } = rehearsal;
  expect(report.status).toBe('ROLLED_BACK');
  expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
  for (const template of account.state.launchTemplates.values())
    expect(template.versions.get(template.defaultVersion)?.data.ImageId).toBe(PREVIOUS_IMAGE);
  expect(inServiceImages(account)).toEqual(everyInstanceOn(PREVIOUS_IMAGE));
  expect(report.notifications.map((n) => n.subject)).toEqual([
    `[ami-rollout] ${NEW_IMAGE} FAILED and was rolled back (${failingGroup})`,
  ]);
}

describe('an image whose application fails, in a group behind a load balancer (api)', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await runNoGate({ faults: [{ kind: 'appFailure', imageId: NEW_IMAGE, group: 'api' }] });
  });

  it('is caught by the ELB health checks: api rolls back natively, the fleet is rolled back', () => {
    expectFleetRolledBack(rehearsal, 'api');
    const [forward] = refreshesOf(rehearsal.account, 'api');
    expect(forward?.status).toBe('RollbackSuccessful');
    expect(forward?.reason).toMatch(/failed its health checks/);
    // Not the alarm: it watches worker's metric, which stays at 0.
    expect(forward?.reason).not.toMatch(/CloudWatch alarm/);
  });

  it('never touches worker, after the failing group', () => {
    expect(refreshesOf(rehearsal.account, 'worker')).toEqual([]);
  });
});

describe('an image whose application fails, in the EC2-checked group an alarm watches (worker)', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await runNoGate({ faults: [{ kind: 'appFailure', imageId: NEW_IMAGE, group: 'worker' }] });
  });

  it('is caught only by the alarm: the refresh fails on worker-app-errors and the fleet is rolled back', () => {
    expectFleetRolledBack(rehearsal, 'worker');
    const [forward] = refreshesOf(rehearsal.account, 'worker');
    expect(forward?.reason).toContain('CloudWatch alarm worker-app-errors is in the ALARM state');
    // EC2 status checks passed the new instances: no instance of worker was ever found unhealthy.
    expect(forward?.reason).not.toMatch(/failed its health checks/);
  });

  it('refreshed web and api onto the new image first, and back', () => {
    for (const group of ['web', 'api']) {
      expect(refreshesOf(rehearsal.account, group).map((r) => [r.status, r.version])).toEqual([
        ['Successful', '2'],
        ['Successful', '1'],
      ]);
    }
  });
});

describe('the same failure in an EC2-only group that opted out (groupsWithoutHealthSignal, no alarm)', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    const { alarmNames: _alarms, ...preferences } = exampleConfig.refreshPreferences ?? {};
    void _alarms;
    rehearsal = await runNoGate({
      config: parseConfig({
        ...exampleConfig,
        refreshPreferences: preferences,
        groupsWithoutHealthSignal: ['worker'],
      }),
      faults: [{ kind: 'appFailure', imageId: NEW_IMAGE, group: 'worker' }],
    });
  });

  it('SUCCEEDS with every worker instance on the broken image: the risk the opt-out accepts', () => {
    const { account, report } = rehearsal;
    expect(report.status).toBe('SUCCEEDED');
    expect(report.parameter.value).toBe(NEW_IMAGE);
    expect(inServiceImages(account)).toEqual(everyInstanceOn(NEW_IMAGE));
    expect(refreshesOf(account, 'worker').map((r) => r.status)).toEqual(['Successful']);
    // The application is failing all the while: the fleet's App/Errors metric counts both instances.
    const failing = account.faults
      .list()
      .filter((f) => f.kind === 'appFailure' && f.group === 'worker' && f.imageId === NEW_IMAGE);
    expect(failing).toHaveLength(1);
  });
});

describe('launches of the new image that fail (its KMS key is not usable in api)', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await runNoGate({
      faults: [{ kind: 'launchFailure', imageId: NEW_IMAGE, group: 'api', reason: 'kmsKeyNotUsable' }],
    });
  });

  it('fail the refresh after Auto Scaling retries, and the fleet is rolled back', () => {
    expectFleetRolledBack(rehearsal, 'api');
    const [forward] = refreshesOf(rehearsal.account, 'api');
    expect(forward?.status).toBe('RollbackSuccessful');
    expect(forward?.reason).toContain('could not launch a new instance');
    expect(forward?.reason).toContain('Client.InvalidKMSKey.InvalidState');
    expect(rehearsal.report.failureReason).toContain('Client.InvalidKMSKey.InvalidState');
  });

  it('never ran an instance of the new image in api', () => {
    const api = rehearsal.account.state.autoScalingGroups.get('api')!;
    const everLaunched = [...rehearsal.account.state.instances.values()].filter(
      (i) => i.imageId === NEW_IMAGE && api.instanceIds.includes(i.instanceId),
    );
    expect(everLaunched.filter((i) => i.lifecycleState === 'InService')).toEqual([]);
  });
});

describe('an api instance in Standby, with StandbyInstances at its default (Wait)', () => {
  let rehearsal: Rehearsal;
  let standbyId = '';
  beforeAll(async () => {
    rehearsal = await runNoGate({
      prepare: (account) => {
        // What EnterStandby leaves: the instance out of service, still in the group.
        const api = account.state.autoScalingGroups.get('api')!;
        const instance = account.state.instances.get(api.instanceIds[0]!)!;
        instance.lifecycleState = 'Standby';
        standbyId = instance.instanceId;
      },
    });
  });

  it('makes the refresh wait an hour for it and then fail, as AWS documents; the fleet is rolled back', () => {
    const { report, account } = rehearsal;
    expect(report.status).toBe('ROLLED_BACK');
    expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
    const [forward] = refreshesOf(account, 'api');
    // AutoRollback is on in the config: the failed refresh rolls api back natively.
    expect(forward?.status).toBe('RollbackSuccessful');
    expect(forward?.reason).toContain('in Standby to return to service (StandbyInstances: Wait)');
    const refresh = account.state.instanceRefreshes.get('api')![0]!;
    const waitedSeconds = (refresh.endTime!.getTime() - refresh.startTime.getTime()) / 1000;
    expect(waitedSeconds).toBeGreaterThanOrEqual(3600);
    expect(account.state.instances.get(standbyId)?.lifecycleState).toBe('Standby');
    expect(refreshesOf(account, 'worker')).toEqual([]);
  });
});

describe('--fail GROUP (the image does not boot), through the CLI flag', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    const faults = faultsFromFlags({ fail: ['api'] }, { config, fleet, imageId: NEW_IMAGE });
    expect(faults).toEqual([{ kind: 'unhealthyInstances', imageId: NEW_IMAGE, group: 'api' }]);
    rehearsal = await runNoGate({ faults });
  });

  it('still rolls the fleet back, under ELB health checks', () => {
    expectFleetRolledBack(rehearsal, 'api');
    expect(refreshesOf(rehearsal.account, 'api')[0]?.reason).toMatch(/failed its health checks/);
  });
});

describe('an EC2-only group with no alarm and no opt-out', () => {
  let rehearsal: Rehearsal;
  let before: unknown;
  beforeAll(async () => {
    const { alarmNames: _alarms, ...preferences } = exampleConfig.refreshPreferences ?? {};
    void _alarms;
    rehearsal = await runNoGate({
      config: parseConfig({ ...exampleConfig, refreshPreferences: preferences }),
      prepare: (account) => {
        before = fleetState(account);
      },
    });
  });

  it('is refused by Preflight, naming the group and the fixes, with nothing changed', () => {
    const { report, account } = rehearsal;
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('PreflightFailed');
    expect(report.failureReason).toMatch(
      /^Preflight: NoHealthSignalError: group worker \(EC2 health checks only\) has no health signal/,
    );
    const message = report.notifications.at(-1)?.message ?? '';
    expect(message).toContain('HealthCheckType ELB and TargetGroupARNs');
    expect(message).toContain('refreshPreferences.alarmNames');
    expect(message).toContain('groupsWithoutHealthSignal');
    expect(fleetState(account)).toEqual(before);
    expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
  });
});

/** What a rollout could change: templates (versions, default), the parameter, each group's setting, refreshes, instances. */
function fleetState(account: LocalAccount): unknown {
  const s = account.state;
  return {
    templates: [...s.launchTemplates.values()].map((t) => [
      t.launchTemplateId,
      t.defaultVersion,
      t.versions.size,
    ]),
    parameter: s.parameters.get(PARAMETER)?.versions.map((v) => v.value),
    previous: s.parameters.get(`${PARAMETER}-previous`)?.versions.length ?? 0,
    groups: [...s.autoScalingGroups.values()].map((g) => [
      g.autoScalingGroupName,
      JSON.stringify(g.launchTemplate),
      [...g.instanceIds],
    ]),
    refreshes: [...s.instanceRefreshes.values()].map((list) => list.length),
  };
}
