import type { GraphTransport } from '../graph/http';
import type { Services } from '../services';
import { TABLES } from '../storage/names';
import { pacedGraph, type PacedGraph } from './paced-graph';
import { PacingStore } from './pacing-store';

const built = new WeakMap<Services, PacedGraph>();

/**
 * The app's Graph client: one per process (per Services), paced to GRAPH_WRITE_BUDGET_PER_SECOND and
 * sharing its throttling state through table GraphPacing. The worker and the bulk dispatcher both use it.
 */
export function appGraph(services: Services, inner?: GraphTransport): PacedGraph {
  let made = built.get(services);
  if (!made) {
    made = pacedGraph(inner ?? services.graph, {
      writesPerSecond: services.settings.GRAPH_WRITE_BUDGET_PER_SECOND,
      // No write sleeps longer than a worker may wait inline: a long pause re-queues the reset.
      maxWaitMs: services.settings.GRAPH_MAX_INLINE_WAIT_SECONDS * 1000,
      store: new PacingStore(services.storage.table(TABLES.pacing)),
    });
    built.set(services, made);
  }
  return made;
}
