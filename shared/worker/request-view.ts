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

export function logFieldsOf(row: RequestRow) {
  return { requestId: row.id, ticketId: row.ticketId, source: row.source, status: row.status };
}
