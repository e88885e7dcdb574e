import { RestError, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { open, seal } from './sealed-secret';

/** A pass waiting to be collected: sealed, never in clear. */
const storedPassSchema = z.object({
  sealed: z.string(),
  methodId: z.string().optional(),
  expiresAt: z.string(),
  sealedAt: z.string(),
  etag: z.string(),
});

export type CollectedPass =
  | { outcome: 'collected'; temporaryAccessPass: string; methodId?: string; expiresAt: string }
  | { outcome: 'none' }
  | { outcome: 'expired'; expiresAt: string };

const ROW_KEY = 'temporaryAccessPass';

/**
 * Table PassHandover: the Temporary Access Pass Graph showed once, sealed with TAP_SEALING_KEY, kept
 * until the requester collects it or it expires. Collecting deletes it (with its ETag, so two callers
 * racing cannot both get it): a pass is handed over once.
 */
export class PassHandover {
  private tableReady: Promise<void> | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly key: Buffer,
  ) {}

  async keep(requestId: string, pass: { value: string; methodId?: string; expiresAt: Date }): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity(
      {
        partitionKey: requestId,
        rowKey: ROW_KEY,
        sealed: seal(pass.value, this.key, requestId),
        ...(pass.methodId ? { methodId: pass.methodId } : {}),
        expiresAt: pass.expiresAt.toISOString(),
        sealedAt: new Date().toISOString(),
      },
      'Replace',
    );
  }

  /** Whether a pass waits for this request, and until when; never opens it. */
  async waiting(requestId: string): Promise<{ expiresAt: string } | undefined> {
    await this.ensureTable();
    try {
      const stored = storedPassSchema.parse(await this.table.getEntity(requestId, ROW_KEY));
      return { expiresAt: stored.expiresAt };
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async collect(requestId: string, now = new Date()): Promise<CollectedPass> {
    let entity: unknown;
    try {
      entity = await this.table.getEntity(requestId, ROW_KEY);
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return { outcome: 'none' };
      throw error;
    }
    const stored = storedPassSchema.parse(entity);
    try {
      await this.table.deleteEntity(requestId, ROW_KEY, { etag: stored.etag });
    } catch (error) {
      // Someone else collected it a moment ago.
      if (error instanceof RestError && (error.statusCode === 404 || error.statusCode === 412)) return { outcome: 'none' };
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

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }
}
