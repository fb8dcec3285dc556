/**
 * Waves through the real definitions (rollout -> batch -> group executions) on a local account: the ledger, the
 * lock, parallel refreshes, failures at each place, redrive.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { getRollout, Ledger, listGroups, listWaves, readLock } from '../../src/adapters/ledger.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { RolloutConfigInput } from '../../src/config/schema.ts';
import type { LedgerGroup } from '../../src/core/ledger-records.ts';
import type { Fault } from '../../src/local-account/faults.ts';
import {
  createLocalAccountFromFleet,
  inProcessClientConfig,
  parseFleet,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { stepFunctionsOf } from '../../src/local-account/services/states.ts';
import {
  deployToLocalAccount,
  type DeployLocalOptions,
  type LocalPipeline,
} from '../../src/rehearsal/pipeline.ts';

const ACCOUNT = '111122223333';
const OLD = 'ami-0a1b2c3d4e5f60001';
const NEW = 'ami-0a1b2c3d4e5f60002';
const TEMPLATE = 'lt-0a1b2c3d4e5f60001';
const names = Array.from({ length: 12 }, (_, i) => `web-${String(i).padStart(2, '0')}`);

/** 12 groups of 2 instances: web-00 the canary, web-01..05 tagged wave=2, web-06..11 the last wave. */
const fleet = parseFleet({
  accountId: ACCOUNT,
  region: 'us-east-1',
  startTime: '2026-11-26T09:00:00Z',
  images: [
    { imageId: OLD, name: 'old' },
    { imageId: NEW, name: 'new' },
  ],
  launchTemplates: [{ launchTemplateId: TEMPLATE, name: 'web', imageId: OLD, instanceType: 't3.small' }],
  autoScalingGroups: names.map((name, i) => ({
    name,
    launchTemplate: 'web',
    minSize: 2,
    maxSize: 4,
    desiredCapacity: 2,
    ...(i >= 1 && i <= 5 ? { tags: { wave: '2' } } : {}),
  })),
  parameters: [{ name: '/ami-rollout/golden-ami', value: OLD, dataType: 'aws:ec2:image' }],
  topics: [{ name: 'ami-rollout-notifications' }],
});

const configInput: RolloutConfigInput = {
  amiParameterName: '/ami-rollout/golden-ami',
  launchTemplateIds: [TEMPLATE],
  waves: [
    { name: 'canary', autoScalingGroupNames: ['web-00'], bakeMinutes: 20 },
    { name: 'wave-2', autoScalingGroupTags: { wave: '2' }, maxParallel: 3, bakeMinutes: 10 },
    { name: 'last', autoScalingGroupNames: names.slice(6), maxParallel: 6 },
  ],
  trustedImageOwners: [ACCOUNT],
  notificationTopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:ami-rollout-notifications`,
  // Every group has EC2 health checks only: a bad image here is one whose instances fail them.
  groupsWithoutHealthSignal: names,
  refreshPreferences: { minHealthyPercentage: 50, instanceWarmupSeconds: 60 },
};
const config = parseConfig(configInput);

interface Run {
  readonly account: LocalAccount;
  readonly pipeline: LocalPipeline;
  readonly sfn: SFNClient;
  readonly ledger: Ledger;
}

async function deploy(
  faults: readonly Fault[] = [],
  prepare?: (run: Run) => Promise<void>,
  wrapStep?: DeployLocalOptions['wrapStep'],
  rolloutConfig = config,
): Promise<Run> {
  const account = await createLocalAccountFromFleet(fleet);
  for (const fault of faults) account.faults.add(fault);
  const pipeline = await deployToLocalAccount(account, rolloutConfig, wrapStep ? { wrapStep } : {});
  const clientConfig = inProcessClientConfig(account);
  const run = {
    account,
    pipeline,
    sfn: new SFNClient(clientConfig),
    ledger: new Ledger(new DynamoDBClient(clientConfig), pipeline.ledgerTable),
  };
  await prepare?.(run);
  return run;
}

async function start(run: Run, rolloutId: string): Promise<string> {
  const { executionArn } = await run.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: run.pipeline.stateMachineArn,
      name: rolloutId,
      input: JSON.stringify({ rolloutId, imageId: NEW }),
    }),
  );
  return executionArn!;
}

/** Waits for the execution to end (the account's clock moves itself whenever every execution sleeps). */
async function finish(run: Run, executionArn: string): Promise<string> {
  const execution = stepFunctionsOf(run.account).executions.get(executionArn)!;
  await execution.done;
  return execution.status;
}

/** Every instance refresh the account saw on a group, forward or back. */
const refreshesOf = (account: LocalAccount, group: string) => [
  ...(account.state.instanceRefreshes.get(group) ?? []),
];

const imagesIn = (account: LocalAccount, group: string) =>
  new Set(
    (account.state.autoScalingGroups.get(group)?.instanceIds ?? []).flatMap((id) => {
      const instance = account.state.instances.get(id);
      return instance?.lifecycleState === 'InService' ? [instance.imageId] : [];
    }),
  );

const byName = (groups: readonly LedgerGroup[]) => new Map(groups.map((g) => [g.autoScalingGroupName, g]));

describe('waves through the real definitions', () => {
  it('succeed: canary, then the tag-selected wave 3 at a time, then the last wave, each after its bake', async () => {
    const run = await deploy();
    const arn = await start(run, 'waves-ok');
    expect(await finish(run, arn)).toBe('SUCCEEDED');
    const groups = await listGroups(run.ledger, 'waves-ok');
    expect(groups.map((g) => [g.autoScalingGroupName, g.wave, g.status])).toEqual(
      names.map((name, i) => [name, i === 0 ? 0 : i <= 5 ? 1 : 2, 'SUCCEEDED']),
    );
    for (const name of names) expect(imagesIn(run.account, name), name).toEqual(new Set([NEW]));
    // The tag selector's groups were recorded with the wave.
    const waves = await listWaves(run.ledger, 'waves-ok');
    expect(waves.map((w) => [w.name, w.groupCount, w.maxParallel])).toEqual([
      ['canary', 1, 1],
      ['wave-2', 5, 3],
      ['last', 6, 6],
    ]);
    const span = (g: LedgerGroup) => [Date.parse(g.startedAt!), Date.parse(g.endedAt!)] as const;
    const inWave = (w: number) => groups.filter((g) => g.wave === w).map(span);
    // Wave N+1 starts only after every group of wave N ended and its bake passed.
    const lastEnd = (w: number) => Math.max(...inWave(w).map(([, end]) => end));
    const firstStart = (w: number) => Math.min(...inWave(w).map(([begin]) => begin));
    expect(firstStart(1) - lastEnd(0)).toBeGreaterThanOrEqual(20 * 60_000);
    expect(firstStart(2) - lastEnd(1)).toBeGreaterThanOrEqual(10 * 60_000);
    // maxParallel bounds the refreshes running at once, and the wave did use it.
    const mostAtOnce = (spans: readonly (readonly [number, number])[]) =>
      Math.max(...spans.map(([t]) => spans.filter(([b, e]) => b <= t && t < e).length));
    expect(mostAtOnce(inWave(1))).toBe(3);
    expect(mostAtOnce(inWave(2))).toBe(6);
    // The lock is released at the end.
    expect(await readLock(run.ledger)).toBeUndefined();
  });

  it('a failure in the canary touches nothing else, and rolls the canary back', async () => {
    const run = await deploy([{ kind: 'unhealthyInstances', imageId: NEW, group: 'web-00' }]);
    const arn = await start(run, 'canary-fails');
    expect(await finish(run, arn)).toBe('FAILED');
    const groups = byName(await listGroups(run.ledger, 'canary-fails'));
    expect(groups.get('web-00')?.status).toBe('FAILED');
    for (const name of names.slice(1)) {
      expect(refreshesOf(run.account, name), name).toEqual([]);
      expect(groups.get(name)?.status, name).toBe('PENDING');
      expect(imagesIn(run.account, name), name).toEqual(new Set([OLD]));
    }
    expect(imagesIn(run.account, 'web-00')).toEqual(new Set([OLD]));
  });

  it('a failure mid-wave: refreshes in flight finish, no new one starts, every touched group is restored', async () => {
    // web-01's new instances fail their health checks, and its refresh times out after 10 minutes; wave 2
    // refreshes 2 at a time and a good refresh takes about 4, so web-02, 03 and 04 start before the failure.
    const [canary, wave2, last] = configInput.waves!;
    const slow = parseConfig({
      ...configInput,
      refreshTimeoutMinutes: 10,
      waves: [canary!, { ...wave2!, maxParallel: 2 }, last!],
    });
    const run = await deploy(
      [{ kind: 'unhealthyInstances', imageId: NEW, group: 'web-01' }],
      undefined,
      undefined,
      slow,
    );
    const arn = await start(run, 'mid-wave');
    expect(await finish(run, arn)).toBe('FAILED');
    const rollout = await getRollout(run.ledger, 'mid-wave');
    expect(rollout?.failure).toMatchObject({ autoScalingGroupName: 'web-01', wave: 1 });
    const failedAt = Date.parse(rollout!.failure!.at);
    const groups = await listGroups(run.ledger, 'mid-wave');
    const status = byName(groups);
    expect(status.get('web-01')?.status).toBe('FAILED');
    // Nothing started after the failure was recorded; what was running then finished.
    for (const g of groups)
      if (g.startedAt) expect(Date.parse(g.startedAt), g.autoScalingGroupName).toBeLessThan(failedAt);
    const inFlight = groups.filter(
      (g) =>
        g.wave === 1 &&
        g.index !== 1 &&
        Date.parse(g.startedAt ?? '') < failedAt &&
        Date.parse(g.endedAt ?? '') > failedAt,
    );
    expect(inFlight.length).toBeGreaterThan(0);
    for (const g of inFlight) expect(g.status, g.autoScalingGroupName).toBe('SUCCEEDED');
    const skipped = groups.filter((g) => g.status === 'SKIPPED').map((g) => g.autoScalingGroupName);
    expect(skipped).toContain('web-05');
    for (const name of [...skipped, ...names.slice(6)])
      expect(refreshesOf(run.account, name), name).toEqual([]);
    expect(names.slice(6).map((n) => status.get(n)?.status)).toEqual(names.slice(6).map(() => 'PENDING'));
    // Every group is back on the old image; each one a refresh reached was refreshed back.
    const parent = await run.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(parent.error).toBe('RolloutRolledBack');
    for (const name of names) expect(imagesIn(run.account, name), name).toEqual(new Set([OLD]));
    for (const g of groups.filter((g) => g.status === 'SUCCEEDED'))
      expect(g.rollback?.status, g.autoScalingGroupName).toBe('ROLLED_BACK');
  });

  it('a failure in the last wave restores everything, newest wave first', async () => {
    const run = await deploy([{ kind: 'unhealthyInstances', imageId: NEW, group: 'web-11' }]);
    const arn = await start(run, 'last-fails');
    expect(await finish(run, arn)).toBe('FAILED');
    const groups = await listGroups(run.ledger, 'last-fails');
    for (const name of names) expect(imagesIn(run.account, name), name).toEqual(new Set([OLD]));
    // Auto Scaling rolled the failed group back itself (AutoRollback); every other group was refreshed back.
    expect(byName(groups).get('web-11')?.refresh?.nativeRollback).toBe(true);
    const back = groups.filter((g) => g.autoScalingGroupName !== 'web-11');
    for (const g of back) expect(g.rollback?.status, g.autoScalingGroupName).toBe('ROLLED_BACK');
    const rolledBackAt = (g: LedgerGroup) => Date.parse(g.rollback!.refresh!.startedAt!);
    const waveStarts = [2, 1, 0].map((w) => back.filter((g) => g.wave === w).map(rolledBackAt));
    // Every rollback refresh of a newer wave started before any of an older wave.
    expect(Math.max(...waveStarts[0]!)).toBeLessThanOrEqual(Math.min(...waveStarts[1]!));
    expect(Math.max(...waveStarts[1]!)).toBeLessThanOrEqual(Math.min(...waveStarts[2]!));
  });

  it('two starts at once: exactly one proceeds, the other changes nothing', async () => {
    const run = await deploy();
    const [a, b] = await Promise.all([start(run, 'first'), start(run, 'second')]);
    const statuses = await Promise.all([finish(run, a), finish(run, b)]);
    expect([...statuses].sort()).toEqual(['FAILED', 'SUCCEEDED']);
    const loser = statuses[0] === 'FAILED' ? 'first' : 'second';
    const loserArn = loser === 'first' ? a : b;
    const described = await run.sfn.send(new DescribeExecutionCommand({ executionArn: loserArn }));
    expect(described.error).toBe('PreflightFailed');
    expect(await getRollout(run.ledger, loser)).toBeUndefined();
    // Each group refreshed once: by the winner.
    for (const name of names) expect(refreshesOf(run.account, name), name).toHaveLength(1);
  });

  it('a stopped rollout, redriven, goes on from the ledger without refreshing finished groups again', async () => {
    let parent = '';
    let stopped = false;
    // Stop the rollout as wave 2's third group starts: the canary is done, web-01 and web-02 are refreshing.
    const run = await deploy([], undefined, (step, handler) =>
      step !== 'TriggerInstanceRefresh'
        ? handler
        : async (event) => {
            const index = (event as { group?: { groupIndex?: number } }).group?.groupIndex;
            if (index === 3 && !stopped) {
              stopped = true;
              await run.sfn.send(new StopExecutionCommand({ executionArn: parent, cause: 'operator stop' }));
            }
            return handler(event);
          },
    );
    parent = await start(run, 'stopped');
    expect(await finish(run, parent)).toBe('ABORTED');
    expect(stopped).toBe(true);
    const atStop = byName(await listGroups(run.ledger, 'stopped'));
    expect(atStop.get('web-00')?.status).toBe('SUCCEEDED');
    const before = new Map(names.map((n) => [n, refreshesOf(run.account, n).length]));
    expect(before.get('web-00')).toBe(1);

    await run.sfn.send(new RedriveExecutionCommand({ executionArn: parent }));
    expect(await finish(run, parent)).toBe('SUCCEEDED');
    for (const name of names) {
      expect(imagesIn(run.account, name), name).toEqual(new Set([NEW]));
      // One refresh per group: a finished group is not refreshed again, one in flight is adopted.
      expect(refreshesOf(run.account, name), name).toHaveLength(1);
    }
  });

  it('a stale lock of an execution that ended is recovered, with a warning, and released at the end', async () => {
    const staleArn = `arn:aws:states:us-east-1:${ACCOUNT}:execution:ami-rollout:crashed-long-ago`;
    const run = await deploy([], async ({ account, pipeline }) => {
      await new DynamoDBClient(inProcessClientConfig(account)).send(
        new PutItemCommand({
          TableName: pipeline.ledgerTable,
          Item: {
            pk: { S: 'LOCK' },
            sk: { S: 'LOCK' },
            executionArn: { S: staleArn },
            rolloutId: { S: 'crashed-long-ago' },
            acquiredAt: { S: '2026-11-01T00:00:00.000Z' },
          },
        }),
      );
    });
    const arn = await start(run, 'after-crash');
    expect(await finish(run, arn)).toBe('SUCCEEDED');
    expect(await readLock(run.ledger)).toBeUndefined();
  });
});
