import { createServer } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadConfig } from '../../src/config/load.ts';
import {
  createLocalAccount,
  createLocalAccountFromFleet,
  readFleetFile,
  serve,
  type LocalAccount,
} from '../../src/local-account/index.ts';
import { deployToLocalAccount } from '../../src/rehearsal/pipeline.ts';

const NEW_IMAGE = 'ami-0a1b2c3d4e5f60002';

/** Runs the CLI in process and captures what it prints. */
async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The AWS environment variables these tests set, saved and put back so no test leaks into another. */
const awsVariables = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SFN',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
];
let savedEnv: Record<string, string | undefined> = {};
let emptyAwsFile = '';

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ami-rollout-aws-'));
  emptyAwsFile = join(dir, 'empty');
  await writeFile(emptyAwsFile, '');
});

beforeEach(() => {
  savedEnv = Object.fromEntries(awsVariables.map((name) => [name, process.env[name]]));
  for (const name of awsVariables) delete process.env[name];
  // No developer's real profile or instance role is ever consulted.
  process.env.AWS_CONFIG_FILE = emptyAwsFile;
  process.env.AWS_SHARED_CREDENTIALS_FILE = emptyAwsFile;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});

afterEach(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** A local account with the example fleet and the pipeline deployed, served over HTTP. */
async function deployedAccount(prepare?: (account: LocalAccount) => void) {
  const account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
  prepare?.(account);
  await deployToLocalAccount(account, await loadConfig('examples/rollout.config.json'));
  const running = await serve(account, 0);
  return { account, endpoint: running.endpoint, close: () => running.close() };
}

describe('ami-rollout start, status and history against a local account', () => {
  let endpoint = '';
  let close: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    ({ endpoint, close } = await deployedAccount());
  });
  afterAll(() => close());
  const at = () => ['--endpoint', endpoint, '--region', 'us-east-1'];

  it('start --watch starts rollout-AMI_ID, prints its progress and ends with exit code 0 when it succeeds', async () => {
    const { code, out, err } = await run('start', '--ami', NEW_IMAGE, ...at(), '--watch');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`started the rollout of ${NEW_IMAGE}`);
    expect(out).toMatch(/\+\d\d:\d\d:\d\d {2}web: refresh Successful 100%/);
    expect(out).toMatch(/\+\d\d:\d\d:\d\d {2}worker: refresh Successful 100%/);
    expect(out).toMatch(new RegExp(`Rollout rollout-${NEW_IMAGE} of ${NEW_IMAGE}: SUCCEEDED after \\d+m`));
  });

  it('start for an image already rolled out starts nothing and exits with that rollout`s code', async () => {
    const { code, out } = await run('start', '--ami', NEW_IMAGE, ...at());
    expect(code).toBe(0);
    expect(out).toContain(`${NEW_IMAGE} was already rolled out or attempted`);
    expect(out).toContain('nothing started');
  });

  it('status with no execution shows the newest rollout, its image and each group', async () => {
    const { code, out } = await run('status', ...at());
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^Rollout rollout-${NEW_IMAGE} of ${NEW_IMAGE}: SUCCEEDED after`));
    expect(out).toContain(
      `execution arn:aws:states:us-east-1:111122223333:execution:ami-rollout:rollout-${NEW_IMAGE}`,
    );
    expect(out).toMatch(/ {2}api +\[#+\] 100% {2}done \(Successful\)/);
  });

  it('status takes an AMI id for its rollout, and --json gives the state, image and groups', async () => {
    const { code, out } = await run('status', NEW_IMAGE, '--json', ...at());
    expect(code).toBe(0);
    const status = JSON.parse(out) as {
      status: string;
      executionStatus: string;
      imageId: string;
      name: string;
      durationSeconds: number;
      groups: { name: string; phase: string; wave: string; refreshId: string }[];
      source: string;
      waves: { name: string; state: string }[];
      historyEvents: { parent: { events: number }; groups: { executions: number; maxEvents: number } };
      largestPayload: { bytes: number };
    };
    expect(status).toMatchObject({
      status: 'SUCCEEDED',
      executionStatus: 'SUCCEEDED',
      imageId: NEW_IMAGE,
      name: `rollout-${NEW_IMAGE}`,
    });
    expect(status).not.toHaveProperty('state');
    expect(status.durationSeconds).toBeGreaterThan(60);
    expect(status.groups.map((g) => [g.name, g.phase])).toEqual([
      ['web', 'done'],
      ['api', 'done'],
      ['worker', 'done'],
    ]);
    // Read from the ledger: each group with its wave and refresh id; the sizes of every execution.
    expect(status.source).toBe('ledger');
    expect(status.groups.map((g) => g.wave)).toEqual(['web', 'api', 'worker']);
    expect(status.groups.every((g) => /^[0-9a-f-]{36}$/.test(g.refreshId))).toBe(true);
    expect(status.waves.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect(status.historyEvents.groups.executions).toBe(3);
    expect(status.historyEvents.groups.maxEvents).toBeGreaterThan(0);
    expect(status.historyEvents.parent.events).toBeGreaterThan(0);
    expect(status.largestPayload.bytes).toBeGreaterThan(0);
  });

  it('history lists past rollouts with image, result, start and duration; --json too', async () => {
    const table = await run('history', ...at());
    expect(table.code).toBe(0);
    const [header, row, ...rest] = table.out.split('\n');
    expect(header).toMatch(/^ROLLOUT +IMAGE +RESULT +STARTED +DURATION +GROUPS$/);
    expect(row).toMatch(
      new RegExp(
        `^rollout-${NEW_IMAGE} +${NEW_IMAGE} +SUCCEEDED +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +\\d+m \\d\\ds +\\S.*$`,
      ),
    );
    expect(rest).toEqual([]);

    const json = await run('history', '--json', ...at());
    expect(JSON.parse(json.out)).toEqual([
      expect.objectContaining({ name: `rollout-${NEW_IMAGE}`, imageId: NEW_IMAGE, status: 'SUCCEEDED' }),
    ]);
  });

  it('takes the endpoint and region from AWS_ENDPOINT_URL and AWS_REGION, as the AWS CLI does', async () => {
    process.env.AWS_ENDPOINT_URL = endpoint;
    process.env.AWS_REGION = 'us-east-1';
    const { code, out, err } = await run('history');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`rollout-${NEW_IMAGE}`);
  });

  it('fails with one line naming an unknown execution and how to list them', async () => {
    const { code, out, err } = await run('status', 'no-such-rollout', ...at());
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(
      `ami-rollout status: unknown execution arn:aws:states:us-east-1:111122223333:execution:ami-rollout:no-such-rollout in us-east-1 at ${endpoint}: list them with \`ami-rollout history\``,
    );
  });

  it('fails with a usage error for a bad --ami, before calling AWS', async () => {
    const { code, err } = await run('start', '--ami', 'ami-nope', ...at());
    expect(code).toBe(1);
    expect(err).toMatch(/^ami-rollout start: --ami ami-nope: must be an AMI id/);
  });

  it('reads the credentials of --profile from the shared credentials file, as the AWS CLI does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ami-rollout-profile-'));
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
    await writeFile(
      process.env.AWS_SHARED_CREDENTIALS_FILE,
      '[rollouts]\naws_access_key_id = AKIDROLLOUTS\naws_secret_access_key = secret\n',
    );
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const ok = await run('history', '--profile', 'rollouts', ...at());
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);

    const missing = await run('history', '--profile', 'nobody', ...at());
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(
      /^ami-rollout history: no AWS credentials for profile nobody .*`aws configure --profile nobody`/,
    );
  });
});

describe('ami-rollout start and status for a rollout that is rolled back', () => {
  let endpoint = '';
  let close: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    ({ endpoint, close } = await deployedAccount((account) =>
      account.faults.add({ kind: 'unhealthyInstances', imageId: NEW_IMAGE, group: 'api' }),
    ));
  });
  afterAll(() => close());
  const at = () => ['--endpoint', endpoint, '--region', 'us-east-1'];

  it('start without --watch returns at once and says how to follow; status --watch follows it and exits 3', async () => {
    const started = await run('start', '--ami', NEW_IMAGE, ...at());
    expect(started.code).toBe(0);
    expect(started.out).toContain(`Follow it with: ami-rollout status ${NEW_IMAGE} --watch`);

    const { code, out } = await run('status', NEW_IMAGE, '--watch', ...at());
    expect(code).toBe(3);
    expect(out).toMatch(
      new RegExp(`Rollout rollout-${NEW_IMAGE} of ${NEW_IMAGE}: ROLLED_BACK after .*\\(RolloutRolledBack\\)`),
    );

    const history = await run('history', '--json', ...at());
    expect(JSON.parse(history.out)).toEqual([
      expect.objectContaining({ imageId: NEW_IMAGE, status: 'ROLLED_BACK', error: 'RolloutRolledBack' }),
    ]);
  });

  it('status exits 3 for a rolled-back rollout without --watch too', async () => {
    const { code, out } = await run('status', ...at());
    expect(code).toBe(3);
    expect(out).toMatch(/^Rollout rollout-\S+ of \S+: ROLLED_BACK after/);
    expect(out).toMatch(/ {2}api +\[[#.]+\] +\d+% {2}(failed|rolled-back)/);
    // worker's turn (in api's batch) came after api had failed: said so, not "waiting".
    expect(out).toMatch(/ {2}worker +\[\.+\] +0% {2}skipped \(the rollout had failed\)$/m);
    // Each duration is its own phase's: web's rollback refresh, not from the rollback's start to the forward end.
    expect(out).toMatch(/ {2}web +\[#+\] +100% {2}rolled-back \(Successful\) {2}\d+(m|s)/);
    expect(out).not.toMatch(/ -\d/);
    const json = JSON.parse((await run('status', '--json', ...at())).out) as {
      groups: {
        name: string;
        phase: string;
        forward?: { startedAt?: string; endedAt?: string };
        rollback?: { startedAt?: string; endedAt?: string };
      }[];
    };
    expect(json.groups.find((g) => g.name === 'worker')?.phase).toBe('skipped');
    // A group that went back keeps its forward refresh's times beside the rollback's.
    const web = json.groups.find((g) => g.name === 'web')!;
    expect(Date.parse(web.forward!.endedAt!)).toBeLessThanOrEqual(Date.parse(web.rollback!.startedAt!));
    expect(Date.parse(web.rollback!.startedAt!)).toBeLessThan(Date.parse(web.rollback!.endedAt!));
  });
});

describe('ami-rollout start --watch on a terminal', () => {
  it('redraws one live block (step and a bar per group) in place, then prints the result', async () => {
    const { endpoint, close } = await deployedAccount();
    try {
      const drawn: string[] = [];
      const out: string[] = [];
      const code = await main(
        ['start', '--ami', NEW_IMAGE, '--watch', '--endpoint', endpoint, '--region', 'us-east-1'],
        { out: (l) => out.push(l), err: (l) => out.push(l), terminal: { write: (t) => drawn.push(t) } },
      );
      expect(code).toBe(0);
      const esc = '\x1b';
      expect(drawn[0]!.startsWith(`${esc}[2Kstep: `)).toBe(true);
      // Moves the cursor up over the block (step + 3 groups) to redraw it, rather than printing it again.
      expect(drawn).toContain(`${esc}[4A`);
      expect(drawn.at(-1)).toContain(`${esc}[2K  worker   [${'#'.repeat(24)}] 100%  done`);
      expect(out.join('\n')).toMatch(/SUCCEEDED after/);
      expect(out.join('\n')).not.toMatch(/refresh InProgress/);
    } finally {
      await close();
    }
  });
});

describe('ami-rollout start and status while a rollout runs', () => {
  let endpoint = '';
  let close: () => Promise<void> = async () => undefined;
  let release: () => void = () => undefined;
  let reachedShareAmi: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    const account = await createLocalAccountFromFleet(await readFleetFile('examples/fleet.json'));
    const { functionArns } = await deployToLocalAccount(
      account,
      await loadConfig('examples/rollout.config.json'),
    );
    // Hold the execution in ShareAmi until the test lets it go, so it is RUNNING for as long as we look.
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
  });
  const at = () => ['--endpoint', endpoint, '--region', 'us-east-1'];

  it('status shows a running rollout and its step, and exits 0; a second start of it starts nothing', async () => {
    expect((await run('start', '--ami', NEW_IMAGE, ...at())).code).toBe(0);
    await reachedShareAmi;
    const { code, out } = await run('status', ...at());
    expect(code).toBe(0);
    expect(out).toMatch(
      new RegExp(`^Rollout rollout-${NEW_IMAGE} of ${NEW_IMAGE}: RUNNING for \\d+s, now in ShareAmi`),
    );

    const again = await run('start', '--ami', NEW_IMAGE, ...at());
    expect(again.code).toBe(0);
    expect(again.out).toContain(`the rollout of ${NEW_IMAGE} is already running`);
  });

  it('refuses to start another image while one rollout runs, with exit code 1', async () => {
    const { code, out, err } = await run('start', '--ami', 'ami-0a1b2c3d4e5f60009', ...at());
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(
      new RegExp(
        `^ami-rollout start: refused to roll out ami-0a1b2c3d4e5f60009: rollout rollout-${NEW_IMAGE} is running`,
      ),
    );
  });

  it('status --watch follows the running rollout to its end', async () => {
    const watching = run('status', '--watch', '--json', ...at());
    release();
    const { code, out } = await watching;
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ status: 'SUCCEEDED', imageId: NEW_IMAGE });
  });
});

describe('ami-rollout AWS commands: errors a user meets get one line with the fix', () => {
  it('fails when the state machine is not deployed', async () => {
    const running = await serve(createLocalAccount(), 0);
    try {
      const { code, err } = await run('status', '--endpoint', running.endpoint, '--region', 'us-east-1');
      expect(code).toBe(1);
      expect(err).toBe(
        `ami-rollout status: no state machine named ami-rollout in us-east-1 at ${running.endpoint}: start the emulator with --config FILE to deploy the pipeline onto it (or pass --state-machine ARN)`,
      );
    } finally {
      await running.close();
    }
  });

  it('fails when there are no credentials', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    // Credentials are resolved before anything is sent: this address (TEST-NET-1) is never contacted.
    const { code, err } = await run('history', '--endpoint', 'http://192.0.2.1:9', '--region', 'us-east-1');
    expect(code).toBe(1);
    expect(err).toMatch(/^ami-rollout history: no AWS credentials found: run `aws configure`/);
    expect(err.split('\n')).toHaveLength(1);
  });

  it('needs no credentials for a local account on this machine', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const running = await serve(createLocalAccount(), 0);
    try {
      const { err } = await run('history', '--endpoint', running.endpoint, '--region', 'us-east-1');
      // It gets as far as looking for the state machine: the credentials were not the problem.
      expect(err).toMatch(/no state machine named ami-rollout/);
    } finally {
      await running.close();
    }
  });

  it('fails when there is no region', async () => {
    // Resolved before anything is sent: this address (TEST-NET-1) is never contacted.
    const { code, err } = await run('history', '--endpoint', 'http://192.0.2.1:9');
    expect(code).toBe(1);
    expect(err).toMatch(/^ami-rollout history: no AWS region: pass --region, set AWS_REGION/);
  });

  it('needs neither a region nor credentials for a local account on this machine (a fresh shell)', async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const { endpoint, close } = await deployedAccount();
    try {
      const { code, out, err } = await run('history', '--endpoint', endpoint);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toContain(
        'No rollouts yet on arn:aws:states:us-east-1:111122223333:stateMachine:ami-rollout',
      );
    } finally {
      await close();
    }
  });

  it.each(['not-a-url', 'ftp://127.0.0.1:21', '127.0.0.1:4566'])(
    'fails naming the flag when --endpoint %s is not an http(s) URL',
    async (endpoint) => {
      const { code, err } = await run('status', '--endpoint', endpoint, '--region', 'us-east-1');
      expect(code).toBe(1);
      expect(err.split('\n')[0]).toBe(
        `ami-rollout status: --endpoint ${endpoint}: must be an http:// or https:// URL, such as http://127.0.0.1:4566 for a local account.`,
      );
    },
  );

  it('fails naming the denied action and the principal when AWS says AccessDenied', async () => {
    // A Step Functions endpoint that denies everything, as AWS answers over JSON 1.0.
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({
          __type: 'com.amazonaws.swf.base.model#AccessDeniedException',
          message:
            'User: arn:aws:iam::111122223333:user/dev is not authorized to perform: states:ListStateMachines on resource: arn:aws:states:us-east-1:111122223333:stateMachine:* because no identity-based policy allows the states:ListStateMachines action',
        });
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'r-1' });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { code, err } = await run('history', '--endpoint', endpoint, '--region', 'us-east-1');
      expect(code).toBe(1);
      expect(err).toBe(
        'ami-rollout history: access denied: arn:aws:iam::111122223333:user/dev may not call states:ListStateMachines ' +
          "on arn:aws:states:us-east-1:111122223333:stateMachine:*: allow it in that identity's IAM policy, " +
          'or use a profile that may (`aws sts get-caller-identity` shows who you are)',
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails naming the endpoint when nothing answers there', async () => {
    const { code, err } = await run('status', '--endpoint', 'http://127.0.0.1:9', '--region', 'us-east-1');
    expect(code).toBe(1);
    expect(err).toMatch(
      /^ami-rollout status: cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): is the local account running/,
    );
  }, 20_000);
});
