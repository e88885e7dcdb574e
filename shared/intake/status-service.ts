import type { AuditLog } from '../audit/audit-log';
import type { StoredRequest } from '../requests/request-row';
import { isRequestId } from '../requests/request-row';
import type { RequestStore } from '../requests/request-store';
import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import type { VerificationSecrets } from '../verification/verification-secrets';
import { verificationView } from '../verification/verification-view';

export interface StatusDependencies {
  store: RequestStore;
  audit: AuditLog;
  /** Derives the verification link shown for the person (shared/verification). */
  secrets?: VerificationSecrets;
  /** Where people reach the app (CONSOLE_BASE_URL): the verification link's origin. */
  baseUrl?: string;
  log?: { warn(message: string): void };
}

/**
 * `GET /api/resets/{id}`: status, ticket, target, options, plan, result and the audit trail of one
 * request. Nothing secret is in the row; the result and audit details are still filtered so that a
 * field named like a secret (a pass, token, password, signature) never leaves the service.
 */
export async function getResetStatus(id: string, deps: StatusDependencies): Promise<HttpAnswer> {
  const notFound = () => errorAnswer(404, 'not_found', `no reset request has the id ${id.slice(0, 64)}`);
  if (!isRequestId(id)) return notFound();
  let row: StoredRequest | undefined;
  let audit: AuditView;
  try {
    row = await deps.store.get(id);
    if (!row) return notFound();
    audit = await auditView(row, deps.audit).catch((error: unknown) => {
      deps.log?.warn(`status ${id}: audit trail unreadable: ${error instanceof Error ? error.message : String(error)}`);
      return { entries: [], verified: false, problem: 'the audit trail could not be read' };
    });
  } catch (error) {
    deps.log?.warn(`status ${id}: ${error instanceof Error ? error.message : String(error)}`);
    return errorAnswer(503, 'storage_unavailable', 'the request store cannot be read right now; try again later', undefined, {
      'retry-after': '10',
    });
  }
  const verification = row.trusted && deps.secrets ? await verificationView(row, deps.secrets, deps.baseUrl) : undefined;
  return jsonAnswer(200, statusView(row, audit, verification), { 'cache-control': 'no-store' });
}

interface AuditView {
  entries: unknown[];
  verified: boolean;
  problem?: string;
}

async function auditView(row: StoredRequest, audit: AuditLog): Promise<AuditView> {
  const entries = await audit.list(row.id);
  const head = row.auditSeq !== undefined && row.auditHash !== undefined ? { seq: row.auditSeq, hash: row.auditHash } : undefined;
  if (entries.length === 0 && !head) return { entries: [], verified: true };
  const verification = audit.check(row.id, entries, head);
  return {
    entries: entries.map((entry) =>
      redact({
        seq: entry.seq,
        at: entry.at,
        action: entry.action,
        outcome: entry.outcome,
        detail: entry.detail,
        actor: entry.actor,
        target: entry.target,
        graphRequestIds: entry.graphRequestIds,
        hash: entry.hash,
      }),
    ),
    verified: verification.ok,
    problem: verification.problem,
  };
}

export function statusView(row: StoredRequest, audit: AuditView, verification?: unknown): Record<string, unknown> {
  if (!row.trusted && !isQuarantined(row)) return unverifiedView(row, audit);
  const engineState = parseJson(row.engineState);
  return {
    id: row.id,
    status: row.status,
    statusReason: row.statusReason,
    source: row.source,
    ticket: { system: row.ticketSystem, id: row.ticketId, url: row.ticketUrl, sysId: row.ticketSysId, table: row.ticketTable },
    target: { userPrincipalName: row.targetUpn, objectId: row.targetObjectId },
    requestedBy: { name: row.requestedBy, id: row.requestedById },
    approvedBy: row.approvedBy,
    reason: row.reason,
    options: {
      profile: row.profile,
      methods: row.methods,
      revokeSessions: row.revokeSessions,
      temporaryAccessPass: row.temporaryAccessPass,
      dryRun: row.dryRun,
    },
    plan: redact(isObject(engineState) ? (engineState.plan ?? null) : null),
    result: redact(parseJson(row.result) ?? null),
    attempts: row.attempts,
    // Attempts from the same ticket and target: the failed one this retries, and the one that retried it.
    previousRequestId: row.previousRequestId,
    nextRequestId: row.nextRequestId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
    // What was posted to the ticket and mailed, and what failed (shared/tickets/outbox-state.ts).
    ticketUpdates: redact(parseJson(row.ticketUpdates) ?? null),
    ...(verification !== undefined ? { verification } : {}),
    audit,
  };
}

/** The status to show for a row: its own, or `unverified` when it fails its MAC check. */
export function presentedStatus(row: StoredRequest): string {
  return !row.trusted && !isQuarantined(row) ? 'unverified' : row.status;
}

/** The worker's own refusal of a row that failed its MAC: its status is the service's word, not the forger's. */
function isQuarantined(row: StoredRequest): boolean {
  return row.status === 'rejected' && (row.statusReason ?? '').startsWith('unauthenticated_row');
}

/**
 * A row that fails its MAC check (changed in storage since the service wrote it): its stored status,
 * plan and result are not the service's word, so none of them is presented as such. The request part
 * is shown so a person can find the ticket; the worker ends the row when it next sees it.
 */
function unverifiedView(row: StoredRequest, audit: AuditView): Record<string, unknown> {
  return {
    id: row.id,
    status: 'unverified',
    statusReason: `unauthenticated_row: this request row fails its MAC check (it was changed in storage), so its stored status "${String(row.status).slice(0, 40)}", plan and result cannot be trusted; nothing is done for it`,
    source: row.source,
    ticket: { system: row.ticketSystem, id: row.ticketId, url: row.ticketUrl, sysId: row.ticketSysId, table: row.ticketTable },
    target: { userPrincipalName: row.targetUpn, objectId: row.targetObjectId },
    requestedBy: { name: row.requestedBy, id: row.requestedById },
    approvedBy: row.approvedBy,
    plan: null,
    result: null,
    attempts: row.attempts,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    ticketUpdates: null,
    audit,
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys whose string values are never shown (objects under them, like TAP options, still are). */
const SECRET_KEY = /(secret|password|passcode|token|signature|credential|temporaryAccessPass$|^tap$)/i;

export function redact<T>(value: T, depth = 0): T {
  if (depth > 32) return null as T;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1)) as T;
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (SECRET_KEY.test(key) && !isObject(item)) continue;
    out[key] = redact(item, depth + 1);
  }
  return out as T;
}
