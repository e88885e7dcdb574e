import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoTenant } from './demo-tenant';
import { SimDirectory, graphError, type Outcome } from './directory';
import { FaultInjector, type FaultOptions, type InjectedFault } from './faults';
import { handle, isWrite } from './handlers';
import { parseTenantFile, type ParsedTenantFile, type TenantFile } from './tenant-file';
import { TenantThrottle, type ThrottleOptions } from './throttle';

export interface GraphSimulatorOptions {
  /** A tenant (file contents, parsed or not); the built-in demo tenant when left out. */
  tenant?: TenantFile | ParsedTenantFile;
  /** 0 or left out: a free port. */
  port?: number;
  throttle?: ThrottleOptions;
  faults?: FaultOptions;
}

export interface SimLogEntry {
  seq: number;
  /** When the answer was ready (after any injected latency). */
  at: string;
  /** When the request arrived, before any injected latency: with `at`, what round-trip counts need. */
  receivedAt: string;
  method: string;
  version: string;
  /** Path below the version as received (percent-encoded), query included. */
  url: string;
  status: number;
  requestId: string;
  /** Changes the directory (DELETE, revoke, TAP creation); reads and $batch envelopes do not. */
  write: boolean;
  throttled: boolean;
  fault?: InjectedFault;
  /** For requests inside a $batch: the request-id of the envelope. */
  batch?: string;
  /** The client-request-id the caller sent, as Graph's own logs keep it. */
  clientRequestId?: string;
}

export interface RunningGraphSimulator {
  /** Origin to use as GRAPH_BASE_URL, e.g. http://127.0.0.1:43125. */
  url: string;
  port: number;
  tenant: SimDirectory;
  /** Every request answered, inner $batch requests included, in order. Never holds bodies. */
  requestLog: SimLogEntry[];
  resetLog(): void;
  setFaults(faults: FaultOptions): void;
  setThrottle(throttle: ThrottleOptions): void;
  stop(): Promise<void>;
}

const MAX_BATCH = 20;
const MAX_BODY = 4 * 1024 * 1024;

/**
 * A local Microsoft Graph for the endpoints the reset engine uses (DESIGN.md section 6), with Graph's
 * rules, throttling as a per-tenant token bucket, injected faults and a request log. Local only: it
 * binds to 127.0.0.1 and takes no token.
 */
export async function startGraphSimulator(options: GraphSimulatorOptions = {}): Promise<RunningGraphSimulator> {
  const tenantFile = parseTenantFile(options.tenant ?? demoTenant);
  const tenant = new SimDirectory(tenantFile);
  let throttle = new TenantThrottle(options.throttle);
  const faults = new FaultInjector(options.faults);
  const requestLog: SimLogEntry[] = [];
  let seq = 0;
  let origin = '';

  // Set right before the synchronous answer()/runBatch() calls that log, so each entry gets its own arrival.
  let arrival = new Date().toISOString();
  const log = (entry: Omit<SimLogEntry, 'seq' | 'at' | 'receivedAt'>) => requestLog.push({ seq: ++seq, at: new Date().toISOString(), receivedAt: arrival, ...entry });

  /** One request, from the wire or from inside a $batch: throttle, faults, then Graph's behaviour. */
  const answer = (method: string, version: 'v1.0' | 'beta', url: string, headers: Record<string, string>, body: unknown, batch?: string) => {
    const requestId = randomUUID();
    const parsed = new URL(url.startsWith('/') ? url : `/${url}`, 'http://sim');
    const write = isWrite(method, parsed.pathname);
    const clientRequestId = headers['client-request-id'];
    const common = { method, version, url: `${parsed.pathname}${parsed.search}`, requestId, write, ...(batch ? { batch } : {}), ...(clientRequestId ? { clientRequestId } : {}) };

    const fault = faults.pick(write);
    // Throttling: 429 and 503 with Retry-After are Graph's (learn.microsoft.com/graph/throttling); the
    // code and wording of the bodies are a guess, and the engine reads neither.
    if (fault === 'rate503' || fault === 'rate429') {
      const status = fault === 'rate503' ? 503 : 429;
      log({ ...common, status, throttled: true, fault });
      return {
        requestId,
        dropped: false,
        outcome: graphError(status, status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', status === 429 ? 'Too many requests (injected).' : 'Service unavailable (injected).'),
        retryAfter: faults.retryAfter,
      };
    }
    const wait = throttle.check(write);
    if (wait !== undefined) {
      log({ ...common, status: 429, throttled: true });
      return { requestId, dropped: false, outcome: graphError(429, 'TooManyRequests', 'Too many requests. Retry after the time in Retry-After.'), retryAfter: wait };
    }
    const outcome: Outcome = handle(tenant, {
      method,
      version,
      path: parsed.pathname,
      query: parsed.searchParams,
      headers,
      body,
      origin,
      requestId,
      now: new Date(),
    });
    // A timeout fault lets the request take effect, then loses the answer.
    const dropped = fault === 'timeout';
    log({ ...common, status: dropped ? (batch ? 504 : 0) : outcome.status, throttled: false, ...(dropped ? { fault } : {}) });
    // Inside a $batch a lost answer comes back as the inner request's 504 (a documented status; the body a guess).
    if (dropped && batch) return { requestId, dropped: false, outcome: graphError(504, 'GatewayTimeout', 'The request timed out (injected).'), retryAfter: undefined };
    return { requestId, dropped, outcome, retryAfter: undefined as string | undefined };
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const receivedAt = new Date().toISOString();
    const url = new URL(req.url ?? '/', 'http://sim');
    const headers = lowerHeaders(req);
    const bodyText = await readBody(req);
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    const match = /^\/(v1\.0|beta)(\/.*)$/.exec(url.pathname);
    if (!match) {
      // An unknown version: Graph answers 404; code and wording are a guess.
      return send(res, randomUUID(), graphError(404, 'BadRequest', 'Invalid version: use /v1.0/... or /beta/...'), headers);
    }
    const version = match[1] as 'v1.0' | 'beta';
    const path = `${match[2]}${url.search}`;
    let body: unknown;
    if (bodyText.length > 0) {
      try {
        body = JSON.parse(bodyText);
      } catch {
        // 400 for a body that is not JSON; the wording is a guess.
        return send(res, randomUUID(), graphError(400, 'BadRequest', 'The request body is not valid JSON.'), headers);
      }
    }
    const method = (req.method ?? 'GET').toUpperCase();

    if (method === 'POST' && match[2] === '/$batch') {
      const requestId = randomUUID();
      arrival = receivedAt;
      const outcome = runBatch(version, body, requestId);
      log({ method, version, url: path, status: outcome.status, requestId, write: false, throttled: false });
      return send(res, requestId, outcome, headers);
    }

    arrival = receivedAt;
    const result = answer(method, version, path, headers, body);
    if (result.dropped) {
      res.socket?.destroy();
      return;
    }
    return send(res, result.requestId, result.outcome, headers, result.retryAfter, repeatsMessage(path));
  };

  const runBatch = (version: 'v1.0' | 'beta', body: unknown, batchRequestId: string): Outcome => {
    const requests = (body as { requests?: unknown } | undefined)?.requests;
    // The limit of 20 is documented (json-batching); the wording of these 400s is a guess.
    if (!Array.isArray(requests)) return graphError(400, 'BadRequest', 'A $batch body needs a requests array.');
    if (requests.length > MAX_BATCH) return graphError(400, 'BadRequest', `A $batch holds at most ${MAX_BATCH} requests; this one holds ${requests.length}.`);
    const responses = requests.map((raw: unknown) => {
      const inner = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const id = typeof inner.id === 'string' ? inner.id : String(inner.id ?? '');
      if (typeof inner.method !== 'string' || typeof inner.url !== 'string') {
        return { id, status: 400, body: graphError(400, 'BadRequest', 'Each request needs id, method and url.').body };
      }
      const innerHeaders = Object.fromEntries(
        Object.entries((inner.headers as Record<string, string> | undefined) ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
      );
      const result = answer(inner.method.toUpperCase(), version, inner.url, innerHeaders, inner.body, batchRequestId);
      const headers: Record<string, string> = { 'request-id': result.requestId };
      if (result.retryAfter) headers['Retry-After'] = result.retryAfter;
      if (result.outcome.body !== undefined) headers['Content-Type'] = 'application/json';
      const innerBody = withInnerError(result.outcome.body, result.requestId, innerHeaders['client-request-id'] ?? result.requestId, repeatsMessage(inner.url));
      return { id, status: result.outcome.status, headers, ...(innerBody !== undefined ? { body: innerBody } : {}) };
    });
    return { status: 200, body: { responses } };
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, randomUUID(), graphError(500, 'InternalServerError', `simulator: ${error instanceof Error ? error.message : String(error)}`), {});
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: origin,
    port,
    tenant,
    requestLog,
    resetLog: () => {
      requestLog.length = 0;
    },
    setFaults: (next) => faults.set(next),
    setThrottle: (next) => {
      throttle = new TenantThrottle(next);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, requestId: string, outcome: Outcome, requestHeaders: Record<string, string>, retryAfter?: string, repeatMessage = false): void {
  const headers: Record<string, string> = {
    'request-id': requestId,
    'client-request-id': requestHeaders['client-request-id'] ?? requestId,
  };
  if (retryAfter) headers['Retry-After'] = retryAfter;
  if (outcome.body === undefined || outcome.status === 204) {
    res.writeHead(outcome.status, headers).end();
    return;
  }
  const text = JSON.stringify(withInnerError(outcome.body, requestId, headers['client-request-id']!, repeatMessage));
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(outcome.status, headers).end(text);
}

/**
 * Graph's error bodies carry innerError with the date (seconds, no zone) and both request ids
 * (learn.microsoft.com/graph/errors). The authentication methods API repeats the message there too, as
 * its answers in the field show (microsoft-graph-docs issues 14470 and 18091).
 */
function withInnerError(body: unknown, requestId: string, clientRequestId: string, repeatMessage = false): unknown {
  if (typeof body !== 'object' || body === null || !('error' in body)) return body;
  const error = (body as { error: Record<string, unknown> }).error;
  if (typeof error !== 'object' || error === null || 'innerError' in error) return body;
  const date = new Date().toISOString().replace(/\.\d{3}Z$/, '');
  const message = repeatMessage && typeof error.message === 'string' ? { message: error.message } : {};
  return { ...body, error: { ...error, innerError: { ...message, date, 'request-id': requestId, 'client-request-id': clientRequestId } } };
}

/** Whether the answer comes from the authentication methods API (users/{id}/authentication/…). */
function repeatsMessage(url: string): boolean {
  return /^\/?users\/[^/]+\/authentication\//i.test(url.split('?')[0] ?? '');
}
