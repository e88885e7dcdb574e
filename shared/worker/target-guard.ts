import { RestError, odata, type TableClient } from '@azure/data-tables';

/**
 * Per-user bookkeeping in table ResetTargets, keyed by the request's target (lower-case UPN or object
 * id): a lease so that at most one reset of a user runs at a time, and a history row per reset that
 * touched the user's methods, for the cooldown guard.
 */
export class TargetGuard {
  private tableReady: Promise<void> | undefined;

  constructor(private readonly table: TableClient) {}

  /**
   * Takes the user's lock for this request until `until`, or reports who holds it. Re-taking a lock
   * the same request already holds (a resumed run) succeeds.
   */
  async acquire(target: string, requestId: string, until: Date): Promise<{ ok: true } | { ok: false; heldBy: string; until: Date }> {
    await this.ensureTable();
    const key = { partitionKey: 'lock', rowKey: encodeKey(target) };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.table.createEntity({ ...key, requestId, until: until.toISOString() });
        return { ok: true };
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
      }
      let current;
      try {
        current = await this.table.getEntity<{ requestId: string; until: string }>(key.partitionKey, key.rowKey);
      } catch (error) {
        if (isStatus(error, 404)) continue; // released meanwhile: try the insert again
        throw error;
      }
      const heldUntil = new Date(current.until);
      if (current.requestId !== requestId && heldUntil.getTime() > Date.now()) {
        return { ok: false, heldBy: current.requestId, until: heldUntil };
      }
      try {
        await this.table.updateEntity({ ...key, requestId, until: until.toISOString() }, 'Replace', { etag: current.etag });
        return { ok: true };
      } catch (error) {
        if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
      }
    }
    throw new Error(`could not settle the lock on ${target}: it kept changing hands`);
  }

  /** Releases the lock if this request still holds it. */
  async release(target: string, requestId: string): Promise<void> {
    const key = { partitionKey: 'lock', rowKey: encodeKey(target) };
    try {
      const current = await this.table.getEntity<{ requestId: string }>(key.partitionKey, key.rowKey);
      if (current.requestId === requestId) await this.table.deleteEntity(key.partitionKey, key.rowKey, { etag: current.etag });
    } catch (error) {
      if (!isStatus(error, 404) && !isStatus(error, 412)) throw error;
    }
  }

  /** Records that this request reset the user's methods (idempotent per request). */
  async recordReset(target: string, requestId: string, at: Date): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity({ partitionKey: `history-${encodeKey(target)}`, rowKey: requestId, at: at.toISOString() }, 'Replace');
  }

  /** Resets of the user since `since`, other than `exceptRequestId`. */
  async resetsSince(target: string, since: Date, exceptRequestId: string): Promise<number> {
    await this.ensureTable();
    const filter = odata`PartitionKey eq ${`history-${encodeKey(target)}`} and at ge ${since.toISOString()}`;
    let count = 0;
    for await (const row of this.table.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) {
      if (row.rowKey !== exceptRequestId) count += 1;
    }
    return count;
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }
}

/** Table keys may not hold / \ # ? or control characters; guest UPNs hold '#'. */
function encodeKey(target: string): string {
  return Buffer.from(target.toLowerCase(), 'utf8').toString('base64url');
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
