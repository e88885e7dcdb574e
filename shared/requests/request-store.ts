import { odata, RestError, type TableClient } from '@azure/data-tables';
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

/** Table storage did not answer or failed; nothing can be said about whether a write happened. */
export class StorageUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`table storage unavailable during ${operation}: ${describe(cause)}`);
    this.name = 'StorageUnavailableError';
    this.cause = cause;
  }
}

export interface RequestStoreOptions {
  /** Give up on one storage call after this long (the SDK's own retries included). Default 5 s. */
  timeoutMs?: number;
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
 */
export class RequestStore {
  private tableReady: Promise<void> | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly table: TableClient,
    options: RequestStoreOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Inserts the row unless one with its id exists; then returns the existing row instead. */
  async create(row: RequestRow): Promise<CreateResult> {
    const entity = toEntity(row);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await this.ensureTable();
      try {
        const response = await this.table.createEntity(entity, { abortSignal: this.signal() });
        return { created: true, request: { ...row, etag: response.etag ?? '' } };
      } catch (error) {
        if (isStatus(error, 409)) {
          const existing = await this.get(row.id);
          if (existing) return { created: false, request: existing };
          continue; // removed between our insert and read: insert again
        }
        if (isTableMissing(error)) {
          this.tableReady = undefined;
          continue;
        }
        throw new StorageUnavailableError('create', error);
      }
    }
    throw new StorageUnavailableError('create', new Error(`row ${row.id} kept appearing and disappearing`));
  }

  async get(id: string): Promise<StoredRequest | undefined> {
    try {
      const entity = await this.table.getEntity<Record<string, unknown>>(requestPartitionKey(id), id, {
        abortSignal: this.signal(),
      });
      return fromEntity(entity);
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
  async update(row: RequestRow, etag: string): Promise<StoredRequest> {
    const next: RequestRow = { ...row, updatedAt: new Date().toISOString() };
    try {
      const response = await this.table.updateEntity(toEntity(next), 'Replace', { etag, abortSignal: this.signal() });
      return { ...next, etag: response.etag ?? '' };
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
        rows.push(fromEntity(entity));
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
        rows.push(fromEntity(entity));
      }
    } catch (error) {
      if (error instanceof Error && error.name === 'RequestRowError') throw error;
      throw new StorageUnavailableError('list', error);
    }
    return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
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

function isTableMissing(error: unknown): boolean {
  return error instanceof RestError && error.statusCode === 404 && /TableNotFound/i.test(`${error.code ?? ''} ${error.message}`);
}

function describe(error: unknown): string {
  if (error instanceof Error) return (error.message.split('\n')[0] ?? error.name) || error.name;
  return String(error);
}
