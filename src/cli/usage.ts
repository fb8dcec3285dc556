/** Thrown for a bad command line: printed as one line with the fix, exit code 1. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
  /**
   * Present when output goes to a terminal that can redraw a live block (cursor movement), with its size when
   * known (read at each frame: a terminal can be resized).
   */
  readonly terminal?: { write(text: string): void; readonly columns?: number; readonly rows?: number };
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  ...(process.stdout.isTTY
    ? {
        terminal: {
          write: (text: string) => void process.stdout.write(text),
          get columns() {
            return process.stdout.columns;
          },
          get rows() {
            return process.stdout.rows;
          },
        },
      }
    : {}),
};

/**
 * When the reader of the output goes away (`ami-rollout rehearse | head -3`), the next write fails with EPIPE:
 * stop at once, quietly, with exit code 0. The reader chose to stop reading, which is not a failure, so a script
 * under `set -o pipefail` does not fail because `head` had enough. Any other write error stays an error.
 */
export function exitQuietlyWhenOutputCloses(
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      exit(0);
    });
  }
}
