import { timingSafeEqual } from 'node:crypto';
import { RestError, type TableClient, type TableEntityResult } from '@azure/data-tables';
import { z } from 'zod';
import {
  auditEntrySchema,
  GENESIS_HASH,
  hashAuditEntry,
  type AuditActor,
  type AuditEntry,
  type NewAuditEntry,
} from './audit-entry';

/** Where a request's audit chain ends, kept on the request row so that removing the last rows shows. */
export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditVerification {
  requestId: string;
  ok: boolean;
  rows: number;
  /** The first problem found, naming the row (PartitionKey/RowKey) to look at. */
  problem?: string;
}

const storedRowSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  requestId: z.string(),
  seq: z.number(),
  at: z.string(),
  actor: z.string(),
  target: z.string(),
  action: z.string(),
  outcome: z.string(),
  detail: z.string().optional(),
  graphRequestIds: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});

const SEQ_WIDTH = 6;
const rowKeyOf = (seq: number) => String(seq).padStart(SEQ_WIDTH, '0');

/**
 * Append-only audit trail in table ResetAudit: one partition per request, one row per step, rows
 * chained by hash. Appends never update or delete; two writers racing for the same sequence number
 * are separated by the table's insert conflict, and the loser re-reads the head and tries again.
 */
export class AuditLog {
  private tableReady: Promise<void> | undefined;

  /** `key`: the audit chain's HMAC key (RequestIntegrity.auditKey), never stored with the rows. */
  constructor(
    private readonly table: TableClient,
    private readonly key: Buffer,
  ) {}

  /**
   * Appends one row. `after` is the head the caller last wrote, which saves reading the chain; if
   * another writer got there first, the insert conflicts and the head is read from the table.
   */
  async append(requestId: string, actor: AuditActor, target: string, entry: NewAuditEntry, after?: AuditHead): Promise<AuditEntry> {
    await this.ensureTable();
    let known: AuditHead | undefined = after;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const last = known ?? (await this.lastEntry(requestId));
      known = undefined;
      const unsigned: Omit<AuditEntry, 'hash'> = {
        requestId,
        seq: (last?.seq ?? 0) + 1,
        at: new Date().toISOString(),
        actor,
        target,
        action: entry.action,
        outcome: entry.outcome,
        detail: entry.detail,
        graphRequestIds: entry.graphRequestIds ?? [],
        prevHash: last?.hash ?? GENESIS_HASH,
      };
      const full: AuditEntry = { ...unsigned, hash: hashAuditEntry(unsigned, this.key) };
      try {
        await this.table.createEntity({
          partitionKey: requestId,
          rowKey: rowKeyOf(full.seq),
          requestId,
          seq: full.seq,
          at: full.at,
          actor: JSON.stringify(full.actor),
          target: full.target,
          action: full.action,
          outcome: full.outcome,
          ...(full.detail !== undefined ? { detail: full.detail } : {}),
          graphRequestIds: JSON.stringify(full.graphRequestIds),
          prevHash: full.prevHash,
          hash: full.hash,
        });
        return full;
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 409) continue;
        throw error;
      }
    }
    throw new Error(`audit append for ${requestId} kept colliding with concurrent writers`);
  }

  async list(requestId: string): Promise<AuditEntry[]> {
    await this.ensureTable();
    const rows: AuditEntry[] = [];
    const pages = this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${requestId.replace(/'/g, "''")}'` } });
    for await (const row of pages) rows.push(toEntry(row));
    return rows.sort((a, b) => a.seq - b.seq);
  }

  /** Request ids with audit rows written in [from, to); a scan, meant for the verification command. */
  async requestIdsBetween(from: Date, to: Date): Promise<string[]> {
    await this.ensureTable();
    const ids = new Set<string>();
    const filter = `at ge '${from.toISOString()}' and at lt '${to.toISOString()}'`;
    for await (const row of this.table.listEntities<{ requestId: string }>({ queryOptions: { filter, select: ['requestId'] } })) {
      ids.add(row.requestId);
    }
    return [...ids].sort();
  }

  async verify(requestId: string, head?: AuditHead): Promise<AuditVerification> {
    return this.check(requestId, await this.list(requestId), head);
  }

  /** verifyChain under this log's key, for rows already read. */
  check(requestId: string, rows: readonly AuditEntry[], head?: AuditHead): AuditVerification {
    return verifyChain(requestId, rows, head, this.key);
  }

  private async lastEntry(requestId: string): Promise<AuditEntry | undefined> {
    const rows = await this.list(requestId);
    return rows[rows.length - 1];
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }
}

function toEntry(row: TableEntityResult<Record<string, unknown>>): AuditEntry {
  const stored = storedRowSchema.parse(row);
  return auditEntrySchema.parse({
    requestId: stored.requestId,
    seq: stored.seq,
    at: stored.at,
    actor: JSON.parse(stored.actor) as unknown,
    target: stored.target,
    action: stored.action,
    outcome: stored.outcome,
    detail: stored.detail,
    graphRequestIds: JSON.parse(stored.graphRequestIds) as unknown,
    prevHash: stored.prevHash,
    hash: stored.hash,
  });
}

/**
 * Checks a request's rows (as `list` returns them, in sequence order): contiguous sequence numbers,
 * each row chained to the one before, each hash matching its content, and the head the request
 * recorded present, so that removed last rows show too.
 */
export function verifyChain(requestId: string, rows: readonly AuditEntry[], head: AuditHead | undefined, key: Buffer): AuditVerification {
  const fail = (problem: string): AuditVerification => ({ requestId, ok: false, rows: rows.length, problem });
  let prevHash = GENESIS_HASH;
  for (let index = 0; index < rows.length; index += 1) {
    const row = rows[index]!;
    const name = `${requestId}/${rowKeyOf(row.seq)}`;
    const expectedSeq = index + 1;
    if (row.seq !== expectedSeq) return fail(`row ${requestId}/${rowKeyOf(expectedSeq)} is missing (next present is ${name})`);
    if (row.prevHash !== prevHash) return fail(`row ${name} does not chain to the row before it (a row was removed or altered)`);
    const { hash, ...unsigned } = row;
    if (!sameHex(hashAuditEntry(unsigned, key), hash)) return fail(`row ${name} was altered or not written by this service: its content does not match its keyed hash`);
    prevHash = hash;
  }
  if (head) {
    const recorded = rows.find((row) => row.seq === head.seq);
    if (!recorded) {
      return fail(`rows after ${requestId}/${rowKeyOf(rows.length)} are missing: the request records ${head.seq} rows`);
    }
    if (recorded.hash !== head.hash) return fail(`row ${requestId}/${rowKeyOf(head.seq)} differs from the hash the request recorded`);
  }
  return { requestId, ok: true, rows: rows.length };
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
