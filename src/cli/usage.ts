/** Thrown for a bad command line: printed as one line with the fix, exit code 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Present when output goes to a terminal that can redraw a live block (cursor movement). */
  readonly terminal?: { write(text: string): void };
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  ...(process.stdout.isTTY ? { terminal: { write: (text: string) => void process.stdout.write(text) } } : {}),
};
