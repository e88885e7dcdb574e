import { RestError, type TableClient } from '@azure/data-tables';
import { StorageUnavailableError } from './request-store';

/**
 * Table ResetIntakeIndex: what the intake remembers besides the requests themselves. Keys are HMACs
 * under INTAKE_MAC_KEY (RequestIntegrity.indexKey), so the table reveals no ticket, target or
 * signature. Partition per kind:
 *  - `replay`: a signed delivery (digest of its signature) that was answered with another delivery's
 *    request, for its freshness window: the same signed bytes again find that request, not a new
 *    attempt. A delivery that made a request needs none: its id comes from its signed content, so the
 *    same bytes meet their own row;
 *  - `once`: a signed delivery that may act only once (a pass collection's webhook-id, and every signed
 *    call that changes state, with its first answer: shared/intake/signed-once.ts);
 *  - `ticket`: the latest request of one ticket and target (ticket lineage).
 */
export interface ReplayRecord {
  requestId: string;
  expiresAt: string;
}

type Kind = 'replay' | 'once' | 'ticket';

export class IntakeIndex {
  private tableReady: Promise<void> | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly timeoutMs = 5000,
  ) {}

  /** The request an earlier delivery of these signed bytes made, while its record is fresh. */
  async replayOf(digestKey: string, now: Date): Promise<string | undefined> {
    const entity = await this.read('replay', digestKey);
    if (!entity) return undefined;
    const expiresAt = typeof entity.expiresAt === 'string' ? Date.parse(entity.expiresAt) : 0;
    return expiresAt > now.getTime() && typeof entity.requestId === 'string' ? entity.requestId : undefined;
  }

  /** Remembers which request these signed bytes made, until `expiresAt`. */
  async rememberReplay(digestKey: string, record: ReplayRecord): Promise<void> {
    await this.write('replay', digestKey, { ...record }, 'upsert');
  }

  /**
   * Marks a single-use delivery as used. false: it was used before (a replay), so the caller must refuse.
   * Throws StorageUnavailableError when that cannot be told: the caller must refuse then too.
   */
  async useOnce(key: string, record: ReplayRecord, extra: Record<string, string> = {}): Promise<boolean> {
    try {
      await this.write('once', key, { ...extra, ...record }, 'insert');
      return true;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) return false;
      throw error;
    }
  }

  /** A single-use delivery's record (what useOnce stored, and settleOnce after it), with its ETag. */
  async readOnce(key: string): Promise<(Record<string, unknown> & { etag: string }) | undefined> {
    const entity = await this.read('once', key);
    return entity ? { ...entity, etag: String(entity.etag ?? '') } : undefined;
  }

  /** Replaces a single-use record (its outcome, once known); with `etag`, only if unchanged (else false). */
  async settleOnce(key: string, values: Record<string, string>, etag?: string): Promise<boolean> {
    try {
      await this.write('once', key, values, etag === undefined ? 'upsert' : 'replace', etag);
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return false;
      throw error;
    }
  }

  /** Forgets a single-use record, so that the same delivery may act when sent again (it changed nothing). */
  async forgetOnce(key: string): Promise<void> {
    await this.ensureTable();
    try {
      await this.table.deleteEntity('once', key, { abortSignal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return;
      throw new StorageUnavailableError('forget once index', error);
    }
  }

  /** The ticket lineage entry: the latest request id for one ticket and target, with its ETag. */
  async latestOfTicket(key: string): Promise<{ requestId: string; etag: string; claimedAt: number } | undefined> {
    const entity = await this.read('ticket', key);
    if (!entity || typeof entity.requestId !== 'string') return undefined;
    const claimedAt = typeof entity.claimedAt === 'string' ? Date.parse(entity.claimedAt) : 0;
    return { requestId: entity.requestId, etag: String(entity.etag ?? ''), claimedAt: Number.isNaN(claimedAt) ? 0 : claimedAt };
  }

  /**
   * Claims a ticket and target no delivery claimed before, in one insert: the entry's ETag when this
   * insert made it, undefined when an entry exists (some delivery came before: read it). The intake's
   * first call for a new ticket, so a new request costs no read here.
   */
  async claimNewTicket(key: string, requestId: string, now: Date): Promise<string | undefined> {
    try {
      return await this.write('ticket', key, { requestId, claimedAt: now.toISOString() }, 'insert');
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) return undefined;
      throw error;
    }
  }

  /** Takes back a claim this delivery made (`etag` from claimNewTicket) if nobody changed it since. */
  async releaseTicket(key: string, etag: string): Promise<void> {
    await this.ensureTable();
    try {
      await this.table.deleteEntity('ticket', key, { etag, abortSignal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 404 || error.statusCode === 412)) return;
      throw new StorageUnavailableError('release ticket index', error);
    }
  }

  /**
   * Points the ticket at a new request: inserts when `etag` is undefined, else replaces only if the
   * entry is unchanged. false: someone else changed it first (read it again).
   */
  async pointTicketAt(key: string, requestId: string, etag: string | undefined, now: Date = new Date()): Promise<boolean> {
    const values = { requestId, claimedAt: now.toISOString() };
    try {
      if (etag === undefined) await this.write('ticket', key, values, 'insert');
      else await this.write('ticket', key, values, 'replace', etag);
      return true;
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) return false;
      throw error;
    }
  }

  private async read(kind: Kind, key: string): Promise<Record<string, unknown> | undefined> {
    await this.ensureTable();
    try {
      return await this.table.getEntity<Record<string, unknown>>(kind, key, { abortSignal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw new StorageUnavailableError(`read ${kind} index`, error);
    }
  }

  private async write(
    kind: Kind,
    key: string,
    values: Record<string, string>,
    how: 'insert' | 'upsert' | 'replace',
    etag?: string,
  ): Promise<string> {
    await this.ensureTable();
    const entity = { partitionKey: kind, rowKey: key, ...values };
    const options = { abortSignal: AbortSignal.timeout(this.timeoutMs) };
    try {
      const response =
        how === 'insert'
          ? await this.table.createEntity(entity, options)
          : how === 'upsert'
            ? await this.table.upsertEntity(entity, 'Replace', options)
            : await this.table.updateEntity(entity, 'Replace', { ...options, etag });
      return response.etag ?? '';
    } catch (error) {
      if (error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412)) throw error;
      throw new StorageUnavailableError(`write ${kind} index`, error);
    }
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table
      .createTable({ abortSignal: AbortSignal.timeout(this.timeoutMs) })
      .catch((error: unknown) => {
        this.tableReady = undefined;
        throw new StorageUnavailableError('create table', error);
      });
    return this.tableReady;
  }
}
