import { consoleOutput, UsageError, type Output } from './usage.ts';

export interface Command {
  readonly name: string;
  readonly usage: string;
  /** Resolves to the process exit code. */
  run(args: string[], output: Output): Promise<number>;
}

/**
 * The commands, each loaded only when it runs: `--help` and `--version` load none of them (and so none of the
 * AWS SDK, zod or the local account), and a command loads only what it uses.
 */
const commands: readonly { name: string; summary: string; load: () => Promise<Command> }[] = [
  {
    name: 'rehearse',
    summary: 'rehearse a rollout on a local AWS account, in virtual time (no AWS needed)',
    load: async () => (await import('./commands/rehearse.ts')).rehearseCommand,
  },
  {
    name: 'emulator',
    summary: 'serve a local AWS account with a simulated fleet (no AWS needed)',
    load: async () => (await import('./commands/emulator.ts')).emulatorCommand,
  },
  {
    name: 'start',
    summary: 'start the rollout of an AMI on the deployed state machine (--watch to follow it)',
    load: async () => (await import('./commands/start.ts')).startCommand,
  },
  {
    name: 'status',
    summary: 'show a rollout (default: the newest), or follow it with --watch',
    load: async () => (await import('./commands/status.ts')).statusCommand,
  },
  {
    name: 'abort',
    summary: 'abort a running rollout and roll back everything it touched',
    load: async () => (await import('./commands/abort.ts')).abortCommand,
  },
  {
    name: 'history',
    summary: 'list past rollouts: image, result, duration',
    load: async () => (await import('./commands/history.ts')).historyCommand,
  },
  {
    name: 'deploy',
    summary: 'deploy the pipeline to AWS with the AWS CDK (--synth: template only, offline)',
    load: async () => (await import('./commands/deploy.ts')).deployCommand,
  },
];

const help = (): string =>
  [
    'ami-rollout: roll a new AMI across EC2 Auto Scaling groups in waves (one group at a time by default), behind a health gate, and roll the whole fleet back when it is bad.',
    '',
    'Usage: ami-rollout <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    "Run 'ami-rollout <command> --help' for a command's options, 'ami-rollout --version' for the version.",
  ].join('\n');

/** Errors whose message is already the one line (or list) a person needs: printed without a stack. */
const explainedErrors = new Set(['ConfigError', 'FleetFileError']);

/** The CLI: returns the exit code (0 ok, 1 bad input or unexpected error; commands may add their own). */
export async function main(argv: string[], output: Output = consoleOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    output.out(help());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    output.out(`ami-rollout ${await packageVersion()}`);
    return 0;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    output.err(
      `ami-rollout: unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}. See 'ami-rollout --help'.`,
    );
    return 1;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    output.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, output);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`ami-rollout ${command.name}: ${error.message}`);
      output.err(`See 'ami-rollout ${command.name} --help'.`);
      return 1;
    }
    // By name, not instanceof: importing their classes here would load zod and the local account for --help.
    if (error instanceof Error && explainedErrors.has(error.name)) {
      output.err(`ami-rollout ${command.name}: ${error.message}`);
      return 1;
    }
    output.err(
      `ami-rollout ${command.name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
