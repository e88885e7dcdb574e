import type { GraphRequest } from '../graph/http';

/** POSTs that only read (they answer questions about membership). */
const READ_POSTS = /\/(checkMemberGroups|getMemberGroups|checkMemberObjects|getMemberObjects|getByIds)(\?|$)/i;

/**
 * How many directory writes a request makes: what the write budget counts. A `$batch` counts the writes
 * inside it (Graph throttles each inner request on its own).
 */
export function writeCount(request: Pick<GraphRequest, 'method' | 'path' | 'body'>): number {
  if (request.method === 'GET') return 0;
  if (request.method === 'POST' && /^\/\$batch(\?|$)/.test(request.path)) {
    const inner = (request.body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(inner)) return 0;
    return inner.reduce<number>((sum, item) => {
      const entry = (item ?? {}) as { method?: unknown; url?: unknown; body?: unknown };
      const method = typeof entry.method === 'string' ? entry.method.toUpperCase() : 'GET';
      const url = typeof entry.url === 'string' ? (entry.url.startsWith('/') ? entry.url : `/${entry.url}`) : '/';
      return sum + writeCount({ method: method as GraphRequest['method'], path: url, body: entry.body });
    }, 0);
  }
  if (request.method === 'POST' && READ_POSTS.test(request.path)) return 0;
  return 1;
}

/** Whether a $batch answer, or a plain answer, says Graph throttled (429) or was unavailable (503). */
export function throttledIn(status: number, body: unknown): { throttled: boolean; retryAfterSeconds?: number } {
  if (status === 429 || status === 503) return { throttled: true };
  if (status !== 200) return { throttled: false };
  const responses = (body as { responses?: unknown } | undefined)?.responses;
  if (!Array.isArray(responses)) return { throttled: false };
  let retryAfterSeconds: number | undefined;
  let throttled = false;
  for (const response of responses) {
    const entry = (response ?? {}) as { status?: unknown; headers?: Record<string, unknown> };
    if (entry.status === 429 || entry.status === 503) {
      throttled = true;
      const header = Object.entries(entry.headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
      const seconds = Number(header);
      if (Number.isFinite(seconds)) retryAfterSeconds = Math.max(retryAfterSeconds ?? 0, seconds);
    }
  }
  return { throttled, retryAfterSeconds };
}
