import type { Logger } from '../log';
import { appGraph } from '../pacing/app-graph';
import { PacingStore } from '../pacing/pacing-store';
import { requestStores } from '../request-stores';
import type { Services } from '../services';
import { TABLES } from '../storage/names';
import { BulkStore } from './bulk-store';
import type { DispatcherDependencies } from './dispatcher';

const built = new WeakMap<Services, { bulk: BulkStore; pacing: PacingStore }>();

/** The bulk tables and the pacing state, once per Services. */
export function bulkStore(services: Services): BulkStore {
  return bulkTables(services).bulk;
}

function bulkTables(services: Services): { bulk: BulkStore; pacing: PacingStore } {
  let made = built.get(services);
  if (!made) {
    made = {
      bulk: new BulkStore(services.storage.table(TABLES.bulkJobs), services.storage.table(TABLES.bulkItems)),
      pacing: new PacingStore(services.storage.table(TABLES.pacing)),
    };
    built.set(services, made);
  }
  return made;
}

/** What the dispatcher uses: the bulk tables, the app's request store and queue, the paced Graph client. */
export function bulkServices(services: Services, log: Logger): DispatcherDependencies {
  const { store, queue, integrity } = requestStores(services);
  return { ...bulkTables(services), requests: store, queue, integrity, graph: appGraph(services), settings: services.settings, log };
}
