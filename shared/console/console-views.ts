import type { Settings } from '../config';
import { passGoesToVerifiedPerson } from '../verification/pass-routing';
import { verificationView } from '../verification/verification-view';
import { z } from 'zod';
import type { AuditEntry } from '../audit/audit-entry';
import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import { presentedStatus, redact, statusView } from '../intake/status-service';
import { isRequestId, REQUEST_SOURCES, REQUEST_STATUSES, type StoredRequest } from '../requests/request-row';
import type { RequestStores } from '../request-stores';
import { auditHeadOf } from '../worker/request-view';
import type { SignedInPerson } from './person-gate';
import { assigneeNote, lastHandover } from './reveal-pass';
import { finishView } from '../finish/finish-service';
import { requestSummary } from './request-summary';
import { displayName } from '../approvals/identity';
import { clipAtWord } from '../clip-text';
import type { ScheduleStore } from '../schedules/schedule-store';

const NO_STORE = { 'cache-control': 'no-store' };
const DAY_MS = 24 * 3600_000;

const dateParam = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)), 'must be a real date');

/** Filters of the request list; every one optional. Dates are whole UTC days, `to` included. */
export const requestListQuerySchema = z.object({
  status: z.enum(REQUEST_STATUSES).optional(),
  source: z.enum(REQUEST_SOURCES).optional(),
  ticket: z.string().trim().max(128).optional(),
  upn: z.string().trim().max(256).optional(),
  from: dateParam.optional(),
  to: dateParam.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export type RequestListQuery = z.input<typeof requestListQuerySchema>;

/** `GET /api/console/requests`: recent requests, newest first; the last 7 days unless `from` says otherwise. */
export async function listRequests(query: Record<string, string | undefined>, deps: Pick<RequestStores, 'store'> & { schedules?: Pick<ScheduleStore, 'list'> }, now = new Date()): Promise<HttpAnswer> {
  const parsed = requestListQuerySchema.safeParse(dropEmpty(query));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
    return errorAnswer(400, 'invalid_request', problems.map((p) => `${p.path} ${p.message}`).join('; '), problems, NO_STORE);
  }
  const filters = parsed.data;
  const to = filters.to ? new Date(Date.parse(`${filters.to}T00:00:00Z`) + DAY_MS) : new Date(now.getTime() + 60_000);
  const from = filters.from ? new Date(`${filters.from}T00:00:00Z`) : new Date(to.getTime() - 7 * DAY_MS);
  if (from >= to) return errorAnswer(400, 'invalid_request', 'from must be on or before to', [{ path: 'from', message: 'after to' }], NO_STORE);
  // Ticket and UPN match anywhere in the value, case-insensitively: Table queries have no "contains", so
  // the date range, status and source narrow the scan and these two filter what it returns.
  const rows = await deps.store.listCreatedBetween(from, to, { status: filters.status, source: filters.source, limit: 5000 });
  const ticket = filters.ticket?.toLowerCase();
  const upn = filters.upn?.toLowerCase();
  const matching = rows.filter(
    (row) => (!ticket || row.ticketId.toLowerCase().includes(ticket)) && (!upn || (row.targetUpn ?? row.targetObjectId ?? '').toLowerCase().includes(upn)),
  );
  const scheduleNames = new Map<string, string>();
  if (deps.schedules && matching.some((row) => row.ticketSystem === 'schedule')) {
    for (const schedule of await deps.schedules.list().catch(() => [])) scheduleNames.set(schedule.id, schedule.name);
  }
  return jsonAnswer(
    200,
    {
      filters: { ...filters, from: from.toISOString(), to: to.toISOString() },
      items: matching.slice(0, filters.limit).map((row) => listItem(row, scheduleNames)),
      more: matching.length > filters.limit,
    },
    NO_STORE,
  );
}

/**
 * One line of the list: the reason cut at a word (the page has it whole), who asked and who approved by
 * name, and for a schedule's own rows the schedule's name instead of its generated ticket id.
 */
function listItem(row: StoredRequest, scheduleNames: ReadonlyMap<string, string>) {
  const scheduleId = row.ticketSystem === 'schedule' && row.ticketId.startsWith('schedule-') ? row.ticketId.slice('schedule-'.length) : undefined;
  const scheduleName = scheduleId ? scheduleNames.get(scheduleId) ?? noticeScheduleName(row) : undefined;
  return {
    id: row.id,
    status: presentedStatus(row),
    ...(row.statusReason && row.trusted ? { statusReason: clipAtWord(row.statusReason.replace(/\s+/g, ' '), 160) } : {}),
    source: row.source,
    ticket: { system: row.ticketSystem, id: row.ticketId, ...(row.ticketUrl ? { url: row.ticketUrl } : {}), ...(scheduleName ? { label: `schedule "${scheduleName}"` } : {}) },
    // A schedule's notice that a run reset nobody is about the run, not about one user.
    target: row.targetUpn ?? row.targetObjectId ?? (row.source === 'schedule' ? null : 'unknown'),
    requestedBy: displayName(row.requestedBy),
    ...(row.approvedBy ? { approvedBy: displayName(row.approvedBy) } : {}),
    temporaryAccessPass: row.temporaryAccessPass !== undefined,
    dryRun: row.dryRun,
    ...(row.bulkJobId ? { bulkJobId: row.bulkJobId } : {}),
    ...(row.previousRequestId ? { previousRequestId: row.previousRequestId } : {}),
    ...(row.trusted && row.finish ? { finishing: true } : {}),
    createdAt: row.createdAt,
    ...(row.completedAt ? { completedAt: row.completedAt } : {}),
  };
}

function noticeScheduleName(row: StoredRequest): string | undefined {
  try {
    const parsed = JSON.parse(row.result ?? '{}') as { schedule?: { name?: unknown } };
    return typeof parsed.schedule?.name === 'string' ? parsed.schedule.name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `GET /api/console/requests/{id}`: what the machine status route shows (redacted the same way), the
 * audit timeline with its chain verified against the head the row recorded, the methods before and
 * after, and the pass: asked for, waiting, or taken and by whom.
 */
export async function requestDetail(
  id: string,
  person: SignedInPerson,
  deps: Pick<RequestStores, 'store' | 'audit' | 'passes' | 'secrets'> & { settings: Pick<Settings, 'VERIFICATION_REQUIRED' | 'CONSOLE_BASE_URL'> },
): Promise<HttpAnswer> {
  const row = isRequestId(id) ? await deps.store.get(id) : undefined;
  if (!row) return errorAnswer(404, 'not_found', 'no reset request has this id', undefined, NO_STORE);
  let entries: AuditEntry[] = [];
  let audit: { entries: unknown[]; verified: boolean; problem?: string };
  try {
    entries = await deps.audit.list(row.id);
    const verification = deps.audit.check(row.id, entries, auditHeadOf(row));
    audit = { entries: entries.map(auditView), verified: verification.ok, ...(verification.problem ? { problem: verification.problem } : {}) };
  } catch {
    // A trail that cannot be read is never shown as verified.
    audit = { entries: [], verified: false, problem: 'the audit trail could not be read' };
  }
  const verification = row.trusted ? await verificationView(row, deps.secrets, deps.settings.CONSOLE_BASE_URL) : undefined;
  const base = statusView(row, audit, verification);
  const goesTo = passGoesToVerifiedPerson(row, deps.settings);
  const waiting = row.temporaryAccessPass && deps.passes ? await deps.passes.waiting(row.id) : undefined;
  // A later request's pass for the same user voided this one: say so rather than "none waiting".
  const superseded = row.temporaryAccessPass && deps.passes && !waiting ? await deps.passes.supersededBy(row.id) : undefined;
  const handover = lastHandover(entries);
  const assignee = assigneeNote(row, person);
  const finish = finishView(row, person);
  const methods = methodsBeforeAfter(base.result);
  const passState = {
    requested: row.temporaryAccessPass !== undefined,
    waiting: waiting !== undefined,
    ...(waiting ? { expiresAt: waiting.expiresAt } : {}),
    ...(handover ? { collected: handover } : {}),
    ...(superseded ? { superseded } : {}),
    canReveal: person.roles.includes('collector') && waiting !== undefined && goesTo === undefined,
    ...(goesTo ? { goesTo } : {}),
    ticketAssignee: assignee.view,
  };
  const linkedId = finish?.asked?.requestId;
  const linked = linkedId && isRequestId(linkedId) ? await deps.store.get(linkedId).catch(() => undefined) : undefined;
  return jsonAnswer(
    200,
    {
      ...base,
      methods,
      summary: requestSummary(row, presentedStatus(row), methods, passState, finish, linked ? presentedStatus(linked) : undefined),
      pass: passState,
      ...(finish ? { finish } : {}),
    },
    NO_STORE,
  );
}

function auditView(entry: AuditEntry) {
  return redact({
    seq: entry.seq,
    at: entry.at,
    action: entry.action,
    outcome: entry.outcome,
    detail: entry.detail,
    actor: entry.actor,
    graphRequestIds: entry.graphRequestIds,
    hash: entry.hash,
  });
}

const resultSchema = z
  .object({
    snapshot: z.object({ methods: z.array(z.object({ id: z.string(), kind: z.string(), detail: z.string() })) }).optional(),
    methods: z.array(z.object({ id: z.string(), kind: z.string(), detail: z.string(), outcome: z.string(), isDefault: z.boolean().optional(), reason: z.string().optional() })).optional(),
  })
  .passthrough();

const GONE = new Set(['deleted', 'already-gone']);

/** Each method registered before the reset, and whether it is still there after (from the engine's verified result). */
function methodsBeforeAfter(result: unknown) {
  const parsed = resultSchema.safeParse(result);
  if (!parsed.success) return [];
  const outcomes = new Map((parsed.data.methods ?? []).map((method) => [method.id, method]));
  return (parsed.data.snapshot?.methods ?? []).map((method) => {
    const done = outcomes.get(method.id);
    return {
      kind: method.kind,
      detail: method.detail,
      outcome: done?.outcome ?? 'kept',
      after: done && GONE.has(done.outcome) ? 'removed' : 'registered',
      ...(done?.isDefault ? { isDefault: true } : {}),
      ...(done?.reason ? { reason: done.reason } : {}),
    };
  });
}

function dropEmpty(query: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value.trim() !== '') out[key] = value;
  return out;
}
