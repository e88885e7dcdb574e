import type { RequestStore } from '../requests/request-store';
import type { AuditLog, AuditVerification } from './audit-log';

export type TrailSelection = { requestIds: string[] } | { from: Date; to: Date };

/**
 * Verifies the audit chains of the selected requests under the audit key, each against the head its
 * request row recorded (the row's own MACs verified first), so that removed last rows show as well as
 * altered, forged or removed middle ones.
 */
export async function verifyAuditTrails(
  deps: { audit: AuditLog; store: RequestStore },
  selection: TrailSelection,
): Promise<AuditVerification[]> {
  const ids = 'requestIds' in selection ? selection.requestIds : await deps.audit.requestIdsBetween(selection.from, selection.to);
  const results: AuditVerification[] = [];
  for (const id of ids) {
    const row = await deps.store.get(id);
    const head = row?.auditSeq !== undefined && row.auditHash !== undefined ? { seq: row.auditSeq, hash: row.auditHash } : undefined;
    const verification = await deps.audit.verify(id, head);
    if (!row && verification.rows === 0) {
      results.push({ requestId: id, ok: false, rows: 0, problem: `no request ${id} and no audit rows for it` });
    } else if (row && !row.trusted) {
      // The head the row records is only worth comparing against when the row's MACs verify.
      results.push({ requestId: id, ok: false, rows: verification.rows, problem: `request ${id} fails its MAC check (changed in storage), so the audit head it records cannot be trusted${verification.ok ? '' : `; also ${verification.problem}`}` });
    } else {
      results.push(verification);
    }
  }
  return results;
}
