import type { InvocationContext } from '@azure/functions';
import { getServices } from '../shared/services';
import { QUEUES } from '../shared/storage/names';
import { markPoisoned } from '../shared/worker/poisoned';
import { workerDependencies } from '../shared/worker/worker-services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function resetPoisonHandler(message: unknown, context: InvocationContext): Promise<void> {
  await markPoisoned(message, workerDependencies(getServices(), invocationLog(context)));
}

export const resetPoison: FunctionDefinition = {
  name: 'resetPoison',
  trigger: 'storageQueue',
  options: { queueName: QUEUES.resetsPoison, connection: 'AzureWebJobsStorage', handler: resetPoisonHandler },
};
