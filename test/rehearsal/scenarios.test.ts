import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Ledger } from '../../src/adapters/ledger.ts';
import { readRollout } from '../../src/steps/ledger-steps.ts';
/**
 * Rollout scenarios through the real state machine definition and the real step handlers, on a local account
 * in virtual time (see src/rehearsal/rehearse.ts). Each scenario runs once in a `beforeAll`; its `it`s read the
 * end state through the local account's data and the `--json` report.
 */
import { SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { Rollout } from '../../src/core/rollout.ts';
import { followExecution } from '../../src/execution/follow.ts';
import {
  inProcessClientConfig,
  parseFleet,
  stepFunctionsOf,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import type { Fault } from '../../src/local-account/faults.ts';
import type { Rehearsal } from '../../src/rehearsal/rehearse.ts';
import {
  exampleConfig as sharedExampleConfig,
  exampleFleet as sharedExampleFleet,
  inServiceImages,
  NEW_IMAGE,
  PREVIOUS_IMAGE,
  run,
} from './example-fleet.ts';

const exampleConfig = sharedExampleConfig as Record<string, unknown>;
const exampleFleet = sharedExampleFleet as Record<string, unknown>;

// The example fleet: web (4 instances), api (3) and worker (2), on two templates, all on PREVIOUS_IMAGE.
const PARAMETER = '/ami-rollout/golden-ami';
const GROUPS = ['web', 'api', 'worker'] as const;
const TEMPLATES = ['lt-0a1b2c3d4e5f60001', 'lt-0a1b2c3d4e5f60002'] as const;

const everyInstanceOn = (imageId: string) => ({
  web: { [imageId]: 4 },
  api: { [imageId]: 3 },
  worker: { [imageId]: 2 },
});

/** The refreshes the account saw on a group, oldest first: status and the template version each moved to. */
const refreshesOf = (account: LocalAccount, group: string) =>
  (account.state.instanceRefreshes.get(group) ?? []).map((r) => ({
    status: r.status,
    version: r.desiredConfiguration?.launchTemplate.version,
  }));

const parameterValues = (account: LocalAccount, name: string) =>
  account.state.parameters.get(name)?.versions.map((v) => v.value) ?? [];

const defaultVersions = (account: LocalAccount) =>
  TEMPLATES.map((id) => {
    const template = account.state.launchTemplates.get(id)!;
    return {
      id,
      defaultVersion: template.defaultVersion,
      imageId: template.versions.get(template.defaultVersion)?.data.ImageId,
    };
  });

/** The rollout record a state left, from its StateExited event. */
/**
 * The rollout record as the ledger holds it after the rehearsal, with `refresh` the group the rollout failed at
 * (what the notification shows). The execution's own state carries only keys now.
 */
async function ledgerRecord(account: LocalAccount, executionArn: string): Promise<Partial<Rollout>> {
  const rolloutId = executionArn.split(':').at(-1)!;
  const ledger = new Ledger(new DynamoDBClient(inProcessClientConfig(account)), 'ami-rollout-ledger');
  const { item, groups, view } = await readRollout(ledger, rolloutId);
  const failed = item.failure ? groups.find((g) => g.index === item.failure!.index) : undefined;
  return { ...view, ...(failed?.refresh ? { refresh: failed.refresh } : {}) };
}

const statesEntered = (history: readonly HistoryEvent[]) =>
  history.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails?.name);

/** Everything a complete rollback promises: templates, parameter and every instance on the previous image. */
function expectFleetRolledBack(rehearsal: Rehearsal, failingGroup: string): void {
  const { account, report } = rehearsal;
  expect(report.status).toBe('ROLLED_BACK');
  expect(report.error).toBe('RolloutRolledBack');
  expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
  expect(defaultVersions(account)).toEqual(
    TEMPLATES.map((id) => ({ id, defaultVersion: 1, imageId: PREVIOUS_IMAGE })),
  );
  expect(inServiceImages(account)).toEqual(everyInstanceOn(PREVIOUS_IMAGE));
  expect(report.autoScalingGroups.map((g) => g.instanceImageIds)).toEqual(
    GROUPS.map(() => ({ [PREVIOUS_IMAGE]: expect.any(Number) as number })),
  );
  expect(report.notifications.map((n) => n.subject)).toEqual([
    `[ami-rollout] ${NEW_IMAGE} FAILED and was rolled back (${failingGroup})`,
  ]);
}

/** Runs `then` once `condition` holds, checking every virtual second (the clock only moves as the rollout runs). */
function when(account: LocalAccount, condition: () => boolean, then: () => void): void {
  const check = () => (condition() ? then() : account.clock.schedule(1, check));
  account.clock.schedule(1, check);
}

const refreshStatuses = (account: LocalAccount, group: string) =>
  (account.state.instanceRefreshes.get(group) ?? []).map((r) => r.status);

/**
 * Adds `fault` on `group` and removes it once a refresh there is being cancelled: the fault stood for what the
 * new image (or an operator) did to the rollout's refresh, and must not also hit the refresh that puts it back.
 */
function untilCancelled(account: LocalAccount, group: string, fault: Fault): void {
  const { id } = account.faults.add(fault);
  when(
    account,
    () => refreshStatuses(account, group).some((s) => s === 'Cancelling' || s === 'Cancelled'),
    () => account.faults.remove(id),
  );
}

describe('a rollout of a good image', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({});
  });

  it('succeeds and moves templates, parameter and every instance to the new image', () => {
    const { account, report } = rehearsal;
    expect(report.status).toBe('SUCCEEDED');
    expect(defaultVersions(account)).toEqual(
      TEMPLATES.map((id) => ({ id, defaultVersion: 2, imageId: NEW_IMAGE })),
    );
    expect(report.parameter).toEqual({ name: PARAMETER, value: NEW_IMAGE, previousValue: PREVIOUS_IMAGE });
    expect(inServiceImages(account)).toEqual(everyInstanceOn(NEW_IMAGE));
  });

  it('refreshes the groups one at a time, in the configured order', () => {
    const started = GROUPS.map((g) => rehearsal.account.state.instanceRefreshes.get(g)![0]!);
    for (let i = 1; i < started.length; i++)
      expect(started[i]!.startTime.getTime()).toBeGreaterThanOrEqual(started[i - 1]!.endTime!.getTime());
    for (const group of GROUPS)
      expect(refreshesOf(rehearsal.account, group)).toEqual([{ status: 'Successful', version: '2' }]);
  });

  it('sends one success notification and rolls nothing back', () => {
    expect(rehearsal.report.notifications.map((n) => n.subject)).toEqual([
      `[ami-rollout] ${NEW_IMAGE} succeeded`,
    ]);
    expect(statesEntered(rehearsal.history)).not.toContain('RollbackAmi');
  });
});

describe.each([
  { position: 'first', failingGroup: 'web', before: [] as string[], after: ['api', 'worker'] },
  { position: 'middle', failingGroup: 'api', before: ['web'], after: ['worker'] },
  { position: 'last', failingGroup: 'worker', before: ['web', 'api'], after: [] as string[] },
])('a bad image failing at the $position group ($failingGroup)', ({ failingGroup, before, after }) => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({
      faults: [{ kind: 'unhealthyInstances', imageId: NEW_IMAGE, group: failingGroup }],
    });
  });

  it('puts templates, parameter and every instance back on the previous image', () => {
    expectFleetRolledBack(rehearsal, failingGroup);
  });

  it('keeps the saved rollback target at {param}-previous', () => {
    expect(rehearsal.report.parameter.previousValue).toBe(PREVIOUS_IMAGE);
  });

  it('refreshes the groups already on the new image back to template version 1', () => {
    for (const group of before) {
      expect(refreshesOf(rehearsal.account, group)).toEqual([
        { status: 'Successful', version: '2' },
        { status: 'Successful', version: '1' },
      ]);
    }
  });

  it('leaves the failing group to its native rollback and never touches the groups after it', () => {
    expect(refreshesOf(rehearsal.account, failingGroup)).toEqual([
      { status: 'RollbackSuccessful', version: '2' },
    ]);
    for (const group of after) expect(refreshesOf(rehearsal.account, group)).toEqual([]);
  });

  it('names the failing group and the groups it put back in the rollback notification', () => {
    const message = rehearsal.report.notifications[0]!.message;
    expect(message).toContain(`Failing group: ${failingGroup}`);
    expect(message).toContain('Auto Scaling rolled this group back to its previous instances itself.');
    for (const group of before)
      expect(message).toMatch(new RegExp(`${group} -> lt-\\w+ version 1 .*back on the previous version`));
  });
});

describe('a refresh cancelled by an operator', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({
      prepare: (account) =>
        untilCancelled(account, 'api', { kind: 'cancelRefresh', group: 'api', atPercentage: 50 }),
    });
  });

  it('is a failed rollout: the fleet is rolled back', () => {
    expectFleetRolledBack(rehearsal, 'api');
  });

  it('refreshes the part-way group back, replacing the instances the cancelled refresh had launched', () => {
    expect(refreshesOf(rehearsal.account, 'api')).toEqual([
      { status: 'Cancelled', version: '2' },
      { status: 'Successful', version: '1' },
    ]);
    expect(rehearsal.report.notifications[0]!.message).toContain('status Cancelled');
  });
});

describe('a rollback refresh cancelled by an operator as well', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({ faults: [{ kind: 'cancelRefresh', group: 'api', atPercentage: 50 }] });
  });

  it('fails loudly: ROLLBACK FAILED notification, exit status FAILED', () => {
    const { report } = rehearsal;
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('RollbackFailed');
    expect(report.notifications.map((n) => n.subject)).toEqual([
      `[ami-rollout] ${NEW_IMAGE} FAILED and the ROLLBACK FAILED: action needed (api)`,
    ]);
    expect(report.notifications[0]!.message).toContain('Error: RollbackRefreshFailed');
  });

  it('has still put templates and parameter back, and says which group still runs the new image', () => {
    const { account, report } = rehearsal;
    expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
    expect(defaultVersions(account).map((t) => t.imageId)).toEqual([PREVIOUS_IMAGE, PREVIOUS_IMAGE]);
    expect(inServiceImages(account)['api']?.[NEW_IMAGE]).toBeGreaterThan(0);
    expect(report.notifications[0]!.message).toMatch(/api -> lt-\w+ version 1 .*: Cancelled/);
  });
});

describe('a native rollback that fails', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({
      prepare: (account) => {
        account.faults.add({ kind: 'failRollback', group: 'api' });
        // The new image turns bad once one api instance already runs it: that instance is what the native
        // rollback fails to replace.
        when(
          account,
          () => (account.state.instanceRefreshes.get('api')?.[0]?.percentageComplete ?? 0) > 0,
          () => account.faults.add({ kind: 'unhealthyInstances', imageId: NEW_IMAGE, group: 'api' }),
        );
      },
    });
  });

  it("is rolled back by the rollout's own rollback", () => {
    expectFleetRolledBack(rehearsal, 'api');
  });

  it('refreshes the group Auto Scaling failed to restore back itself', () => {
    expect(refreshesOf(rehearsal.account, 'api')).toEqual([
      { status: 'RollbackFailed', version: '2' },
      { status: 'Successful', version: '1' },
    ]);
    expect(rehearsal.report.notifications[0]!.message).toContain('its native rollback did not finish');
  });
});

describe('a refresh that runs past refreshTimeoutMinutes', () => {
  // Without checkpoints a healthy group refreshes in under 15 minutes (web, behind its load balancer, waits for
  // healthy ELB targets); api stalls until its refresh is cancelled.
  const {
    checkpointPercentages: _c,
    checkpointDelaySeconds: _d,
    ...preferences
  } = exampleConfig['refreshPreferences'] as Record<string, unknown>;
  const timeoutConfig = parseConfig({
    ...exampleConfig,
    refreshPreferences: preferences,
    refreshTimeoutMinutes: 20,
    pollIntervalSeconds: 60,
  });
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({
      config: timeoutConfig,
      prepare: (account) => untilCancelled(account, 'api', { kind: 'stallRefresh', group: 'api' }),
    });
  });

  it('is marked FAILED with timedOut by the status check', async () => {
    const checked = (await ledgerRecord(rehearsal.account, rehearsal.report.executionArn)).refresh;
    expect(checked).toMatchObject({
      autoScalingGroupName: 'api',
      status: 'InProgress',
      outcome: 'FAILED',
      timedOut: true,
    });
  });

  it('cancels the stalled refresh in the status check that finds it late, then refreshes the group back', async () => {
    const checked = (await ledgerRecord(rehearsal.account, rehearsal.report.executionArn)).refresh;
    expect(checked?.statusReason).toMatch(/after refreshTimeoutMinutes \(20 min\), cancelled/);
    const cancels = rehearsal.account.calls.filter(
      (c) => c.action === 'CancelInstanceRefresh' && !c.errorCode,
    );
    expect(cancels).toHaveLength(1);
    const [forward, back] = rehearsal.account.state.instanceRefreshes.get('api')!;
    expect(forward).toMatchObject({ status: 'Cancelled' });
    expect(back).toMatchObject({ status: 'Successful' });
    expect(back!.startTime.getTime()).toBeGreaterThanOrEqual(forward!.endTime!.getTime());
  });

  it('ends with the fleet rolled back', () => {
    expectFleetRolledBack(rehearsal, 'api');
  });
});

describe('a first rollout, before {param} exists', () => {
  const { parameters: _p, ...rest } = exampleFleet;
  const fleetWithoutParameter = parseFleet(rest);
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({ fleet: fleetWithoutParameter });
  });

  it('takes the rollback target from the launch templates', async () => {
    expect(await ledgerRecord(rehearsal.account, rehearsal.report.executionArn)).toMatchObject({
      rollbackTargetImageId: PREVIOUS_IMAGE,
      rollbackTargetSource: 'launch-templates',
    });
  });

  it('succeeds and creates {param} with the new image and {param}-previous with the old one', () => {
    const { account, report } = rehearsal;
    expect(report.status).toBe('SUCCEEDED');
    expect(parameterValues(account, PARAMETER)).toEqual([NEW_IMAGE]);
    expect(parameterValues(account, `${PARAMETER}-previous`)).toEqual([PREVIOUS_IMAGE]);
    expect(inServiceImages(account)).toEqual(everyInstanceOn(NEW_IMAGE));
  });
});

describe('the same image rolled out twice', () => {
  let first: Rehearsal;
  let before: {
    instanceIds: string[];
    refreshes: number;
    templateVersions: number[];
    parameterVersions: number;
  };
  let second: Awaited<ReturnType<typeof followExecution>>;
  let secondHistory: HistoryEvent[];

  const snapshot = (account: LocalAccount) => ({
    instanceIds: [...account.state.instances.values()]
      .filter((i) => i.lifecycleState === 'InService')
      .map((i) => i.instanceId)
      .sort(),
    refreshes: [...account.state.instanceRefreshes.values()].flat().length,
    templateVersions: TEMPLATES.map((id) => account.state.launchTemplates.get(id)!.latestVersion),
    parameterVersions:
      parameterValues(account, PARAMETER).length + parameterValues(account, `${PARAMETER}-previous`).length,
  });

  beforeAll(async () => {
    first = await run({});
    before = snapshot(first.account);
    const sfn = new SFNClient(inProcessClientConfig(first.account));
    // The rollout's own machine (its children, ami-rollout-batch and ami-rollout-group, are created first).
    const stateMachineArn = [...stepFunctionsOf(first.account).stateMachines.values()].find(
      (m) => m.name === 'ami-rollout',
    )!.stateMachineArn;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'rehearsal-2',
        input: JSON.stringify({ rolloutId: 'rehearsal-2', imageId: NEW_IMAGE }),
      }),
    );
    secondHistory = [];
    second = await followExecution(sfn, executionArn!, {
      pollMs: 5,
      onEvents: (events) => secondHistory.push(...events),
    });
  });

  it('runs the first time and succeeds the second time', () => {
    expect(first.report.status).toBe('SUCCEEDED');
    expect(second.status).toBe('SUCCEEDED');
  });

  it('changes nothing the second time: no template version, parameter write, refresh or replaced instance', () => {
    expect(snapshot(first.account)).toEqual(before);
  });

  it('keeps the rollback target: the previous image, found at {param}-previous', async () => {
    expect(await ledgerRecord(first.account, second.executionArn ?? '')).toMatchObject({
      rollbackTargetImageId: PREVIOUS_IMAGE,
      rollbackTargetSource: 'previous-parameter',
    });
    expect(parameterValues(first.account, `${PARAMETER}-previous`).at(-1)).toBe(PREVIOUS_IMAGE);
  });
});

describe('a missing image', () => {
  const missingImage = 'ami-0a1b2c3d4e5f6ffff';
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({ imageId: missingImage });
  });

  it('fails in preflight with a FAILED notification', () => {
    const { report } = rehearsal;
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('PreflightFailed');
    expect(report.notifications.map((n) => n.subject)).toEqual([
      `[ami-rollout] ${missingImage} FAILED, nothing was changed`,
    ]);
    expect(report.notifications[0]!.message).toContain('ImageNotFoundError');
  });

  it('changes nothing: parameter, templates and instances as they were, no refresh started', () => {
    const { account } = rehearsal;
    expect(parameterValues(account, PARAMETER)).toEqual([PREVIOUS_IMAGE]);
    expect(account.state.parameters.has(`${PARAMETER}-previous`)).toBe(false);
    expect(TEMPLATES.map((id) => account.state.launchTemplates.get(id)!.latestVersion)).toEqual([1, 1]);
    expect([...account.state.instanceRefreshes.values()].flat()).toEqual([]);
    expect(inServiceImages(account)).toEqual(everyInstanceOn(PREVIOUS_IMAGE));
    expect(statesEntered(rehearsal.history)).not.toContain('ShareAmi');
  });
});

describe('throttling', () => {
  let rehearsal: Rehearsal;
  beforeAll(async () => {
    rehearsal = await run({
      faults: [
        { kind: 'throttle', operation: 'DescribeInstanceRefreshes', calls: 3 },
        { kind: 'throttle', operation: 'CreateLaunchTemplateVersion', calls: 2 },
      ],
    });
  });

  it('is retried: the throttled calls happened and the rollout succeeds', () => {
    const throttled = rehearsal.account.calls
      .filter((c) => c.errorCode === 'Throttling' || c.errorCode === 'RequestLimitExceeded')
      .map((c) => `${c.service}:${c.action}:${c.errorCode}`);
    expect(throttled.sort()).toEqual([
      'autoscaling:DescribeInstanceRefreshes:Throttling',
      'autoscaling:DescribeInstanceRefreshes:Throttling',
      'autoscaling:DescribeInstanceRefreshes:Throttling',
      'ec2:CreateLaunchTemplateVersion:RequestLimitExceeded',
      'ec2:CreateLaunchTemplateVersion:RequestLimitExceeded',
    ]);
    expect(rehearsal.report.status).toBe('SUCCEEDED');
    expect(inServiceImages(rehearsal.account)).toEqual(everyInstanceOn(NEW_IMAGE));
  });

  it('creates each launch template version once despite the retries', () => {
    expect(TEMPLATES.map((id) => rehearsal.account.state.launchTemplates.get(id)!.latestVersion)).toEqual([
      2, 2,
    ]);
  });
});
