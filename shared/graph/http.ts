/**
 * The one seam between the engine and Microsoft Graph: a single HTTP exchange, no retries.
 * Retrying is the engine's job (retry.ts) because only it knows which calls are safe to repeat
 * (a DELETE is; a Temporary Access Pass creation is not) and how long a worker may wait inline.
 */
export type GraphVersion = 'v1.0' | 'beta';
export type GraphMethod = 'GET' | 'POST' | 'DELETE' | 'PATCH';

export interface GraphRequest {
  method: GraphMethod;
  version: GraphVersion;
  /** Path below the version, starting with `/`, already percent-encoded, query string included. */
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface GraphResponse {
  status: number;
  /** Graph's `request-id` header: what Microsoft support asks for, recorded for every write. */
  requestId: string | undefined;
  /** Retry-After in seconds, when the answer carried one. */
  retryAfterSeconds: number | undefined;
  /** Parsed JSON body, or undefined for 204 and empty bodies. */
  body: unknown;
}

export interface GraphTransport {
  /** Origin the requests go to, for messages and health output. */
  readonly origin: string;
  send(request: GraphRequest): Promise<GraphResponse>;
}

/** No answer arrived (connection refused or dropped, timeout): the request may or may not have been carried out. */
export class GraphNetworkError extends Error {
  constructor(
    message: string,
    readonly request: Pick<GraphRequest, 'method' | 'version' | 'path'>,
  ) {
    super(message);
    this.name = 'GraphNetworkError';
  }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}
