import { odata, RestError, type TableClient } from '@azure/data-tables';

/**
 * Table GraphPacing: what every instance knows about the tenant's Graph budget.
 *   throttle / tenant      the last 429 or 503 any instance saw, and until when Graph asked to wait
 *   instance / <id>        a heartbeat per instance that sends Graph writes: the budget is divided by them
 *   dispatch / state       the bulk dispatcher's release factor (AIMD), so a restart resumes at its pace
 */
export interface ThrottleState {
  lastThrottleAt?: number;
  throttledUntil?: number;
  count: number;
}

export interface DispatchPacing {
  /** Share of the configured pace released now, 0.05..1. */
  factor: number;
  /** The last throttle the dispatcher already reacted to. */
  seenThrottleAt?: number;
  updatedAt?: number;
  etag?: string;
}

/**
 * An instance counts as sharing the budget for this long after its last heartbeat: three of its syncs
 * (every 5 s while it writes), so that a live one is never dropped, and an instance that died stops
 * holding a share of the budget within 15 s.
 */
const INSTANCE_FRESH_MS = 15_000;

export class PacingStore {
  private tableReady: Promise<void> | undefined;

  constructor(private readonly table: TableClient) {}

  async recordThrottle(at: number, retryAfterSeconds: number | undefined): Promise<void> {
    await this.ensureTable();
    const until = at + Math.max(1, retryAfterSeconds ?? 1) * 1000;
    let current: ThrottleState = { count: 0 };
    let etag: string | undefined;
    try {
      const row = await this.table.getEntity<{ lastThrottleAt?: number; throttledUntil?: number; count?: number }>('throttle', 'tenant');
      current = { lastThrottleAt: row.lastThrottleAt, throttledUntil: row.throttledUntil, count: row.count ?? 0 };
      etag = row.etag;
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
    const next = {
      partitionKey: 'throttle',
      rowKey: 'tenant',
      lastThrottleAt: at,
      throttledUntil: Math.max(current.throttledUntil ?? 0, until),
      count: current.count + 1,
    };
    try {
      if (etag) await this.table.updateEntity(next, 'Replace', { etag });
      else await this.table.createEntity(next);
    } catch (error) {
      // Someone else recorded a throttle at the same moment: theirs says the same.
      if (!isStatus(error, 409) && !isStatus(error, 412)) throw error;
    }
  }

  async throttle(): Promise<ThrottleState> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<{ lastThrottleAt?: number; throttledUntil?: number; count?: number }>('throttle', 'tenant');
      return { lastThrottleAt: row.lastThrottleAt, throttledUntil: row.throttledUntil, count: row.count ?? 0 };
    } catch (error) {
      if (isStatus(error, 404)) return { count: 0 };
      throw error;
    }
  }

  async heartbeat(instanceId: string, at: number, writesPerSecond: number): Promise<void> {
    await this.ensureTable();
    await this.table.upsertEntity({ partitionKey: 'instance', rowKey: instanceId, seenAt: at, writesPerSecond }, 'Replace');
  }

  /** Instances that sent Graph writes lately (this one included, if it did). */
  async activeInstances(now: number): Promise<number> {
    await this.ensureTable();
    let count = 0;
    const filter = odata`PartitionKey eq 'instance' and seenAt ge ${now - INSTANCE_FRESH_MS}`;
    for await (const _row of this.table.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) count += 1;
    return count;
  }

  async dispatchPacing(): Promise<DispatchPacing> {
    await this.ensureTable();
    try {
      const row = await this.table.getEntity<{ factor?: number; seenThrottleAt?: number; updatedAt?: number }>('dispatch', 'state');
      return { factor: row.factor ?? 1, seenThrottleAt: row.seenThrottleAt, updatedAt: row.updatedAt, etag: row.etag };
    } catch (error) {
      if (isStatus(error, 404)) return { factor: 1 };
      throw error;
    }
  }

  async saveDispatchPacing(pacing: DispatchPacing): Promise<void> {
    await this.ensureTable();
    const entity = {
      partitionKey: 'dispatch',
      rowKey: 'state',
      factor: pacing.factor,
      ...(pacing.seenThrottleAt !== undefined ? { seenThrottleAt: pacing.seenThrottleAt } : {}),
      updatedAt: pacing.updatedAt ?? Date.now(),
    };
    await this.table.upsertEntity(entity, 'Replace');
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable().catch((error: unknown) => {
      this.tableReady = undefined;
      throw error;
    });
    return this.tableReady;
  }
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
