import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import { AuditLog } from '../../shared/audit/audit-log';
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import { TABLES } from '../../shared/storage/names';
import { markPoisoned } from '../../shared/worker/poisoned';
import { actorOf, targetOf } from '../../shared/worker/request-view';
import { processResetMessage } from '../../shared/worker/process-reset';
import { testIntegrity } from '../support/signing';
import { startSystem, type RunningSystem } from '../support/system';
import { expireLease, FIRST_DELIVERY as first, stallingTransport, testWorkerDependencies as deps } from '../support/worker-harness';

/**
 * A worker no longer checks its lease with a write of the request row before each Graph write: its
 * writes' intents go to the trail in one transaction with the request's audit fence, on the fence's
 * ETag, and whoever takes the request over (a later delivery, the poison handler) writes the fence
 * first. These attack that: a worker taken over between two of its writes, by another delivery or by
 * the poison handler, must send nothing more, and the fence must never show as a row of the trail.
 */
const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: 4 }, (_, index) => ({
    userPrincipalName: `fence${index}@contoso.com`,
    defaultMethod: 'push' as const,
    methods: [
      { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555577${index}0` },
      { type: 'softwareOath' as const },
      { type: 'microsoftAuthenticator' as const, displayName: `Phone ${index}` },
    ],
  })),
};

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({
    graph: { tenant },
    definitions: functionDefinitions.filter((d) => d.trigger === 'http'),
    settings: { RESET_LEASE_SECONDS: '10', GRAPH_MAX_CONCURRENCY: '1' },
  });
});
afterAll(async () => {
  await system?.stop();
});

const userId = (user: number) => system.graph.tenant.findUser(`fence${user}@contoso.com`)!.id;
const writesFor = (user: number) => system.graph.requestLog.filter((entry) => entry.write && entry.url.includes(userId(user)));

async function submit(user: number): Promise<string> {
  const answer = await system.post('generic', { ticket: { system: 'generic', id: `FENCE-${user}` }, target: { userPrincipalName: `fence${user}@contoso.com` }, requestedBy: 'agent@contoso.com' });
  expect(answer.status).toBe(202);
  return answer.body.id;
}

describe('the audit fence', () => {
  it('a worker taken over by another delivery between two of its writes sends no further write', async () => {
    const id = await submit(0);
    system.graph.resetLog();
    const stale = stallingTransport(2);
    const staleRun = processResetMessage({ requestId: id }, first, deps({ graph: stale.transport }));
    while (!stale.stalled()) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stale.sent).toHaveLength(1);

    // Its lease runs out (by the other worker's clock) and the request is taken over and finished.
    await expireLease(id);
    expect(await processResetMessage({ requestId: id }, { dequeueCount: 2, maxDequeueCount: 5 }, deps())).toBe('completed');
    const afterTakeover = writesFor(0).length;
    stale.release();
    expect(await staleRun).toBe('lost-race');

    // Nothing more left the stale worker; every method went once.
    expect(stale.sent).toHaveLength(1);
    expect(writesFor(0)).toHaveLength(afterTakeover);
    const removed = system.graph.tenant.removals.filter((removal) => removal.userId === userId(0)).map((removal) => removal.methodId);
    expect(new Set(removed).size).toBe(3);
    expect(removed).toHaveLength(3);
    const status = await system.status(id);
    expect(status.status).toBe('completed');
    expect(status.audit?.verified).toBe(true);
  }, 60_000);

  it('a worker whose request the poison handler ended meanwhile sends no further write', async () => {
    const id = await submit(1);
    system.graph.resetLog();
    const stale = stallingTransport(2);
    const staleRun = processResetMessage({ requestId: id }, first, deps({ graph: stale.transport }));
    while (!stale.stalled()) await new Promise((resolve) => setTimeout(resolve, 20));

    await expireLease(id);
    expect(await markPoisoned({ requestId: id }, deps())).toBe('marked');
    stale.release();
    expect(await staleRun).toBe('lost-race');

    expect(stale.sent).toHaveLength(1);
    expect(writesFor(1)).toHaveLength(1);
    const status = await system.status(id);
    expect(status.status).toBe('failed');
    expect(status.statusReason).toMatch(/poison queue/);
    expect(status.audit?.verified).toBe(true);
  }, 60_000);

  it('a trail the row does not know of yet (a row parked on the request) is chained after, not overwritten', async () => {
    const id = await submit(3);
    const { store, audit } = requestStores(getServices());
    const row = (await store.get(id))!;
    await audit.append(id, actorOf(row), targetOf(row), { action: 'poison-parked', outcome: 'ignored', detail: 'an unreadable message named this request' });
    expect(await processResetMessage({ requestId: id }, first, deps())).toBe('completed');
    const status = await system.status(id);
    expect(status.audit?.verified).toBe(true);
    expect(status.audit?.entries.map((entry) => entry.action).slice(0, 2)).toEqual(['poison-parked', 'start']);
  });

  it('is not a row of the trail: the trail verifies, lists only numbered rows, and the verification scan passes it by', async () => {
    const id = await submit(2);
    expect(await processResetMessage({ requestId: id }, first, deps())).toBe('completed');
    const table = TableClient.fromConnectionString(system.azurite.connectionString, TABLES.audit, { allowInsecureConnection: true });
    const stored: string[] = [];
    for await (const entity of table.listEntities({ queryOptions: { filter: `PartitionKey eq '${id}'` } })) stored.push(entity.rowKey!);
    expect(stored).toContain('fence');
    const log = new AuditLog(table, testIntegrity().auditKey());
    const rows = await log.list(id);
    expect(rows.length).toBe(stored.length - 1);
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, index) => index + 1));
    expect((await log.verify(id)).ok).toBe(true);
    expect(await log.requestIdsBetween(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000))).toContain(id);
  });
});
