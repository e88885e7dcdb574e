import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a stand-in answered: never a body, a header value or a credential, only how it authenticated. */
export interface TicketSimLogEntry {
  seq: number;
  at: string;
  method: string;
  /** Path and query as received. */
  url: string;
  status: number;
  /** basic, bearer, none, or wrong (credentials given but not accepted). */
  auth: string;
  fault?: 'status' | 'drop';
}

/**
 * Faults to inject, consumed in order: `status` answers that status (with Retry-After when given)
 * before anything is done; `drop` does the work and then closes the connection without an answer, as
 * a gateway timing out after the backend acted.
 */
export type TicketSimFault = { kind: 'status'; status: number; retryAfterSeconds?: number; matches?: RegExp } | { kind: 'drop'; matches?: RegExp };

export interface SimAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface SimRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

export interface RunningSim {
  url: string;
  requestLog: TicketSimLogEntry[];
  /** Faults for the next matching requests, in order. */
  failNext(...faults: TicketSimFault[]): void;
  stop(): Promise<void>;
}

/** A local HTTP stand-in on 127.0.0.1 with a request log and queued faults. */
export async function startSim(port: number, handle: (req: SimRequest) => { answer: SimAnswer; auth: string }): Promise<RunningSim> {
  const requestLog: TicketSimLogEntry[] = [];
  const faults: TicketSimFault[] = [];
  let seq = 0;
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://sim');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name.toLowerCase()] = value;
    const method = (req.method ?? 'GET').toUpperCase();
    const entry = (status: number, auth: string, fault?: TicketSimLogEntry['fault']) =>
      requestLog.push({ seq: ++seq, at: new Date().toISOString(), method, url: `${url.pathname}${url.search}`, status, auth, ...(fault ? { fault } : {}) });
    const index = faults.findIndex((fault) => !fault.matches || fault.matches.test(`${method} ${url.pathname}`));
    const fault = index >= 0 ? faults.splice(index, 1)[0] : undefined;
    if (fault?.kind === 'status') {
      entry(fault.status, 'not-checked', 'status');
      const headersOut: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfterSeconds !== undefined) headersOut['retry-after'] = String(fault.retryAfterSeconds);
      res.writeHead(fault.status, headersOut).end(JSON.stringify({ error: { message: 'injected fault', detail: `stand-in answered ${fault.status}` }, status: 'failure' }));
      return;
    }
    const { answer, auth } = handle({ method, url, headers, body: Buffer.concat(chunks).toString('utf8') });
    if (fault?.kind === 'drop') {
      entry(0, auth, 'drop');
      res.socket?.destroy();
      return;
    }
    entry(answer.status, auth);
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json', ...answer.headers }).end(text);
  };
  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requestLog,
    failNext: (...next) => faults.push(...next),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function parseJsonBody(body: string): unknown {
  try {
    return body ? (JSON.parse(body) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
