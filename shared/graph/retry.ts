import { GraphNetworkError, type GraphRequest, type GraphResponse, type GraphTransport } from './http';

export interface RetryPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** A wait longer than this is not slept through: the caller gets RetryLaterError and re-queues. */
  maxInlineWaitSeconds: number;
  /** First backoff when Graph gives no Retry-After (doubles per attempt, with jitter). */
  baseDelayMs: number;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export const defaultRetryPolicy = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 6,
  maxInlineWaitSeconds: 10,
  baseDelayMs: 500,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  ...overrides,
});

/** Graph asked for a longer pause than a worker should spend asleep; try again at `retryAt`. */
export class RetryLaterError extends Error {
  constructor(
    readonly retryAt: Date,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'RetryLaterError';
  }
}

export const RETRYABLE_STATUSES = new Set([429, 503, 504]);

export interface CallOptions {
  /**
   * Safe to send again when no answer came back or the service was unavailable. A 429 is retried
   * even when false: Graph did not carry out a throttled request.
   */
  idempotent: boolean;
}

/** Sends one request, honouring Retry-After on 429/503/504 and retrying lost answers of idempotent calls. */
export async function callGraph(
  transport: GraphTransport,
  request: GraphRequest,
  policy: RetryPolicy,
  options: CallOptions = { idempotent: true },
): Promise<GraphResponse> {
  for (let attempt = 1; ; attempt += 1) {
    let response: GraphResponse;
    try {
      response = await transport.send(request);
    } catch (error) {
      if (!(error instanceof GraphNetworkError) || !options.idempotent || attempt >= policy.maxAttempts) throw error;
      await pause(backoffSeconds(policy, attempt), policy, `${describe(request)} got no answer (${error.message})`);
      continue;
    }
    if (!RETRYABLE_STATUSES.has(response.status)) return response;
    const unsafe = !options.idempotent && response.status !== 429;
    if (unsafe) return response;
    // A little over Retry-After: clients told the same value would otherwise all return at once.
    const wait = response.retryAfterSeconds !== undefined ? response.retryAfterSeconds * (1 + Math.random() * 0.2) : backoffSeconds(policy, attempt);
    const why = `${describe(request)} answered ${response.status}${response.retryAfterSeconds !== undefined ? ` with Retry-After ${response.retryAfterSeconds}s` : ''}`;
    if (attempt >= policy.maxAttempts) {
      // Still throttled after every attempt: come back later rather than report a failure.
      if (response.status === 429) throw new RetryLaterError(new Date(policy.now() + Math.max(wait, 1) * 1000), why);
      return response;
    }
    await pause(wait, policy, why);
  }
}

/** Sleeps `seconds` if the policy allows that inline, else throws RetryLaterError. */
export async function pause(seconds: number, policy: RetryPolicy, why: string): Promise<void> {
  if (seconds > policy.maxInlineWaitSeconds) {
    throw new RetryLaterError(new Date(policy.now() + seconds * 1000), why);
  }
  await policy.sleep(seconds * 1000);
}

export function backoffSeconds(policy: RetryPolicy, attempt: number): number {
  const base = (policy.baseDelayMs / 1000) * 2 ** (attempt - 1);
  return Math.min(base * (0.75 + Math.random() * 0.5), Math.max(policy.maxInlineWaitSeconds, policy.baseDelayMs / 1000));
}

function describe(request: GraphRequest): string {
  return `${request.method} /${request.version}${request.path.split('?')[0]}`;
}
