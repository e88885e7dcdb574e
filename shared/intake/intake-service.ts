import type { Settings } from '../config';
import { targetKey } from '../requests/canonical-request';
import type { RequestRow } from '../requests/request-row';
import type { RequestStore } from '../requests/request-store';
import type { ResetQueue } from '../requests/reset-queue';
import type { AdaptedRequest, Adapter } from './adapter';
import { errorAnswer, IntakeRefusal, jsonAnswer, refused, type HttpAnswer } from './answer';
import { canonicalAdapter } from './canonical';
import { jiraAdapter } from './jira';
import { requestIdFor } from './request-id';
import { serviceNowAdapter } from './servicenow';
import { authenticate, type Authentication, type HeaderLookup, type IntakeSource } from './signature';
import { checkTarget } from './target-checks';
import { checkSignedTimestamp } from './timestamp';

/** Bodies above this are refused before anything else is read from them. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface IntakeLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface IntakeDependencies {
  settings: Settings;
  store: RequestStore;
  queue: ResetQueue;
  log?: IntakeLog;
  now?: () => Date;
}

export interface IntakeInput {
  source: IntakeSource;
  /** The body exactly as received: the signature covers these bytes. */
  body: Uint8Array;
  headers: HeaderLookup;
  /** The URL the request came to; its origin makes statusUrl absolute. */
  url?: string;
}

/** The answer to a new or repeated request: 202 the first time, 200 with the same body after. */
export interface AcceptedBody {
  id: string;
  status: 'accepted';
  statusUrl: string;
}

const ADAPTERS: Record<IntakeSource, Adapter> = {
  jira: jiraAdapter,
  servicenow: serviceNowAdapter,
  generic: canonicalAdapter,
};

const silent: IntakeLog = { info: () => undefined, warn: () => undefined };

/**
 * The webhook intake: size, media type, signature, JSON, freshness, the source's shape, offline
 * refusals, then a conditional insert of the row and, once it exists, the queue message. Never throws:
 * every outcome is an answer, and nothing is acknowledged that was not stored.
 */
export async function receiveResetRequest(input: IntakeInput, deps: IntakeDependencies): Promise<HttpAnswer> {
  const log = deps.log ?? silent;
  let demoHeaders: Record<string, string> = {};
  try {
    checkSize(input);
    checkMediaType(input.headers);

    const auth = authenticate(input.source, input.body, input.headers, deps.settings);
    if (auth.mode === 'demo-unsigned') {
      demoHeaders = { 'x-demo-mode': 'unsigned-accepted' };
      log.warn(demoWarning(input.source, auth));
    }

    const body = parseJson(input.body);
    checkSignedTimestamp(body.timestamp, (deps.now ?? (() => new Date()))());
    const adapted = ADAPTERS[input.source]({ body, headers: input.headers, settings: deps.settings });
    checkTarget(adapted.request.target, deps.settings.TENANT_DOMAINS);
    checkApproval(adapted, deps.settings);
    checkPassHandover(adapted, deps.settings);

    const answer = await store(adapted, input, deps, log);
    return { ...answer, headers: { ...answer.headers, ...demoHeaders } };
  } catch (error) {
    if (error instanceof IntakeRefusal) {
      log.info(`intake ${input.source}: ${error.status} ${error.code}`);
      return error.toAnswer(demoHeaders);
    }
    log.warn(`intake ${input.source}: unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return errorAnswer(500, 'internal_error', 'the request could not be processed; nothing was stored', undefined, demoHeaders);
  }
}

async function store(adapted: AdaptedRequest, input: IntakeInput, deps: IntakeDependencies, log: IntakeLog): Promise<HttpAnswer> {
  const id = requestIdFor(adapted.idempotencyKey);
  const row = newRow(id, adapted, (deps.now ?? (() => new Date()))());
  const ticket = `${adapted.request.ticket.system} ${adapted.request.ticket.id}`;

  let created: boolean;
  try {
    ({ created } = await deps.store.create(row));
  } catch (error) {
    log.warn(`intake ${input.source}: ${ticket} not stored, answering 503: ${error instanceof Error ? error.message : String(error)}`);
    return errorAnswer(
      503,
      'storage_unavailable',
      'the request could not be stored, so it was not accepted; send it again later',
      undefined,
      { 'retry-after': '30' },
    );
  }

  const body: AcceptedBody = { id, status: 'accepted', statusUrl: statusUrl(id, input.url) };
  if (!created) {
    log.info(`intake ${input.source}: ${ticket} repeats request ${id}, answering 200`);
    return jsonAnswer(200, body, { 'x-idempotent-replay': 'true', location: body.statusUrl });
  }

  try {
    await deps.queue.send(id);
  } catch (error) {
    // The row is stored and stays `accepted`; the sweeper re-drives accepted rows from the table.
    log.warn(`intake ${input.source}: request ${id} stored but not queued (left for the sweeper): ${error instanceof Error ? error.message : String(error)}`);
  }
  log.info(`intake ${input.source}: ${ticket} accepted as request ${id}`);
  return jsonAnswer(202, body, { location: body.statusUrl });
}

export function newRow(id: string, adapted: AdaptedRequest, now: Date): RequestRow {
  const { request } = adapted;
  const time = now.toISOString();
  return {
    id,
    idempotencyKey: adapted.idempotencyKey,
    source: adapted.source,
    deliveryId: adapted.deliveryId,
    status: 'accepted',
    ticketSystem: request.ticket.system,
    ticketId: request.ticket.id,
    ticketUrl: request.ticket.url,
    ticketSysId: request.ticket.sysId,
    ticketTable: request.ticket.table,
    targetUpn: request.target.userPrincipalName,
    targetObjectId: request.target.objectId,
    requestedBy: request.requestedBy.name,
    requestedById: request.requestedBy.id,
    approvedBy: request.approvedBy,
    reason: request.reason,
    profile: request.profile,
    methods: request.methods,
    revokeSessions: request.revokeSessions,
    temporaryAccessPass: request.temporaryAccessPass,
    dryRun: request.dryRun,
    attempts: 0,
    createdAt: time,
    updatedAt: time,
  };
}

function checkSize(input: IntakeInput): void {
  const declared = Number(input.headers.get('content-length') ?? '');
  if ((Number.isFinite(declared) && declared > MAX_BODY_BYTES) || input.body.byteLength > MAX_BODY_BYTES) {
    throw new IntakeRefusal(413, 'body_too_large', `the body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  }
}

/** A pass Graph shows once is worthless if it cannot be kept safely until someone collects it. */
function checkPassHandover(adapted: AdaptedRequest, settings: Settings): void {
  if (adapted.request.temporaryAccessPass && !settings.TAP_SEALING_KEY) {
    throw refused(
      'pass_handover_unavailable',
      'a Temporary Access Pass was asked for, but this service has no TAP_SEALING_KEY to keep it until it is collected; ask without temporaryAccessPass, or have the key configured',
    );
  }
}

function checkMediaType(headers: HeaderLookup): void {
  const value = headers.get('content-type') ?? '';
  const [type, ...parameters] = value.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (type !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new IntakeRefusal(
      415,
      'unsupported_media_type',
      `the body must be JSON sent as Content-Type: application/json (UTF-8), not ${value === '' ? 'without a Content-Type' : `"${value.slice(0, 100)}"`}`,
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new IntakeRefusal(400, 'invalid_json', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : '';
    throw new IntakeRefusal(400, 'invalid_json', `the body is not valid JSON${detail}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IntakeRefusal(400, 'invalid_request', 'the body must be a JSON object', [{ path: '(body)', message: 'must be a JSON object' }]);
  }
  return value as Record<string, unknown>;
}

function checkApproval(adapted: AdaptedRequest, settings: Settings): void {
  if (!settings.REQUIRE_APPROVAL || adapted.request.approvedBy) return;
  const ticket = adapted.request.ticket.id;
  const how: Record<AdaptedRequest['source'], string> = {
    servicenow: `${ticket} is not approved (its approval field is not "approved"); send it again once it is approved`,
    jira: `${ticket} has no approved Jira Service Management approval; send it again once it is approved`,
    generic: `approvedBy is missing; name who approved the reset`,
    bulk: 'the bulk job names no approver',
  };
  throw refused('approval_required', `approval is required for resets (REQUIRE_APPROVAL): ${how[adapted.source]}`, {
    target: targetKey(adapted.request.target),
  });
}

function statusUrl(id: string, requestUrl: string | undefined): string {
  const path = `/api/resets/${id}`;
  if (!requestUrl) return path;
  try {
    return new URL(path, new URL(requestUrl).origin).toString();
  } catch {
    return path;
  }
}

function demoWarning(source: IntakeSource, auth: Extract<Authentication, { mode: 'demo-unsigned' }>): string {
  return `!!! LOCAL DEMO MODE: accepted an UNSIGNED ${source} webhook because ${auth.setting} is not set. Anyone who can reach this endpoint can request MFA resets. Never run with LOCAL_DEMO_MODE=true outside a local demo. !!!`;
}
