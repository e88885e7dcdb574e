import type { AdaptedRequest } from '../intake/adapter';
import { IntakeRefusal } from '../http/answer';
import { newRow } from '../intake/intake-service';
import { checkTarget } from '../intake/target-checks';
import type { RequestIntegrity } from '../requests/request-integrity';
import type { RequestRow } from '../requests/request-row';
import type { BulkItem, BulkJob } from './bulk-rows';

/**
 * Turns the listed users into items: the same offline checks as the webhook intake (well-formed UPN,
 * no personal Microsoft account, inside TENANT_DOMAINS), and a repeat of a user already listed is a
 * duplicate. A refused row is kept with its reason; it does not stop the job.
 */
export function itemsFor(jobId: string, rows: readonly { row: number; value: string }[], tenantDomains: readonly string[], startIndex = 0): BulkItem[] {
  const seen = new Map<string, number>();
  return rows.map(({ row, value }, offset) => {
    const upn = value.trim();
    const item: BulkItem = { jobId, index: startIndex + offset, row, userPrincipalName: upn, status: 'waiting' };
    if (upn === '') return { ...item, status: 'invalid', errorCode: 'missing_upn', errorMessage: 'the row has no userPrincipalName' };
    try {
      checkTarget({ userPrincipalName: upn }, tenantDomains);
    } catch (error) {
      if (error instanceof IntakeRefusal) return { ...item, status: 'invalid', errorCode: error.code, errorMessage: error.message };
      throw error;
    }
    const key = upn.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      return { ...item, status: 'invalid', errorCode: 'duplicate', errorMessage: `${upn} is already listed on row ${first}; each user is reset once per job` };
    }
    seen.set(key, row);
    return item;
  });
}

/** The idempotency key of one user's request within a job; its id derives from it. */
export function bulkIdempotencyKey(jobId: string, upn: string): string {
  return `bulk|job|${jobId}|upn:${upn.toLowerCase()}`;
}

export function bulkRequestId(jobId: string, upn: string, integrity: RequestIntegrity): string {
  return integrity.requestId(bulkIdempotencyKey(jobId, upn));
}

/** The ordinary reset request a bulk item becomes: source `bulk`, audited and run by the same worker. */
export function requestRowFor(job: BulkJob, item: BulkItem, now: Date, integrity: RequestIntegrity): RequestRow {
  const adapted: AdaptedRequest = {
    source: 'bulk',
    idempotencyKey: bulkIdempotencyKey(job.id, item.userPrincipalName),
    request: {
      ticket: { system: job.ticketSystem, id: job.ticketId, ...(job.ticketUrl ? { url: job.ticketUrl } : {}) },
      target: { userPrincipalName: item.userPrincipalName },
      requestedBy: { name: job.requestedBy, ...(job.requestedById ? { id: job.requestedById } : {}) },
      approvedBy: job.approvedBy,
      reason: job.reason,
      profile: job.profile,
      ...(job.methods ? { methods: job.methods } : {}),
      revokeSessions: job.revokeSessions,
      dryRun: job.dryRun,
      ...(job.verification ? { verification: job.verification } : {}),
    },
  };
  const row = { ...newRow(bulkRequestId(job.id, item.userPrincipalName, integrity), adapted, now), bulkJobId: job.id };
  return { ...row, intakeMac: integrity.rowMac(row) };
}
