import { StartInstanceRefreshCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import type { RolloutConfigInput } from '../../src/config/schema.ts';
import type { FleetFile } from '../../src/local-account/index.ts';
import { describe, expect, it } from 'vitest';
import { createPreflight } from '../../src/steps/preflight.ts';
import {
  ACCOUNT,
  BACKEND_TEMPLATE,
  FOREIGN_IMAGE,
  harness,
  NEW_IMAGE,
  OLD_IMAGE,
  OTHER_IMAGE,
  PARAM,
  PENDING_IMAGE,
  preflighted,
  rolloutState,
  WEB_TEMPLATE,
  writesSince,
  type Harness,
} from './harness.ts';

async function refused(h: Harness, event: unknown, name: string, message?: string | RegExp): Promise<void> {
  const before = h.account.calls.length;
  const error: unknown = await createPreflight(h.deps)(event).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).name).toBe(name);
  if (message) expect((error as Error).message).toMatch(message);
  // Preflight never changes anything, even when it fails.
  expect(writesSince(h.account, before)).toEqual([]);
}

describe('preflight', () => {
  it('refuses, before any change, a configuration whose last checkpoint is not 100 (one that bypassed the schema)', async () => {
    const h = await harness();
    // The schema refuses such a file; a configuration built in code can still carry one.
    const config = {
      ...h.config,
      refreshPreferences: { ...h.config.refreshPreferences, checkpointPercentages: [25, 50] },
    };
    const before = h.account.calls.length;
    const error: unknown = await createPreflight({ ...h.deps, config })({
      rolloutId: 'rollout-1',
      imageId: NEW_IMAGE,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe('ConfigError');
    expect((error as Error).message).toContain(
      'refreshPreferences.checkpointPercentages ends with 50, so the refresh would stop with the rest of each group on the old image; end the list with 100, e.g. [25, 50, 100]',
    );
    expect(h.account.calls.length).toBe(before);
  });

  it('records the templates, groups and rollback target of a rollout that can run and be undone', async () => {
    const h = await harness();
    const before = h.account.calls.length;
    const rollout = await createPreflight(h.deps)({ rolloutId: 'rollout-1', imageId: NEW_IMAGE });
    expect(rollout).toEqual({
      rolloutId: 'rollout-1',
      imageId: NEW_IMAGE,
      rollbackTargetImageId: OLD_IMAGE,
      rollbackTargetSource: 'parameter',
      parameterBefore: { value: OLD_IMAGE },
      templates: [
        {
          launchTemplateId: WEB_TEMPLATE,
          launchTemplateName: 'web',
          previousVersion: 1,
          previousImageId: OLD_IMAGE,
        },
        {
          launchTemplateId: BACKEND_TEMPLATE,
          launchTemplateName: 'backend',
          previousVersion: 1,
          previousImageId: OLD_IMAGE,
        },
      ],
      groups: [
        {
          autoScalingGroupName: 'web',
          launchTemplateId: WEB_TEMPLATE,
          previousLaunchTemplateVersion: '$Default',
        },
        {
          autoScalingGroupName: 'api',
          launchTemplateId: BACKEND_TEMPLATE,
          previousLaunchTemplateVersion: '$Default',
        },
        {
          autoScalingGroupName: 'worker',
          launchTemplateId: BACKEND_TEMPLATE,
          previousLaunchTemplateVersion: '$Default',
        },
      ],
      groupIndex: 0,
      done: false,
      refreshes: [],
    });
    expect(writesSince(h.account, before)).toEqual([]);
    expect(h.logs.at(-1)).toMatchObject({
      action: 'preflight-passed',
      rolloutId: 'rollout-1',
      imageId: NEW_IMAGE,
      step: 'preflight',
    });
  });

  it('on a first rollout, finds the rollback target on the templates', async () => {
    const h = await harness({ fleet: (f) => ({ ...f, parameters: [] }) });
    const rollout = await createPreflight(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE });
    expect(rollout).toMatchObject({
      rollbackTargetImageId: OLD_IMAGE,
      rollbackTargetSource: 'launch-templates',
    });
  });

  it('trusts an owner given as "self"', async () => {
    const h = await harness({ config: (c) => ({ ...c, trustedImageOwners: ['self'] }) });
    await expect(createPreflight(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE })).resolves.toMatchObject({
      imageId: NEW_IMAGE,
    });
  });

  it('fails when the event is malformed', async () => {
    await refused(await harness(), { rolloutId: 'r', imageId: 'golden' }, 'InvalidEventError', /imageId/);
  });

  it('fails when the image does not exist', async () => {
    await refused(
      await harness(),
      { rolloutId: 'r', imageId: 'ami-0ffffffffffffffff' },
      'ImageNotFoundError',
    );
  });

  it('fails when the image is not available', async () => {
    await refused(
      await harness(),
      { rolloutId: 'r', imageId: PENDING_IMAGE },
      'ImageNotAvailableError',
      /pending/,
    );
  });

  it('fails when the image owner is not trusted', async () => {
    await refused(
      await harness(),
      { rolloutId: 'r', imageId: FOREIGN_IMAGE },
      'UntrustedImageOwnerError',
      /999988887777/,
    );
  });

  it('fails when a launch template does not exist', async () => {
    const h = await harness({
      config: (c) => ({ ...c, launchTemplateIds: [WEB_TEMPLATE, 'lt-0ffffffffffffffff'] }),
    });
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'LaunchTemplateNotFoundError',
      /lt-0ffffffffffffffff/,
    );
  });

  it('fails when a group does not exist', async () => {
    const h = await harness({
      config: (c) => ({ ...c, autoScalingGroupNames: ['web', 'batch'], groupsWithoutHealthSignal: [] }),
    });
    await refused(h, { rolloutId: 'r', imageId: NEW_IMAGE }, 'AutoScalingGroupNotFoundError', /batch/);
  });

  it('fails when a group launches from a template the rollout does not update', async () => {
    const h = await harness({ config: (c) => ({ ...c, launchTemplateIds: [WEB_TEMPLATE] }) });
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'GroupTemplateMismatchError',
      /group api launches from launch template/,
    );
  });

  it('fails when a refresh is already running on a group', async () => {
    const h = await harness();
    await h.deps.autoscaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'api' }));
    await refused(h, { rolloutId: 'r', imageId: NEW_IMAGE }, 'RefreshInProgressError', /group api/);
  });

  it('fails when there is no parameter and the templates disagree on the image', async () => {
    const h = await harness({
      fleet: (f) => ({
        ...f,
        parameters: [],
        launchTemplates: [
          { launchTemplateId: WEB_TEMPLATE, name: 'web', imageId: OLD_IMAGE },
          { launchTemplateId: BACKEND_TEMPLATE, name: 'backend', imageId: OTHER_IMAGE },
        ],
      }),
    });
    await refused(h, { rolloutId: 'r', imageId: NEW_IMAGE }, 'NoRollbackTargetError', /different images/);
  });

  it('fails when the rollback image is no longer available', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, parameters: [{ name: PARAM, value: PENDING_IMAGE }] }),
    });
    await refused(h, { rolloutId: 'r', imageId: NEW_IMAGE }, 'RollbackImageNotAvailableError', /pending/);
  });

  it('is idempotent: a second run gives the same record and changes nothing', async () => {
    const h = await harness();
    const first = await createPreflight(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE });
    const second = await createPreflight(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE });
    expect(second).toEqual(first);
    expect(writesSince(h.account)).not.toContain('ec2:CreateLaunchTemplateVersion');
  });

  it('rides out throttling: the SDK retries it', async () => {
    const h = await harness();
    h.account.faults.add({ kind: 'throttle', operation: 'ec2:DescribeImages', calls: 2 });
    await expect(createPreflight(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE })).resolves.toMatchObject({
      imageId: NEW_IMAGE,
    });
  });

  it('reports throttling that outlasts the SDK retries as TransientAwsError, for the state machine to retry', async () => {
    const h = await harness();
    h.account.faults.add({ kind: 'throttle', operation: 'autoscaling:DescribeAutoScalingGroups', calls: 50 });
    await refused(h, { rolloutId: 'r', imageId: NEW_IMAGE }, 'TransientAwsError', /Throttling/);
  });
});

describe('preflight: instance profiles the pipeline must pass', () => {
  const webRole = `arn:aws:iam::${ACCOUNT}:role/app/web-role`;
  /** The web template launches with instance profile web-instance, which holds role app/web-role. */
  const withProfile =
    (instanceProfile = 'web-instance') =>
    (f: FleetFile): FleetFile => ({
      ...f,
      instanceProfiles: [{ name: 'web-instance', roleName: 'web-role', rolePath: '/app/' }],
      launchTemplates: (f.launchTemplates ?? []).map((t) =>
        t.launchTemplateId === WEB_TEMPLATE ? { ...t, instanceProfile } : t,
      ),
    });

  it("fails when a template's instance profile role is not in instanceRoleArns, naming the template, role and key", async () => {
    const h = await harness({ fleet: withProfile() });
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'InstanceRoleNotPassableError',
      new RegExp(
        `launch template ${WEB_TEMPLATE} \\(its default version.*instance profile arn:aws:iam::${ACCOUNT}:instance-profile/web-instance, whose role ${webRole} is not in instanceRoleArns \\(none listed\\).*Add "${webRole}" to instanceRoleArns`,
      ),
    );
    expect(h.account.calls.some((c) => c.service === 'iam' && c.action === 'GetInstanceProfile')).toBe(true);
  });

  it('passes when the role is listed, whether the template names the profile or its ARN', async () => {
    for (const reference of ['web-instance', `arn:aws:iam::${ACCOUNT}:instance-profile/web-instance`]) {
      const h = await harness({
        fleet: withProfile(reference),
        config: (c) => ({ ...c, instanceRoleArns: [webRole] }),
      });
      await expect(createPreflight(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE })).resolves.toMatchObject({
        imageId: NEW_IMAGE,
      });
    }
  });

  it('fails when another role is listed: the ARN must match, path included', async () => {
    const h = await harness({
      fleet: withProfile(),
      config: (c) => ({ ...c, instanceRoleArns: [`arn:aws:iam::${ACCOUNT}:role/web-role`] }),
    });
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'InstanceRoleNotPassableError',
      /is not in instanceRoleArns \(arn:aws:iam::111122223333:role\/web-role\)/,
    );
  });

  it('checks the version a group launches when it is not the default (a rollback returns the group to it)', async () => {
    const h = await harness({
      fleet: (f) => ({
        ...f,
        instanceProfiles: [{ name: 'web-instance', roleName: 'web-role', rolePath: '/app/' }],
      }),
    });
    await h.deps.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: WEB_TEMPLATE,
        SourceVersion: '1',
        LaunchTemplateData: { IamInstanceProfile: { Name: 'web-instance' } },
      }),
    );
    await h.deps.autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web',
        LaunchTemplate: { LaunchTemplateId: WEB_TEMPLATE, Version: '2' },
      }),
    );
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'InstanceRoleNotPassableError',
      new RegExp(`launch template ${WEB_TEMPLATE} \\(version 2, which group web launches\\)`),
    );
  });

  it('fails when the instance profile a template names does not exist', async () => {
    const h = await harness({
      fleet: withProfile(`arn:aws:iam::${ACCOUNT}:instance-profile/ghost`),
      config: (c) => ({ ...c, instanceRoleArns: [webRole] }),
    });
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'InstanceProfileNotFoundError',
      /instance profile arn:aws:iam::111122223333:instance-profile\/ghost does not exist/,
    );
  });

  it('reads no instance profile when no template has one', async () => {
    const h = await harness();
    await createPreflight(h.deps)({ rolloutId: 'r', imageId: NEW_IMAGE });
    expect(h.account.calls.filter((c) => c.service === 'iam')).toEqual([]);
  });
});

describe('preflight: every group needs a health signal', () => {
  const alarm = (name: string) => ({
    name,
    namespace: 'App',
    metricName: 'Errors',
    dimensions: { AutoScalingGroupName: 'worker' },
    statistic: 'Sum' as const,
    threshold: 1,
    comparisonOperator: 'GreaterThanOrEqualToThreshold' as const,
  });
  const withoutOptOut = (c: RolloutConfigInput): RolloutConfigInput => ({
    ...c,
    groupsWithoutHealthSignal: [],
  });

  it('fails when a group has EC2 health checks only and no alarm, naming every such group and the fixes', async () => {
    const h = await harness({
      fleet: (f) => ({
        ...f,
        autoScalingGroups: f.autoScalingGroups!.map((g) =>
          g.name === 'api' ? { ...g, healthCheckType: 'EC2' as const, targetGroups: [] } : g,
        ),
      }),
      config: withoutOptOut,
    });
    const before = rolloutState(h.account);
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'NoHealthSignalError',
      /^groups api \(EC2 health checks only\), worker \(EC2 health checks only\) have no health signal: .*HealthCheckType ELB and TargetGroupARNs.*refreshPreferences\.alarmNames.*groupsWithoutHealthSignal/,
    );
    expect(rolloutState(h.account)).toEqual(before);
  });

  it('fails when a group has ELB health checks but no load balancer attached (ELB has nothing to check)', async () => {
    const h = await harness({
      fleet: (f) => ({
        ...f,
        autoScalingGroups: f.autoScalingGroups!.map((g) =>
          g.name === 'web' ? { ...g, targetGroups: [] } : g,
        ),
      }),
    });
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'NoHealthSignalError',
      /^group web \(HealthCheckType ELB but no target group or load balancer attached\) has no health signal/,
    );
  });

  it('passes an EC2-only group when an alarm watches the refreshes (alarmNames)', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, alarms: [alarm('worker-app-errors')] }),
      config: (c) => ({
        ...withoutOptOut(c),
        refreshPreferences: { instanceWarmupSeconds: 60, alarmNames: ['worker-app-errors'] },
      }),
    });
    const rollout = await preflighted(h);
    expect(rollout.groups.map((g) => g.autoScalingGroupName)).toEqual(['web', 'api', 'worker']);
    expect(h.account.calls.filter((c) => c.action === 'DescribeAlarms' && !c.errorCode)).toHaveLength(1);
  });

  it('passes an EC2-only group listed in groupsWithoutHealthSignal, and warns about it', async () => {
    const h = await harness();
    await preflighted(h);
    expect(h.logs.find((l) => l.action === 'groups-without-health-signal')).toMatchObject({
      level: 'warn',
      groups: ['worker (EC2 health checks only)'],
    });
  });

  it('fails when an alarm in alarmNames does not exist, naming it; changes nothing', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, alarms: [alarm('worker-app-errors')] }),
      config: (c) => ({
        ...c,
        refreshPreferences: { alarmNames: ['worker-app-errors', 'web-5xx', 'api-latency'] },
      }),
    });
    await refused(
      h,
      { rolloutId: 'r', imageId: NEW_IMAGE },
      'AlarmNotFoundError',
      /^refreshPreferences\.alarmNames lists "web-5xx", "api-latency", which do not exist in this account and region/,
    );
  });

  it('fails when alarms are configured and it was given no CloudWatch client', async () => {
    const h = await harness({
      fleet: (f) => ({ ...f, alarms: [alarm('worker-app-errors')] }),
      config: (c) => ({ ...c, refreshPreferences: { alarmNames: ['worker-app-errors'] } }),
    });
    const { cloudwatch: _unused, ...deps } = h.deps as typeof h.deps & { cloudwatch?: unknown };
    void _unused;
    await expect(createPreflight(deps)({ rolloutId: 'r', imageId: NEW_IMAGE })).rejects.toMatchObject({
      name: 'AwsCallError',
      message: expect.stringMatching(/no CloudWatch client/) as unknown,
    });
  });

  it('asks CloudWatch nothing when no alarm is configured', async () => {
    const h = await harness();
    await preflighted(h);
    expect(h.account.calls.filter((c) => c.action === 'DescribeAlarms')).toEqual([]);
  });
});
