import type { InvocationContext, Timer } from '@azure/functions';
import { requestStores } from '../shared/request-stores';
import { appHostQueueSettings } from '../shared/host-json';
import { getServices } from '../shared/services';
import { QUEUES, TABLES } from '../shared/storage/names';
import { processTicketUpdate } from '../shared/tickets/process-ticket-update';
import { ticketDependencies } from '../shared/tickets/ticket-services';
import { drainTicketUpdatesPoison } from '../shared/tickets/ticket-poison';
import { sweepTicketOutbox } from '../shared/tickets/ticket-sweeper';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function ticketUpdatesHandler(message: unknown, context: InvocationContext): Promise<void> {
  await processTicketUpdate(message, ticketDependencies(getServices(), invocationLog(context)));
}

/**
 * ticket-updates-poison is read on a timer, not by a queue trigger: a trigger's queue extension would
 * move any body it cannot decode on to ticket-updates-poison-poison before this code saw it.
 */
export async function ticketUpdatesPoisonHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const report = await drainTicketUpdatesPoison(services.storage.queue(QUEUES.ticketUpdatesPoison), ticketDependencies(services, invocationLog(context)), {
    maxDequeueCount: appHostQueueSettings().maxDequeueCount,
  });
  if (Object.keys(report.handled).length > 0 || report.retried > 0) {
    context.log(JSON.stringify({ message: 'ticket-updates poison queue drained', ...report.handled, retried: report.retried }));
  }
}

export async function ticketSweeperHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const deps = ticketDependencies(services, invocationLog(context));
  await sweepTicketOutbox({ table: services.storage.table(TABLES.requests), store: requestStores(services).store, queue: deps.queue, log: deps.log });
}

/** Queue ticket-updates: notes on the ticket, mails to the user and manager, and the follow-up watch. */
export const ticketUpdates: FunctionDefinition = {
  name: 'ticketUpdates',
  trigger: 'storageQueue',
  options: { queueName: QUEUES.ticketUpdates, connection: 'AzureWebJobsStorage', handler: ticketUpdatesHandler },
};

export const ticketUpdatesPoison: FunctionDefinition = {
  name: 'ticketUpdatesPoison',
  trigger: 'timer',
  // Every 10 s at second 5, 15, ..., apart from resetPoison's 0, 10, ...
  options: { schedule: '5-55/10 * * * * *', handler: ticketUpdatesPoisonHandler },
};

export const ticketSweeper: FunctionDefinition = {
  name: 'ticketSweeper',
  trigger: 'timer',
  // Every minute at second 45, apart from the reset sweeper's second 15.
  options: { schedule: '45 * * * * *', handler: ticketSweeperHandler },
};
