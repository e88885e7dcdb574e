/**
 * A token bucket as a virtual schedule (GCRA): each take reserves its slot at once and then waits for
 * it, so callers are served in the order they asked, without a queue of timers. `pauseUntil` pushes
 * every later slot past a time (a Retry-After seen by anyone in the process).
 *
 * Why not a library: `bottleneck` and `limiter` pace one process well, but the budget here is shared
 * through table GraphPacing (other instances' throttling pauses this one, the rate is divided by the
 * live instances), and the pause must follow Graph's Retry-After. Both are a few lines on this schedule.
 */
export class TokenBucket {
  /** When the next token is theoretically due (ms on the clock). */
  private tat: number;
  private intervalMs: number;

  constructor(
    perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => Date.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.intervalMs = 1000 / perSecond;
    this.tat = now();
  }

  get perSecond(): number {
    return 1000 / this.intervalMs;
  }

  setRate(perSecond: number): void {
    if (perSecond > 0 && Number.isFinite(perSecond)) this.intervalMs = 1000 / perSecond;
  }

  /** Reserves `count` tokens and resolves when they are due; the promise says how long it waited (ms). */
  async take(count = 1): Promise<number> {
    const wait = this.reserve(count);
    if (wait > 0) await this.sleep(wait);
    return wait;
  }

  /**
   * Reserves `count` tokens only if they are due within `maxWaitMs`; otherwise reserves nothing and
   * says when they would have been due, so the caller can give its slot back to the queue instead of
   * holding an invocation asleep (a long Retry-After pause must not outlive a worker's lease).
   */
  async takeWithin(count: number, maxWaitMs: number): Promise<{ ok: true; waitedMs: number } | { ok: false; dueInMs: number }> {
    const due = this.dueIn(count);
    if (due > maxWaitMs) return { ok: false, dueInMs: due };
    return { ok: true, waitedMs: await this.take(count) };
  }

  /** How long `count` tokens taken now would wait (ms), without reserving them. */
  dueIn(count = 1): number {
    const now = this.now();
    const tolerance = Math.max(0, this.burst - 1) * this.intervalMs;
    const start = Math.max(this.tat, now);
    return Math.max(0, start + (count - 1) * this.intervalMs - tolerance - now);
  }

  /** Reserves and returns the wait in ms without sleeping. */
  reserve(count = 1): number {
    const wait = this.dueIn(count);
    this.tat = Math.max(this.tat, this.now()) + count * this.intervalMs;
    return wait;
  }

  /** No token is handed out before `until` (ms on the clock). */
  pauseUntil(until: number): void {
    // The burst allowance would let tokens out early: after a pause they come one interval apart.
    this.tat = Math.max(this.tat, until + Math.max(0, this.burst - 1) * this.intervalMs);
  }
}
