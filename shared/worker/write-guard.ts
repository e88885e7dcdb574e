import { randomUUID } from 'node:crypto';
import { openIntents, intentEntry, resolvedEntry, sentEntry, type WriteIntent } from '../audit/write-ahead';
import { GraphNetworkError, type GraphRequest, type GraphTransport } from '../graph/http';
import type { WriteHooks } from '../pacing/write-hooks';
import type { RequestRow } from '../requests/request-row';
import type { RequestProgress } from './request-progress';
import { leaseMs, type WorkerDependencies } from './worker-dependencies';

/** A write must leave with at least this much of the lease left, or it renews first. */
const LEASE_MARGIN_MS = 5000;

/**
 * The hooks a worker puts around each of its Graph writes:
 * - waits for a write token are bounded by GRAPH_MAX_INLINE_WAIT_SECONDS and by what is left of the
 *   lease (a longer one re-queues the reset: RetryLaterError);
 * - before the write leaves, the request is claimed if it is not yet (see claim.ts), and the lease is
 *   renewed by a conditional save of the row (its ETag) once half of it has gone: a worker whose request
 *   was taken over meanwhile gets LeaseLostError and sends nothing. Nobody else changes who holds a
 *   request while its lease runs (the sweeper, the poison handler and other deliveries wait for it to
 *   end), so a write that leaves inside the lease this worker last wrote needs no storage call to be
 *   safe; the write leaves only with LEASE_MARGIN_MS of it left, or the lease is renewed first;
 * - then the user's lock is renewed if due, and a run whose user another reset took over meanwhile
 *   sends nothing either;
 * - then the intent is written to the trail (method, path, the client-request-id sent), together with
 *   the rows noted since the last write (the previous write's answer, the steps in between): one
 *   round trip per write. Its answer is noted after it and written with the next write's intent or
 *   with the run's end (shared/audit/write-ahead.ts): a process killed before that leaves an open intent,
 *   which the next run settles with what Graph says now.
 */
export function writeGuard(
  progress: RequestProgress,
  deps: Pick<WorkerDependencies, 'settings'>,
  options: {
    /** Claims the request if this run has not yet (before its first write). */
    ensureClaimed?: () => Promise<void>;
    /** What a lease renewal writes besides the lease: the engine's latest state. */
    renewal?: () => Partial<RequestRow>;
    /**
     * Renews the user's lock if it is due, right before a write leaves (after the lease check); throws
     * when another reset of the user took it meanwhile (a long step let it lapse): nothing is sent.
     */
    holdUser?: () => Promise<void>;
  } = {},
): WriteHooks & { unanswered(): number } {
  const intents = new WeakMap<GraphRequest, WriteIntent>();
  let unanswered = 0;
  const leaseLeft = () => (progress.current.leaseUntil ? Date.parse(progress.current.leaseUntil) : 0) - Date.now();
  const renew = () => progress.save({ leaseUntil: new Date(Date.now() + leaseMs(deps)).toISOString(), ...options.renewal?.() });
  return {
    maxWaitMs() {
      return Math.max(0, Math.min(deps.settings.GRAPH_MAX_INLINE_WAIT_SECONDS * 1000, leaseLeft() - LEASE_MARGIN_MS));
    },
    async beforeWrite(request) {
      await options.ensureClaimed?.();
      // Throws LeaseLostError if anyone changed the row since this worker last wrote it.
      if (leaseLeft() < leaseMs(deps) / 2) await renew();
      await options.holdUser?.();
      const intent: WriteIntent = { method: request.method, path: pathOf(request), clientRequestId: randomUUID() };
      await progress.audit(intentEntry(intent, detailOf(request, intent)));
      // Storage may have answered so slowly that the lease ran low meanwhile: renew (and so check) again
      // until the write leaves inside a lease.
      while (leaseLeft() < LEASE_MARGIN_MS) await renew();
      const sent: GraphRequest = { ...request, headers: { ...request.headers, 'client-request-id': intent.clientRequestId } };
      intents.set(sent, intent);
      return sent;
    },
    async afterWrite(request, outcome) {
      const intent = intents.get(request);
      if (!intent) return;
      if (!('response' in outcome)) unanswered += 1;
      progress.note(
        'response' in outcome
          ? sentEntry(intent, { status: outcome.response.status, requestId: outcome.response.requestId })
          : sentEntry(intent, { noAnswer: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) }),
      );
    },
    unanswered: () => unanswered,
  };
}

/**
 * On resume: writes whose intent was audited but whose outcome was not (the process died in between)
 * are resolved with what Graph says now, before anything else is sent. A method deletion is checked
 * by reading the method; other writes are recorded as unknown, and the steps after resume read Graph
 * again (a pass that may exist is never created twice: see the engine's state).
 *
 * The trail is read together with its fence (AuditFence), which this run then holds: its first batch
 * takes the fence on the ETag read here, so a holder that wrote after this read (and so after what this
 * run settles) makes that batch fail instead of being overlooked.
 */
export async function resolveOpenIntents(progress: RequestProgress, deps: Pick<WorkerDependencies, 'audit' | 'graph'>, holder: string): Promise<number> {
  const trail = await deps.audit.read(progress.current.id);
  progress.holdFence({ holder, ...(trail.fence ? { etag: trail.fence.etag } : {}) });
  const open = openIntents(trail.rows);
  // Noted, and written before anything this run sends (with its first intent) or with its end.
  for (const intent of open) progress.note(await resolve(intent, deps.graph));
  return open.length;
}

const METHOD_PATH = /^\/(v1\.0|beta)(\/users\/[^/?]+\/authentication\/[A-Za-z]+Methods\/[^/?]+)$/;

async function resolve(intent: WriteIntent, graph: GraphTransport) {
  const unknown = (why: string) =>
    resolvedEntry(intent, 'unknown', `the process stopped before Graph's answer to this write (client-request-id ${intent.clientRequestId}) was recorded; ${why}`);
  const match = intent.method === 'DELETE' ? METHOD_PATH.exec(intent.path) : null;
  if (!match) return unknown('the steps after resume read Graph again before acting');
  try {
    const response = await graph.send({ method: 'GET', version: match[1] as 'v1.0' | 'beta', path: match[2]! });
    if (response.status === 404) {
      return resolvedEntry(
        intent,
        'gone',
        `the process stopped before Graph's answer was recorded; Graph now answers 404 for this method, so this write (client-request-id ${intent.clientRequestId}) or someone else removed it`,
        response.requestId,
      );
    }
    if (response.status === 200) {
      return resolvedEntry(intent, 'still-registered', `the process stopped before Graph's answer was recorded; the method is still registered, so this write did not remove it and the run sends it again`, response.requestId);
    }
    return unknown(`reading the method now answered HTTP ${response.status}; the run reads Graph again before acting`);
  } catch (error) {
    if (!(error instanceof GraphNetworkError)) throw error;
    return unknown(`reading the method now got no answer (${error.message}); the run reads Graph again before acting`);
  }
}

function pathOf(request: GraphRequest): string {
  return `/${request.version}${request.path.split('?')[0]}`;
}

/** What the intent row says beyond the path: for a $batch, the writes inside it. */
function detailOf(request: GraphRequest, intent: WriteIntent): string {
  const inner = (request.body as { requests?: unknown } | undefined)?.requests;
  if (request.path.startsWith('/$batch') && Array.isArray(inner)) {
    const listed = inner
      .map((item) => {
        const entry = (item ?? {}) as { method?: unknown; url?: unknown };
        return typeof entry.method === 'string' && typeof entry.url === 'string' ? `${entry.method} ${entry.url.split('?')[0]}` : undefined;
      })
      .filter((text): text is string => text !== undefined);
    return `client-request-id ${intent.clientRequestId}; ${listed.length} requests: ${listed.join(', ')}`;
  }
  return `client-request-id ${intent.clientRequestId}`;
}
