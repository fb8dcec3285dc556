import { parseConfig } from '../src/config/load.ts';
import { parseFleet } from '../src/local-account/fleet.ts';
import { rehearse } from '../src/rehearsal/rehearse.ts';

export interface RehearsalBenchResult {
  readonly groups: number;
  readonly instancesPerGroup: number;
  readonly status: string;
  readonly wallMs: number;
  readonly simulatedSeconds: number;
  readonly stateTransitions: number;
  readonly historyEvents: number;
  readonly historyEventsPerGroup: number;
  /** Virtual seconds between one group's refresh ending and the next group's refresh starting. */
  readonly handoffSeconds: { readonly mean: number; readonly max: number };
  readonly heapUsedMb: number;
  /** The largest state input or output in the history: Step Functions refuses payloads over 256 KiB. */
  readonly largestStateBytes: number;
}

/** Rehearses a whole rollout of `groups` groups of `instancesPerGroup` instances through the real definition. */
export async function benchRehearsal(groups = 100, instancesPerGroup = 10): Promise<RehearsalBenchResult> {
  const current = 'ami-0000000000000c001';
  const next = 'ami-0000000000000c002';
  const templates = Array.from(
    { length: 10 },
    (_, i) => `lt-0${(0xb000 + i).toString(16).padStart(16, '0')}`,
  );
  const groupNames = Array.from({ length: groups }, (_, i) => `group-${String(i).padStart(3, '0')}`);
  const fleet = parseFleet({
    accountId: '111122223333',
    images: [
      { imageId: current, name: 'current' },
      { imageId: next, name: 'next' },
    ],
    launchTemplates: templates.map((launchTemplateId, i) => ({
      launchTemplateId,
      name: `template-${i}`,
      imageId: current,
    })),
    autoScalingGroups: groupNames.map((name, i) => ({
      name,
      launchTemplate: templates[i % templates.length]!,
      minSize: instancesPerGroup,
      maxSize: instancesPerGroup * 2,
      desiredCapacity: instancesPerGroup,
      defaultInstanceWarmupSeconds: 60,
    })),
    parameters: [{ name: '/bench/golden-ami', value: current }],
    topics: [{ name: 'bench' }],
  });
  const config = parseConfig({
    amiParameterName: '/bench/golden-ami',
    launchTemplateIds: templates,
    autoScalingGroupNames: groupNames,
    trustedImageOwners: ['111122223333'],
    notificationTopicArn: 'arn:aws:sns:us-east-1:111122223333:bench',
    refreshPreferences: { minHealthyPercentage: 90, maxHealthyPercentage: 110 },
    // EC2 health checks only, as before Preflight asked for a health signal: the figures stay comparable.
    groupsWithoutHealthSignal: groupNames,
    // 100 groups x 20 min polled every 120 s, forward and back, stays under the 25,000-event history limit.
    pollIntervalSeconds: 120,
    refreshTimeoutMinutes: 20,
  });
  const start = performance.now();
  const { account, report, history } = await rehearse({ config, fleet, imageId: next });
  const wallMs = performance.now() - start;
  const refreshes = groupNames.map((name) => account.state.instanceRefreshes.get(name)?.at(-1));
  const handoffs: number[] = [];
  for (let i = 1; i < refreshes.length; i++) {
    const ended = refreshes[i - 1]?.endTime;
    const started = refreshes[i]?.startTime;
    if (ended && started) handoffs.push((started.getTime() - ended.getTime()) / 1000);
  }
  return {
    groups,
    instancesPerGroup,
    status: report.status,
    wallMs,
    simulatedSeconds: report.simulatedSeconds,
    stateTransitions: report.stateTransitions,
    historyEvents: report.historyEvents.parent.events,
    historyEventsPerGroup: report.historyEvents.groups.meanEvents,
    handoffSeconds: {
      mean: handoffs.reduce((a, b) => a + b, 0) / Math.max(1, handoffs.length),
      max: Math.max(0, ...handoffs),
    },
    heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
    largestStateBytes: Math.max(
      ...history.flatMap((event) =>
        Object.values(event)
          .filter(
            (d): d is { input?: string; output?: string } =>
              typeof d === 'object' && d !== null && !(d instanceof Date),
          )
          .flatMap((d) => [d.input, d.output])
          .filter((text): text is string => typeof text === 'string')
          .map((text) => Buffer.byteLength(text)),
      ),
    ),
  };
}
