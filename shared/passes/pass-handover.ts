import { odata, RestError, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { open, seal } from './sealed-secret';

/**
 * A pass waiting to be collected (sealed, never in clear), or the marker a later pass for the same
 * user left in its place: Graph keeps one Temporary Access Pass per user, so issuing a new one deletes
 * the earlier one, and the earlier request must never hand out a pass that no longer exists as if it
 * were valid.
 */
const storedPassSchema = z.object({
  sealed: z.string().optional(),
  methodId: z.string().optional(),
  expiresAt: z.string(),
  sealedAt: z.string(),
  /** The user's object id (lower case): what a later pass for the same user looks the earlier ones up by. */
  userId: z.string().optional(),
  supersededBy: z.string().optional(),
  supersededAt: z.string().optional(),
  etag: z.string(),
});
type StoredPass = z.infer<typeof storedPassSchema> & { partitionKey: string };

export type CollectedPass =
  | { outcome: 'collected'; temporaryAccessPass: string; methodId?: string; expiresAt: string }
  | { outcome: 'none' }
  | { outcome: 'expired'; expiresAt: string }
  | { outcome: 'superseded'; byRequestId: string; at: string };

const ROW_KEY = 'temporaryAccessPass';

/**
 * Table PassHandover: the Temporary Access Pass Graph showed once, sealed with TAP_SEALING_KEY, kept
 * until the requester collects it or it expires. Collecting deletes it (with its ETag, so two callers
 * racing cannot both get it): a pass is handed over once. Keeping a new pass for a user voids every
 * earlier sealed pass of that user: the sealed value is dropped and the row says which request
 * superseded it, which is what a reveal of the earlier one then answers.
 */
export class PassHandover {
  private tableReady: Promise<void> | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly key: Buffer,
  ) {}

  /** Keeps the pass; returns the requests whose earlier passes for the same user it voided. */
  async keep(requestId: string, pass: { value: string; methodId?: string; expiresAt: Date; userId?: string }, now = new Date()): Promise<string[]> {
    await this.ensureTable();
    const userId = pass.userId?.toLowerCase();
    await this.table.upsertEntity(
      {
        partitionKey: requestId,
        rowKey: ROW_KEY,
        sealed: seal(pass.value, this.key, requestId),
        ...(pass.methodId ? { methodId: pass.methodId } : {}),
        ...(userId ? { userId } : {}),
        expiresAt: pass.expiresAt.toISOString(),
        sealedAt: now.toISOString(),
      },
      'Replace',
    );
    return userId ? this.supersedeEarlier(requestId, userId, now) : [];
  }

  /** Whether a pass waits for this request, and until when; never opens it. A superseded pass is not waiting. */
  async waiting(requestId: string): Promise<{ expiresAt: string } | undefined> {
    const stored = await this.read(requestId);
    return stored?.sealed ? { expiresAt: stored.expiresAt } : undefined;
  }

  /** Which later request voided this request's pass, if one did. */
  async supersededBy(requestId: string): Promise<{ byRequestId: string; at: string } | undefined> {
    const stored = await this.read(requestId);
    return stored?.supersededBy ? { byRequestId: stored.supersededBy, at: stored.supersededAt ?? stored.sealedAt } : undefined;
  }

  async collect(requestId: string, now = new Date()): Promise<CollectedPass> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const stored = await this.read(requestId);
      if (!stored) return { outcome: 'none' };
      if (stored.supersededBy || !stored.sealed) {
        return { outcome: 'superseded', byRequestId: stored.supersededBy ?? 'unknown', at: stored.supersededAt ?? stored.sealedAt };
      }
      try {
        await this.table.deleteEntity(requestId, ROW_KEY, { etag: stored.etag });
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return { outcome: 'none' };
        // Changed since it was read: collected by someone else, or superseded this moment. Read again.
        if (error instanceof RestError && error.statusCode === 412) continue;
        throw error;
      }
      if (Date.parse(stored.expiresAt) <= now.getTime()) return { outcome: 'expired', expiresAt: stored.expiresAt };
      return {
        outcome: 'collected',
        temporaryAccessPass: open(stored.sealed, this.key, requestId),
        ...(stored.methodId ? { methodId: stored.methodId } : {}),
        expiresAt: stored.expiresAt,
      };
    }
    return { outcome: 'none' };
  }

  /**
   * Voids every other sealed pass of this user that was sealed no later than this one; if a later one
   * exists already (two workers out of order), this one is the one voided.
   */
  private async supersedeEarlier(requestId: string, userId: string, now: Date): Promise<string[]> {
    const mine = await this.read(requestId);
    if (!mine) return [];
    const others: StoredPass[] = [];
    for await (const entity of this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`RowKey eq ${ROW_KEY} and userId eq ${userId}` } })) {
      const parsed = storedPassSchema.safeParse(entity);
      if (parsed.success && entity.partitionKey !== requestId && parsed.data.sealed) others.push({ ...parsed.data, partitionKey: String(entity.partitionKey) });
    }
    const voided: string[] = [];
    for (const other of others) {
      const laterThanMine = Date.parse(other.sealedAt) > Date.parse(mine.sealedAt);
      const [loser, winner] = laterThanMine ? [{ ...mine, partitionKey: requestId }, other.partitionKey] : [other, requestId];
      if (await this.markSuperseded(loser, winner, now)) voided.push(loser.partitionKey);
    }
    return voided.filter((id) => id !== requestId);
  }

  private async markSuperseded(pass: StoredPass, byRequestId: string, now: Date): Promise<boolean> {
    const { sealed: _sealed, etag, partitionKey, ...kept } = pass;
    try {
      await this.table.updateEntity(
        { ...dropUndefined(kept), partitionKey, rowKey: ROW_KEY, supersededBy: byRequestId, supersededAt: now.toISOString() },
        'Replace',
        { etag },
      );
      return true;
    } catch (error) {
      // Collected or changed meanwhile: it is no longer a sealed pass to void.
      if (error instanceof RestError && (error.statusCode === 404 || error.statusCode === 412)) return false;
      throw error;
    }
  }

  private async read(requestId: string): Promise<z.infer<typeof storedPassSchema> | undefined> {
    await this.ensureTable();
    try {
      return storedPassSchema.parse(await this.table.getEntity(requestId, ROW_KEY));
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }
}

function dropUndefined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
