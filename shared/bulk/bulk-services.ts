import type { Logger } from '../log';
import { appGraph } from '../pacing/app-graph';
import { PacingStore } from '../pacing/pacing-store';
import { RequestStore } from '../requests/request-store';
import { ResetQueue } from '../requests/reset-queue';
import type { Services } from '../services';
import { QUEUES, TABLES } from '../storage/names';
import { BulkStore } from './bulk-store';
import type { DispatcherDependencies } from './dispatcher';

const built = new WeakMap<Services, { bulk: BulkStore } & Omit<DispatcherDependencies, 'log' | 'bulk'>>();

/** The bulk tables, the request store and queue, the paced Graph client and the pacing state, once per Services. */
export function bulkServices(services: Services, log: Logger): DispatcherDependencies {
  let made = built.get(services);
  if (!made) {
    made = {
      bulk: new BulkStore(services.storage.table(TABLES.bulkJobs), services.storage.table(TABLES.bulkItems)),
      requests: new RequestStore(services.storage.table(TABLES.requests)),
      queue: new ResetQueue(services.storage.queue(QUEUES.resets)),
      graph: appGraph(services),
      pacing: new PacingStore(services.storage.table(TABLES.pacing)),
      settings: services.settings,
    };
    built.set(services, made);
  }
  return { ...made, log };
}
