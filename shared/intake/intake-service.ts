import type { Settings } from '../config';
import { firstTime } from '../log';
import { targetKey } from '../requests/canonical-request';
import type { IntakeIndex } from '../requests/intake-index';
import type { RequestIntegrity } from '../requests/request-integrity';
import type { RequestRow, RequestStatus, StoredRequest } from '../requests/request-row';
import type { RequestStore } from '../requests/request-store';
import type { ResetQueue } from '../requests/reset-queue';
import type { AdaptedRequest, Adapter } from './adapter';
import { errorAnswer, IntakeRefusal, jsonAnswer, refused, type HttpAnswer } from '../http/answer';
import { parseSignedJson } from '../http/signed-json';
import { canonicalAdapter } from './canonical';
import { jiraAdapter } from './jira';
import { idempotencyConflict } from './idempotency';
import { ticketLineage } from './request-id';
import { serviceNowAdapter } from './servicenow';
import { authenticate, type Authentication, type HeaderLookup, type IntakeSource } from './signature';
import { checkTarget } from './target-checks';
import { checkSignedTimestamp, FRESHNESS, type FreshnessRule } from './timestamp';

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
  /** Replay records and ticket lineage. */
  index: IntakeIndex;
  /** Request ids and row MACs under INTAKE_MAC_KEY. */
  integrity: RequestIntegrity;
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

/**
 * The answer to a new or repeated request: 202 the first time; 200 with the request's current status
 * for a repeat (the same signed bytes, the same idempotency key, or a new delivery for a ticket whose
 * request is still running or finished).
 */
export interface AcceptedBody {
  id: string;
  status: RequestStatus;
  statusUrl: string;
  /** A new attempt after a failed request of the same ticket and target: that request's id. */
  previousRequestId?: string;
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

    const now = (deps.now ?? (() => new Date()))();
    const auth = authenticate(input.source, input.body, input.headers, deps.settings, now);
    if (auth.mode === 'demo-unsigned') {
      demoHeaders = { 'x-demo-mode': 'unsigned-accepted' };
      // Said once per start (every answer carries x-demo-mode), not on every request.
      if (firstTime(deps.settings, `demo-unsigned ${input.source}`)) log.warn(demoWarning(input.source, auth));
    }

    const body = parseSignedJson(input.body);
    const signedAt = checkSignedTimestamp(body.timestamp, now, freshnessRule(input.source, auth));
    const adapted = ADAPTERS[input.source]({ body, headers: input.headers, settings: deps.settings, auth, signedAt });
    checkTarget(adapted.request.target, deps.settings.TENANT_DOMAINS);
    checkApproval(adapted, deps.settings);
    checkPassHandover(adapted, deps.settings);

    const answer = await store(adapted, auth, input, deps, log, now);
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

/** How long a replay record is kept: the source's freshness window plus the allowed clock skew. */
function replayWindowMs(rule: FreshnessRule): number {
  return rule.maxAgeMs + 5 * 60 * 1000;
}

function freshnessRule(source: IntakeSource, auth: Authentication): FreshnessRule {
  if (auth.mode === 'demo-unsigned') return FRESHNESS.unsigned;
  if (source === 'jira') return auth.mode === 'token' ? FRESHNESS['jira-token'] : FRESHNESS.jira;
  return FRESHNESS[source];
}

async function store(
  adapted: AdaptedRequest,
  auth: Authentication,
  input: IntakeInput,
  deps: IntakeDependencies,
  log: IntakeLog,
  now: Date,
): Promise<HttpAnswer> {
  const ticket = `${adapted.request.ticket.system} ${adapted.request.ticket.id}`;
  const replayKey = deps.integrity.indexKey('replay', auth.digest);
  const id = deps.integrity.requestId(adapted.idempotencyKey);
  const candidate = newRow(id, adapted, now, deps.integrity);
  const lineageKey = deps.integrity.indexKey('ticket', ticketLineage(adapted.source, adapted.request.ticket.system, adapted.request.ticket.id));
  const repeat = (row: StoredRequest, why: string) => {
    log.info(`intake ${input.source}: ${ticket} ${why} request ${row.id} (${row.status}), answering 200`);
    const body = acceptedBody(row, input.url);
    return jsonAnswer(200, body, { 'x-idempotent-replay': 'true', location: body.statusUrl });
  };

  let created: StoredRequest | undefined;
  let previous: StoredRequest | undefined;
  try {
    // 0. A ticket and target no delivery claimed before: the claim is one insert and the row a
    //    second, the only two storage round trips of a new request. Nothing can be a repeat then: a
    //    repeat of these signed bytes or of this idempotency key is for this same ticket and target,
    //    so its delivery made this claim first. The one exception, an idempotency key reused for
    //    another ticket or target, meets its row on the insert and is refused (422); the claim is
    //    taken back (and claimTicket ignores a claim left pointing at another ticket's request).
    const claimed = await deps.index.claimNewTicket(lineageKey, id, now);
    if (claimed !== undefined) {
      const result = await deps.store.create(candidate);
      if (!result.created) {
        await deps.index.releaseTicket(lineageKey, claimed).catch(() => undefined);
        return compareRepeat(result.request, candidate, repeat);
      }
      created = result.request;
    } else {
      // 1. The same signed bytes again, once answered with another delivery's request: that request,
      //    whatever unsigned headers changed (a delivery that made its own request finds it in 2).
      const replayed = await deps.index.replayOf(replayKey, now);
      const replayedRow = replayed ? await deps.store.get(replayed) : undefined;
      if (replayedRow) return repeat(replayedRow, 'replays the signed bytes of');

      // 2. The same idempotency key: the same request, if it asks for the same thing.
      const existing = await deps.store.get(id);
      if (existing) return compareRepeat(existing, candidate, repeat);

      // 3. A new delivery for this ticket and target: answer with its live request, or start a new
      //    attempt after a failed one.
      const claim = await claimTicket(lineageKey, id, candidate, deps, now);
      if (claim.outcome === 'live') {
        await remember(deps, replayKey, claim.request.id, now, auth, input.source, log);
        return repeat(claim.request, 'is a new delivery for the live');
      }
      previous = claim.previous;
      const row = previous ? { ...candidate, previousRequestId: previous.id } : candidate;
      const signed = { ...row, intakeMac: deps.integrity.rowMac(row) };
      const result = await deps.store.create(signed);
      if (!result.created) return compareRepeat(result.request, signed, repeat);
      created = result.request;
    }
  } catch (error) {
    if (error instanceof IntakeRefusal) throw error;
    if (error instanceof Error && error.name === 'StorageOutcomeUnknownError') {
      // The insert may have landed (request-store.ts settleUnknownInsert): a 503 would say "not stored".
      log.warn(`intake ${input.source}: ${ticket} outcome unknown, answering 504: ${error.message}`);
      return errorAnswer(
        504,
        'storage_outcome_unknown',
        'storage did not say whether the request was stored; send the same delivery again: if it was stored, the answer names it, otherwise it is stored then',
        undefined,
        { 'retry-after': '30' },
      );
    }
    log.warn(`intake ${input.source}: ${ticket} not stored, answering 503: ${error instanceof Error ? error.message : String(error)}`);
    return errorAnswer(
      503,
      'storage_unavailable',
      'the request could not be stored, so it was not accepted; send it again later',
      undefined,
      { 'retry-after': '30' },
    );
  }

  // No replay record for a request this delivery made: its id derives from the signed content, so
  // the same bytes again meet this row (step 2 above).
  if (previous) await linkNextAttempt(previous, created.id, deps, log);
  try {
    await deps.queue.send(created.id);
  } catch (error) {
    // The row is stored and stays `accepted`; the sweeper re-drives accepted rows from the table.
    log.warn(`intake ${input.source}: request ${created.id} stored but not queued (left for the sweeper): ${error instanceof Error ? error.message : String(error)}`);
  }
  log.info(`intake ${input.source}: ${ticket} accepted as request ${created.id}${previous ? ` (new attempt after failed ${previous.id})` : ''}`);
  const body = acceptedBody(created, input.url);
  return jsonAnswer(202, body, { location: body.statusUrl });
}

/** Statuses after which a new delivery for the same ticket and target starts a new attempt. */
const RETRYABLE: readonly RequestStatus[] = ['failed', 'planned'];

type TicketClaim = { outcome: 'new'; previous?: StoredRequest } | { outcome: 'live'; request: StoredRequest };

/**
 * How long a lineage claim whose request row is not (yet) there counts as another delivery's insert in
 * flight. Older than that, the insert failed after the claim and the ticket is free again.
 */
const CLAIM_IN_FLIGHT_MS = 30_000;

/**
 * Points the ticket's lineage at `id` unless its latest request is still live or finished otherwise.
 * Two deliveries for one ticket racing each other: the second sees the first's fresh claim without a row
 * yet, waits briefly for it, and otherwise answers 503 (not stored) rather than starting a second reset.
 */
async function claimTicket(key: string, id: string, candidate: RequestRow, deps: IntakeDependencies, now: Date): Promise<TicketClaim> {
  for (let attempt = 0; attempt < 6; attempt += 1) {
    const latest = await deps.index.latestOfTicket(key);
    if (!latest) {
      if (await deps.index.pointTicketAt(key, id, undefined, now)) return { outcome: 'new' };
      continue;
    }
    if (latest.requestId === id) return { outcome: 'new' };
    const found = await deps.store.get(latest.requestId);
    // A claim left pointing at another ticket's request (a refused key reuse whose release failed)
    // says nothing about this ticket: it is free.
    const request = found && sameLineage(found, candidate) ? found : undefined;
    if (found && !request) {
      if (await deps.index.pointTicketAt(key, id, latest.etag, now)) return { outcome: 'new' };
      continue;
    }
    // One approval, one person: the ticket was approved for the user its first request named.
    if (request && rowTargetKey(request) !== rowTargetKey(candidate)) throw targetChanged(candidate, request);
    if (request && !RETRYABLE.includes(request.status)) return { outcome: 'live', request };
    if (!request && now.getTime() - latest.claimedAt < CLAIM_IN_FLIGHT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    if (await deps.index.pointTicketAt(key, id, latest.etag, now)) return { outcome: 'new', previous: request };
  }
  throw new Error('another delivery for this ticket and target is being stored at the same moment');
}

/** Whether two requests are for the same ticket from the same source (ticketLineage's terms). */
function sameLineage(a: RequestRow, b: RequestRow): boolean {
  const lineage = (row: RequestRow) => ticketLineage(row.source, row.ticketSystem, row.ticketId);
  return lineage(a) === lineage(b);
}

/** The target as the ticket named it (targetKey's form), for rows. */
function rowTargetKey(row: RequestRow): string {
  return targetKey(row.targetObjectId !== undefined ? { objectId: row.targetObjectId } : { userPrincipalName: row.targetUpn ?? '' });
}

/**
 * A delivery naming another user on a ticket that already asked for a reset: the approval the ticket
 * carries was given for the first user (or the target field was edited after it). Jira's and
 * ServiceNow's payloads cannot prove which came first, so the rule is one user per ticket.
 */
function targetChanged(candidate: RequestRow, earlier: RequestRow): IntakeRefusal {
  return refused(
    'approval_target_changed',
    `${candidate.ticketSystem} ${candidate.ticketId} already asked for a reset of another user (request ${earlier.id}, ${earlier.status}); an approval covers only the one person it was given for, so this delivery was not accepted. Raise a new ticket for this user and have it approved there.`,
    { previousRequestId: earlier.id },
  );
}

function compareRepeat(existing: StoredRequest, candidate: RequestRow, repeat: (row: StoredRequest, why: string) => HttpAnswer): HttpAnswer {
  const conflict = idempotencyConflict(existing, candidate);
  if (conflict) throw conflict;
  return repeat(existing, 'repeats');
}

async function remember(
  deps: IntakeDependencies,
  replayKey: string,
  requestId: string,
  now: Date,
  auth: Authentication,
  source: IntakeSource,
  log: IntakeLog,
): Promise<void> {
  const expiresAt = new Date(now.getTime() + replayWindowMs(freshnessRule(source, auth))).toISOString();
  try {
    await deps.index.rememberReplay(replayKey, { requestId, expiresAt });
  } catch (error) {
    // The idempotency key (from signed content) still finds the same request; this record is a second net.
    log.warn(`intake ${source}: replay record for ${requestId} not written: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Marks the failed request with its successor, so that its status shows both; best effort. */
async function linkNextAttempt(previous: StoredRequest, nextId: string, deps: IntakeDependencies, log: IntakeLog): Promise<void> {
  try {
    const { etag, ...row } = previous;
    await deps.store.update({ ...row, nextRequestId: nextId }, etag);
  } catch (error) {
    log.warn(`intake: request ${previous.id} not linked to its new attempt ${nextId}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function acceptedBody(row: RequestRow, url: string | undefined): AcceptedBody {
  return {
    id: row.id,
    status: row.status,
    statusUrl: statusUrl(row.id, url),
    ...(row.previousRequestId ? { previousRequestId: row.previousRequestId } : {}),
  };
}

/** The row the intake stores, with its MAC when `integrity` is given (the intake MACs again after linking). */
export function newRow(id: string, adapted: AdaptedRequest, now: Date, integrity?: RequestIntegrity): RequestRow {
  const { request } = adapted;
  const time = now.toISOString();
  const row: RequestRow = {
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
    ...(request.callbackUrl !== undefined ? { callbackUrl: request.callbackUrl } : {}),
    ...(request.verification !== undefined ? { verificationAsked: request.verification } : {}),
    ...(request.ticket.assignee !== undefined ? { ticketAssignee: request.ticket.assignee } : {}),
    attempts: 0,
    createdAt: time,
    updatedAt: time,
  };
  return integrity ? { ...row, intakeMac: integrity.rowMac(row) } : row;
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

function checkApproval(adapted: AdaptedRequest, settings: Settings): void {
  if (!settings.REQUIRE_APPROVAL || adapted.request.approvedBy) return;
  const ticket = adapted.request.ticket.id;
  const how: Record<AdaptedRequest['source'], string> = {
    servicenow: `${ticket} is not approved (its approval field is not "approved"); send it again once it is approved`,
    jira: `${ticket} has no approved Jira Service Management approval; send it again once it is approved`,
    generic: `approvedBy is missing; name who approved the reset`,
    bulk: 'the bulk job names no approver',
    schedule: 'the schedule names no approver (approvedBy)',
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
