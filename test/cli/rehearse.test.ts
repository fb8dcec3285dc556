import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parameterLine } from '../../src/cli/commands/rehearse.ts';
import { main } from '../../src/cli/main.ts';
import { LAUNCH_FAILURE_REASONS } from '../../src/local-account/faults.ts';
import type { RolloutReport } from '../../src/rehearsal/report.ts';

const PREVIOUS_IMAGE = 'ami-0a1b2c3d4e5f60001';
const NEW_IMAGE = 'ami-0a1b2c3d4e5f60002';

/** Runs the CLI in process and captures what it prints. */
async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `rehearse --json`: stdout must be exactly one JSON document. */
async function rehearseJson(...argv: string[]) {
  const result = await run('rehearse', '--json', ...argv);
  return { ...result, report: JSON.parse(result.out) as RolloutReport };
}

describe('ami-rollout rehearse', () => {
  it('exits 0 and prints the report as JSON when the rollout succeeds', async () => {
    const { code, report, err } = await rehearseJson();
    expect(code).toBe(0);
    expect(err).toBe('');
    expect(report).toMatchObject({
      status: 'SUCCEEDED',
      ami: NEW_IMAGE,
      previousAmi: PREVIOUS_IMAGE,
      parameter: { value: NEW_IMAGE, previousValue: PREVIOUS_IMAGE },
    });
    expect(report.autoScalingGroups.map((g) => [g.name, g.instanceImageIds])).toEqual([
      ['web', { [NEW_IMAGE]: 4 }],
      ['api', { [NEW_IMAGE]: 3 }],
      ['worker', { [NEW_IMAGE]: 2 }],
    ]);
    // Every group from the ledger, with its wave (the seed's shape: one wave per group, named after it).
    expect(report.groups.map((g) => [g.name, g.wave, g.status, g.phase, g.refreshStatus])).toEqual([
      ['web', 'web', 'SUCCEEDED', 'done', 'Successful'],
      ['api', 'api', 'SUCCEEDED', 'done', 'Successful'],
      ['worker', 'worker', 'SUCCEEDED', 'done', 'Successful'],
    ]);
    for (const g of report.groups) {
      expect(g.refreshId).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(g.endedAt!)).toBeGreaterThan(Date.parse(g.startedAt!));
    }
    expect(report.waves?.map((w) => [w.name, w.state])).toEqual([
      ['web', 'done'],
      ['api', 'done'],
      ['worker', 'done'],
    ]);
    // Every execution of the rollout: its own, at least one batch, one per group.
    const events = report.historyEvents;
    expect(events.groups.executions).toBe(3);
    expect(events.batches.length).toBeGreaterThan(0);
    expect(events.parent.events).toBeGreaterThan(0);
    expect(events.totalEvents).toBe(
      events.parent.events +
        events.batches.reduce((n, b) => n + b.events, 0) +
        Math.round(events.groups.meanEvents * events.groups.executions),
    );
    expect(report.largestPayload?.bytes).toBeGreaterThan(0);
    expect(report.largestPayload!.bytes).toBeLessThan(262_144);
  });

  it('exits 3 when the rollout failed and was rolled back (--fail GROUP)', async () => {
    const { code, report } = await rehearseJson('--fail', 'api');
    expect(code).toBe(3);
    expect(report.status).toBe('ROLLED_BACK');
    expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
    expect(report.autoScalingGroups.map((g) => Object.keys(g.instanceImageIds))).toEqual([
      [PREVIOUS_IMAGE],
      [PREVIOUS_IMAGE],
      [PREVIOUS_IMAGE],
    ]);
    expect(report.notifications.map((n) => n.subject)).toEqual([
      `[ami-rollout] ${NEW_IMAGE} FAILED and was rolled back (api)`,
    ]);
  });

  it('exits 1 when preflight refuses the image (nothing changed)', async () => {
    const { code, report } = await rehearseJson('--ami', 'ami-0a1b2c3d4e5f6ffff');
    expect(code).toBe(1);
    expect(report).toMatchObject({
      status: 'FAILED',
      error: 'PreflightFailed',
      parameter: { value: PREVIOUS_IMAGE },
    });
  });

  it('exits 1 when the rollback itself fails (a fleet file whose operator cancels every refresh of api)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ami-rollout-'));
    const path = join(dir, 'fleet.json');
    const fleet = JSON.parse(
      await readFile(new URL('../../examples/fleet.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    await writeFile(
      path,
      JSON.stringify({
        ...fleet,
        faults: [{ kind: 'cancelRefresh', group: 'api', atPercentage: 50 }],
      }),
    );
    const { code, report } = await rehearseJson('--fleet', path);
    expect(code).toBe(1);
    expect(report).toMatchObject({ status: 'FAILED', error: 'RollbackFailed' });
    expect(report.notifications.at(-1)?.subject).toContain('ROLLBACK FAILED');
  });

  it('prints progress and a summary instead of JSON without --json', async () => {
    const { code, out } = await run('rehearse', '--fail', 'web');
    expect(code).toBe(3);
    expect(out).toContain(`Rehearsing the rollout of ${NEW_IMAGE} to web, api, worker`);
    expect(out).toMatch(new RegExp(`Rollout of ${NEW_IMAGE} FAILED and was ROLLED BACK in .* simulated`));
    // Not "(previous: X)" beside the same X: after a rollback {param}-previous holds what the parameter holds.
    expect(out).toContain(
      `  parameter /ami-rollout/golden-ami = ${PREVIOUS_IMAGE} (the image it held before the rollout)\n`,
    );
    expect(() => JSON.parse(out) as unknown).toThrow();
  });

  it('prints progress as lines on a terminal too small for the live block', async () => {
    const out: string[] = [];
    const drawn: string[] = [];
    const code = await main(['rehearse'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      terminal: { write: (t) => drawn.push(t), columns: 80, rows: 2 },
    });
    expect(code).toBe(0);
    expect(drawn).toEqual([]);
    expect(out.join('\n')).toMatch(/\+\d\d:\d\d:\d\d {2}worker: refresh Successful 100%/);
  });

  it('says what the parameter holds after each kind of ending', () => {
    const report = (status: RolloutReport['status'], value: string): RolloutReport => ({
      status,
      executionArn: 'arn',
      ami: NEW_IMAGE,
      previousAmi: PREVIOUS_IMAGE,
      parameter: { name: '/p', value, previousValue: PREVIOUS_IMAGE },
      launchTemplates: [],
      autoScalingGroups: [],
      notifications: [],
      groups: [],
      simulatedSeconds: 0,
      stateTransitions: 0,
      historyEvents: {
        parent: { executionArn: 'arn', events: 0 },
        batches: [],
        groups: { executions: 0, maxEvents: 0, meanEvents: 0 },
        totalEvents: 0,
        stateTransitions: 0,
      },
    });
    expect(parameterLine(report('SUCCEEDED', NEW_IMAGE))).toBe(
      `/p = ${NEW_IMAGE} (was ${PREVIOUS_IMAGE}, kept in /p-previous for a rollback)`,
    );
    expect(parameterLine(report('ROLLED_BACK', PREVIOUS_IMAGE))).toBe(
      `/p = ${PREVIOUS_IMAGE} (the image it held before the rollout)`,
    );
    expect(parameterLine(report('FAILED', NEW_IMAGE))).toBe(`/p = ${NEW_IMAGE} (still the new image)`);
  });

  it('exits 1 naming a --fail group that is not in the rollout, before rehearsing anything', async () => {
    const { code, out, err } = await run('rehearse', '--json', '--fail', 'database');
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('--fail database: not a group of this rollout (web, api, worker)');
  });

  it('exits 1 for an --ami that is not an AMI id', async () => {
    const { code, err } = await run('rehearse', '--json', '--ami', 'golden');
    expect(code).toBe(1);
    expect(err).toContain('--ami golden: must be an AMI id such as ami-0123456789abcdef0');
  });

  it('says why a rollout failed, in one line, and which fleet it ran on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ami-rollout-'));
    const config = JSON.parse(await readFile('examples/rollout.config.json', 'utf8')) as Record<
      string,
      unknown
    >;
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ ...config, autoScalingGroupNames: ['web', 'api', 'cache'] }));
    const { code, out } = await run('rehearse', '--config', path, '--fleet', 'examples/fleet.json');
    expect(code).toBe(1);
    expect(out).toContain('Fleet: examples/fleet.json');
    expect(out).toContain(
      'why: Preflight: AutoScalingGroupNotFoundError: Auto Scaling group(s) cache do not exist',
    );
    const { report } = await rehearseJson('--config', path, '--fleet', 'examples/fleet.json');
    expect(report.failureReason).toMatch(/^Preflight: AutoScalingGroupNotFoundError/);
  });

  it('notifies on the pipeline topic when the config names only emails, as the deployed stack does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ami-rollout-'));
    const path = join(dir, 'config.json');
    await writeFile(
      path,
      JSON.stringify({
        amiParameterName: '/golden',
        launchTemplateIds: ['lt-0123456789abcdef0'],
        autoScalingGroupNames: ['checkout', 'search'],
        trustedImageOwners: ['self'],
        notificationEmails: ['ops@example.com'],
      }),
    );
    const { code, report, out } = await rehearseJson('--config', path);
    expect(code).toBe(0);
    expect(report.notifications.map((n) => n.subject)).toEqual([expect.stringMatching(/succeeded$/)]);
    expect(out).not.toContain('Fleet:');
  });

  it('replays the rollout as a live block of progress bars on a terminal', async () => {
    const out: string[] = [];
    const written: string[] = [];
    const code = await main(['rehearse'], {
      out: (l) => out.push(l),
      err: () => undefined,
      terminal: { write: (text) => written.push(text) },
    });
    expect(code).toBe(0);
    const screen = written.join('');
    expect(screen).toContain('\x1b[4A'); // redrawn in place: the cursor goes back up over the block
    expect(screen).toMatch(/web +\[#{24}\] 100% {2}done \(Successful\)/);
    expect(out.join('\n')).toContain('Rollout of ami-0a1b2c3d4e5f60002 SUCCEEDED');
    expect(out.join('\n')).not.toMatch(/\+00:18:00 {2}web: refresh Successful/); // no plain lines on a terminal
  });

  describe('fault flags', () => {
    it('lists every fault flag in --help, and every launch failure reason faults.ts defines', async () => {
      const { code, out } = await run('rehearse', '--help');
      expect(code).toBe(0);
      for (const flag of [
        '--fail GROUP',
        '--fail-app GROUP',
        '--fail-launch GROUP[:WHY]',
        '--alarm NAME[@MINUTE]',
        '--fault JSON',
      ])
        expect(out).toContain(flag);
      const reasons = /WHY is\s+([\s\S]*?)\s+\(default (\w+)\)/.exec(out);
      expect(reasons?.[1]?.split(/,\s*|\s+or\s+/)).toEqual([...LAUNCH_FAILURE_REASONS]);
      expect(LAUNCH_FAILURE_REASONS).toContain(reasons?.[2]);
    });

    it.each([
      ['--fail-app', 'web'],
      ['--fail-launch', 'api:insufficientCapacity'],
      ['--alarm', 'worker-app-errors@20'],
      ['--fault', `{"kind":"appFailure","imageId":"${NEW_IMAGE}","group":"worker"}`],
    ])('%s %s reaches the rollout: it fails and is rolled back (exit 3)', async (flag, value) => {
      const { code, report } = await rehearseJson(flag, value);
      expect(code).toBe(3);
      expect(report.status).toBe('ROLLED_BACK');
      expect(report.parameter.value).toBe(PREVIOUS_IMAGE);
    });

    it.each([
      ['--fail-app', 'database', '--fail-app database: not a group of this rollout (web, api, worker)'],
      [
        '--fail-launch',
        'api:outOfLuck',
        '"outOfLuck" is not a launch failure reason; use GROUP or GROUP:REASON with REASON one of imageNotFound, kmsKeyNotUsable, insufficientCapacity',
      ],
      ['--fail-launch', 'cache:imageNotFound', '"cache" is not a group of this rollout'],
      [
        '--alarm',
        'web-5xx',
        '--alarm web-5xx: the fleet has no alarm "web-5xx" (it has worker-app-errors, fleet-app-errors)',
      ],
      ['--alarm', 'worker-app-errors@soon', 'the minute after @ must be a whole number'],
      ['--fault', '{kind: appFailure}', '--fault {kind: appFailure}: not JSON'],
      [
        '--fault',
        '{"kind":"meteorStrike"}',
        'kind: "meteorStrike" must be one of "unhealthyInstances", "appFailure"',
      ],
      ['--fault', '{"kind":"launchFailure","reason":"bad luck"}', 'reason: "bad luck" must be one of'],
      [
        '--fault',
        '{"kind":"stallRefresh","group":"cache"}',
        'group: group "cache" is not declared under autoScalingGroups',
      ],
    ])('exits 1 for %s %s, naming the value and the fix, and runs nothing', async (flag, value, message) => {
      const { code, out, err } = await run('rehearse', '--json', flag, value);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toContain(message);
    });
  });
});
