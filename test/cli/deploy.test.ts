import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { Output } from '../../src/cli/usage.ts';

function capture(): Output & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line) };
}

describe('ami-rollout deploy', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    // No credentials anywhere the SDK's default chain looks.
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
      delete process.env[key];
    }
    process.env.AWS_CONFIG_FILE = '/dev/null';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('explains its options with --help', async () => {
    const output = capture();
    expect(await main(['deploy', '--help'], output)).toBe(0);
    const text = output.lines.join('\n');
    expect(text).toContain('Usage: ami-rollout deploy --config FILE');
    expect(text).toContain('--synth');
    expect(text).toContain('cdk deploy --app src/infra/app.ts -c config=FILE');
  });

  it('fails without --config, naming the flag, before anything else', async () => {
    const output = capture();
    expect(await main(['deploy'], output)).toBe(1);
    expect(output.errors[0]).toBe(
      'ami-rollout deploy: --config FILE is required to deploy: the rollout configuration for your fleet (examples/rollout.config.json describes the example fleet). Use --synth to only write the template.',
    );
    expect(output.lines).toEqual([]);
  });

  it('refuses to start cdk without AWS credentials, and says how to provide them', async () => {
    const output = capture();
    expect(await main(['deploy', '--config', 'examples/rollout.config.json'], output)).toBe(1);
    expect(output.errors.join('\n')).toMatch(
      /^ami-rollout deploy: no AWS credentials \(.+\)\.\nSet AWS_PROFILE/,
    );
    expect(output.lines).toEqual([]);
  });

  it('reports a bad configuration file before anything else', async () => {
    const output = capture();
    expect(await main(['deploy', '--config', 'test/does-not-exist.json'], output)).toBe(1);
    expect(output.errors.join('\n')).toMatch(
      /configuration file .*test\/does-not-exist.json does not exist: check the path/,
    );
  });

  it('fails on a malformed stack name, naming it', async () => {
    const output = capture();
    expect(
      await main(
        ['deploy', '--config', 'examples/rollout.config.json', '--stack-name', 'ami rollout'],
        output,
      ),
    ).toBe(1);
    expect(output.errors[0]).toContain(
      '--stack-name ami rollout: a stack name is letters, digits and hyphens',
    );
  });
});
