import type { GraphRequest, GraphTransport } from '../../shared/graph/http';
import { silentLogger } from '../../shared/log';
import { pacedGraph } from '../../shared/pacing/paced-graph';
import type { HookableTransport, WriteHooks } from '../../shared/pacing/write-hooks';
import { writeCount } from '../../shared/pacing/write-kind';
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import type { Delivery } from '../../shared/worker/process-reset';
import type { WorkerDependencies } from '../../shared/worker/worker-dependencies';
import { workerDependencies } from '../../shared/worker/worker-services';

/** Driving the worker directly in tests: a first delivery, the app's dependencies with short backoffs, and the ways tests stall or age a run. */
export const FIRST_DELIVERY: Delivery = { dequeueCount: 1, maxDequeueCount: 5 };

export const testWorkerDependencies = (overrides: Partial<WorkerDependencies> = {}): WorkerDependencies => ({
  ...workerDependencies(getServices(), silentLogger),
  engine: { retry: { baseDelayMs: 10 } },
  ...overrides,
});

/** Time passing, as the app itself would record it: the lease is ended through the store (a MAC'd write). */
export async function expireLease(id: string): Promise<void> {
  const { store } = requestStores(getServices());
  const row = (await store.get(id))!;
  const { etag, ...fields } = row;
  await store.update({ ...fields, leaseUntil: new Date(Date.now() - 1000).toISOString() }, etag);
}

/**
 * A paced transport whose `stallAtWrite`-th write stalls after its token and before the worker's checks,
 * as an invocation held in a long wait would, until released; it records every write it sent.
 */
export function stallingTransport(stallAtWrite: number) {
  let writes = 0;
  let stalled = false;
  let release!: () => void;
  const over = new Promise<void>((resolve) => (release = resolve));
  const sent: GraphRequest[] = [];
  const base = pacedGraph(getServices().graph, { writesPerSecond: 50 });
  const transport: HookableTransport = {
    origin: base.origin,
    send: (request) => base.send(request),
    withHooks(hooks: WriteHooks): GraphTransport {
      const inner = base.withHooks({
        ...hooks,
        beforeWrite: async (request) => {
          writes += 1;
          if (writes === stallAtWrite) {
            stalled = true;
            await over;
          }
          return hooks.beforeWrite(request);
        },
      });
      return {
        origin: base.origin,
        async send(request) {
          const response = await inner.send(request);
          if (writeCount(request) > 0) sent.push(request);
          return response;
        },
      };
    },
  };
  return { transport, sent, release, stalled: () => stalled };
}
