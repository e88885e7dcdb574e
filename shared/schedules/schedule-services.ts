import { beatServices } from '../beats/beat-services';
import { bulkStore } from '../bulk/bulk-services';
import type { Logger } from '../log';
import { appGraph } from '../pacing/app-graph';
import { requestStores } from '../request-stores';
import type { Services } from '../services';
import { TABLES } from '../storage/names';
import { ticketDependencies } from '../tickets/ticket-services';
import { ScheduleStore } from './schedule-store';
import type { ScheduleDependencies } from './schedule-runs';

const built = new WeakMap<Services, ScheduleStore>();

export function scheduleStore(services: Services): ScheduleStore {
  let store = built.get(services);
  if (!store) {
    const table = (name: string) => services.storage.table(name);
    store = new ScheduleStore(table(TABLES.schedules), table(TABLES.scheduleRuns), table(TABLES.scheduleTargets), table(TABLES.scheduleMarks));
    built.set(services, store);
  }
  return store;
}

/**
 * The schedule routes and releaser: their tables, the bulk tables, the intake MAC key, the paced Graph
 * client, the ticket outbox's request table and queue (a refused run tells its ticket), and the beats
 * that wake the dispatcher and the releaser.
 */
export function scheduleServices(services: Services, log: Logger): ScheduleDependencies {
  const { integrity, index } = requestStores(services);
  const tickets = ticketDependencies(services, log);
  return {
    settings: services.settings,
    schedules: scheduleStore(services),
    bulk: bulkStore(services),
    integrity,
    index,
    tickets: { jira: tickets.jira, servicenow: tickets.servicenow },
    graph: appGraph(services),
    log,
    notice: { store: tickets.store, audit: tickets.audit, integrity, queue: tickets.queue, settings: services.settings, log },
    beats: beatServices(services, log),
  };
}
