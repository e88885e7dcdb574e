import type { SimLogEntry } from '../graph-sim';

/**
 * The scale phase's figures, from the Graph simulator's request log: what Graph itself saw, whichever
 * instance sent it.
 */

/** Graph's identity limit counts writes per 150 s per app and tenant (learn.microsoft.com/graph/throttling-limits). */
export const BUDGET_WINDOW_SECONDS = 150;

/** A method's own path: `…/authentication/<collection>Methods/<id>`, with a `$ref` or `deactivate` tail and the query left off. */
const METHOD_PATH = /^(\/users\/[^/?]+\/authentication\/[A-Za-z]+Methods(?:\/[^/?]+)?)(?:\/(?:\$ref|deactivate))?(?:\?.*)?$/;

/**
 * Methods written twice: per method (its path below the version, or a collection's for a creation such
 * as a Temporary Access Pass), how many writes Graph carried out (answered 2xx) beyond the first. A
 * resend that Graph answered 404 (the method already gone) changed nothing and is not counted; a write
 * refused with 429 was not carried out. Session revocations and default-method changes are not methods.
 */
export function doubleWrites(log: readonly Pick<SimLogEntry, 'method' | 'url' | 'status' | 'write'>[]): { count: number; examples: string[] } {
  const done = new Map<string, number>();
  for (const entry of log) {
    if (!entry.write || entry.status < 200 || entry.status > 299) continue;
    const path = METHOD_PATH.exec(entry.url)?.[1];
    if (!path) continue;
    done.set(path, (done.get(path) ?? 0) + 1);
  }
  const twice = [...done].filter(([, times]) => times > 1);
  return { count: twice.reduce((sum, [, times]) => sum + times - 1, 0), examples: twice.slice(0, 3).map(([path, times]) => `${path} x${times}`) };
}

/**
 * The largest share by which the writes in any window of `windowSeconds` exceeded the budget for that
 * window (`perSecond` × the window): 0 when no window held more. Every write that reached Graph counts,
 * throttled ones included, since each one spent a token of the app's budget. `times` in ms, any order.
 */
export function budgetOverrun(times: readonly number[], perSecond: number, windowSeconds = BUDGET_WINDOW_SECONDS): { share: number; busiestWindow: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const windowMs = windowSeconds * 1000;
  let busiest = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start += 1) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end += 1;
    busiest = Math.max(busiest, end - start);
  }
  const allowed = perSecond * windowSeconds;
  return { share: Math.max(0, busiest / allowed - 1), busiestWindow: busiest };
}
