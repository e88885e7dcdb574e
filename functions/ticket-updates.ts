import type { InvocationContext } from '@azure/functions';
import { getServices } from '../shared/services';
import { QUEUES } from '../shared/storage/names';
import { processTicketUpdate } from '../shared/tickets/process-ticket-update';
import { ticketDependencies } from '../shared/tickets/ticket-services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function ticketUpdatesHandler(message: unknown, context: InvocationContext): Promise<void> {
  await processTicketUpdate(message, ticketDependencies(getServices(), invocationLog(context)));
}

/** Queue ticket-updates: notes on the ticket, mails to the user and manager, and the follow-up watch. */
export const ticketUpdates: FunctionDefinition = {
  name: 'ticketUpdates',
  trigger: 'storageQueue',
  options: { queueName: QUEUES.ticketUpdates, connection: 'AzureWebJobsStorage', handler: ticketUpdatesHandler },
};
