import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

/** Runs the CLI in process and captures what it prints. */
async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('ami-rollout CLI', () => {
  it('prints the commands for --help and exits 0', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: ami-rollout <command>/);
    expect(out).toMatch(/emulator/);
  });

  it('fails with exit code 1 and the list of commands for an unknown command', async () => {
    const { code, err } = await run('deploy-everything');
    expect(code).toBe(1);
    expect(err).toMatch(/unknown command 'deploy-everything'. Commands: .*emulator/);
  });

  it('fails with exit code 1 naming a wrong flag', async () => {
    const { code, err } = await run('emulator', '--prot', '4566');
    expect(code).toBe(1);
    expect(err).toMatch(/Unknown option '--prot'/);
    expect(err).toMatch(/ami-rollout emulator --help/);
  });

  it('fails with exit code 1 naming a bad value and its range', async () => {
    const { code, err } = await run('emulator', '--speed', 'fast');
    expect(code).toBe(1);
    expect(err).toMatch(/--speed fast: must be a number from 0 to 1000000/);
  });

  it.each([
    [['emulator', '--speed', '-1'], '--speed -1: must be a number from 0 to 1000000'],
    [['history', '--limit', '-5'], '--limit -5: must be a whole number from 1 to 1000'],
  ])('fails naming the flag and its range for a negative number: %j', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(1);
    expect(err.split('\n')[0]).toBe(`ami-rollout ${argv[0]}: ${message}.`);
  });

  it('fails with exit code 1 listing what is wrong in a broken fleet file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ami-rollout-'));
    const path = join(dir, 'fleet.json');
    await writeFile(path, JSON.stringify({ images: [{ imageId: 'ami-nope', name: 'x' }] }));
    const { code, err } = await run('emulator', '--fleet', path, '--port', '0');
    expect(code).toBe(1);
    expect(err).toContain(`${path} is not a valid fleet file`);
    expect(err).toContain('images[0].imageId: "ami-nope" must be an AMI id');
  });
});

describe('ami-rollout in a pipeline', () => {
  it('exits quietly with code 0 when the reader of its output goes away (ami-rollout rehearse | head)', async () => {
    const child = spawn(process.execPath, ['bin/ami-rollout.mjs', 'rehearse'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader is gone before the first line is written: every write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('ami-rollout emulator', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
    child = undefined;
  });

  it('serves the example fleet on 127.0.0.1 (npm run emulator) and says how to point the AWS CLI at it', async () => {
    // Through npm, as a new user starts it; the emulator stops by itself once npm is gone.
    child = spawn('npm', ['run', '--silent', 'emulator', '--', '--port', '0', '--speed', '0']);
    let printed = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      child!.stdout.on('data', (chunk: Buffer) => {
        printed += chunk.toString();
        const match = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed);
        if (match && printed.includes('Ctrl-C')) resolve(match[1]!);
      });
      child!.on('exit', (code) => reject(new Error(`emulator exited ${code}: ${printed}`)));
    });
    expect(printed).toContain(
      `export AWS_ENDPOINT_URL=${endpoint} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1`,
    );
    expect(printed).toMatch(/3 groups, 9 instances/);
    // With the example fleet, the example pipeline is deployed too, ready for `ami-rollout start --endpoint`.
    expect(printed).toMatch(/Pipeline: arn:aws:states:us-east-1:111122223333:stateMachine:ami-rollout/);
    expect(printed).toContain(
      `npx ami-rollout start --ami ami-0a1b2c3d4e5f60002 --watch --endpoint ${endpoint}`,
    );
    const autoScaling = new AutoScalingClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const { AutoScalingGroups = [] } = await autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
    expect(AutoScalingGroups.map((g) => [g.AutoScalingGroupName, g.Instances?.length])).toEqual([
      ['web', 4],
      ['api', 3],
      ['worker', 2],
    ]);
  });
});
