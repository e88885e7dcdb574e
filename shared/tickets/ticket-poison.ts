import type { QueueClient } from '@azure/storage-queue';
import { drainQueue, type DrainDelivery, type DrainOptions, type DrainReport } from '../storage/poison-drain';
import { resetMessageSchema } from '../worker/reset-message';
import { OutboxRow } from './outbox-row';
import { OUTBOX_EVENTS, parseOutbox, type OutboxState } from './outbox-state';
import { endEverything, type TicketDependencies } from './process-ticket-update';

export type TicketPoisonOutcome = 'marked' | 'already-settled' | 'unknown' | 'parked' | 'left-for-sweeper';

const SETTLED = new Set(['posted', 'failed', 'skipped']);

/** Nothing open: every event settled and no watch running (a message seen twice). */
function settled(state: OutboxState): boolean {
  return OUTBOX_EVENTS.every((event) => !state.events[event] || SETTLED.has(state.events[event].state)) && (!state.watch || state.watch.ended !== undefined);
}

/**
 * A ticket-updates message that failed every try (storage trouble, a bug): what was still open for the
 * request is marked failed with the reason and audited, so the status says the ticket was not told;
 * nothing is retried from here.
 *
 * Any body is taken (the timer drain hands over the raw text of what the queue extension could not
 * decode): one that is not `{requestId}` is logged by its shape only and parked, never thrown, so
 * nothing is left for a `ticket-updates-poison-poison` queue. When storage fails, the drain tries again
 * later; on the last try the request is left to the ticket sweeper and nothing is thrown.
 */
export async function markTicketUpdatesPoisoned(
  message: unknown,
  deps: Pick<TicketDependencies, 'store' | 'audit' | 'log'>,
  delivery: DrainDelivery = { dequeueCount: 1, maxDequeueCount: 1 },
): Promise<TicketPoisonOutcome> {
  const parsed = resetMessageSchema.safeParse(message);
  if (!parsed.success) {
    // Its content is whatever someone wrote to the queue: only its type and length reach the log.
    deps.log.error('ticket-updates poison message is not {requestId}; parked', {
      type: typeof message === 'string' ? 'text' : typeof message,
      length: typeof message === 'string' ? message.length : undefined,
    });
    return 'parked';
  }
  try {
    const row = await deps.store.get(parsed.data.requestId);
    const state = row ? parseOutbox(row.ticketUpdates) : undefined;
    if (!row || !state) {
      deps.log.error('ticket-updates poison message names no request with ticket updates', { requestId: parsed.data.requestId });
      return 'unknown';
    }
    if (settled(state)) return 'already-settled';
    await endEverything(new OutboxRow(row, state, deps), 'poisoned: the ticket update could not be processed and its message went to ticket-updates-poison', () => new Date());
    deps.log.error('ticket updates failed: message poisoned', { requestId: row.id });
    return 'marked';
  } catch (error) {
    if (delivery.dequeueCount < delivery.maxDequeueCount) throw error;
    deps.log.error('ticket-updates poison message could not be recorded; the request is left for the ticket sweeper', {
      requestId: parsed.data.requestId,
      dequeueCount: delivery.dequeueCount,
      cause: error instanceof Error ? error.message : String(error),
    });
    return 'left-for-sweeper';
  }
}

/** Empties queue ticket-updates-poison on a timer, not a trigger (shared/storage/poison-drain.ts says why). */
export async function drainTicketUpdatesPoison(
  poison: QueueClient,
  deps: Pick<TicketDependencies, 'store' | 'audit' | 'log'>,
  options: DrainOptions,
): Promise<DrainReport<TicketPoisonOutcome>> {
  return drainQueue(poison, (body, delivery) => markTicketUpdatesPoisoned(body, deps, delivery), deps.log, options);
}
