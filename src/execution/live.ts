import { fitView } from './fleet-render.ts';
import type { ProgressView, TerminalSize } from './progress.ts';

/** A terminal the live block is drawn on; its size, when known, is read at each frame (it can change). */
export interface Screen {
  write(text: string): void;
  readonly columns?: number;
  readonly rows?: number;
}

/** The size assumed when a terminal does not say its own. */
const DEFAULT_SIZE = { columns: 80, rows: 24 };

/**
 * The live progress block, redrawn in place: each frame moves the cursor up over the last one and writes over
 * it. Frames are cut to the terminal (see fitView), so the cursor movement always lands on the frame's first
 * line.
 */
export class LiveBlock {
  private drawn: string[] = [];

  constructor(
    private readonly screen: Screen,
    /** How a view is cut to the terminal. Default fitView: a bar per group for a small fleet, else waves. */
    private readonly fit: (view: ProgressView, size: TerminalSize) => string[] | undefined = fitView,
  ) {}

  /** Draws `view` over the last frame. False, drawing nothing, when the terminal is too small: print lines. */
  draw(view: ProgressView): boolean {
    const size = {
      columns: this.screen.columns ?? DEFAULT_SIZE.columns,
      rows: this.screen.rows ?? DEFAULT_SIZE.rows,
    };
    const lines = this.fit(view, size);
    if (!lines) {
      // Lines printed now go below the last frame; a later frame starts afresh under them.
      this.drawn = [];
      return false;
    }
    if (this.drawn.length > 0) {
      // The rows the last frame takes at today's width: lines of a terminal made narrower since then wrap.
      const rows = this.drawn.reduce((n, line) => n + Math.max(1, Math.ceil(line.length / size.columns)), 0);
      this.screen.write(`\x1b[${rows}A`);
    }
    // Each line is cleared before it is written, and whatever a taller last frame left below is cleared too.
    this.screen.write(`${lines.map((line) => `\x1b[2K${line}\n`).join('')}\x1b[J`);
    this.drawn = lines;
    return true;
  }
}
