import { odata, RestError, type TableClient } from '@azure/data-tables';
import { RequestConflictError, type RequestStore } from '../requests/request-store';
import type { ResetQueue } from '../requests/reset-queue';
import type { Logger } from '../log';
import { logFieldsOf } from './request-view';

/**
 * Requests whose worker died: `running`, their lease run out. Their queue message stays invisible for
 * as long as the dead instance's host had taken it for (10 minutes in Azure), so without a new message
 * they would wait for the safety net's sweeper (every 5 minutes) after their lease. While a bulk job runs
 * the dispatcher's beat calls this every tick, so a job, and the resets running beside it, go on about
 * one lease after an instance dies instead of several minutes later.
 *
 * One query (the status and the lease's end, filtered by the table service); each row found is marked
 * re-driven (with its ETag, so a worker that claimed it meanwhile wins) and gets a message. The mark
 * keeps the next ticks from sending it again while its message waits; a second message for a request
 * that is running again does no harm (the worker finds it held and looks again later).
 */
export const REDRIVEN = 'worker lease ran out; re-driven';
/** A lease this far past its end: its worker is not merely late with a renewal. */
const SLACK_MS = 5000;
/** A row marked re-driven this recently is not sent again. */
const MARK_HOLDS_MS = 60_000;

export async function redriveDeadWorkers(deps: { table: TableClient; store: RequestStore; queue: ResetQueue; log: Logger }, now = new Date()): Promise<string[]> {
  const before = new Date(now.getTime() - SLACK_MS).toISOString();
  const filter = odata`status eq ${'running'} and leaseUntil lt ${before}`;
  const redriven: string[] = [];
  const found: Record<string, unknown>[] = [];
  try {
    for await (const entity of deps.table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) found.push(entity);
  } catch (error) {
    if (error instanceof RestError && error.statusCode === 404) return redriven; // no request stored yet
    throw error;
  }
  for (const entity of found) {
    const row = deps.store.fromQuery(entity);
    // A row that fails its MAC check is left to the sweeper, which sends it to the worker to be refused.
    if (!row.trusted) continue;
    if (row.statusReason === REDRIVEN && now.getTime() - Date.parse(row.updatedAt) < MARK_HOLDS_MS) continue;
    try {
      const { etag, ...fields } = row;
      await deps.store.update({ ...fields, statusReason: REDRIVEN }, etag);
    } catch (error) {
      if (error instanceof RequestConflictError) continue; // a worker claimed it meanwhile
      throw error;
    }
    await deps.queue.send(row.id);
    redriven.push(row.id);
    deps.log.warn('request whose worker died re-driven', logFieldsOf(row));
  }
  return redriven;
}
