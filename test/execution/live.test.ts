import { describe, expect, it } from 'vitest';
import { LiveBlock, type Screen } from '../../src/execution/live.ts';
import {
  MIN_LIVE_SIZE,
  fitLive,
  renderLive,
  type GroupProgress,
  type ProgressView,
} from '../../src/execution/progress.ts';

/** The three escapes the live block writes: ESC [ n A, ESC [ 2 K, ESC [ J. */
const CONTROL = new RegExp(`^${String.fromCharCode(27)}\\[(\\d*)([AKJ])`);

/**
 * Enough of a terminal to see what a person sees: text wraps at the width, a line feed at the bottom scrolls
 * (the scrolled-off lines stay in the scrollback), the cursor cannot move above the top of the screen, and the
 * three escapes the live block uses: cursor up (ESC[nA), clear line (ESC[2K), clear to the end (ESC[J).
 */
class FakeTerminal implements Screen {
  readonly buffer: string[] = [''];
  private row = 0;
  private col = 0;
  private top = 0;

  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {}

  write(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const escape = CONTROL.exec(text.slice(i));
      if (escape) {
        const [all, n, code] = escape;
        if (code === 'A') this.row = Math.max(this.top, this.row - Number(n || 1));
        if (code === 'K') this.buffer[this.row] = '';
        if (code === 'J') {
          this.buffer[this.row] = this.buffer[this.row]!.slice(0, this.col);
          this.buffer.length = this.row + 1;
        }
        i += all.length - 1;
      } else if (text[i] === '\n') this.lineFeed();
      else {
        if (this.col === this.columns) this.lineFeed();
        const line = this.buffer[this.row]!.padEnd(this.col);
        this.buffer[this.row] = line.slice(0, this.col) + text[i] + line.slice(this.col + 1);
        this.col++;
      }
    }
  }

  /** What is on the screen now, without trailing blank lines. */
  get screen(): string[] {
    const visible = this.buffer.slice(this.top, this.top + this.rows);
    while (visible.length > 0 && visible.at(-1) === '') visible.pop();
    return visible;
  }

  private lineFeed(): void {
    this.row++;
    this.col = 0;
    if (this.row >= this.buffer.length) this.buffer.push('');
    if (this.row >= this.top + this.rows) this.top = this.row - this.rows + 1;
  }
}

const group = (name: string, phase: GroupProgress['phase'], percentage: number): GroupProgress => ({
  name,
  phase,
  percentage,
});

/** A rollout of `count` groups with `current` refreshing: those before it done, those after waiting. */
function fleetView(count: number, current: number, percentage: number, name = (i: number) => `group-${i}`) {
  const groups = Array.from({ length: count }, (_, i) =>
    group(
      name(i),
      i < current ? 'done' : i === current ? 'refreshing' : 'waiting',
      i < current ? 100 : i === current ? percentage : 0,
    ),
  );
  const view: ProgressView = { step: 'CheckRefreshStatus', groups, rollingBack: false };
  return view;
}

/** Draws a rollout of `count` groups frame by frame, as `start --watch` does while it moves. */
function drawRollout(terminal: FakeTerminal, count: number, name?: (i: number) => string) {
  const live = new LiveBlock(terminal);
  let last: ProgressView | undefined;
  for (let current = 0; current < Math.min(count, 6); current++) {
    for (const percentage of [0, 50, 100]) {
      last = fleetView(count, current, percentage, name);
      expect(live.draw(last)).toBe(true);
    }
  }
  return last!;
}

describe('LiveBlock', () => {
  it('redraws a block taller than the terminal in place, summarized to fit', () => {
    const terminal = new FakeTerminal(80, 10);
    const view = drawRollout(terminal, 150);
    // One block ever written: nothing appended, nothing left in the scrollback.
    expect(terminal.buffer.filter((line) => line.startsWith('step:'))).toHaveLength(1);
    expect(terminal.screen).toEqual(fitLive(view, terminal));
    expect(terminal.screen).toHaveLength(9);
    expect(terminal.screen).toContain('  ... 143 more groups: 2 done, 141 waiting');
    // A window around the group the rollout is at.
    expect(terminal.screen.slice(1, 8).map((line) => line.split(' ').filter(Boolean)[0])).toEqual([
      'group-2',
      'group-3',
      'group-4',
      'group-5',
      'group-6',
      'group-7',
      'group-8',
    ]);
    expect(terminal.screen.some((line) => line.includes('group-5 ') && line.includes('refreshing'))).toBe(
      true,
    );
  });

  it('redraws in place on a terminal narrower than its lines, cutting them', () => {
    const terminal = new FakeTerminal(40, 24);
    const view = drawRollout(terminal, 3, (i) => `a-group-with-a-long-name-${'x'.repeat(30)}-${i}`);
    expect(terminal.buffer.filter((line) => line.startsWith('step:'))).toHaveLength(1);
    expect(terminal.screen).toEqual(fitLive(view, terminal));
    expect(terminal.screen.every((line) => line.length < 40)).toBe(true);
    expect(terminal.screen[1]).toMatch(/…$/);
  });

  it('used to append frames: the uncut block on the same small terminal', () => {
    // What the live block did before it was fitted, on the same terminal: the proof the fake terminal shows it.
    const terminal = new FakeTerminal(80, 10);
    let drawn = 0;
    for (const percentage of [0, 50, 100]) {
      const block = renderLive(fleetView(150, 0, percentage));
      if (drawn > 0) terminal.write(`\x1b[${drawn}A`);
      terminal.write(block.map((line) => `\x1b[2K${line}\n`).join(''));
      drawn = block.length;
    }
    expect(terminal.buffer.filter((line) => line.startsWith('step:')).length).toBeGreaterThan(1);
  });

  it('draws nothing on a terminal too small for a block, so the caller prints lines', () => {
    const terminal = new FakeTerminal(80, MIN_LIVE_SIZE.rows - 1);
    expect(new LiveBlock(terminal).draw(fleetView(3, 0, 50))).toBe(false);
    expect(terminal.buffer).toEqual(['']);
    expect(fitLive(fleetView(3, 0, 50), { columns: MIN_LIVE_SIZE.columns - 1, rows: 24 })).toBeUndefined();
  });

  it('draws every group when they fit', () => {
    const view = fleetView(3, 1, 50);
    expect(fitLive(view, { columns: 120, rows: 24 })).toEqual(renderLive(view));
  });
});
