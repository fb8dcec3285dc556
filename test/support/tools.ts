/**
 * External tools the oracle tests use as independent judges of the local account: the AWS CLI (a second client,
 * with its own serializers) and moto_server (a second emulator). Both are optional; a test that needs one that
 * is missing skips and prints why, never silently.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** Where pyenv puts the shims for pip-installed tools (moto_server, aws) on this kind of machine. */
const EXTRA_PATHS = ['/root/.pyenv/shims', join(process.env['HOME'] ?? '/root', '.local/bin')];

/** The environment every external tool runs in: fixed fake credentials, no config files, no pager. */
export const TOOL_ENV: NodeJS.ProcessEnv = {
  PATH: [process.env['PATH'] ?? '', ...EXTRA_PATHS].join(delimiter),
  HOME: process.env['HOME'] ?? '/tmp',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_PAGER: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  ...(process.env['PYENV_ROOT'] ? { PYENV_ROOT: process.env['PYENV_ROOT'] } : {}),
  ...(process.env['PYENV_VERSION'] ? { PYENV_VERSION: process.env['PYENV_VERSION'] } : {}),
};

export interface Tool {
  readonly path: string;
  readonly version: string;
}

export interface Tools {
  readonly aws?: Tool;
  readonly moto?: Tool;
}

/** How to get each tool, printed when it is missing. */
export const INSTALL_HINTS = {
  aws: 'install the AWS CLI (`pip install awscli`, or AWS CLI v2 from https://aws.amazon.com/cli/) so `aws` is on PATH',
  moto: "install moto's server (`pip install 'moto[server]'`) so `moto_server` is on PATH",
} as const;

function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...EXTRA_PATHS].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * Finds a tool and proves it runs: a pyenv shim exists even when the active Python lacks the package, so the
 * shim's presence alone proves nothing.
 */
function probe(name: string, versionArgs: readonly string[]): Tool | undefined {
  const path = findExecutable(name);
  if (!path) return undefined;
  const result = spawnSync(path, versionArgs, { env: TOOL_ENV, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) return undefined;
  const version = `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
  return { path, version };
}

let detected: Tools | undefined;

/** The tools on this machine (probed once per test file). */
export function detectTools(): Tools {
  if (!detected) {
    const aws = probe('aws', ['--version']);
    const moto = probe('moto_server', ['--help']);
    detected = { ...(aws ? { aws } : {}), ...(moto ? { moto } : {}) };
  }
  return detected;
}

/**
 * Prints why a suite will be skipped and returns true when it must be. Use as
 * `describe.skipIf(missing('aws', 'the AWS CLI oracle'))(...)`.
 */
export function missing(tool: keyof Tools, suite: string): boolean {
  if (detectTools()[tool]) return false;
  console.warn(
    `SKIPPED ${suite}: \`${tool === 'moto' ? 'moto_server' : tool}\` not found; ${INSTALL_HINTS[tool]}.`,
  );
  return true;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; the socket is closed before returning). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningMoto {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts `moto_server -p PORT` and waits until it answers; `stop()` ends exactly that process. */
export async function startMoto(timeoutMs = 30_000): Promise<RunningMoto> {
  const moto = detectTools().moto;
  if (!moto) throw new Error(`moto_server not found: ${INSTALL_HINTS.moto}`);
  const port = await freePort();
  const child: ChildProcess = spawn(moto.path, ['-H', '127.0.0.1', '-p', String(port)], {
    env: TOOL_ENV,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return { endpoint, port, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stop();
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr}`);
}

/** Resets every moto backend, so each test starts from an empty account. */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON when it is JSON (the `--output json` answer), else undefined. */
  readonly json: unknown;
}

/**
 * Runs `aws <args>` against `endpoint` in region us-east-1 with JSON output and no config files. Asynchronous on
 * purpose: the emulator under test answers from this same process's event loop.
 */
export async function runAws(endpoint: string, args: readonly string[]): Promise<CliResult> {
  const aws = detectTools().aws;
  if (!aws) throw new Error(`aws not found: ${INSTALL_HINTS.aws}`);
  const child = spawn(
    aws.path,
    [...args, '--endpoint-url', endpoint, '--region', 'us-east-1', '--output', 'json'],
    { env: TOOL_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? -1));
  });
  let json: unknown;
  try {
    json = stdout.trim() === '' ? undefined : JSON.parse(stdout);
  } catch {
    json = undefined;
  }
  return { exitCode, stdout, stderr, json };
}

/** `An error occurred (Code) when calling the Op operation: message` -> { code, message }. */
export function cliError(stderr: string): { code: string; operation: string; message: string } | undefined {
  const match = /An error occurred \(([^)]+)\) when calling the (\w+) operation(?: \([^)]*\))?: ?(.*)/s.exec(
    stderr,
  );
  if (!match) return undefined;
  return { code: match[1]!, operation: match[2]!, message: match[3]!.trim() };
}
