import { odata, type TableClient } from '@azure/data-tables';
import { RequestConflictError, type RequestStore } from '../requests/request-store';
import type { Logger } from '../log';

export interface TicketSweepDependencies {
  /** Table ResetRequests, for the filter on ticketDueAt. */
  table: TableClient;
  store: RequestStore;
  queue: { send(requestId: string, delaySeconds?: number): Promise<void> };
  log: Logger;
}

/**
 * Wakes outboxes whose message was lost (never sent after the final save, or dropped): rows whose
 * ticketDueAt passed more than `graceMs` ago. The row's due time is moved forward before the message is
 * sent, so the next sweep does not send it again while the message waits in the queue.
 */
export async function sweepTicketOutbox(deps: TicketSweepDependencies, options: { now?: Date; graceMs?: number; limit?: number } = {}): Promise<string[]> {
  const now = options.now ?? new Date();
  const before = new Date(now.getTime() - (options.graceMs ?? 2 * 60_000)).toISOString();
  const woken: string[] = [];
  let untrusted = 0;
  try {
    for await (const entity of deps.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`ticketDueAt lt ${before}` } })) {
      const row = deps.store.fromQuery(entity);
      if (!row.ticketDueAt) continue;
      // A row whose MACs fail names tickets and people someone chose in storage: nothing is posted for it.
      if (!row.trusted) {
        untrusted += 1;
        continue;
      }
      const { etag, ...fields } = row;
      try {
        await deps.store.update({ ...fields, ticketDueAt: new Date(now.getTime() + 5 * 60_000).toISOString() }, etag);
      } catch (error) {
        if (error instanceof RequestConflictError) continue; // an outbox invocation got to it
        throw error;
      }
      await deps.queue.send(row.id);
      woken.push(row.id);
      if (woken.length >= (options.limit ?? 200)) break;
    }
  } catch (error) {
    // The table may not exist yet on a fresh account: nothing to sweep.
    if ((error as { statusCode?: number }).statusCode === 404) return woken;
    throw error;
  }
  if (woken.length > 0) deps.log.warn('ticket outboxes woken by the sweeper', { count: woken.length });
  if (untrusted > 0) deps.log.error('ticket outboxes left alone: their request rows fail the MAC check (changed in storage)', { count: untrusted });
  return woken;
}
