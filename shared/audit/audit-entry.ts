import { createHmac } from 'node:crypto';
import { z } from 'zod';

/** Who asked and who approved: copied into every audit row so a row reads on its own. */
export const auditActorSchema = z.object({
  source: z.string(),
  ticketId: z.string(),
  requestedBy: z.string(),
  approvedBy: z.string().optional(),
});

export const auditEntrySchema = z.object({
  requestId: z.string(),
  seq: z.number().int().positive(),
  at: z.string(),
  actor: auditActorSchema,
  target: z.string(),
  action: z.string(),
  outcome: z.string(),
  detail: z.string().optional(),
  graphRequestIds: z.array(z.string()).default([]),
  prevHash: z.string(),
  hash: z.string(),
});

export type AuditActor = z.infer<typeof auditActorSchema>;
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type NewAuditEntry = Pick<AuditEntry, 'action' | 'outcome'> &
  Partial<Pick<AuditEntry, 'detail' | 'graphRequestIds'>>;

/** The hash before the first row of a request. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * HMAC-SHA-256, under the audit key (derived from INTAKE_MAC_KEY, which storage never holds), over
 * every field of the row but the hash itself, in a fixed order, chained to the previous row's hash:
 * changing any field of any row, or removing a row, breaks the chain from there on, and nobody without
 * the key can write a consistent new chain, even with write access to the table.
 */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'>, key: Buffer): string {
  const canonical = JSON.stringify([
    entry.requestId,
    entry.seq,
    entry.at,
    entry.actor.source,
    entry.actor.ticketId,
    entry.actor.requestedBy,
    entry.actor.approvedBy ?? null,
    entry.target,
    entry.action,
    entry.outcome,
    entry.detail ?? null,
    entry.graphRequestIds,
    entry.prevHash,
  ]);
  return createHmac('sha256', key).update(canonical).digest('hex');
}
