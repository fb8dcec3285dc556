/**
 * Virtual time for the local account: one discrete-event timeline.
 *
 * Nothing in the local account reads the wall clock: every timestamp and every scheduled change (an instance
 * finishing its warm-up, a checkpoint delay ending, a CloudWatch tick, an execution's Wait or Retry interval
 * ending) is an event on this clock's queue, so the fleet and every execution share one time, and the same
 * fleet, faults and calls give the same results.
 *
 * Who moves time:
 * - `advance`/`advanceTo`, always: they run every event due, in order, in one synchronous sweep.
 * - The `idle` driver (the default; `driveBy('manual')` turns it off): when every running execution is asleep
 *   on a wake-up (none is running a Task or between states), time jumps to the next event on the queue, of any
 *   execution or of the fleet, and on from there while they all stay asleep. A running Task holds time still
 *   until it ends. Tests, `rehearse` and the emulator run on it, so a rollout takes no real time.
 * - `runInRealTime(speed)` (the emulator's `--speed N`): besides, time follows real time at N x, so a fleet
 *   left alone changes as it would.
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
  private driver: TimeDriver = 'idle';
  /** Executions on the timeline, and how many of them are asleep on a wake-up. */
  private participants = 0;
  private sleeping = 0;
  private holds = 0;
  private idleCheckQueued = false;

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

  /** Runs `run` when virtual time reaches `atMs` (epoch milliseconds; now, if that has passed). */
  scheduleAt(atMs: number, run: () => void): number {
    return this.enqueue((atMs - this.nowMs) / 1000, run, false);
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

  /** Turns the idle driver on (`idle`, the default) or off (`manual`); see the class comment. */
  driveBy(driver: TimeDriver): void {
    this.driver = driver;
    this.checkIdle();
  }

  get drivenBy(): TimeDriver {
    return this.driver;
  }

  /**
   * Joins the timeline as a participant (an execution): awake, and so holding time still under the `idle`
   * driver, until it sleeps on a wake-up or leaves.
   */
  join(): TimelineParticipant {
    this.participants++;
    return new TimelineParticipant(this, {
      sleep: () => {
        this.sleeping++;
        this.checkIdle();
      },
      wake: () => {
        this.sleeping--;
      },
      leave: () => {
        this.participants--;
        this.checkIdle();
      },
    });
  }

  /**
   * Holds time still under the `idle` driver until the returned function is called: for starting several
   * executions at one virtual instant when real work (awaits on timers or sockets) comes between the starts.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.checkIdle();
    };
  }

  /** True when the `idle` driver may move time: executions are running, every one of them asleep. */
  private isIdle(): boolean {
    return (
      this.driver === 'idle' &&
      this.holds === 0 &&
      this.participants > 0 &&
      this.sleeping === this.participants &&
      this.queue.length > 0
    );
  }

  /**
   * Under the `idle` driver, once every execution sleeps, moves time to the next event, and on while they all
   * stay asleep. The check waits one macrotask (setImmediate): by then every microtask has run, so an execution
   * that is about to go on (a Task's promise settling, the history recorder catching up) is seen awake.
   */
  private checkIdle(): void {
    if (this.idleCheckQueued || !this.isIdle()) return;
    this.idleCheckQueued = true;
    setImmediate(() => {
      this.idleCheckQueued = false;
      while (this.isIdle()) this.advanceTo(this.queue[0]!.at);
    });
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

/** Who moves virtual time: see VirtualClock. */
export type TimeDriver = 'idle' | 'manual';

/**
 * One execution's place on the timeline. It is awake from `join` until it sleeps; a sleep ends when virtual
 * time reaches its wake-up, or at once on `interrupt` (StopExecution) or `leave`.
 */
export class TimelineParticipant {
  private wakeUp: { readonly id: number; readonly resolve: () => void } | undefined;
  private left = false;

  constructor(
    private readonly clock: VirtualClock,
    private readonly notify: { sleep(): void; wake(): void; leave(): void },
  ) {}

  get asleep(): boolean {
    return this.wakeUp !== undefined;
  }

  /** Sleeps until virtual time reaches `atMs`. A time already reached (a Timestamp in the past) does not sleep. */
  sleepUntil(atMs: number): Promise<void> {
    if (this.left || this.wakeUp || atMs <= this.clock.now()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const id = this.clock.scheduleAt(atMs, () => this.wake());
      this.wakeUp = { id, resolve };
      this.notify.sleep();
    });
  }

  /** Ends the current sleep now, at the present virtual time. */
  interrupt(): void {
    const wakeUp = this.wakeUp;
    if (!wakeUp) return;
    this.clock.cancel(wakeUp.id);
    this.wake();
  }

  /** Leaves the timeline (the execution ended): it no longer holds time still. */
  leave(): void {
    if (this.left) return;
    this.interrupt();
    this.left = true;
    this.notify.leave();
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    if (!wakeUp) return;
    this.wakeUp = undefined;
    this.notify.wake();
    wakeUp.resolve();
  }
}
