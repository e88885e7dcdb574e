import type { InvocationContext } from '@azure/functions';
import { appHostQueueSettings } from '../shared/host-json';
import { getServices } from '../shared/services';
import { QUEUES } from '../shared/storage/names';
import { processResetMessage } from '../shared/worker/process-reset';
import { workerDependencies } from '../shared/worker/worker-services';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function resetWorkerHandler(message: unknown, context: InvocationContext): Promise<void> {
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  await processResetMessage(
    message,
    { dequeueCount, maxDequeueCount: appHostQueueSettings().maxDequeueCount },
    workerDependencies(getServices(), invocationLog(context)),
  );
}

export const resetWorker: FunctionDefinition = {
  name: 'resetWorker',
  trigger: 'storageQueue',
  options: { queueName: QUEUES.resets, connection: 'AzureWebJobsStorage', handler: resetWorkerHandler },
};
