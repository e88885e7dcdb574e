import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** Requests this process sent to Azurite, by service. A `$batch` (entity-group transaction) is one. */
export interface StorageRequestCounts {
  table: number;
  queue: number;
  /** Of `queue`: messages put, deleted or updated (a message's own operations). */
  queueMessages: number;
  /** Of `queue`: receives (Get Messages), found a message or not: what polling costs. */
  queuePolls: number;
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
  let counts: StorageRequestCounts = empty();
  const onStart = (message: unknown) => {
    const request = (message as { request?: ClientRequest }).request;
    const host = String(request?.getHeader('host') ?? '');
    const port = Number(host.slice(host.lastIndexOf(':') + 1));
    if (port === ports.table) counts.table += 1;
    else if (port === ports.queue) {
      counts.queue += 1;
      const kind = queueRequestKind(request?.method ?? '', request?.path ?? '');
      if (kind === 'message') counts.queueMessages += 1;
      else if (kind === 'poll') counts.queuePolls += 1;
    }
  };
  subscribe('http.client.request.start', onStart);
  return {
    counts: () => ({ ...counts }),
    reset: () => {
      counts = empty();
    },
    stop: () => {
      unsubscribe('http.client.request.start', onStart);
    },
  };
}


const empty = (): StorageRequestCounts => ({ table: 0, queue: 0, queueMessages: 0, queuePolls: 0 });

/**
 * What a queue request is, from its method and path: a receive (GET …/messages, not a peek), one of a
 * message's own operations (put, delete, update), or anything else (creating the queue, a peek, its
 * properties).
 */
export function queueRequestKind(method: string, path: string): 'poll' | 'message' | 'other' {
  const [route = '', query = ''] = path.split('?');
  if (!/\/messages(\/[^/]+)?$/.test(route)) return 'other';
  if (method === 'GET') return /(^|&)peekonly=true(&|$)/i.test(query) ? 'other' : 'poll';
  return method === 'POST' || method === 'DELETE' || method === 'PUT' ? 'message' : 'other';
}
