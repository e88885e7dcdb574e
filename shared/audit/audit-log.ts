import { timingSafeEqual } from 'node:crypto';
import { RestError, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
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
/** An entity-group transaction holds at most 100 operations. */
const MAX_TRANSACTION = 100;
/** The fence row's key: not a sequence number, so never an audit row; it has no `at`, so scans by time pass it by. */
const FENCE_ROW = 'fence';

/**
 * Who may write to a request's trail and send its Graph writes now: a row (RowKey `fence`) in the
 * request's audit partition that every batch of the worker holding the request writes, in the same
 * transaction as its rows, on the condition of its ETag. A worker that takes a request over writes it
 * first (on the ETag it read with the trail, before it acts on what the trail says), so the batch of
 * the holder it replaced, and with it that holder's next Graph write (its intent comes first), fails.
 * `etag` undefined: the fence must not exist yet (a request's first run); `*`: taken whatever holds it
 * (the poison handler ending a request). It is kept up to date here after each batch.
 */
export interface AuditFence {
  holder: string;
  etag?: string;
}

/** Someone else wrote the fence since this holder did: the request was taken over. */
export class FenceLostError extends Error {
  constructor(readonly requestId: string) {
    super(`request ${requestId} was taken over: its audit fence was written by someone else`);
    this.name = 'FenceLostError';
  }
}

const LINE_SEPARATORS_POLICY = 'escapeLineSeparatorsInTransactions';
type PipelinePolicy = Parameters<TableClient['pipeline']['addPolicy']>[0];

/**
 * Text in audit rows comes from tickets (a requester's display name, say) and may hold U+2028 or
 * U+2029. The SDK writes them as they are into an entity-group transaction's JSON, which is valid JSON,
 * but Azurite's transaction parser fails on them (HTTP 500, "Transaction Failed") while it takes them in
 * a single insert. Written as the JSON escapes `\u2028` and `\u2029` they mean the same characters to
 * any JSON reader, Azure's included, and the rows keep exactly the text they were given (and their hash).
 */
function escapeLineSeparatorsInTransactions(table: TableClient): void {
  if (table.pipeline.getOrderedPolicies().some((policy) => policy.name === LINE_SEPARATORS_POLICY)) return;
  const policy: PipelinePolicy = {
    name: LINE_SEPARATORS_POLICY,
    sendRequest: (request, next) => {
      if (typeof request.body === 'string' && request.url.includes('$batch')) {
        request.body = request.body.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
      }
      return next(request);
    },
  };
  // First, before the credential policy signs the request and sets its Content-Length.
  table.pipeline.addPolicy(policy, { phase: 'Serialize' });
}

function fenceAction(requestId: string, fence: AuditFence): TransactionAction {
  const entity = { partitionKey: requestId, rowKey: FENCE_ROW, holder: fence.holder, takenAt: new Date().toISOString() };
  if (fence.etag === undefined) return ['create', entity];
  if (fence.etag === '*') return ['upsert', entity, 'Replace'];
  return ['update', entity, 'Replace', { etag: fence.etag }];
}

function toStored(row: AuditEntry) {
  return {
    partitionKey: row.requestId,
    rowKey: rowKeyOf(row.seq),
    requestId: row.requestId,
    seq: row.seq,
    at: row.at,
    actor: JSON.stringify(row.actor),
    target: row.target,
    action: row.action,
    outcome: row.outcome,
    ...(row.detail !== undefined ? { detail: row.detail } : {}),
    graphRequestIds: JSON.stringify(row.graphRequestIds),
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

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
  ) {
    escapeLineSeparatorsInTransactions(table);
  }

  /**
   * Appends one row. `after` is the head the caller last wrote, which saves reading the chain; if
   * another writer got there first, the insert conflicts and the head is read from the table.
   */
  async append(requestId: string, actor: AuditActor, target: string, entry: NewAuditEntry, after?: AuditHead): Promise<AuditEntry> {
    const [written] = await this.appendMany(requestId, actor, target, [entry], after);
    return written!;
  }

  /**
   * Appends rows in order, chained one to the next. The rows of a request share its partition, so up to
   * 99 of them go in one entity-group transaction: one round trip, and all or none are written. A
   * conflict with another writer (a row with one of these sequence numbers exists) writes none of them;
   * the head is then read from the table and the rows chained again after it.
   *
   * With `fence`, the same transaction also writes the request's fence row (see AuditFence), on the
   * condition that nobody else wrote it since this holder did: rows of a holder that was taken over are
   * not written (FenceLostError), and neither is anything it would have sent after them.
   */
  async appendMany(requestId: string, actor: AuditActor, target: string, entries: readonly NewAuditEntry[], after?: AuditHead, fence?: AuditFence): Promise<AuditEntry[]> {
    await this.ensureTable();
    const written: AuditEntry[] = [];
    let known: AuditHead | undefined = after;
    for (let start = 0; start < entries.length; start += MAX_TRANSACTION - 1) {
      const chunk = entries.slice(start, start + MAX_TRANSACTION - 1);
      let settled = false;
      for (let attempt = 0; attempt < 5 && !settled; attempt += 1) {
        const last = known ?? (await this.read(requestId)).rows.at(-1);
        known = undefined;
        const rows = this.chained(requestId, actor, target, chunk, last);
        try {
          if (fence) {
            const answer = await this.table.submitTransaction([fenceAction(requestId, fence), ...rows.map((row): TransactionAction => ['create', toStored(row)])]);
            fence.etag = answer.subResponses[0]?.etag ?? fence.etag;
          } else if (rows.length === 1) {
            await this.table.createEntity(toStored(rows[0]!));
          } else {
            await this.table.submitTransaction(rows.map((row) => ['create', toStored(row)]));
          }
          settled = true;
          written.push(...rows);
          known = rows[rows.length - 1];
        } catch (error) {
          if (!(error instanceof RestError && (error.statusCode === 409 || (fence && (error.statusCode === 404 || error.statusCode === 412))))) throw error;
          // Either a row number was taken by another writer (read the head and chain again) or, with a
          // fence, someone else took the request over since this holder last wrote (stop).
          const now = await this.read(requestId);
          if (fence && fence.etag !== '*' && now.fence?.etag !== fence.etag) throw new FenceLostError(requestId);
          known = now.rows.at(-1);
        }
      }
      if (!settled) throw new Error(`audit append for ${requestId} kept colliding with concurrent writers`);
    }
    return written;
  }

  /** The rows as they will be stored: numbered on from `last`, each hashed and chained to the one before. */
  private chained(requestId: string, actor: AuditActor, target: string, entries: readonly NewAuditEntry[], last: AuditHead | undefined): AuditEntry[] {
    const rows: AuditEntry[] = [];
    let previous: AuditHead | undefined = last;
    for (const entry of entries) {
      const unsigned: Omit<AuditEntry, 'hash'> = {
        requestId,
        seq: (previous?.seq ?? 0) + 1,
        at: new Date().toISOString(),
        actor,
        target,
        action: entry.action,
        outcome: entry.outcome,
        detail: entry.detail,
        graphRequestIds: entry.graphRequestIds ?? [],
        prevHash: previous?.hash ?? GENESIS_HASH,
      };
      const full: AuditEntry = { ...unsigned, hash: hashAuditEntry(unsigned, this.key) };
      rows.push(full);
      previous = full;
    }
    return rows;
  }

  async list(requestId: string): Promise<AuditEntry[]> {
    return (await this.read(requestId)).rows;
  }

  /** The request's rows in order, and its fence row as it is now (its ETag), in one query. */
  async read(requestId: string): Promise<{ rows: AuditEntry[]; fence?: { holder: string; etag: string } }> {
    await this.ensureTable();
    const rows: AuditEntry[] = [];
    let fence: { holder: string; etag: string } | undefined;
    const pages = this.table.listEntities({ queryOptions: { filter: `PartitionKey eq '${requestId.replace(/'/g, "''")}'` } });
    for await (const row of pages) {
      if (row.rowKey === FENCE_ROW) fence = { holder: String(row.holder ?? ''), etag: row.etag };
      else rows.push(toEntry(row));
    }
    return { rows: rows.sort((a, b) => a.seq - b.seq), ...(fence ? { fence } : {}) };
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
