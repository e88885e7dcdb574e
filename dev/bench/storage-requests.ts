import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** Requests this process sent to Azurite, by service. A `$batch` (entity-group transaction) is one. */
export interface StorageRequestCounts {
  table: number;
  queue: number;
}

export interface StorageRequestCounter {
  /** What was counted since the start or the last `reset`. */
  counts(): StorageRequestCounts;
  reset(): void;
  stop(): void;
}

/**
 * Counts the storage round trips of this process: every HTTP request that Node's http client starts
 * towards Azurite's table or queue port (the Azure SDKs send through node:http), seen on the
 * `http.client.request.start` diagnostics channel. Counted, not estimated: retries by the SDK count
 * too, as they cost a round trip each.
 */
export function countStorageRequests(ports: { table: number; queue: number }): StorageRequestCounter {
  let counts: StorageRequestCounts = { table: 0, queue: 0 };
  const onStart = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    const host = String(request?.getHeader('host') ?? '');
    const port = Number(host.slice(host.lastIndexOf(':') + 1));
    if (port === ports.table) counts.table += 1;
    else if (port === ports.queue) counts.queue += 1;
  };
  subscribe('http.client.request.start', onStart);
  return {
    counts: () => ({ ...counts }),
    reset: () => {
      counts = { table: 0, queue: 0 };
    },
    stop: () => {
      unsubscribe('http.client.request.start', onStart);
    },
  };
}

