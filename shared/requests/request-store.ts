import { odata, RestError, type TableClient } from '@azure/data-tables';
import type { RequestIntegrity } from './request-integrity';
import { fromEntity, requestPartitionKey, toEntity, type RequestRow, type RequestStatus, type StoredRequest } from './request-row';

/** An update lost the race: the row changed since it was read (HTTP 412 on the ETag). */
export class RequestConflictError extends Error {
  constructor(readonly requestId: string) {
    super(`request ${requestId} was changed by someone else since it was read; read it again and retry`);
    this.name = 'RequestConflictError';
  }
}

/** The row to update does not exist (any more). */
export class RequestNotFoundError extends Error {
  constructor(readonly requestId: string) {
    super(`request ${requestId} does not exist`);
    this.name = 'RequestNotFoundError';
  }
}

/**
 * A write was asked for on a row whose MACs did not verify when it was read: someone changed it in
 * storage. Writing it back would give the forged values a valid state MAC, so nothing is written.
 */
export class UntrustedRowError extends Error {
  constructor(readonly requestId: string) {
    super(`request ${requestId} failed its MAC check when it was read (changed in storage?); it is not written back`);
    this.name = 'UntrustedRowError';
  }
}

/** Table storage did not answer or failed; nothing can be said about whether a write happened. */
export class StorageUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`table storage unavailable during ${operation}: ${describe(cause)}`);
    this.name = 'StorageUnavailableError';
    this.cause = cause;
  }
}

/**
 * An insert was sent and storage never said whether it was carried out, even after trying again
 * until the deadline: the row may exist. Not a "not stored": callers must not say that.
 */
export class StorageOutcomeUnknownError extends Error {
  constructor(readonly requestId: string, cause: unknown) {
    super(`table storage did not say whether request ${requestId} was stored: ${describe(cause)}`);
    this.name = 'StorageOutcomeUnknownError';
    this.cause = cause;
  }
}

export interface RequestStoreOptions {
  /** Give up on one storage call after this long (the SDK's own retries included). Default 5 s. */
  timeoutMs?: number;
  /**
   * After an insert whose outcome is unknown, keep sending it again this long for a definite answer
   * before giving up with StorageOutcomeUnknownError. Default 15 s.
   */
  settleMs?: number;
}

export interface UpdateOptions {
  /**
   * Write a row that failed its MAC check, to end it (`rejected`, unauthenticated_row). Only the worker's
   * refusal does this: the new state MAC then covers a final status, and the request MAC still fails.
   */
  quarantine?: boolean;
}

export interface CreateResult {
  /** false: a row with this id already existed and `request` is that row, unchanged. */
  created: boolean;
  request: StoredRequest;
}

export interface ListOptions {
  /** Only rows last updated before this time. */
  updatedBefore?: Date;
  /** At most this many rows (default 1000). */
  limit?: number;
}

/**
 * Table ResetRequests. `create` is a conditional insert (the id is deterministic, so a second insert
 * of the same request meets the first), `update` replaces the row only if its ETag still matches.
 * Every write carries a state MAC over the whole row (RequestIntegrity.stateMac) and every read checks
 * both MACs, so each row comes back marked `trusted` or not; a row that is not is never written back.
 */
export class RequestStore {
  private tableReady: Promise<void> | undefined;
  private readonly timeoutMs: number;
  private readonly settleMs: number;

  constructor(
    private readonly table: TableClient,
    private readonly integrity: RequestIntegrity,
    options: RequestStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.settleMs = options.settleMs ?? 15_000;
  }

  /** Inserts the row unless one with its id exists; then returns the existing row instead. */
  async create(input: RequestRow): Promise<CreateResult> {
    const row = this.sealed(input);
    const entity = toEntity(row);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await this.ensureTable();
      try {
        const response = await this.table.createEntity(entity, { abortSignal: this.signal() });
        return { created: true, request: this.stored(row, response.etag) };
      } catch (error) {
        if (isStatus(error, 409)) {
          // A row with this id exists (it may be ours: the SDK's own retry of an insert that landed
          // meets a 409 too). If it cannot be read now, "not stored" may be a lie: settle it instead.
          let existing: StoredRequest | undefined;
          try {
            existing = await this.get(row.id);
          } catch (readError) {
            return this.settleUnknownInsert(row, entity, readError);
          }
          if (existing) return { created: isSameInsert(existing, row), request: existing };
          continue; // removed between our insert and read: insert again
        }
        if (isTableMissing(error)) {
          this.tableReady = undefined;
          continue;
        }
        if (outcomeUnknown(error)) return this.settleUnknownInsert(row, entity, error);
        throw new StorageUnavailableError('create', error);
      }
    }
    throw new StorageUnavailableError('create', new Error(`row ${row.id} kept appearing and disappearing`));
  }

  /**
   * An insert whose outcome is unknown (it timed out or the connection dropped after it was sent)
   * may still land, seconds later: answering "not stored" then would be a lie the sweeper turns into
   * a reset. So the insert is sent again until storage gives a definite answer: it creates the row,
   * or meets the row the first try wrote (409, the same insert) and the row is known stored. Only when
   * storage stays silent until the deadline does this throw StorageOutcomeUnknownError, which the
   * intake answers as an unknown outcome (504), never as "not stored".
   */
  private async settleUnknownInsert(row: RequestRow, entity: ReturnType<typeof toEntity>, first: unknown): Promise<CreateResult> {
    const deadline = Date.now() + this.settleMs;
    let last: unknown = first;
    while (Date.now() < deadline) {
      try {
        const response = await this.table.createEntity(entity, { abortSignal: AbortSignal.timeout(Math.max(100, Math.min(this.timeoutMs, deadline - Date.now()))) });
        return { created: true, request: this.stored(row, response.etag) };
      } catch (error) {
        last = error;
        if (isStatus(error, 409)) {
          const existing = await this.get(row.id).catch(() => undefined);
          if (existing) return { created: isSameInsert(existing, row), request: existing };
          continue;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now()))));
    }
    throw new StorageOutcomeUnknownError(row.id, last);
  }

  async get(id: string): Promise<StoredRequest | undefined> {
    try {
      const entity = await this.table.getEntity<Record<string, unknown>>(requestPartitionKey(id), id, {
        abortSignal: this.signal(),
      });
      return this.checked(fromEntity(entity));
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error instanceof RestError || !(error instanceof Error) || error.name === 'AbortError'
        ? new StorageUnavailableError('get', error)
        : error;
    }
  }

  /**
   * Replaces the row if nobody changed it since `etag` was read; sets updatedAt. Throws
   * RequestConflictError on a lost race (412) and RequestNotFoundError if the row is gone.
   */
  async update(row: RequestRow & { trusted?: boolean }, etag: string, options: UpdateOptions = {}): Promise<StoredRequest> {
    if (row.trusted !== true && !options.quarantine) throw new UntrustedRowError(row.id);
    const next = this.sealed({ ...row, updatedAt: new Date().toISOString() });
    try {
      const response = await this.table.updateEntity(toEntity(next), 'Replace', { etag, abortSignal: this.signal() });
      return this.stored(next, response.etag);
    } catch (error) {
      if (isStatus(error, 412)) throw new RequestConflictError(row.id);
      if (isStatus(error, 404)) throw new RequestNotFoundError(row.id);
      throw new StorageUnavailableError('update', error);
    }
  }

  /** Rows in one status, oldest update first; a scan across partitions, meant for sweepers. */
  async listByStatus(status: RequestStatus, options: ListOptions = {}): Promise<StoredRequest[]> {
    await this.ensureTable();
    const limit = options.limit ?? 1000;
    const filter = options.updatedBefore
      ? odata`status eq ${status} and updatedAt lt ${options.updatedBefore.toISOString()}`
      : odata`status eq ${status}`;
    const rows: StoredRequest[] = [];
    try {
      for await (const entity of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        rows.push(this.checked(fromEntity(entity)));
        if (rows.length >= limit) break;
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'RequestRowError') throw error;
      throw new StorageUnavailableError('list', error);
    }
    return rows.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  }

  /**
   * Rows created in [from, to), newest first, optionally in one status and from one source: a scan
   * across partitions for the console's request list. At most `limit` rows (default 200).
   */
  async listCreatedBetween(from: Date, to: Date, options: { status?: RequestStatus; source?: string; limit?: number } = {}): Promise<StoredRequest[]> {
    await this.ensureTable();
    const limit = options.limit ?? 200;
    let filter = odata`createdAt ge ${from.toISOString()} and createdAt lt ${to.toISOString()}`;
    if (options.status) filter += ` and ${odata`status eq ${options.status}`}`;
    if (options.source) filter += ` and ${odata`source eq ${options.source}`}`;
    const rows: StoredRequest[] = [];
    try {
      for await (const entity of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        rows.push(this.checked(fromEntity(entity)));
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'RequestRowError') throw error;
      throw new StorageUnavailableError('list', error);
    }
    return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }

  /** The row with its state MAC, made over exactly the values written. */
  private sealed(row: RequestRow & { etag?: string; trusted?: boolean }): RequestRow {
    const { etag: _etag, trusted: _trusted, stateMac: _old, ...content } = row;
    return { ...content, stateMac: this.integrity.stateMac(content) };
  }

  /** A row this store just wrote: its state MAC is its own; the request MAC decides whether it is trusted. */
  private stored(row: RequestRow, etag: string | undefined): StoredRequest {
    return { ...row, etag: etag ?? '', trusted: this.integrity.verifyRow(row) };
  }

  private checked(row: StoredRequest): StoredRequest {
    return { ...row, trusted: this.integrity.trusts(row) };
  }

  /** A row from a query made outside this store (a sweeper's own filter), checked like every read. */
  fromQuery(entity: Record<string, unknown>): StoredRequest {
    return this.checked(fromEntity(entity));
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable({ abortSignal: this.signal() }).catch((error: unknown) => {
      this.tableReady = undefined;
      throw new StorageUnavailableError('create table', error);
    });
    return this.tableReady;
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.timeoutMs);
  }
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

/** The row found is the one this insert wrote (a first try that landed), not another delivery's. */
function isSameInsert(existing: RequestRow, row: RequestRow): boolean {
  return existing.createdAt === row.createdAt && existing.idempotencyKey === row.idempotencyKey && existing.intakeMac === row.intakeMac;
}

/** Errors after which the insert may have been carried out: it timed out, the connection dropped, or storage failed inside. */
function outcomeUnknown(error: unknown): boolean {
  if (error instanceof RestError) {
    if (error.statusCode !== undefined) return error.statusCode >= 500;
    // Refused or unresolvable before anything was sent: the insert cannot have happened.
    return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(error.code ?? '');
  }
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

function isTableMissing(error: unknown): boolean {
  return error instanceof RestError && error.statusCode === 404 && /TableNotFound/i.test(`${error.code ?? ''} ${error.message}`);
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error.message.split('\n')[0] ?? error.name) || error.name;
  return String(error);
}
