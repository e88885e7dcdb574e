/** Faults the simulator injects, for resilience tests and demos. Randomness is seeded, so runs repeat. */
export interface FaultOptions {
  /** Share of requests answered 503 with Retry-After before anything is done. */
  rate503?: number;
  /** Share of requests answered 429 with Retry-After before anything is done (on top of the token bucket). */
  rate429?: number;
  /**
   * Share of requests carried out whose answer never arrives: the connection is dropped, as when a
   * gateway times out after the backend acted. Inside $batch the inner request gets 504 instead.
   */
  timeoutRate?: number;
  /** Delay added before every answer. */
  latencyMs?: number;
  /** Retry-After sent with injected 429/503 answers, in seconds (fractions allowed). */
  retryAfterSeconds?: number;
  /** Which requests the rates apply to. */
  appliesTo?: 'all' | 'writes' | 'reads';
  seed?: number;
}

export type InjectedFault = 'rate503' | 'rate429' | 'timeout';

export class FaultInjector {
  private options: FaultOptions;
  private random: () => number;

  constructor(options: FaultOptions = {}) {
    this.options = { ...options };
    this.random = mulberry32(options.seed ?? 1);
  }

  set(options: FaultOptions): void {
    this.options = { ...options };
    if (options.seed !== undefined) this.random = mulberry32(options.seed);
  }

  get current(): Readonly<FaultOptions> {
    return this.options;
  }

  /** The fault to apply to one request, if any. */
  pick(write: boolean): InjectedFault | undefined {
    const scope = this.options.appliesTo ?? 'all';
    if ((scope === 'writes' && !write) || (scope === 'reads' && write)) return undefined;
    const roll = this.random();
    let edge = this.options.rate503 ?? 0;
    if (roll < edge) return 'rate503';
    edge += this.options.rate429 ?? 0;
    if (roll < edge) return 'rate429';
    edge += this.options.timeoutRate ?? 0;
    if (roll < edge) return 'timeout';
    return undefined;
  }

  get retryAfter(): string {
    return String(this.options.retryAfterSeconds ?? 1);
  }

  get latencyMs(): number {
    return this.options.latencyMs ?? 0;
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
