import type { Logger } from '../log';
import { appGraph } from '../pacing/app-graph';
import { requestStores } from '../request-stores';
import type { Services } from '../services';
import { ticketHookFor } from '../tickets/ticket-services';
import type { WorkerDependencies } from './worker-dependencies';
import { requestServiceFor } from '../verification/verification-services';

/** The worker's stores, queue and Graph client over the app's settings. */
export function workerDependencies(services: Services, log: Logger): WorkerDependencies {
  return {
    ...requestStores(services),
    // Paced to GRAPH_WRITE_BUDGET_PER_SECOND, with throttling shared through table GraphPacing.
    graph: appGraph(services),
    settings: services.settings,
    requestService: requestServiceFor(services),
    tickets: ticketHookFor(services, log),
    log,
  };
}
