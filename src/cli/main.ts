import { ConfigError } from '../errors.ts';
import { FleetFileError } from '../local-account/fleet.ts';
import { deployCommand } from './commands/deploy.ts';
import { emulatorCommand } from './commands/emulator.ts';
import { historyCommand } from './commands/history.ts';
import { rehearseCommand } from './commands/rehearse.ts';
import { startCommand } from './commands/start.ts';
import { statusCommand } from './commands/status.ts';
import { consoleOutput, UsageError, type Output } from './usage.ts';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Resolves to the process exit code. */
  run(args: string[], output: Output): Promise<number>;
}

const commands: readonly Command[] = [
  rehearseCommand,
  emulatorCommand,
  startCommand,
  statusCommand,
  historyCommand,
  deployCommand,
];

const help = (): string =>
  [
    'ami-rollout: roll a new AMI across EC2 Auto Scaling groups one at a time, and roll back when it is bad.',
    '',
    'Usage: ami-rollout <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    "Run 'ami-rollout <command> --help' for a command's options, 'ami-rollout --version' for the version.",
  ].join('\n');

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
  const command = commands.find((c) => c.name === name);
  if (!command) {
    output.err(
      `ami-rollout: unknown command '${name}'. Commands: ${commands.map((c) => c.name).join(', ')}. See 'ami-rollout --help'.`,
    );
    return 1;
  }
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
    if (error instanceof FleetFileError || error instanceof ConfigError) {
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
