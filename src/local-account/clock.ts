/**
 * Virtual time for the local account.
 *
 * Nothing in the local account reads the wall clock: every timestamp and every scheduled change (an instance
 * finishing its warm-up, a checkpoint delay ending) comes from here, so the same fleet, faults and calls give the
 * same results. Time moves only when `advance` is called, or, in `run` mode, at a chosen multiple of real time.
 */
export interface ScheduledTask {
  readonly id: number;
  readonly at: number;
  readonly run: () => void;
  /**
   * A background task (a CloudWatch evaluation tick) runs when its time comes, but does not by itself keep
   * `runUntilIdle` going: a periodic check would otherwise make "settle" mean "run for a week".
   */
  readonly background?: boolean;
}

export class VirtualClock {
  private nowMs: number;
  private nextId = 1;
  /** Pending tasks, kept sorted by (at, id) so ties run in the order they were scheduled. */
  private queue: ScheduledTask[] = [];
  /** How many queued tasks are not background tasks. */
  private foreground = 0;
  private realTimer: NodeJS.Timeout | undefined;

  /** @param start the virtual time the account starts at (default 2026-01-01T00:00:00Z). */
  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.nowMs = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.nowMs;
  }

  date(): Date {
    return new Date(this.nowMs);
  }

  /** Runs `run` when virtual time reaches `now + delaySeconds`. Returns a handle for `cancel`. */
  schedule(delaySeconds: number, run: () => void): number {
    return this.enqueue(delaySeconds, run, false);
  }

  /** Like `schedule`, for a task that alone does not keep `runUntilIdle` running (see ScheduledTask). */
  scheduleBackground(delaySeconds: number, run: () => void): number {
    return this.enqueue(delaySeconds, run, true);
  }

  private enqueue(delaySeconds: number, run: () => void, background: boolean): number {
    const task: ScheduledTask = {
      id: this.nextId++,
      at: this.nowMs + Math.max(0, delaySeconds) * 1000,
      run,
      ...(background ? { background } : {}),
    };
    if (!background) this.foreground++;
    // Binary search for the insertion point: the queue stays sorted without re-sorting on every insert.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.queue[mid]!;
      if (other.at < task.at || (other.at === task.at && other.id < task.id)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, task);
    return task.id;
  }

  cancel(id: number): void {
    const index = this.queue.findIndex((task) => task.id === id);
    if (index < 0) return;
    if (!this.queue[index]!.background) this.foreground--;
    this.queue.splice(index, 1);
  }

  /** The virtual time of the next scheduled task, if any. */
  nextTaskAt(): number | undefined {
    return this.queue[0]?.at;
  }

  get pendingTasks(): number {
    return this.queue.length;
  }

  /** Moves time forward by `seconds`, running every task that falls due, in order. */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new RangeError(`advance(${seconds}): seconds must be a number >= 0`);
    this.advanceTo(this.nowMs + seconds * 1000);
  }

  /** Moves time forward to `targetMs` (epoch milliseconds), running every task that falls due, in order. */
  advanceTo(targetMs: number): void {
    while (this.queue.length > 0 && this.queue[0]!.at <= targetMs) {
      const task = this.queue.shift()!;
      if (!task.background) this.foreground--;
      this.nowMs = Math.max(this.nowMs, task.at);
      task.run();
    }
    this.nowMs = Math.max(this.nowMs, targetMs);
  }

  /**
   * Runs tasks until no foreground task is left or `limitSeconds` of virtual time have passed; returns the
   * seconds that passed. Background tasks due on the way run too. Tests use it to say "let everything
   * scheduled settle".
   */
  runUntilIdle(limitSeconds = 7 * 24 * 3600): number {
    const start = this.nowMs;
    const limit = start + limitSeconds * 1000;
    for (let next = this.nextForegroundAt(); next !== undefined && next <= limit;) {
      this.advanceTo(next);
      next = this.nextForegroundAt();
    }
    return (this.nowMs - start) / 1000;
  }

  /** Background tasks are few (one per watcher), so the first foreground task is near the head. */
  private nextForegroundAt(): number | undefined {
    if (this.foreground === 0) return undefined;
    return this.queue.find((task) => !task.background)?.at;
  }

  /** Lets virtual time follow real time at `speed` x (for an interactive emulator). */
  runInRealTime(speed: number, tickMs = 100): void {
    this.stopRealTime();
    let last = Date.now();
    this.realTimer = setInterval(() => {
      const now = Date.now();
      this.advance(((now - last) / 1000) * speed);
      last = now;
    }, tickMs);
    this.realTimer.unref();
  }

  stopRealTime(): void {
    if (this.realTimer) clearInterval(this.realTimer);
    this.realTimer = undefined;
  }
}
