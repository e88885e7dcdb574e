import { targetSchema } from '../graph/state';
import type { AuditActor } from '../audit/audit-entry';
import type { AuditHead } from '../audit/audit-log';
import type { RequestRow } from '../requests/request-row';

/** The audit actor of a request: who asked, from which ticket, and who approved. */
export function actorOf(row: RequestRow): AuditActor {
  return {
    source: row.source,
    ticketId: row.ticketId,
    requestedBy: row.requestedById ? `${row.requestedBy} (${row.requestedById})` : row.requestedBy,
    ...(row.approvedBy ? { approvedBy: row.approvedBy } : {}),
  };
}

export function targetOf(row: RequestRow): string {
  return row.targetUpn ?? row.targetObjectId ?? 'unknown';
}

export function auditHeadOf(row: RequestRow): AuditHead | undefined {
  return row.auditSeq !== undefined && row.auditHash !== undefined ? { seq: row.auditSeq, hash: row.auditHash } : undefined;
}

/**
 * What every worker log line says of a request: which one, from where, in what status, and whom it is
 * for: the user the directory resolved (UPN and object id) once known, else the user the ticket named.
 */
export function logFieldsOf(row: RequestRow) {
  const resolved = resolvedTargetOf(row);
  return {
    requestId: row.id,
    ticketId: row.ticketId,
    source: row.source,
    status: row.status,
    targetUpn: resolved?.userPrincipalName ?? row.targetUpn,
    targetObjectId: resolved?.objectId ?? row.targetObjectId,
  };
}

/** The user the worker resolved, from its step state; undefined before that (or if the state is unreadable). */
function resolvedTargetOf(row: RequestRow): { userPrincipalName: string; objectId: string } | undefined {
  if (!row.engineState) return undefined;
  try {
    const parsed = targetSchema.safeParse((JSON.parse(row.engineState) as { target?: unknown }).target);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
