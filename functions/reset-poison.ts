import type { InvocationContext } from '@azure/functions';
import { appHostQueueSettings } from '../shared/host-json';
import { getServices } from '../shared/services';
import { QUEUES } from '../shared/storage/names';
import { markPoisoned } from '../shared/worker/poisoned';
import { workerDependencies } from '../shared/worker/worker-services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function resetPoisonHandler(message: unknown, context: InvocationContext): Promise<void> {
  // Any body is taken and the last try never throws, so nothing moves on to mfa-resets-poison-poison.
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  await markPoisoned(message, workerDependencies(getServices(), invocationLog(context)), {
    dequeueCount,
    maxDequeueCount: appHostQueueSettings().maxDequeueCount,
  });
}

export const resetPoison: FunctionDefinition = {
  name: 'resetPoison',
  trigger: 'storageQueue',
  options: { queueName: QUEUES.resetsPoison, connection: 'AzureWebJobsStorage', handler: resetPoisonHandler },
};
