/**
 * `ami-rollout abort` against the emulator over HTTP: the real CLI, the real definitions and handlers. The
 * rollout is held in ShareAmi (RUNNING, nothing refreshed yet) while it is aborted, then let go.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config/load.ts';
import {
  createLocalAccountFromFleet,
  readFleetFile,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { deployToLocalAccount } from '../../src/rehearsal/pipeline.ts';

const NEW_IMAGE = 'ami-0a1b2c3d4e5f60002';
const PREVIOUS_IMAGE = 'ami-0a1b2c3d4e5f60001';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('ami-rollout abort', () => {
  let account: LocalAccount;
  let endpoint = '';
  let close: () => Promise<void> = async () => undefined;
  let release: () => void = () => undefined;
  let reachedShareAmi: Promise<void> = Promise.resolve();
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ami-rollout-abort-'));
    await writeFile(join(dir, 'empty'), '');
    for (const name of ['AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE', 'AWS_REGION']) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
    process.env.AWS_CONFIG_FILE = join(dir, 'empty');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'empty');
    account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
    const { functionArns } = await deployToLocalAccount(
      account,
      await loadConfig('examples/rollout.config.json'),
    );
    const shareAmi = account.lambdas.find(functionArns.ShareAmi)!;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached: () => void = () => undefined;
    reachedShareAmi = new Promise<void>((resolve) => (reached = resolve));
    account.lambdas.bind(functionArns.ShareAmi, async (event) => {
      reached();
      await held;
      return shareAmi(event);
    });
    const running = await serve(account, 0);
    endpoint = running.endpoint;
    close = () => running.close();
  });
  afterAll(async () => {
    release();
    await close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const at = () => ['--endpoint', endpoint, '--region', 'us-east-1'];

  it('aborts a running rollout, twice harmlessly; it rolls back, notifies the reason and ends ROLLED_BACK', async () => {
    expect((await run('start', '--ami', NEW_IMAGE, ...at())).code).toBe(0);
    await reachedShareAmi;

    const aborted = await run('abort', NEW_IMAGE, '--reason', 'latency is up on the canary', ...at());
    expect(aborted.err).toBe('');
    expect(aborted.code).toBe(0);
    expect(aborted.out).toMatch(
      /^Aborted rollout rollout-ami-0a1b2c3d4e5f60002 \(latency is up on the canary\)/,
    );
    const again = await run('abort', NEW_IMAGE, '--json', ...at());
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ aborted: true, rolloutId: `rollout-${NEW_IMAGE}` });

    release();
    const watched = await run('status', NEW_IMAGE, '--watch', ...at());
    expect(watched.code).toBe(3);
    expect(watched.out).toMatch(/ROLLED_BACK after .*\(RolloutRolledBack\)/);
    // Nothing had been refreshed; the templates and the parameter are back, no group was touched.
    expect([...account.state.instanceRefreshes.values()].flat()).toEqual([]);
    expect(account.state.parameters.get('/ami-rollout/golden-ami')?.versions.at(-1)?.value).toBe(
      PREVIOUS_IMAGE,
    );
    const message = account.state.published.at(-1)!;
    expect(message.subject).toContain('FAILED and was rolled back (aborted)');
    expect(message.message).toMatch(
      /Cause \(operator abort\): aborted by an operator: latency is up on the canary/,
    );
  });

  it('refuses an ended rollout, naming rollback', async () => {
    const { code, out, err } = await run('abort', NEW_IMAGE, ...at());
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/^ami-rollout abort: the rollout .* has ended \(FAILED\): .*`ami-rollout rollback /);
  });

  it('refuses a --reason too long for a notification, before calling AWS', async () => {
    const { code, err } = await run('abort', '--reason', 'x'.repeat(1001), ...at());
    expect(code).toBe(1);
    expect(err).toMatch(/--reason: 1001 characters; keep it under 1,000/);
  });
});
