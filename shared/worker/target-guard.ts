import { RestError, odata, type TableClient, type TransactionAction } from '@azure/data-tables';

/**
 * Per-user bookkeeping in table ResetTargets, one partition per user (`history-<key>`, the key being the
 * user's object id): a lock row (RowKey `lock`) so that at most one reset of a user runs at a time, and
 * a row per reset that may have touched the user's methods (RowKey: the request id), for the cooldown.
 *
 * Lock and history share the partition so that one query reads both and one entity-group transaction
 * writes both: taking the lock counts the user's recent resets and records this one in the same
 * conditional write (the lock row's ETag), so two requests racing for one user cannot both count below
 * the limit; releasing it settles this run's history row in the same write.
 *
 * A history row is written when the lock is first taken, before anything is written to the user: a run
 * that dies part-way (or whose outcome is unknown) counts against the cooldown, which errs on the safe
 * side. A run that ends having removed nothing takes its row back when it lets the lock go.
 */
export type AcquireResult = { ok: true } | { ok: false; heldBy: string; until: Date } | { ok: false; recentResets: number };

export interface AcquireOptions {
  /** Record this request in the user's history (a run that may write). */
  record?: boolean;
  /** Refuse, writing nothing, when the user already has this many other resets since `since`. */
  cooldown?: { since: Date; max: number };
}

const LOCK_ROW = 'lock';

interface LockRow {
  requestId?: string;
  until?: string;
  etag: string;
}

export class TargetGuard {
  private tableReady: Promise<void> | undefined;
  /** The lock row's ETag as this process last wrote it, per user and request: a renewal or release needs no read. */
  private readonly etags = new Map<string, string>();

  constructor(private readonly table: TableClient) {}

  /**
   * Takes the user's lock for this request until `until`, or reports who holds it (or, with `cooldown`,
   * how many resets stand in the way). Re-taking a lock the same request already holds (a resumed run, a
   * duplicate delivery) succeeds. Two round trips: the partition read, the conditional write.
   */
  async acquire(target: string, requestId: string, until: Date, options: AcquireOptions = {}): Promise<AcquireResult> {
    await this.ensureTable();
    const partitionKey = partitionOf(target);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const { lock, history } = await this.read(partitionKey, requestId, options.cooldown?.since);
      if (lock?.requestId && lock.requestId !== requestId && lock.until && Date.parse(lock.until) > Date.now()) {
        return { ok: false, heldBy: lock.requestId, until: new Date(lock.until) };
      }
      if (options.cooldown) {
        const since = options.cooldown.since.getTime();
        const recent = history.filter((row) => row.requestId !== requestId && Date.parse(row.at) >= since).length;
        if (recent >= options.cooldown.max) return { ok: false, recentResets: recent };
      }
      const lockEntity = { partitionKey, rowKey: LOCK_ROW, requestId, until: until.toISOString() };
      const actions: TransactionAction[] = [lock ? ['update', lockEntity, 'Replace', { etag: lock.etag }] : ['create', lockEntity]];
      // Recorded once: a resumed run keeps the time its first run recorded.
      if (options.record && !history.some((row) => row.requestId === requestId)) {
        actions.push(['upsert', { partitionKey, rowKey: requestId, at: new Date().toISOString() }, 'Replace']);
      }
      try {
        const answer = await this.table.submitTransaction(actions);
        const etag = answer.subResponses[0]?.etag;
        if (etag) this.etags.set(holdKey(target, requestId), etag);
        return { ok: true };
      } catch (error) {
        // Someone else took or released the lock, or recorded a reset, since the read: read again.
        if (!isStatus(error, 409) && !isStatus(error, 412) && !isStatus(error, 404)) throw error;
      }
    }
    throw new Error(`could not settle the lock on ${target}: it kept changing hands`);
  }

  /**
   * Extends this request's lock to `until`: one conditional write. Another reset that took the user
   * meanwhile (this lock lapsed) is reported as by `acquire`, and nothing is written.
   */
  async renew(target: string, requestId: string, until: Date): Promise<AcquireResult> {
    const etag = this.etags.get(holdKey(target, requestId));
    if (etag) {
      try {
        const answer = await this.table.updateEntity({ partitionKey: partitionOf(target), rowKey: LOCK_ROW, requestId, until: until.toISOString() }, 'Replace', { etag });
        if (answer.etag) this.etags.set(holdKey(target, requestId), answer.etag);
        return { ok: true };
      } catch (error) {
        if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
      }
    }
    return this.acquire(target, requestId, until);
  }

  /**
   * Lets the lock go if this request still holds it, and settles this request's history row in the same
   * write: kept (with the time the run ended) when the run may have changed the user's methods, taken
   * back when it certainly did not. One round trip when this process took the lock.
   */
  async release(target: string, requestId: string, history: { keep: true; at: Date } | { keep: false }): Promise<void> {
    await this.ensureTable();
    const partitionKey = partitionOf(target);
    const key = holdKey(target, requestId);
    let etag = this.etags.get(key);
    this.etags.delete(key);
    const settle: TransactionAction = history.keep
      ? ['upsert', { partitionKey, rowKey: requestId, at: history.at.toISOString() }, 'Replace']
      : ['delete', { partitionKey, rowKey: requestId }];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let holds = etag !== undefined;
      let recorded = true;
      if (!etag) {
        const { lock, history: rows } = await this.read(partitionKey, requestId);
        holds = lock?.requestId === requestId;
        etag = lock?.etag;
        recorded = rows.some((row) => row.requestId === requestId);
      }
      const actions: TransactionAction[] = [];
      if (holds && etag) actions.push(['update', { partitionKey, rowKey: LOCK_ROW, requestId: '', until: new Date(0).toISOString() }, 'Replace', { etag }]);
      if (history.keep || recorded) actions.push(settle);
      if (actions.length === 0) return;
      try {
        await this.table.submitTransaction(actions);
        return;
      } catch (error) {
        // The lock changed hands (412), or the row to take back is not there (404): read and try again.
        if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
        etag = undefined;
      }
    }
    throw new Error(`could not release the lock on ${target}: it kept changing`);
  }

  /** One query of the user's partition: the lock row, this request's history row, and the others' since `since`. */
  private async read(partitionKey: string, requestId: string, since?: Date): Promise<{ lock?: LockRow; history: { requestId: string; at: string }[] }> {
    let lock: LockRow | undefined;
    const history: { requestId: string; at: string }[] = [];
    const rows = since ? odata`RowKey eq ${LOCK_ROW} or RowKey eq ${requestId} or at ge ${since.toISOString()}` : odata`RowKey eq ${LOCK_ROW} or RowKey eq ${requestId}`;
    const filter = `${odata`PartitionKey eq ${partitionKey}`} and (${rows})`;
    for await (const row of this.table.listEntities<{ requestId?: string; until?: string; at?: string }>({ queryOptions: { filter } })) {
      if (row.rowKey === LOCK_ROW) lock = { requestId: row.requestId || undefined, until: row.until, etag: row.etag };
      else if (row.rowKey && typeof row.at === 'string') history.push({ requestId: row.rowKey, at: row.at });
    }
    return { ...(lock ? { lock } : {}), history };
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }
}

/** The user's partition. Its name predates the lock row in it: history rows of earlier versions count still. */
function partitionOf(target: string): string {
  return `history-${encodeKey(target)}`;
}

function holdKey(target: string, requestId: string): string {
  return `${target.toLowerCase()}\n${requestId}`;
}

/** Table keys may not hold / \ # ? or control characters; guest UPNs hold '#'. */
function encodeKey(target: string): string {
  return Buffer.from(target.toLowerCase(), 'utf8').toString('base64url');
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
