import type { InvocationContext, Timer } from '@azure/functions';
import { appHostQueueSettings } from '../shared/host-json';
import { getServices } from '../shared/services';
import { QUEUES } from '../shared/storage/names';
import { drainPoisonQueue } from '../shared/worker/poison-drain';
import { workerDependencies } from '../shared/worker/worker-services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

/**
 * mfa-resets-poison is read on a timer, not by a queue trigger: a trigger's queue extension would move
 * any body it cannot decode on to mfa-resets-poison-poison before this code saw it (poison-drain.ts).
 */
export async function resetPoisonHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const services = getServices();
  const report = await drainPoisonQueue(services.storage.queue(QUEUES.resetsPoison), workerDependencies(services, invocationLog(context)), {
    maxDequeueCount: appHostQueueSettings().maxDequeueCount,
  });
  if (Object.keys(report.handled).length > 0 || report.retried > 0) {
    context.log(JSON.stringify({ message: 'poison queue drained', ...report.handled, retried: report.retried }));
  }
}

export const resetPoison: FunctionDefinition = {
  name: 'resetPoison',
  trigger: 'timer',
  // Every 10 s: a peek-sized receive on a queue that is almost always empty.
  options: { schedule: '*/10 * * * * *', handler: resetPoisonHandler },
};
