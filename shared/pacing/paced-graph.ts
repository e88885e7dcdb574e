import { randomUUID } from 'node:crypto';
import type { GraphRequest, GraphResponse, GraphTransport } from '../graph/http';
import { RetryLaterError } from '../graph/retry';
import type { PacingStore } from './pacing-store';
import { TokenBucket } from './token-bucket';
import type { HookableTransport, WriteHooks } from './write-hooks';
import { throttledIn, writeCount } from './write-kind';

/** How long an instance counts as new, and how often it reads the shared state meanwhile. */
const NEW_INSTANCE_MS = 10_000;
const NEW_SYNC_EVERY_MS = 1000;

export interface PacedGraphOptions {
  /** The tenant's write budget (GRAPH_WRITE_BUDGET_PER_SECOND), shared by every instance. */
  writesPerSecond: number;
  /** Shared state in table GraphPacing; without it the budget is this process's alone. */
  store?: PacingStore;
  instanceId?: string;
  /** How often the shared state is read and this instance's heartbeat written. Default 5 s. */
  syncEveryMs?: number;
  /**
   * The longest a write waits for its token (GRAPH_MAX_INLINE_WAIT_SECONDS). A longer wait (the bucket
   * paused by a long Retry-After, or the budget spent far ahead) takes no token and throws
   * RetryLaterError with the time it would have been due: the caller re-queues instead of sleeping.
   * Default: no limit.
   */
  maxWaitMs?: number;
  now?: () => number;
  log?: { warn(message: string): void };
}

export interface PacingStats {
  requests: number;
  writes: number;
  throttled: number;
  /** Total time writes waited for a token. */
  waitedMs: number;
  /** Writes not sent because their token was further away than the wait allowed (re-queued). */
  deferred: number;
  /** The bucket's current rate (the budget divided by the live instances). */
  writesPerSecond: number;
}

export interface PacedGraph extends HookableTransport {
  stats(): PacingStats;
  /** Reads the shared state now (tests; otherwise it is read every syncEveryMs while writes flow). */
  sync(): Promise<void>;
}

/**
 * A GraphTransport that spends one token per directory write from a bucket filled at the tenant's
 * write budget, so resets of every job (and single resets) together stay under it. A 429 or 503 pauses
 * the bucket for Retry-After and is recorded in GraphPacing, where the bulk dispatcher slows down and
 * the other instances pause too; live instances share the budget equally.
 */
export function pacedGraph(inner: GraphTransport, options: PacedGraphOptions): PacedGraph {
  const now = options.now ?? (() => Date.now());
  const budget = Math.max(0.1, options.writesPerSecond);
  // A fifth of a second of burst: enough to keep concurrent resets moving, too little to overrun the budget.
  const bucket = new TokenBucket(budget, Math.max(1, Math.floor(budget / 5)), now);
  const instanceId = options.instanceId ?? randomUUID();
  const syncEveryMs = options.syncEveryMs ?? 5000;
  const stats = { requests: 0, writes: 0, throttled: 0, waitedMs: 0, deferred: 0 };
  const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
  let lastSync = 0;
  let firstSync = 0;
  let writesAtSync = 0;
  let syncing: Promise<void> | undefined;
  let lastRecorded = 0;

  const sync = async (): Promise<void> => {
    const store = options.store;
    if (!store) return;
    const at = now();
    const elapsed = Math.max(1, at - (lastSync || at));
    const recentWrites = stats.writes - writesAtSync;
    lastSync = at;
    firstSync ||= at;
    writesAtSync = stats.writes;
    try {
      // Called when a write is about to leave: this instance is one of those sharing the budget, and
      // says so before it counts them, so that it counts itself from its first write on.
      await store.heartbeat(instanceId, at, (recentWrites * 1000) / elapsed);
      const [throttle, instances] = await Promise.all([store.throttle(), store.activeInstances(at)]);
      if (throttle.throttledUntil && throttle.throttledUntil > at) bucket.pauseUntil(throttle.throttledUntil);
      bucket.setRate(budget / Math.max(1, instances));
    } catch (error) {
      options.log?.warn(`graph pacing: shared state unavailable, pacing this instance alone: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  /**
   * The shared state is read before this instance's first write (it may be one of several starting at
   * once: it must not spend the whole budget until it has looked), then every second while it is new
   * (others starting with it show up), then every syncEveryMs.
   */
  const maybeSync = async (): Promise<void> => {
    if (!options.store) return;
    if (lastSync === 0) {
      syncing ??= sync().finally(() => (syncing = undefined));
      await syncing;
      return;
    }
    const every = now() - firstSync < NEW_INSTANCE_MS ? Math.min(NEW_SYNC_EVERY_MS, syncEveryMs) : syncEveryMs;
    if (syncing || now() - lastSync < every) return;
    syncing = sync().finally(() => (syncing = undefined));
  };

  const observe = (request: GraphRequest, response: GraphResponse, writes: number) => {
    const seen = throttledIn(response.status, response.body);
    if (!seen.throttled) return;
    stats.throttled += 1;
    const retryAfter = response.retryAfterSeconds ?? seen.retryAfterSeconds ?? 1;
    const at = now();
    if (writes > 0) bucket.pauseUntil(at + retryAfter * 1000);
    if (options.store && at - lastRecorded >= 1000) {
      lastRecorded = at;
      options.store.recordThrottle(at, retryAfter).catch((error: unknown) => {
        options.log?.warn(`graph pacing: could not record a ${response.status} on ${request.method} ${request.path.split('?')[0]}: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  };

  const send = async (request: GraphRequest, hooks: WriteHooks | undefined): Promise<GraphResponse> => {
    stats.requests += 1;
    const writes = writeCount(request);
    let sent = request;
    if (writes > 0) {
      await maybeSync();
      const limit = Math.max(0, Math.min(maxWaitMs, hooks ? hooks.maxWaitMs() : maxWaitMs));
      const taken = await bucket.takeWithin(writes, limit);
      if (!taken.ok) {
        stats.deferred += 1;
        const seconds = Math.ceil(taken.dueInMs / 1000);
        throw new RetryLaterError(
          new Date(now() + taken.dueInMs),
          `the app's Graph write budget is paused or spent for the next ${seconds}s (a Retry-After from Graph, shared by every instance), longer than a worker waits inline (${Math.round(limit / 1000)}s)`,
        );
      }
      stats.waitedMs += taken.waitedMs;
      stats.writes += writes;
      // After the wait, right before sending: the invocation may have lost its lease meanwhile.
      if (hooks) sent = await hooks.beforeWrite(request);
    }
    let response: GraphResponse;
    try {
      response = await inner.send(sent);
    } catch (error) {
      if (writes > 0 && hooks) await hooks.afterWrite(sent, { error });
      throw error;
    }
    observe(sent, response, writes);
    if (writes > 0 && hooks) await hooks.afterWrite(sent, { response });
    return response;
  };

  return {
    origin: inner.origin,
    send: (request) => send(request, undefined),
    withHooks: (hooks) => ({ origin: inner.origin, send: (request) => send(request, hooks) }),
    stats: () => ({ ...stats, writesPerSecond: bucket.perSecond }),
    sync: async () => {
      await syncing;
      await sync();
    },
  };
}
