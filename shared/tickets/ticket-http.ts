import type { z } from 'zod';
import { parseRetryAfter } from '../graph/http';

/**
 * One call to a ticket system, sorted into what the outbox does next:
 *  - `ok`: the answer, checked against its schema;
 *  - `retry`: 429, 5xx, no answer, or an answer that does not parse; `uncertain` when the call may have
 *    taken effect without us hearing so (no answer, or a 5xx after the body was sent);
 *  - `refused`: any other 4xx (bad credentials, no permission, no such record) or a redirect (never
 *    followed: credentials and notes go only where the settings say): recorded, never retried.
 * Messages hold the status and the system's own error text, clipped; never a header, token or body we sent.
 */
export type CallOutcome<T> =
  | { kind: 'ok'; status: number; body: T }
  | { kind: 'retry'; status?: number; retryAfterSeconds?: number; uncertain: boolean; message: string }
  | { kind: 'refused'; status: number; message: string };

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TicketCall<T> {
  system: string;
  url: string;
  method: 'GET' | 'POST' | 'PATCH';
  headers: Record<string, string>;
  body?: string;
  schema: z.ZodType<T>;
  timeoutMs: number;
  fetch?: FetchLike;
  /** Callbacks: any 2xx is success, whatever its body (the schema then sees undefined). */
  anyBody?: boolean;
}

export async function callTicketSystem<T>(call: TicketCall<T>): Promise<CallOutcome<T>> {
  const send = call.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  let response: Response;
  try {
    response = await send(call.url, {
      method: call.method,
      headers: call.headers,
      ...(call.body !== undefined ? { body: call.body } : {}),
      // Credentials never follow a redirect to another host: a 3xx is answered as a refusal below.
      redirect: 'manual',
      signal: AbortSignal.timeout(call.timeoutMs),
    });
  } catch (error) {
    return { kind: 'retry', uncertain: call.method !== 'GET', message: `${call.system} did not answer: ${describe(error)}` };
  }
  const text = await response.text().catch(() => '');
  const status = response.status;
  if (status >= 200 && status < 300 && call.anyBody) {
    const parsed = call.schema.safeParse(undefined);
    if (parsed.success) return { kind: 'ok', status, body: parsed.data };
  }
  if (status >= 200 && status < 300) {
    let json: unknown = undefined;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        return { kind: 'retry', status, uncertain: call.method !== 'GET', message: `${call.system} answered ${status} with a body that is not JSON` };
      }
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return { kind: 'retry', status, uncertain: call.method !== 'GET', message: `${call.system} answered ${status} in an unexpected shape (${issue?.path.join('.') || 'body'}: ${issue?.message})` };
    }
    return { kind: 'ok', status, body: parsed.data };
  }
  if (status >= 300 && status < 400) {
    return { kind: 'refused', status, message: `${call.system} answered ${status} (a redirect${response.headers.get('location') ? ' elsewhere' : ''}); redirects are not followed: configure the final URL` };
  }
  const message = `${call.system} answered ${status}${errorText(text) ? `: ${errorText(text)}` : ''}`;
  if (status === 429 || status >= 500) {
    return { kind: 'retry', status, retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')), uncertain: status >= 500 && call.method !== 'GET', message };
  }
  return { kind: 'refused', status, message };
}

/** The error text of ServiceNow (`{error: {message, detail}}`), Jira (`{errorMessages, errors}`) or plain text, clipped. */
export function errorText(text: string): string {
  if (!text) return '';
  let out = '';
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = body.error;
    if (typeof error === 'object' && error !== null) {
      const { message, detail } = error as { message?: unknown; detail?: unknown };
      out = [message, detail].filter((part) => typeof part === 'string' && part !== '').join(': ');
    } else if (typeof error === 'string') {
      out = error;
    }
    if (!out && Array.isArray(body.errorMessages)) out = body.errorMessages.filter((m) => typeof m === 'string').join('; ');
    if (!out && typeof body.errors === 'object' && body.errors !== null) {
      out = Object.entries(body.errors as Record<string, unknown>).map(([field, m]) => `${field}: ${String(m)}`).join('; ');
    }
    if (!out && typeof body.message === 'string') out = body.message;
  } catch {
    out = /<html/i.test(text) ? '' : text;
  }
  return out.replace(/\s+/g, ' ').trim().slice(0, 300);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
