import type { InvocationContext, Timer } from '@azure/functions';
import { bulkServices } from '../shared/bulk/bulk-services';
import { dispatchBulkJobs } from '../shared/bulk/dispatcher';
import { getServices } from '../shared/services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function bulkDispatcherHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const report = await dispatchBulkJobs(bulkServices(getServices(), invocationLog(context)));
  if (report.released > 0 || report.finished > 0 || report.completed.length > 0) {
    context.log(JSON.stringify({ message: 'bulk dispatch', ...report }));
  }
}

export const bulkDispatcher: FunctionDefinition = {
  name: 'bulkDispatcher',
  trigger: 'timer',
  // Every 5 seconds (shared/bulk/dispatcher.ts TICK_SECONDS); the Functions host runs a timer on one instance at a time.
  options: { schedule: '*/5 * * * * *', handler: bulkDispatcherHandler },
};
