import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueClient } from '@azure/storage-queue';
import type { TenantFile } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import type { GraphTransport } from '../../shared/graph/http';
import { pacedGraph } from '../../shared/pacing/paced-graph';
import type { HookableTransport, WriteHooks } from '../../shared/pacing/write-hooks';
import { getServices } from '../../shared/services';
import { QUEUES } from '../../shared/storage/names';
import { processResetMessage } from '../../shared/worker/process-reset';
import { sweepStuckRequests } from '../../shared/worker/sweeper';
import { startSystem, type RunningSystem } from '../support/system';
import { FIRST_DELIVERY as first, testWorkerDependencies as deps } from '../support/worker-harness';

const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: 3 }, (_, index) => ({
    userPrincipalName: `locked${index}@contoso.com`,
    defaultMethod: 'push' as const,
    methods: [
      { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555533${index}0` },
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

const userOf = (index: number) => system.graph.tenant.findUser(`locked${index}@contoso.com`)!;
const writesTo = (index: number) => system.graph.requestLog.filter((entry) => entry.write && entry.url.includes(userOf(index).id));

async function submit(user: number): Promise<string> {
  const answer = await system.post('generic', {
    ticket: { system: 'generic', id: `LOCK-${user}-${Math.random().toString(36).slice(2, 8)}` },
    target: { userPrincipalName: `locked${user}@contoso.com` },
    requestedBy: 'agent@contoso.com',
  });
  expect(answer.status).toBe(202);
  return answer.body.id;
}

describe("the per-user lock's waits", () => {
  it('a user locked by another reset for 150 s holds no invocation: the request is re-queued for when the lock ends, and the sweeper leaves it alone', async () => {
    const id = await submit(0);
    const lockedUntil = new Date(Date.now() + 150_000);
    expect(await deps().targets.acquire(`oid:${userOf(0).id}`, 'another-request', lockedUntil)).toEqual({ ok: true });

    const started = Date.now();
    expect(await processResetMessage({ requestId: id }, first, deps())).toBe('waiting-for-user');
    // Well within the inline wait: nobody sleeps on a lock (correctness, not speed: it must not wait 150 s).
    expect(Date.now() - started).toBeLessThan(INLINE_WAIT_SECONDS * 1000);
    expect(writesTo(0)).toHaveLength(0);

    const row = (await getServices().storage.table('ResetRequests').getEntity<{ status: string; leaseUntil: string }>(id.slice(0, 2).toLowerCase(), id));
    expect(row.status).toBe('accepted');
    expect(Math.abs(Date.parse(row.leaseUntil) - lockedUntil.getTime())).toBeLessThan(1000);
    // A message for when the lock ends waits invisibly, beside the intake's own (no worker runs here).
    const queue = new QueueClient(system.azurite.connectionString, QUEUES.resets);
    expect((await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(1);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(2);
    // Five minutes on, by its own clock, the sweeper still sees a request that is waiting, not lost.
    const sweep = await sweepStuckRequests(deps(), { now: new Date(Date.now() + 60_000) });
    expect(sweep.redriven).not.toContain(id);
  });

  it('a run whose user lock lapsed during a stall and was taken by another reset sends nothing more (simulator log)', async () => {
    const id = await submit(1);
    let stalled = false;
    let release!: () => void;
    const stallOver = new Promise<void>((resolve) => (release = resolve));
    // The run's first write stalls after its token and before its checks, longer than the lease.
    const base = pacedGraph(getServices().graph, { writesPerSecond: 50 });
    const stalling: HookableTransport = {
      origin: base.origin,
      send: (request) => base.send(request),
      withHooks(hooks: WriteHooks): GraphTransport {
        return base.withHooks({
          ...hooks,
          beforeWrite: async (request) => {
            if (!stalled) {
              stalled = true;
              await stallOver;
            }
            return hooks.beforeWrite(request);
          },
        });
      },
    };
    const run = processResetMessage({ requestId: id }, first, deps({ graph: stalling }));
    while (!stalled) await new Promise((resolve) => setTimeout(resolve, 20));
    system.graph.resetLog();

    // The lock ran out with the lease; another reset of the same user takes it (nobody took the request over).
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 500));
    expect(await deps().targets.acquire(`oid:${userOf(1).id}`, 'another-request', new Date(Date.now() + 60_000))).toEqual({ ok: true });
    release();

    expect(await run).toBe('waiting-for-user');
    expect(writesTo(1)).toEqual([]);
    expect(system.graph.tenant.methodsOf('locked1@contoso.com').length).toBeGreaterThan(1);
    const status = await system.status(id);
    expect(status.status).toBe('accepted');
    expect(status.statusReason).toMatch(/another reset of the same user \(another-request\)/);
    expect(status.audit?.verified).toBe(true);
  }, 60_000);
});
