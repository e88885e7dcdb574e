import type { z } from 'zod';
import { csvOptionHeader, csvSigningPayload, type CsvOption } from '../../shared/bulk/bulk-request';
import { standardWebhookHeaders } from '../../shared/intake/standard-webhooks';

/**
 * A small client of the app's HTTP API: signs as Standard Webhooks with WEBHOOK_SECRET_GENERIC (through
 * the standardwebhooks library), adds the function key when one is given, and reads JSON answers.
 */
export interface ApiTarget {
  /** The app's origin, with or without /api: http://127.0.0.1:7071 or https://<app>.azurewebsites.net/api. */
  url: string;
  /** WEBHOOK_SECRET_GENERIC (whsec_...); without it requests go unsigned (accepted only in LOCAL_DEMO_MODE). */
  secret?: string;
  /** A function key for authLevel function routes. */
  functionKey?: string;
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    super(error ? `${status} ${error.code}: ${error.message}` : `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

export function apiBase(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/api$/, '');
}

function endpoint(target: ApiTarget, path: string, query: Record<string, string | undefined> = {}): string {
  const url = new URL(`${apiBase(target.url)}/api/${path}`);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/** The function key goes in a header, never in the URL, where proxies and access logs would keep it. */
const keyHeader = (target: ApiTarget): Record<string, string> => (target.functionKey ? { 'x-functions-key': target.functionKey } : {});

async function call<T>(url: string, init: RequestInit): Promise<ApiAnswer<T>> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (response.status >= 400) throw new ApiError(response.status, body);
  return { status: response.status, body: body as T, headers: response.headers };
}

/**
 * Standard Webhooks headers for one delivery, signed now. `webhookId` names the delivery: send the same
 * one again (re-signed) to retry without making a second request; a new one is a new request.
 */
export function signedDelivery(target: ApiTarget, payload: string | Uint8Array, webhookId?: string): Record<string, string> {
  if (target.secret) return standardWebhookHeaders(target.secret, payload, { id: webhookId });
  return webhookId ? { 'webhook-id': webhookId } : {};
}

export async function postJson(target: ApiTarget, path: string, body: unknown, options: { webhookId?: string; headers?: Record<string, string> } = {}): Promise<ApiAnswer> {
  const raw = JSON.stringify(body);
  return call(endpoint(target, path), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...keyHeader(target), ...signedDelivery(target, raw, options.webhookId), ...options.headers },
    body: raw,
  });
}

/**
 * A CSV job: the options go as query parameters, and the Standard Webhooks payload is the options block
 * followed by the CSV (csvSigningPayload), so that the options are signed too.
 */
export async function postBulkCsv(
  target: ApiTarget,
  csv: string | Uint8Array,
  options: Partial<Record<CsvOption, string>>,
  delivery: { webhookId?: string; headers?: Record<string, string> } = {},
): Promise<ApiAnswer> {
  const body = typeof csv === 'string' ? Buffer.from(csv, 'utf8') : Buffer.from(csv);
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(options)) if (value !== undefined && value !== '') query[name] = value;
  return call(endpoint(target, 'bulk', query), {
    method: 'POST',
    headers: { 'content-type': 'text/csv; charset=utf-8', ...keyHeader(target), ...signedDelivery(target, csvSigningPayload(query, body), delivery.webhookId), ...delivery.headers },
    body,
  });
}

/**
 * Any method on a signed route (the schedules): a JSON body when given, else an empty one; either way
 * the exact bytes are signed with Standard Webhooks (webhook-timestamp bounds its age).
 */
export async function signedCall(target: ApiTarget, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: Record<string, unknown>): Promise<ApiAnswer> {
  const raw = body === undefined ? '' : JSON.stringify(body);
  return call(endpoint(target, path), {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...keyHeader(target), ...signedDelivery(target, raw) },
    ...(body === undefined ? {} : { body: raw }),
  });
}

export function getJson(target: ApiTarget, path: string, query: Record<string, string | undefined> = {}): Promise<ApiAnswer> {
  return call(endpoint(target, path, query), { method: 'GET', headers: keyHeader(target) });
}

/** An answer's body checked against what the caller relies on; a mismatch names the field. */
export function expectAnswer<T extends z.ZodTypeAny>(answer: ApiAnswer, schema: T, what: string): z.output<T> {
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`unexpected answer for ${what}: ${issue?.path.join('.') || 'body'} ${issue?.message ?? ''}`.trim());
  }
  return parsed.data;
}

export async function getText(target: ApiTarget, path: string, query: Record<string, string | undefined> = {}): Promise<string> {
  const answer = await call<string>(endpoint(target, path, query), { method: 'GET', headers: keyHeader(target) });
  return typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
}

export { csvOptionHeader };
