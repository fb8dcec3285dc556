import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Ledger, listGroups } from '../src/adapters/ledger.ts';
import { parseConfig } from '../src/config/load.ts';
import { createLocalAccountFromFleet, inProcessClientConfig } from '../src/local-account/index.ts';
import { parseFleet } from '../src/local-account/fleet.ts';
import { stepFunctionsOf } from '../src/local-account/services/states.ts';
import { deployToLocalAccount } from '../src/rehearsal/pipeline.ts';

export interface WavesBenchResult {
  readonly groups: number;
  readonly status: string;
  readonly wallMs: number;
  readonly heapUsedMb: number;
  readonly simulatedHours: number;
  readonly executions: number;
  readonly parentEvents: number;
  readonly maxBatchEvents: number;
  readonly meanGroupEvents: number;
  readonly maxGroupEvents: number;
  readonly largestPayloadBytes: number;
  /** Groups whose instances all run the image they should at the end (the new one, or the old one after a rollback). */
  readonly groupsOnExpectedImage: number;
  readonly groupsTouched: number;
  /** Virtual seconds from one refresh's end to the next start in the same lane, mean (the overhead per group). */
  readonly handoffSeconds: number;
}

/**
 * A rollout of `groups` groups x `instances` instances: one canary group, then waves of 500 refreshed 50 at a
 * time, through the real definitions on a local account. `failLast`: the last group's new instances fail their
 * health checks, so the whole fleet is rolled back.
 */
export async function benchWaves(groups = 2000, instances = 3, failLast = false): Promise<WavesBenchResult> {
  const current = 'ami-0000000000000c001';
  const next = 'ami-0000000000000c002';
  const template = 'lt-0000000000000b001';
  const names = Array.from({ length: groups }, (_, i) => `g-${String(i).padStart(4, '0')}`);
  const fleet = parseFleet({
    accountId: '111122223333',
    images: [
      { imageId: current, name: 'current' },
      { imageId: next, name: 'next' },
    ],
    launchTemplates: [{ launchTemplateId: template, name: 'fleet', imageId: current }],
    autoScalingGroups: names.map((name) => ({
      name,
      launchTemplate: 'fleet',
      minSize: instances,
      maxSize: instances * 2,
      desiredCapacity: instances,
      defaultInstanceWarmupSeconds: 60,
    })),
    parameters: [{ name: '/bench/golden-ami', value: current }],
    topics: [{ name: 'bench' }],
    ...(failLast ? { faults: [{ kind: 'unhealthyInstances', imageId: next, group: names.at(-1)! }] } : {}),
  });
  const rest = names.slice(1);
  const waves = [{ name: 'canary', autoScalingGroupNames: [names[0]!], bakeMinutes: 10 }];
  for (let i = 0; i < rest.length; i += 500)
    waves.push({
      name: `wave-${waves.length}`,
      autoScalingGroupNames: rest.slice(i, i + 500),
      bakeMinutes: 10,
      ...{ maxParallel: 50 },
    } as (typeof waves)[number]);
  const config = parseConfig({
    amiParameterName: '/bench/golden-ami',
    launchTemplateIds: [template],
    waves,
    trustedImageOwners: ['111122223333'],
    notificationTopicArn: 'arn:aws:sns:us-east-1:111122223333:bench',
    refreshPreferences: { minHealthyPercentage: 50 },
    groupsWithoutHealthSignal: names,
    pollIntervalSeconds: 60,
    refreshTimeoutMinutes: 60,
  });
  const account = await createLocalAccountFromFleet(fleet);
  const pipeline = await deployToLocalAccount(account, config);
  const sfn = new SFNClient(inProcessClientConfig(account));
  const simulatedFrom = account.clock.now();
  const start = performance.now();
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: pipeline.stateMachineArn,
      name: 'bench',
      input: JSON.stringify({ rolloutId: 'bench', imageId: next }),
    }),
  );
  const executions = stepFunctionsOf(account).executions;
  const parent = executions.get(executionArn!)!;
  await parent.done;
  const wallMs = performance.now() - start;
  const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;

  const all = [...executions.values()];
  const of = (machine: string) =>
    all.filter((e) => e.stateMachineArn === machine).map((e) => e.history.length);
  const batchEvents = of(pipeline.batchStateMachineArn);
  const groupEvents = of(pipeline.groupStateMachineArn);
  let largestPayloadBytes = 0;
  for (const execution of all)
    for (const event of execution.history)
      for (const detail of Object.values(event))
        if (detail && typeof detail === 'object')
          for (const key of ['input', 'output'])
            largestPayloadBytes = Math.max(
              largestPayloadBytes,
              Buffer.byteLength(String((detail as Record<string, unknown>)[key] ?? '')),
            );

  const ledger = new Ledger(new DynamoDBClient(inProcessClientConfig(account)), pipeline.ledgerTable);
  const records = await listGroups(ledger, 'bench');
  const touched = records.filter((g) => g.refresh !== undefined);
  const expected = parent.status === 'SUCCEEDED' ? next : current;
  let onExpected = 0;
  for (const name of names) {
    const group = account.state.autoScalingGroups.get(name)!;
    const imagesInService = group.instanceIds
      .map((id) => account.state.instances.get(id))
      .filter((i) => i?.lifecycleState === 'InService')
      .map((i) => i!.imageId);
    if (imagesInService.length > 0 && imagesInService.every((image) => image === expected)) onExpected++;
  }
  // The overhead per group: from a refresh's end to the next refresh's start, over the canary and serial hand-offs
  // and the lanes of each wave (the next group of a lane starts when a slot frees).
  const spans = records
    .filter((g) => g.startedAt && g.endedAt)
    .map((g) => [Date.parse(g.startedAt!), Date.parse(g.endedAt!)] as const)
    .sort((a, b) => a[0] - b[0]);
  const gaps: number[] = [];
  for (const [begin] of spans.slice(1)) {
    const before = spans.filter(([, end]) => end <= begin).map(([, end]) => end);
    if (before.length > 0) gaps.push((begin - Math.max(...before)) / 1000);
  }
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    groups,
    status: parent.status,
    wallMs,
    heapUsedMb,
    simulatedHours: (account.clock.now() - simulatedFrom) / 3_600_000,
    executions: all.length,
    parentEvents: parent.history.length,
    maxBatchEvents: Math.max(0, ...batchEvents),
    meanGroupEvents: mean(groupEvents),
    maxGroupEvents: Math.max(0, ...groupEvents),
    largestPayloadBytes,
    groupsOnExpectedImage: onExpected,
    groupsTouched: touched.length,
    handoffSeconds: mean(gaps.filter((g) => g < 3600)),
  };
}

// `tsx bench/waves.ts [groups] [--fail]`: one case on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  const groups = Number(process.argv[2] ?? 2000);
  const result = await benchWaves(groups, 3, process.argv.includes('--fail'));
  console.log(JSON.stringify(result, null, 2));
}
