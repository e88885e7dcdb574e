import type { InvocationContext, Timer } from '@azure/functions';
import { getServices } from '../shared/services';
import { sweepStuckRequests } from '../shared/worker/sweeper';
import { workerDependencies } from '../shared/worker/worker-services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function resetSweeperHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const report = await sweepStuckRequests(workerDependencies(getServices(), invocationLog(context)));
  if (report.redriven.length > 0 || report.waiting.length > 0) {
    context.log(JSON.stringify({ message: 'sweep', redriven: report.redriven.length, waitingInBacklog: report.waiting.length }));
  }
}

export const resetSweeper: FunctionDefinition = {
  name: 'resetSweeper',
  trigger: 'timer',
  // Every minute, at second 15 so it does not coincide with other minute timers.
  options: { schedule: '15 * * * * *', handler: resetSweeperHandler },
};
