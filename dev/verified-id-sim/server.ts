import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import QRCode from 'qrcode';
import { postCallback } from './callback-sender';
import { presentationOutcome } from './presentation-outcome';
import { checkPresentationRequest } from './request-schema';
import { badField, serviceError, type ServiceError } from './service-errors';
import type { PresentScenario, RunningVerifiedIdSim, SimPresentation, VerifiedIdLogEntry, VerifiedIdSimOptions } from './types';
import { openPresentationFor, personRequestSchema, type PersonRequest } from './person-api';
import { SCENARIO_LABELS, scenarioFromForm, walletFormSchema, walletPage, type WalletOutcome } from './wallet-page';

export const DEFAULT_ISSUER = 'did:web:verifiedid.contoso.com';
export const DEFAULT_REQUEST_LIFETIME_SECONDS = 300;

const CREATE_PRESENTATION_PATH = '/v1.0/verifiableCredentials/createPresentationRequest';
const MAX_BODY = 1024 * 1024;
const REDACTED = '[redacted]';

/** A body over MAX_BODY: refused before it is read to the end. */
class BodyTooLarge extends Error {}

/**
 * A local stand-in for the Microsoft Entra Verified ID Request Service (presentation requests only) and
 * for the person's Microsoft Authenticator. It speaks the documented API: createPresentationRequest with the
 * service's validation and error bodies, and the request_retrieved / presentation_verified /
 * presentation_error callbacks sent to the app with the headers the app named. Local only: it binds to
 * 127.0.0.1.
 */
export async function startVerifiedIdSimulator(options: VerifiedIdSimOptions = {}): Promise<RunningVerifiedIdSim> {
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  if (!/^did:[a-z0-9]+:\S+$/.test(issuer)) throw new Error(`verified-id-sim: issuer must be a DID, got "${issuer}"`);
  const lifetimeSeconds = options.requestLifetimeSeconds ?? DEFAULT_REQUEST_LIFETIME_SECONDS;
  if (!(lifetimeSeconds > 0)) throw new Error('verified-id-sim: requestLifetimeSeconds must be above 0');

  const requestLog: VerifiedIdLogEntry[] = [];
  const presentations = new Map<string, SimPresentation>();
  const inFlight = new Set<string>();
  const walletOutcomes: WalletOutcome[] = [];
  // Proves a wallet form came from the wallet page (another site cannot read it to learn the token).
  const formToken = randomBytes(32).toString('base64url');
  let origin = '';

  const present = async (requestId: string, scenario: PresentScenario): Promise<{ statuses: number[]; sent: string }> => {
    const presentation = presentations.get(requestId);
    if (!presentation) throw new Error(`verified-id-sim: no presentation request ${requestId}`);
    if (presentation.status === 'verified' || presentation.status === 'error') {
      throw new Error(`verified-id-sim: presentation request ${requestId} is finished (${presentation.status}); it cannot be presented again`);
    }
    if (Date.now() >= Date.parse(presentation.expiresAt)) throw new Error(`verified-id-sim: presentation request ${requestId} expired at ${presentation.expiresAt}`);
    if (inFlight.has(requestId)) throw new Error(`verified-id-sim: presentation request ${requestId} is being presented`);
    inFlight.add(requestId);
    try {
      const outcome = presentationOutcome(requestId, presentation.body, scenario, issuer, new Date());
      const { url, state } = presentation.body.callback;
      const headers = presentation.body.callback.headers ?? {};
      const retrieved = await postCallback(url, { requestId, requestStatus: 'request_retrieved', state }, headers);
      // The service has finished the presentation by the time it reports the result ('retrieved' for a forged one).
      presentation.status = outcome.finalStatus;
      const finalHeaders = outcome.apiKey !== undefined ? withApiKey(headers, outcome.apiKey) : headers;
      const finished = await postCallback(url, outcome.body, finalHeaders);
      return { statuses: [retrieved, finished], sent: String(outcome.body.requestStatus) };
    } finally {
      inFlight.delete(requestId);
    }
  };

  const createPresentationRequest = async (req: IncomingMessage, parsed: ParsedBody): Promise<Answer> => {
    const authorization = req.headers.authorization;
    if (options.requireToken && !(typeof authorization === 'string' && /^Bearer\s+\S+/i.test(authorization))) {
      return errorAnswer(serviceError(401, { code: 'tokenError', message: 'The request has no bearer access token.', target: 'Authorization' }));
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/json') {
      return errorAnswer(serviceError(415, { code: 'badOrMissingField', message: 'The request body must be sent as application/json.', target: 'Content-Type' }));
    }
    if (!parsed.ok) return errorAnswer(badField('body', 'The request contains `body`, but it is not valid JSON.'));
    const checked = checkPresentationRequest(parsed.value);
    if (!checked.ok) return errorAnswer(badField(checked.target, checked.message));

    const requestId = randomUUID();
    const created = new Date();
    const expires = new Date(created.getTime() + lifetimeSeconds * 1000);
    // The documented shape: a deep link for Authenticator whose request_uri points at the service.
    const url = `openid-vc://?request_uri=${origin}/v1.0/tenant/verifiableCredentials/presentationRequests/${requestId}`;
    presentations.set(requestId, { requestId, body: checked.body, createdAt: created.toISOString(), expiresAt: expires.toISOString(), status: 'created' });
    const answer: Record<string, unknown> = { requestId, url, expiry: Math.floor(expires.getTime() / 1000) };
    if (checked.body.includeQRCode === true) answer.qrCode = await QRCode.toDataURL(url);
    return { status: 201, body: answer };
  };

  const serveApi = async (req: IncomingMessage, res: ServerResponse, path: string, method: string) => {
    let answer: Answer;
    let parsed: ParsedBody = { ok: false };
    try {
      parsed = parseJson(await readBody(req));
      if (path === CREATE_PRESENTATION_PATH) {
        answer =
          method === 'POST'
            ? await createPresentationRequest(req, parsed)
            : { ...errorAnswer(serviceError(405, { code: 'badOrMissingField', message: `${method} is not supported here; use POST.` })), headers: { Allow: 'POST' } };
      } else {
        answer = errorAnswer(serviceError(404, { code: 'notFound', message: 'The stand-in serves only POST /v1.0/verifiableCredentials/createPresentationRequest.', target: path }));
      }
    } catch (error) {
      answer =
        error instanceof BodyTooLarge
          ? errorAnswer(serviceError(413, { code: 'badOrMissingField', message: `The request contains \`body\`, but it is over ${MAX_BODY} bytes.`, target: 'body' }))
          : errorAnswer(serviceError(500, { code: 'transientError', message: 'The stand-in failed on this request.' }));
    }
    requestLog.push({
      at: new Date().toISOString(),
      method,
      path,
      status: answer.status,
      body: parsed.ok ? redactCallbackHeaders(parsed.value) : null,
      authorization: req.headers.authorization !== undefined,
    });
    sendJson(res, answer.status, answer.body, answer.headers);
  };

  const serveWallet = async (req: IncomingMessage, res: ServerResponse, path: string, method: string) => {
    if (path === '/wallet' || path === '/wallet/') {
      if (method !== 'GET') return sendText(res, 405, 'Method not allowed.', { Allow: 'GET' });
      const now = new Date();
      const open = [...presentations.values()].filter((p) => (p.status === 'created' || p.status === 'retrieved') && Date.parse(p.expiresAt) > now.getTime());
      return sendHtml(res, 200, walletPage(open, walletOutcomes, formToken, now));
    }
    const match = /^\/wallet\/([^/]+)\/present$/.exec(path);
    if (!match) return sendText(res, 404, 'Not found.');
    if (method !== 'POST') return sendText(res, 405, 'Method not allowed.', { Allow: 'POST' });
    let bodyText: string;
    try {
      bodyText = await readBody(req);
    } catch {
      return sendText(res, 413, 'The form is too large.');
    }
    const fields = new URLSearchParams(bodyText);
    if (!sameSecret(fields.get('token') ?? '', formToken)) return sendText(res, 403, 'This form did not come from the wallet page. Open the wallet page and use its buttons.');
    const form = walletFormSchema.safeParse(Object.fromEntries(fields));
    if (!form.success) return sendText(res, 400, 'The form names no scenario the wallet knows.');
    const requestId = safeDecode(match[1]!);
    const presentation = requestId === undefined ? undefined : presentations.get(requestId);
    if (!presentation || requestId === undefined) return sendText(res, 404, 'No such presentation request.');
    const scenario = scenarioFromForm(form.data, presentation);
    let result: string;
    try {
      const done = await present(requestId, scenario);
      result = `${done.sent} sent; the app answered ${done.statuses.map((s) => (s === 0 ? 'nothing (unreachable)' : String(s))).join(' and ')}`;
    } catch (error) {
      result = `not presented: ${error instanceof Error ? error.message : String(error)}`;
    }
    walletOutcomes.push({ at: new Date().toISOString(), requestId, scenario: SCENARIO_LABELS[form.data.scenario], result });
    if (walletOutcomes.length > 50) walletOutcomes.shift();
    res.writeHead(303, { Location: '/wallet', 'Cache-Control': 'no-store' }).end();
  };

  const servePerson = async (req: IncomingMessage, res: ServerResponse, _path: string, method: string): Promise<void> => {
    if (method !== 'POST') return sendText(res, 405, 'POST a JSON body {"upn", "scenario"}');
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) return sendText(res, 415, 'JSON only');
    let body: PersonRequest;
    try {
      body = personRequestSchema.parse(JSON.parse(await readBody(req)));
    } catch {
      return sendJson(res, 400, { error: 'send {"upn": "<the person>", "scenario": "self" | "someone-else" | "revoked" | "low-score" | "decline", "as"?: "<upn>"}' });
    }
    const presentation = openPresentationFor(presentations, body.upn, new Date());
    if (!presentation) return sendJson(res, 404, { error: `no open presentation request names ${body.upn}` });
    const scenario: PresentScenario =
      body.scenario === 'someone-else' ? { kind: 'someone-else', upn: body.as ?? `someone.else@${body.upn.split('@')[1] ?? 'contoso.com'}` } : body.scenario === 'decline' ? { kind: 'error' } : { kind: body.scenario };
    try {
      const outcome = await present(presentation.requestId, scenario);
      return sendJson(res, 200, { requestId: presentation.requestId, statuses: outcome.statuses });
    } catch (error) {
      return sendJson(res, 409, { error: error instanceof Error ? error.message : String(error) });
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = (req.method ?? 'GET').toUpperCase();
    const route = url.pathname === '/wallet' || url.pathname.startsWith('/wallet/') ? serveWallet : url.pathname === '/_stand-in/present' ? servePerson : serveApi;
    route(req, res, url.pathname, method).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'The stand-in failed on this request.');
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    endpoint: `${origin}/v1.0`,
    walletUrl: `${origin}/wallet`,
    requestLog,
    presentations,
    present: async (requestId, scenario) => ({ statuses: (await present(requestId, scenario)).statuses }),
    sendCallback: async (requestId, body, headers) => {
      const presentation = presentations.get(requestId);
      if (!presentation) throw new Error(`verified-id-sim: no presentation request ${requestId}`);
      return postCallback(presentation.body.callback.url, body, headers ?? presentation.body.callback.headers ?? {});
    },
    resetLog: () => {
      requestLog.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type ParsedBody = { ok: true; value: unknown } | { ok: false };

function errorAnswer(error: ServiceError): Answer {
  return { status: error.status, body: error.body };
}

function parseJson(text: string): ParsedBody {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The request's callback headers with the api-key replaced (names compare case-blind, as HTTP's do). */
function withApiKey(headers: Record<string, string>, apiKey: string): Record<string, string> {
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'api-key'));
  return { ...kept, 'api-key': apiKey };
}

/** The body for the log: the callback header values (the api-key, a bearer token) never reach it. */
function redactCallbackHeaders(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const callback = (body as Record<string, unknown>).callback;
  if (typeof callback !== 'object' || callback === null || Array.isArray(callback)) return body;
  const headers = (callback as Record<string, unknown>).headers;
  if (typeof headers !== 'object' || headers === null) return body;
  const redacted = Array.isArray(headers) ? headers.map(() => REDACTED) : Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED]));
  return { ...body, callback: { ...callback, headers: redacted } };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
}

const PAGE_HEADERS = {
  // No scripts, no external assets, inline styles only; forms post to this origin; never framed.
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(html)) }).end(html);
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...PAGE_HEADERS, ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
}
