import type { InvocationContext, Timer } from '@azure/functions';
import { requestStores } from '../shared/request-stores';
import { getServices } from '../shared/services';
import { QUEUES, TABLES } from '../shared/storage/names';
import { processTicketUpdate } from '../shared/tickets/process-ticket-update';
import { ticketDependencies } from '../shared/tickets/ticket-services';
import { markTicketUpdatesPoisoned } from '../shared/tickets/ticket-poison';
import { sweepTicketOutbox } from '../shared/tickets/ticket-sweeper';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function ticketUpdatesHandler(message: unknown, context: InvocationContext): Promise<void> {
  await processTicketUpdate(message, ticketDependencies(getServices(), invocationLog(context)));
}

export async function ticketUpdatesPoisonHandler(message: unknown, context: InvocationContext): Promise<void> {
  await markTicketUpdatesPoisoned(message, ticketDependencies(getServices(), invocationLog(context)));
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
  trigger: 'storageQueue',
  options: { queueName: QUEUES.ticketUpdatesPoison, connection: 'AzureWebJobsStorage', handler: ticketUpdatesPoisonHandler },
};

export const ticketSweeper: FunctionDefinition = {
  name: 'ticketSweeper',
  trigger: 'timer',
  // Every minute at second 45, apart from the reset sweeper's second 15.
  options: { schedule: '45 * * * * *', handler: ticketSweeperHandler },
};
