import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import { silentLogger } from '../../shared/log';
import { pacedGraph } from '../../shared/pacing/paced-graph';
import { getServices } from '../../shared/services';
import { processResetMessage } from '../../shared/worker/process-reset';
import { sweepStuckRequests } from '../../shared/worker/sweeper';
import { workerDependencies } from '../../shared/worker/worker-services';
import { startSystem, type RunningSystem } from '../support/system';
import { expireLease, FIRST_DELIVERY as first, stallingTransport, testWorkerDependencies as deps } from '../support/worker-harness';

const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: 8 }, (_, index) => ({
    userPrincipalName: `storm${index}@contoso.com`,
    defaultMethod: 'push' as const,
    methods: [
      { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555511${String(index).padStart(2, '0')}` },
      { type: 'microsoftAuthenticator' as const, displayName: `Phone ${index}` },
      { type: 'softwareOath' as const },
    ],
  })),
};

const LEASE_SECONDS = 10;
const INLINE_WAIT_SECONDS = 2;

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({
    graph: { tenant },
    definitions: functionDefinitions.filter((d) => d.trigger === 'http'),
    settings: { RESET_LEASE_SECONDS: String(LEASE_SECONDS), GRAPH_MAX_INLINE_WAIT_SECONDS: String(INLINE_WAIT_SECONDS) },
  });
});
afterAll(async () => {
  await system?.stop();
});


async function submit(user: number): Promise<string> {
  const answer = await system.post('generic', {
    ticket: { system: 'generic', id: `STORM-${user}-${Math.random().toString(36).slice(2, 8)}` },
    target: { userPrincipalName: `storm${user}@contoso.com` },
    requestedBy: 'agent@contoso.com',
  });
  expect(answer.status).toBe(202);
  return answer.body.id;
}

const userId = (user: number) => system.graph.tenant.findUser(`storm${user}@contoso.com`)!.id;
const deletesFor = (user: number) => system.graph.requestLog.filter((entry) => entry.method === 'DELETE' && entry.url.includes(userId(user)));

describe('a storm of 429 with Retry-After 150 s', () => {
  it('holds no invocation: each re-queues with the delay instead of sleeping in the token wait, and the rest run once it passes', async () => {
    const ids = await Promise.all([0, 1, 2, 3].map(submit));
    system.graph.resetLog();
    system.graph.setFaults({ rate429: 1, retryAfterSeconds: 150, appliesTo: 'writes' });
    const worker = deps();
    const started = Date.now();
    const outcomes = await Promise.all(ids.map((id) => processResetMessage({ requestId: id }, first, worker)));
    const elapsed = Date.now() - started;
    system.graph.setFaults({});

    expect(outcomes).toEqual(['retry-later', 'retry-later', 'retry-later', 'retry-later']);
    // Correctness, not speed: no invocation outlived its lease (before the fix they slept 150 s).
    expect(elapsed).toBeLessThan(LEASE_SECONDS * 1000);
    for (const id of ids) {
      const status = await system.status(id);
      expect(status.status).toBe('accepted');
      expect(status.statusReason).toMatch(/resumes at/);
      const row = await getServices().storage.table('ResetRequests').getEntity<{ leaseUntil: string }>(id.slice(0, 2).toLowerCase(), id);
      // Re-queued for when Graph said: about 150 s on.
      expect(Date.parse(row.leaseUntil) - Date.now()).toBeGreaterThan(100_000);
    }
    // After the first 429 the shared budget is paused: the other writes were not even sent.
    const writes = system.graph.requestLog.filter((entry) => entry.write);
    expect(writes.length).toBeLessThanOrEqual(4);
    expect(writes.every((entry) => entry.status === 429)).toBe(true);

    // Meanwhile, as in the incident: the sweeper runs and the intake's first messages are delivered
    // again to another worker. The sweeper re-drives none of them (each waits for its Retry-After, it is
    // not stuck), and the other worker finds each deferred and sends nothing.
    system.graph.setFaults({ rate429: 1, retryAfterSeconds: 150, appliesTo: 'writes' });
    const sweep = await sweepStuckRequests(worker, { now: new Date(Date.now() + 60_000) });
    expect(sweep.redriven.filter((id) => ids.includes(id))).toEqual([]);
    const again = deps({ graph: pacedGraph(getServices().graph, { writesPerSecond: 50, maxWaitMs: INLINE_WAIT_SECONDS * 1000 }) });
    const duplicates = await Promise.all(ids.map((id) => processResetMessage({ requestId: id }, { dequeueCount: 2, maxDequeueCount: 5 }, again)));
    expect(duplicates).toEqual(['deferred', 'deferred', 'deferred', 'deferred']);
    system.graph.setFaults({});
    expect(system.graph.requestLog.filter((entry) => entry.write)).toHaveLength(writes.length);
    expect(system.graph.requestLog.filter((entry) => entry.method === 'DELETE' && entry.status < 300)).toEqual([]);

    // 150 s later (the lease moved forward here), another instance with its own budget finishes them.
    const later = deps({ graph: pacedGraph(getServices().graph, { writesPerSecond: 50, maxWaitMs: INLINE_WAIT_SECONDS * 1000 }) });
    for (const id of ids) await expireLease(id);
    const resumed = await Promise.all(ids.map((id) => processResetMessage({ requestId: id }, first, later)));
    expect(resumed).toEqual(['completed', 'completed', 'completed', 'completed']);
    for (const user of [0, 1, 2, 3]) {
      const done = deletesFor(user).filter((entry) => entry.status === 204).map((entry) => entry.url);
      expect(new Set(done).size).toBe(3);
      expect(done).toHaveLength(3);
    }
  }, 60_000);

  it('a worker whose lease was taken over while it stalled before a write sends nothing (simulator log)', async () => {
    const id = await submit(5);
    system.graph.resetLog();
    // The stale worker's transport: its first write stalls after its token and before its lease check,
    // as an invocation held in a long wait did, long enough for the lease to run out.
    const stale = stallingTransport(1);
    const staleRun = processResetMessage({ requestId: id }, first, deps({ graph: stale.transport }));
    while (!stale.stalled()) await new Promise((resolve) => setTimeout(resolve, 20));

    // Its lease runs out; another worker takes the request over and finishes it.
    await expireLease(id);
    const other = deps({ graph: pacedGraph(getServices().graph, { writesPerSecond: 50 }) });
    expect(await processResetMessage({ requestId: id }, { dequeueCount: 2, maxDequeueCount: 5 }, other)).toBe('completed');
    stale.release();
    expect(await staleRun).toBe('lost-race');

    expect(stale.sent).toEqual([]);
    // One DELETE per method, all answered 204: nobody met a 404 left by a second worker's write.
    const deletes = deletesFor(5);
    expect(deletes.map((entry) => entry.status)).toEqual([204, 204, 204]);
    const status = await system.status(id);
    expect(status.status).toBe('completed');
    expect(status.audit?.verified).toBe(true);
  }, 60_000);
  it('sleeps through no Retry-After longer than a quarter of the lease, whatever GRAPH_MAX_INLINE_WAIT_SECONDS says: the reset is re-queued instead', async () => {
    const id = await submit(6);
    system.graph.resetLog();
    system.graph.setFaults({ rate429: 1, retryAfterSeconds: 8, appliesTo: 'writes' });
    const base = workerDependencies(getServices(), silentLogger);
    // An inline wait far above the lease (60 s against 10 s): an 8 s Retry-After would outlive what is left of it.
    const worker = deps({
      settings: { ...base.settings, GRAPH_MAX_INLINE_WAIT_SECONDS: 60 },
      graph: pacedGraph(getServices().graph, { writesPerSecond: 50, maxWaitMs: 60_000 }),
    });
    const started = Date.now();
    try {
      expect(await processResetMessage({ requestId: id }, first, worker)).toBe('retry-later');
    } finally {
      system.graph.setFaults({});
    }
    // Correctness, not speed: the 8 s were not slept inside the invocation.
    expect(Date.now() - started).toBeLessThan(6000);
    const status = await system.status(id);
    expect(status.status).toBe('accepted');
    expect(status.statusReason).toMatch(/resumes at/);
    expect(deletesFor(6).filter((entry) => entry.status < 300)).toEqual([]);
  }, 60_000);
  it('a worker whose intent row landed but was answered only after its lease ran out, and was taken over meanwhile, sends nothing (simulator log)', async () => {
    const id = await submit(7);
    system.graph.resetLog();
    const real = workerDependencies(getServices(), silentLogger).audit;
    let stalled = false;
    let release!: () => void;
    const stallOver = new Promise<void>((resolve) => (release = resolve));
    // Storage stores the stale worker's first intent row at once but its answer comes back 10.5 s later.
    const slowAnswer = Object.assign(Object.create(real) as typeof real, {
      appendMany: async (...args: Parameters<typeof real.appendMany>) => {
        const written = await real.appendMany(...args);
        if (!stalled && args[3].some((entry) => entry.action.startsWith('intent '))) {
          stalled = true;
          await stallOver;
        }
        return written;
      },
    });
    const staleRun = processResetMessage({ requestId: id }, first, deps({ audit: slowAnswer, graph: pacedGraph(getServices().graph, { writesPerSecond: 50 }) }));
    while (!stalled) await new Promise((resolve) => setTimeout(resolve, 20));

    // Its lease runs out; another worker takes the request over, settles the open intent and finishes.
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 500));
    const other = deps({ graph: pacedGraph(getServices().graph, { writesPerSecond: 50 }) });
    expect(await processResetMessage({ requestId: id }, { dequeueCount: 2, maxDequeueCount: 5 }, other)).toBe('completed');
    release();
    expect(await staleRun).toBe('lost-race');

    // One DELETE per method, all from the new worker: the stale one's write never left (no 404 after it).
    expect(deletesFor(7).map((entry) => entry.status)).toEqual([204, 204, 204]);
    const status = await system.status(id);
    expect(status.status).toBe('completed');
    expect(status.audit?.verified).toBe(true);
    expect(status.audit?.entries.some((entry) => entry.action.startsWith('resolved DELETE'))).toBe(true);
  }, 90_000);
});
