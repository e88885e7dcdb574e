import type { InvocationContext } from '@azure/functions';
import { beatServices } from '../shared/beats/beat-services';
import { beatWork } from '../shared/beats/beat-work';
import { runBeat } from '../shared/beats/run-beat';
import { appHostQueueSettings } from '../shared/host-json';
import { getServices } from '../shared/services';
import { QUEUES } from '../shared/storage/names';
import type { FunctionDefinition } from './definition';
import { invocationLog } from './invocation-log';

export async function beatHandler(message: unknown, context: InvocationContext): Promise<void> {
  const services = getServices();
  const log = invocationLog(context);
  await runBeat(
    message,
    { dequeueCount: Number(context.triggerMetadata?.dequeueCount ?? 1), maxDequeueCount: appHostQueueSettings().maxDequeueCount },
    { beats: beatServices(services, log), work: beatWork(services, log), log },
  );
}

/**
 * Queue app-beats: the bulk dispatcher's ticks and the schedule releaser's passes, each a message
 * delayed until it is due, sent only while there is work for it (shared/beats/beats.ts).
 */
export const beats: FunctionDefinition = {
  name: 'beats',
  trigger: 'storageQueue',
  options: { queueName: QUEUES.beats, connection: 'AzureWebJobsStorage', handler: beatHandler },
};
