import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { LedgerSnapshot } from '../../execution/fleet-progress.ts';
import { formatDuration, type ProgressView } from '../../execution/progress.ts';
import type { RolloutReport } from '../../rehearsal/report.ts';
import { parseCommandLine } from '../args.ts';
import type { Command } from '../main.ts';
import { UsageError, type Output } from '../usage.ts';
import { exampleConfigPath, exampleFleetPath } from '../examples.ts';

// Loaded for --help, so it imports nothing heavy: the launch failure reasons are written out here, and
// test/cli/rehearse.test.ts holds them to LAUNCH_FAILURE_REASONS in faults.ts.
const usage = `Usage: ami-rollout rehearse [--config FILE] [--fleet FILE] [--ami AMI_ID] [FAULT]... [--json] [--verbose]

Rehearses a rollout on a local AWS account, in virtual time: the real state machine definition and the real
step handlers, against a simulated fleet. No AWS account is needed and nothing leaves this machine.

Options:
  --config FILE  rollout configuration (default: examples/rollout.config.json)
  --fleet FILE   fleet file for the local account (default: the example fleet when the config
                 describes it, else a fleet built to match the config: each group behind a load
                 balancer, and the alarms the config names)
  --ami AMI_ID   image to roll out (default: the fleet's newest image that the parameter
                 does not hold yet)
  --json         print one JSON document instead of progress: every group with its wave, status,
                 refresh and times; history events per execution; the largest payload
  --verbose      without a terminal, a line for every group's refresh status (default: only for
                 20 groups or fewer; larger fleets get waves, failures and a line per tenth)

Faults (each repeatable, on top of the fleet file's; GROUP is a group of the rollout):
  --fail GROUP                the new image does not boot in GROUP: its instances fail their
                              health checks, EC2 or ELB (unhealthyInstances)
  --fail-app GROUP            the new image boots in GROUP but its application fails: caught by
                              ELB health checks or an alarm, not by EC2 checks (appFailure)
  --fail-launch GROUP[:WHY]   launches of the new image in GROUP fail (launchFailure); WHY is
                              imageNotFound, kmsKeyNotUsable or insufficientCapacity
                              (default kmsKeyNotUsable)
  --alarm NAME[@MINUTE]       the fleet's alarm NAME is in ALARM from virtual minute MINUTE
                              (default 0) on (alarm)
  --fault JSON                any fault object, as the fleet file's faults take it, e.g.
                              '{"kind":"stallRefresh","group":"web"}'

Exit codes: 0 the rollout succeeded, 3 it failed and was rolled back, 1 anything else
(bad input, preflight refused, rollback failed).`;

const EXIT = { SUCCEEDED: 0, ROLLED_BACK: 3, FAILED: 1 } as const;

export const rehearseCommand: Command = {
  name: 'rehearse',
  usage,
  async run(args, output) {
    const { values } = parseCommandLine(args, {
      config: { type: 'string' },
      fleet: { type: 'string' },
      ami: { type: 'string' },
      fail: { type: 'string', multiple: true },
      'fail-app': { type: 'string', multiple: true },
      'fail-launch': { type: 'string', multiple: true },
      alarm: { type: 'string', multiple: true },
      fault: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
    });
    const [
      { loadConfig },
      { readFleetFile },
      { defaultImageToRollOut, fleetForConfig },
      { rehearse },
      { faultsFromFlags, FaultFlagError },
      { RolloutWatch },
      { LiveBlock },
      { renderGroups },
    ] = await Promise.all([
      import('../../config/load.ts'),
      import('../../local-account/index.ts'),
      import('../../rehearsal/fleet-for-config.ts'),
      import('../../rehearsal/rehearse.ts'),
      import('../../rehearsal/fault-flags.ts'),
      import('../../execution/rollout-watch.ts'),
      import('../../execution/live.ts'),
      import('../../execution/fleet-render.ts'),
    ]);
    const config = await loadConfig(values.config ?? exampleConfigPath);
    const exampleFleet = values.fleet ? undefined : await readFleetFile(exampleFleetPath);
    const fleet = values.fleet ? await readFleetFile(values.fleet) : fleetForConfig(config, exampleFleet);
    const fleetSource = values.fleet
      ? values.fleet
      : fleet === exampleFleet
        ? 'examples/fleet.json (the config describes it)'
        : `generated from the config: its templates and groups, ${fleet.autoScalingGroups[0]?.desiredCapacity ?? 0} instances per group behind a load balancer, on ${fleet.images[0]?.imageId}${fleet.alarms.length > 0 ? `; alarms ${fleet.alarms.map((a) => a.name).join(', ')}` : ''}`;
    const imageId = values.ami ?? defaultImageToRollOut(config, fleet);
    if (!imageId)
      throw new UsageError('the fleet has no image to roll out besides the current one: name one with --ami');
    if (!/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(imageId))
      throw new UsageError(`--ami ${imageId}: must be an AMI id such as ami-0123456789abcdef0`);
    let faults;
    try {
      faults = faultsFromFlags(
        {
          ...(values.fail ? { fail: values.fail } : {}),
          ...(values['fail-app'] ? { failApp: values['fail-app'] } : {}),
          ...(values['fail-launch'] ? { failLaunch: values['fail-launch'] } : {}),
          ...(values.alarm ? { alarm: values.alarm } : {}),
          ...(values.fault ? { fault: values.fault } : {}),
        },
        { config, fleet, imageId },
      );
    } catch (error) {
      if (error instanceof FaultFlagError) throw new UsageError(error.message);
      throw error;
    }

    // The groups the configuration names (a tag selector's are known once Preflight has resolved it).
    const named =
      config.autoScalingGroupNames ?? (config.waves ?? []).flatMap((w) => w.autoScalingGroupNames ?? []);
    const watch = new RolloutWatch(named, { verbose: values.verbose ?? false });
    const terminal = values.json ? undefined : output.terminal;
    if (!values.json) output.out(`Fleet: ${fleetSource}`);
    if (!values.json)
      output.out(
        `Rehearsing the rollout of ${imageId} to ${named.length > 12 || named.length === 0 ? `${named.length > 0 ? named.length : 'the tag-selected'} groups` : named.join(', ')} on a local account (virtual time)`,
      );
    const started = performance.now();
    // On a terminal the rehearsal, which takes well under a second, is replayed at a pace a person can follow:
    // each simulated minute takes 25 ms (a 40-minute rollout plays in about a second; long gaps are capped).
    // What is replayed: the parent's history events and the ledger's reads, in virtual time order.
    type Moment = { at: number; events?: HistoryEvent[]; snapshot?: LedgerSnapshot };
    const replay: Moment[] = [];
    const { report } = await rehearse({
      config,
      fleet,
      imageId,
      faults,
      onEvents: (events) => {
        if (values.json) return;
        if (terminal) replay.push({ at: events.at(-1)?.timestamp?.getTime() ?? 0, events });
        else for (const line of watch.applyEvents(events)) output.out(line);
      },
      ...(values.json
        ? {}
        : {
            onSnapshot: (snapshot: LedgerSnapshot, at: Date) => {
              if (terminal) keepForReplay(replay, { at: at.getTime(), snapshot });
              else for (const line of watch.applySnapshot(snapshot)) output.out(line);
            },
          }),
    });
    const wallSeconds = (performance.now() - started) / 1000;
    if (terminal) {
      const live = new LiveBlock(terminal);
      let previous: number | undefined;
      // Stable: events and reads of the same moment keep the order they came in.
      const ordered = replay.map((m, i) => ({ m, i })).sort((a, b) => a.m.at - b.m.at || a.i - b.i);
      for (const { m } of ordered) {
        if (previous !== undefined && m.at > previous) {
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(300, ((m.at - previous!) / 60_000) * 25)),
          );
        }
        previous = m.at;
        const lines = m.events ? watch.applyEvents(m.events) : watch.applySnapshot(m.snapshot!);
        if (!live.draw(watch.view)) for (const line of lines) output.out(line);
      }
    }
    if (values.json) output.out(JSON.stringify(report, null, 2));
    else printSummary(output, report, watch.view, wallSeconds, renderGroups);
    return EXIT[report.status];
  },
};

function printSummary(
  output: Output,
  report: RolloutReport,
  view: ProgressView,
  wallSeconds: number,
  renderGroups: (view: ProgressView) => string[],
): void {
  const verdict = {
    SUCCEEDED: 'SUCCEEDED',
    ROLLED_BACK: 'FAILED and was ROLLED BACK',
    FAILED: `FAILED (${report.error ?? 'unknown error'})`,
  }[report.status];
  const events = report.historyEvents;
  const children =
    events.groups.executions > 0
      ? `; ${events.parent.events} in the rollout's execution, ${events.batches.length} batch executions, ${events.groups.executions} group executions (at most ${events.groups.maxEvents} events each)`
      : '';
  output.out('');
  output.out(
    `Rollout of ${report.ami} ${verdict} in ${formatDuration(report.simulatedSeconds)} simulated (${wallSeconds.toFixed(1)} s real): ` +
      `${report.stateTransitions} state transitions, ${events.totalEvents} history events${children}`,
  );
  if (report.failureReason) output.out(`  why: ${report.failureReason}`);
  output.out(`  parameter ${parameterLine(report)}`);
  for (const t of report.launchTemplates)
    output.out(
      `  launch template ${t.id}: default version ${t.defaultVersion ?? '?'} -> ${t.imageId ?? '?'}`,
    );
  if (report.autoScalingGroups.length > SMALL_SUMMARY) {
    // A large fleet: the waves and failures, and the instances counted by image over the whole fleet.
    for (const line of renderGroups(view)) output.out(line);
    const images: Record<string, number> = {};
    for (const g of report.autoScalingGroups)
      for (const [image, count] of Object.entries(g.instanceImageIds))
        images[image] = (images[image] ?? 0) + count;
    const counted = Object.entries(images).map(([image, count]) => `${count} x ${image}`);
    output.out(`  instances in service: ${counted.join(', ') || 'none'}`);
  } else {
    const width = Math.max(...report.autoScalingGroups.map((g) => g.name.length));
    for (const g of report.autoScalingGroups) {
      const images = Object.entries(g.instanceImageIds)
        .map(([image, count]) => `${count} x ${image}`)
        .join(', ');
      const timing = view.groups.find((p) => p.name === g.name);
      const took =
        timing?.durationSeconds !== undefined ? `, took ${formatDuration(timing.durationSeconds)}` : '';
      output.out(
        `  group ${g.name.padEnd(width)}  last refresh ${g.refreshStatus ?? 'none'}${took}; instances: ${images || 'none'}`,
      );
    }
  }
  for (const n of report.notifications) output.out(`  notification: ${n.subject ?? '(no subject)'}`);
  if (report.status !== 'SUCCEEDED' && report.notifications.length > 0) {
    output.out('');
    output.out(report.notifications.at(-1)!.message.replace(/^/gm, '    '));
  }
}

/** Ledger reads a replay keeps: a 2,000-group rehearsal reads hundreds, each a copy of every group. */
const REPLAY_SNAPSHOTS = 240;

/** Adds a ledger read to the replay; past REPLAY_SNAPSHOTS, every other read is dropped (the last stays). */
function keepForReplay<T extends { snapshot?: unknown }>(replay: T[], moment: T): void {
  replay.push(moment);
  if (replay.filter((m) => m.snapshot).length <= REPLAY_SNAPSHOTS) return;
  let nth = 0;
  const kept = replay.filter((m) => !m.snapshot || nth++ % 2 === 1 || m === moment);
  replay.splice(0, replay.length, ...kept);
}

/** Up to this many groups the summary has a line per group (as SMALL_FLEET in fleet-render.ts, kept light here). */
const SMALL_SUMMARY = 20;

/**
 * The parameter's value and what it is: the new image (and the one it replaced, kept for a rollback), or the
 * image it held before the rollout. After a rollback `{param}-previous` holds the same image as the parameter,
 * so "previous" alone would say nothing true.
 */
export function parameterLine(report: RolloutReport): string {
  const { name, value, previousValue } = report.parameter;
  const before = report.previousAmi;
  const shown = `${name} = ${value ?? '(none)'}`;
  if (value !== undefined && value === report.ami) {
    if (report.status !== 'SUCCEEDED') return `${shown} (still the new image)`;
    if (before === undefined || before === value) return `${shown} (the new image)`;
    return previousValue === before
      ? `${shown} (was ${before}, kept in ${name}-previous for a rollback)`
      : `${shown} (was ${before})`;
  }
  if (value !== undefined && value === before) return `${shown} (the image it held before the rollout)`;
  return shown;
}
