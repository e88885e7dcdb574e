/**
 * Graph throttles per app and tenant with budgets that refill over time; a token bucket is the
 * simplest faithful model: each request takes a token, tokens refill at a steady rate up to `burst`.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** The time (ms) up to which refused callers have been told to wait: each is given its own later slot. */
  private promisedUntil = 0;

  /**
   * Takes a token, or says how many seconds to wait. Refused callers get successive slots, as a
   * busy service hands out longer Retry-After values, so they do not all return at the same instant.
   */
  take(): { ok: true } | { ok: false; waitSeconds: number } {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    const firstToken = now + ((1 - this.tokens) / this.perSecond) * 1000;
    this.promisedUntil = Math.max(this.promisedUntil + 1000 / this.perSecond, firstToken);
    return { ok: false, waitSeconds: (this.promisedUntil - now) / 1000 };
  }
}

export interface ThrottleOptions {
  /** Write budget (DELETE, POST that changes something), per second. */
  writesPerSecond?: number;
  readsPerSecond?: number;
  /** Bucket size: requests allowed at once before the rate applies. */
  burst?: number;
  /**
   * `seconds` (Graph's form: whole seconds, at least 1) or `milliseconds` (fractional seconds, so tests
   * can exercise throttling without sleeping for whole seconds).
   */
  retryAfterPrecision?: 'seconds' | 'milliseconds';
}

export class TenantThrottle {
  private readonly reads: TokenBucket;
  private readonly writes: TokenBucket;
  private readonly precision: 'seconds' | 'milliseconds';

  /**
   * Defaults are Graph's identity and access limits per app and tenant (learn.microsoft.com/graph/throttling-limits):
   * writes 3,000 per 150 s (a bucket of 3,000 refilling at 20/s); reads 8,000 resource units per 10 s,
   * the quota of the largest tenants, at one unit a request (kinder than Graph for smaller tenants, whose
   * quota is 3,500 or 5,000, and for the reads that cost more than one unit).
   */
  constructor(options: ThrottleOptions = {}) {
    this.reads = new TokenBucket(options.readsPerSecond ?? 800, options.burst ?? 8000);
    this.writes = new TokenBucket(options.writesPerSecond ?? 20, options.burst ?? 3000);
    this.precision = options.retryAfterPrecision ?? 'seconds';
  }

  /** undefined when allowed, else the Retry-After value to send. */
  check(write: boolean): string | undefined {
    const taken = (write ? this.writes : this.reads).take();
    if (taken.ok) return undefined;
    return formatRetryAfter(taken.waitSeconds, this.precision);
  }
}

export function formatRetryAfter(seconds: number, precision: 'seconds' | 'milliseconds'): string {
  return precision === 'seconds' ? String(Math.max(1, Math.ceil(seconds))) : (Math.ceil(seconds * 1000) / 1000).toFixed(3);
}
