import { createHash } from 'node:crypto';
import type { Settings } from '../config';
import { firstTime } from '../log';
import { errorAnswer, IntakeRefusal, jsonAnswer, refused, type HttpAnswer } from '../http/answer';
import { bulkApproval } from '../intake/approval-gate';
import { authenticate, type Authentication, type HeaderLookup } from '../intake/signature';
import { checkSignedTimestamp, FRESHNESS } from '../intake/timestamp';
import type { IntakeIndex } from '../requests/intake-index';
import type { RequestIntegrity } from '../requests/request-integrity';
import { actOnce } from '../intake/signed-once';
import { parseSignedJson } from '../http/signed-json';
import { signItems, signJob } from './bulk-integrity';
import { csvSigningPayload, MAX_BULK_BODY_BYTES, parseBulkCsv, parseBulkJson, readCsvOptions, type ParsedBulk } from './bulk-request';
import { itemsFor } from './bulk-items';
import { countItems, type BulkItem, type BulkJob } from './bulk-rows';
import type { BulkStore } from './bulk-store';
import { checkSizeConsent } from './bulk-consent';
import { expandGroup } from './group-expansion';
import type { GraphTransport } from '../graph/http';
import type { BeatKicker } from '../beats/beat-message';
import { MAX_BULK_USERS } from './bulk-request';
import { ACTIVE_JOB_STATUSES } from './bulk-rows';

export interface BulkSubmitInput {
  /** The body exactly as received. */
  body: Uint8Array;
  headers: HeaderLookup;
  /** The full request URL: CSV options may be in its query string, and statusUrl takes its origin. */
  url: string;
}

export interface BulkSubmitDependencies {
  settings: Settings;
  store: BulkStore;
  integrity: RequestIntegrity;
  /** Single-use records of signed calls: each webhook-id acts once (shared/intake/signed-once.ts). */
  index: IntakeIndex;
  /** Reads a group job's members before the answer, so its size is known (and consented to) then. */
  graph?: GraphTransport;
  /** Wakes the dispatcher for a job just stored (shared/beats); without it the safety net finds the job within 5 minutes. */
  beats?: BeatKicker;
  log?: { info(message: string): void; warn(message: string): void };
  now?: () => Date;
}

/** Row errors shown in the submission answer; all of them are in the job's status and CSV export. */
const ERRORS_IN_ANSWER = 50;

/**
 * `POST /api/bulk`: size, media type, signature (the generic source's secret and header); a group is
 * expanded here (Graph reads only), so that every job's size is known before it is accepted and a job
 * above BULK_CONFIRM_ABOVE needs `confirmUsers` equal to it (bulk-consent.ts); then the job and its
 * items are stored. The users confirmed are the users reset: membership changes after the answer do
 * not change the job. Nothing is released here: the dispatcher, woken now (shared/beats), releases users
 * at the job's pace. A repeat of the same job answers 200 without reading the group again.
 */
export async function receiveBulkJob(input: BulkSubmitInput, deps: BulkSubmitDependencies): Promise<HttpAnswer> {
  const now = (deps.now ?? (() => new Date()))();
  try {
    const declared = Number(input.headers.get('content-length') ?? '');
    if ((Number.isFinite(declared) && declared > MAX_BULK_BODY_BYTES) || input.body.byteLength > MAX_BULK_BODY_BYTES) {
      throw new IntakeRefusal(413, 'body_too_large', `the body is larger than ${MAX_BULK_BODY_BYTES / 1024 / 1024} MiB; split the job`);
    }
    const type = mediaType(input.headers);
    const url = new URL(input.url, 'http://localhost');
    const csvOptions = type === 'text/csv' ? readCsvOptions(url.searchParams, input.headers) : undefined;
    const signed = csvOptions ? csvSigningPayload(csvOptions, input.body) : input.body;
    const auth = authenticate('generic', signed, input.headers, deps.settings, now);
    if (auth.mode === 'demo-unsigned' && firstTime(deps.settings, 'demo-unsigned bulk')) deps.log?.warn('!!! LOCAL DEMO MODE: accepted an UNSIGNED bulk job because WEBHOOK_SECRET_GENERIC is not set !!!');
    const json = csvOptions ? undefined : parseSignedJson(input.body);
    if (json) checkSignedTimestamp(json.timestamp, now, auth.mode === 'demo-unsigned' ? FRESHNESS.unsigned : FRESHNESS.generic);
    // The signature covers neither method nor path: its webhook-id is bound to this submission and acts once.
    return await actOnce(auth, { call: 'POST /api/bulk', signed }, deps, now, () => accept(input, csvOptions, json, signed, auth, deps, now).catch(failure(deps)));
  } catch (error) {
    return failure(deps)(error);
  }
}

async function accept(
  input: BulkSubmitInput,
  csvOptions: ReturnType<typeof readCsvOptions> | undefined,
  json: Record<string, unknown> | undefined,
  signed: Uint8Array,
  auth: Authentication,
  deps: BulkSubmitDependencies,
  now: Date,
): Promise<HttpAnswer> {
  const url = new URL(input.url, 'http://localhost');
  let parsed: ParsedBulk;
  if (csvOptions) parsed = await parseBulkCsv(input.body, csvOptions);
  else if (json) parsed = parseBulkJson(json);
  else throw new IntakeRefusal(400, 'invalid_request', 'the body must be a JSON object or CSV');
  // The same second-person rule as single requests (approver ≠ requester, case-blind, by name and
  // id); each user's worker run compares the approver with that user by every name the directory has.
  bulkApproval(parsed.request.approvedBy, parsed.request.requestedBy, 'the bulk job', deps.settings.REQUIRE_APPROVAL);

  // The signed webhook-id is the job's idempotency key; its id is an HMAC of it (unpredictable).
  const webhookId = auth.mode === 'standard-webhooks' || auth.mode === 'demo-unsigned' ? auth.webhookId : undefined;
  const submissionDigest = createHash('sha256').update(signed).digest('hex');
  const id = deps.integrity.requestId(webhookId ? `bulk|delivery|${webhookId}` : `bulk|demo|${submissionDigest}`);
  const statusUrl = new URL(`/api/bulk/${id}`, url.origin).toString();
  const repeat = (job: BulkJob) => {
    if (job.submissionDigest !== undefined && job.submissionDigest !== submissionDigest) {
      throw refused(
        'idempotency_conflict',
        `webhook-id ${webhookId ?? ''} was used for bulk job ${job.id} with a different body; nothing was changed. Send a new job with a new webhook-id.`,
        { jobId: job.id, fields: ['(body)'] },
      );
    }
    return jsonAnswer(200, acceptedBody(job, statusUrl, []), { 'x-idempotent-replay': 'true', location: statusUrl });
  };
  // A repeat of a job that is still going wakes the dispatcher too, in case the first kick was lost.
  const kickIfActive = async (job: BulkJob) => {
    if (ACTIVE_JOB_STATUSES.includes(job.status)) await deps.beats?.kick('bulk');
  };
  const existing = await deps.store.getJob(id);
  if (existing) {
    const answer = repeat(existing);
    await kickIfActive(existing);
    return answer;
  }

  const expanded = parsed.kind === 'group' ? await expandAtIntake(id, parsed.request.groupId!, deps) : undefined;
  const { job, items } = buildBulkJob(id, parsed, deps.settings, deps.integrity, now, { submissionDigest, ...(expanded ? { expanded } : {}) });
  checkSizeConsent({ users: job.valid, rows: job.rows, kind: job.kind, ...(job.groupId ? { groupId: job.groupId } : {}) }, parsed.request.confirmUsers, deps.settings.BULK_CONFIRM_ABOVE);
  await deps.store.putItems(items);
  const { created, job: stored } = await deps.store.createJob(job);
  if (!created) {
    const answer = repeat(stored);
    await kickIfActive(stored);
    return answer;
  }
  await deps.beats?.kick('bulk');
  deps.log?.info(`bulk job ${id} accepted: ${job.kind}, ${job.valid} users, ${job.invalid} refused rows, ${job.ratePerMinute}/min${job.dryRun ? ', dry run' : ''}`);
  return jsonAnswer(202, acceptedBody(stored, statusUrl, items), { location: statusUrl });
}

const failure = (deps: BulkSubmitDependencies) => (error: unknown): HttpAnswer => {
  if (error instanceof IntakeRefusal) return error.toAnswer();
  if (error instanceof Error && error.name === 'StorageUnavailableError') {
    deps.log?.warn(`bulk submit: ${error.message}`);
    return errorAnswer(503, 'storage_unavailable', 'the job could not be stored, so it was not accepted; send it again later', undefined, { 'retry-after': '30' });
  }
  deps.log?.warn(`bulk submit: unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return errorAnswer(500, 'internal_error', 'the job could not be processed');
};

/**
 * The job and items a parsed bulk request becomes, each MAC'd as the dispatcher demands: the one
 * builder behind `POST /api/bulk` and the runs of schedules (shared/schedules).
 */
export function buildBulkJob(
  id: string,
  parsed: ParsedBulk,
  settings: Settings,
  integrity: RequestIntegrity,
  now: Date,
  extra: { submissionDigest?: string; expanded?: BulkItem[] } = {},
): { job: BulkJob; items: BulkItem[] } {
  const { expanded, ...fields } = extra;
  // A group not expanded yet (no caller does that any more) waits for the dispatcher to expand it.
  const items = parsed.kind === 'group' ? signItems(expanded ?? [], integrity) : signItems(itemsFor(id, parsed.rows, settings.TENANT_DOMAINS), integrity);
  const job = signJob({ ...newJob(id, parsed, items, settings, now, expanded !== undefined), ...fields }, integrity);
  return { job, items };
}

/**
 * A group's members at submission, or a refusal: the group is missing or unreadable (422, naming the
 * permission), Graph is throttling or down (503 with Retry-After: nothing was stored, send it again),
 * more members than a job takes, or none. Never a job whose size nobody knows.
 */
async function expandAtIntake(jobId: string, groupId: string, deps: BulkSubmitDependencies): Promise<BulkItem[]> {
  if (!deps.graph) throw new IntakeRefusal(503, 'graph_unavailable', 'group jobs cannot be taken here: the intake has no Graph client to count the group; nothing was stored');
  const expansion = await expandGroup(deps.graph, jobId, groupId.toLowerCase(), deps.settings.TENANT_DOMAINS, { limit: MAX_BULK_USERS });
  if (expansion.ok) {
    if (expansion.items.length === 0) throw refused('group_empty', `group ${groupId} has no user members (nested groups included); nothing to do, nothing was stored`);
    return expansion.items;
  }
  if (expansion.tooMany) throw refused('too_many_users', `${expansion.reason} Nothing was stored.`, { limit: MAX_BULK_USERS, ...(expansion.count !== undefined ? { count: expansion.count } : {}) });
  if (expansion.permanent) throw refused('group_unreadable', `${expansion.reason}; nothing was stored`, { fields: ['groupId'] });
  const seconds = expansion.retryAt ? Math.max(1, Math.ceil((expansion.retryAt.getTime() - Date.now()) / 1000)) : 30;
  deps.log?.warn(`bulk submit: group ${groupId} could not be counted now: ${expansion.reason}`);
  throw new IntakeRefusal(503, 'graph_unavailable', `the members of group ${groupId} could not be read from Graph just now (${expansion.reason.slice(0, 200)}), so the job's size is unknown and it was not accepted; send it again later`, undefined, {
    'retry-after': String(Math.min(seconds, 300)),
  });
}

function newJob(id: string, parsed: ParsedBulk, items: ReturnType<typeof itemsFor>, settings: Settings, now: Date, expanded: boolean): BulkJob {
  const { request } = parsed;
  const ticket = typeof request.ticket === 'string' ? { system: 'bulk', id: request.ticket } : request.ticket;
  const requester = typeof request.requestedBy === 'string' ? { name: request.requestedBy } : request.requestedBy;
  const counts = countItems(items);
  const time = now.toISOString();
  const scheduled = request.notBefore !== undefined && Date.parse(request.notBefore) > now.getTime();
  return {
    id,
    status: parsed.kind === 'group' && !expanded ? 'expanding' : scheduled ? 'scheduled' : 'running',
    kind: parsed.kind,
    groupId: request.groupId?.toLowerCase(),
    ticketSystem: ticket.system,
    ticketId: ticket.id,
    ticketUrl: ticket.url,
    requestedBy: requester.name,
    requestedById: requester.id,
    approvedBy: request.approvedBy,
    reason: request.reason === '' ? undefined : request.reason,
    profile: request.profile,
    ...(request.methods ? { methods: request.methods } : {}),
    revokeSessions: request.revokeSessions,
    dryRun: request.dryRun,
    ...(request.verification ? { verification: request.verification } : {}),
    ratePerMinute: Math.min(request.ratePerMinute ?? settings.BULK_RATE_PER_MINUTE, settings.BULK_RATE_PER_MINUTE),
    notBefore: request.notBefore ? new Date(request.notBefore).toISOString() : undefined,
    rows: items.length,
    valid: items.length - counts.invalid,
    invalid: counts.invalid,
    cursor: 0,
    released: 0,
    counts,
    credit: 0,
    createdAt: time,
    updatedAt: time,
  };
}

function acceptedBody(job: BulkJob, statusUrl: string, items: ReturnType<typeof itemsFor>) {
  const errors = items
    .filter((item) => item.status === 'invalid')
    .slice(0, ERRORS_IN_ANSWER)
    .map((item) => ({ row: item.row, userPrincipalName: item.userPrincipalName, code: item.errorCode, message: item.errorMessage }));
  return {
    id: job.id,
    status: job.status,
    statusUrl,
    dryRun: job.dryRun,
    ratePerMinute: job.ratePerMinute,
    ...(job.notBefore ? { notBefore: job.notBefore } : {}),
    totals: { rows: job.rows, valid: job.valid, invalid: job.invalid },
    ...(errors.length > 0 ? { errors } : {}),
  };
}

function mediaType(headers: HeaderLookup): 'application/json' | 'text/csv' {
  const value = headers.get('content-type') ?? '';
  const [type, ...parameters] = value.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if ((type === 'application/json' || type === 'text/csv') && (charset === undefined || charset === 'utf-8' || charset === 'utf8')) return type;
  throw new IntakeRefusal(
    415,
    'unsupported_media_type',
    `send the job as Content-Type: application/json or text/csv (UTF-8), not ${value === '' ? 'without a Content-Type' : `"${value.slice(0, 100)}"`}`,
  );
}
