import { resetMessageSchema } from '../worker/reset-message';
import { OutboxRow } from './outbox-row';
import { parseOutbox } from './outbox-state';
import { endEverything, type TicketDependencies } from './process-ticket-update';

/**
 * A ticket-updates message that failed every try (storage trouble, a bug): what was still open for the
 * request is marked failed with the reason and audited, so the status says the ticket was not told;
 * nothing is retried from here.
 */
export async function markTicketUpdatesPoisoned(message: unknown, deps: Pick<TicketDependencies, 'store' | 'audit' | 'log'>): Promise<'marked' | 'unknown'> {
  const parsed = resetMessageSchema.safeParse(message);
  if (!parsed.success) return 'unknown';
  const row = await deps.store.get(parsed.data.requestId);
  const state = row ? parseOutbox(row.ticketUpdates) : undefined;
  if (!row || !state) return 'unknown';
  await endEverything(new OutboxRow(row, state, deps), 'poisoned: the ticket update could not be processed and its message went to ticket-updates-poison', () => new Date());
  deps.log.error('ticket updates failed: message poisoned', { requestId: row.id });
  return 'marked';
}
