import { AuditLog } from '../audit/audit-log';
import { appGraph } from '../pacing/app-graph';
import type { Logger } from '../log';
import { RequestStore } from '../requests/request-store';
import { ResetQueue } from '../requests/reset-queue';
import type { Services } from '../services';
import { QUEUES, TABLES } from '../storage/names';
import { TargetGuard } from './target-guard';
import type { WorkerDependencies } from './worker-dependencies';

const built = new WeakMap<Services, Omit<WorkerDependencies, 'log'>>();

/** The worker's stores, queue and Graph client over the app's settings, built once per Services. */
export function workerDependencies(services: Services, log: Logger): WorkerDependencies {
  let made = built.get(services);
  if (!made) {
    made = {
      store: new RequestStore(services.storage.table(TABLES.requests)),
      queue: new ResetQueue(services.storage.queue(QUEUES.resets)),
      audit: new AuditLog(services.storage.table(TABLES.audit)),
      targets: new TargetGuard(services.storage.table(TABLES.targets)),
      // Paced to GRAPH_WRITE_BUDGET_PER_SECOND, with throttling shared through table GraphPacing.
      graph: appGraph(services),
      settings: services.settings,
    };
    built.set(services, made);
  }
  return { ...made, log };
}
