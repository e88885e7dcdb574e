import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import { silentLogger } from '../../shared/log';
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { redriveDeadWorkers, REDRIVEN } from '../../shared/worker/dead-workers';
import { processResetMessage } from '../../shared/worker/process-reset';
import { workerDependencies } from '../../shared/worker/worker-services';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * A worker that dies mid-reset leaves its request `running` and its queue message invisible for as long
 * as its host had taken it for (10 minutes in Azure). While a bulk job runs, every tick of the
 * dispatcher's beat looks for such requests once their lease has run out and sends each one message, so
 * they go on after one lease instead of waiting for the 5-minute sweep.
 */
const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: 3 }, (_, index) => ({
    userPrincipalName: `dead${index}@contoso.com`,
    methods: [{ type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555566${index}0` }],
  })),
};

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ graph: { tenant }, definitions: functionDefinitions.filter((d) => d.trigger === 'http') });
});
afterAll(async () => {
  await system?.stop();
});

const deps = () => {
  const { store, queue } = requestStores(getServices());
  return { table: getServices().storage.table(TABLES.requests), store, queue, log: silentLogger };
};

async function running(user: number, leaseEndsInMs: number): Promise<string> {
  const answer = await system.post('generic', { ticket: { system: 'generic', id: `DEAD-${user}` }, target: { userPrincipalName: `dead${user}@contoso.com` }, requestedBy: 'agent@contoso.com' });
  expect(answer.status).toBe(202);
  const { store } = requestStores(getServices());
  const row = (await store.get(answer.body.id))!;
  const { etag, ...fields } = row;
  // As a worker leaves it when its instance dies: claimed, its lease ending then.
  await store.update({ ...fields, status: 'running', attempts: 1, leaseUntil: new Date(Date.now() + leaseEndsInMs).toISOString() }, etag);
  return answer.body.id;
}

describe("a dead worker's requests while a job runs", () => {
  it('sends one message for a request whose lease ran out, none for one still held or just due, and none again while its message waits', async () => {
    const queue = new QueueClient(system.azurite.connectionString, QUEUES.resets);
    const dead = await running(0, -30_000);
    const held = await running(1, 60_000);
    const late = await running(2, -1000);
    await queue.clearMessages();

    expect(await redriveDeadWorkers(deps())).toEqual([dead]);
    const row = (await requestStores(getServices()).store.get(dead))!;
    expect(row.statusReason).toBe(REDRIVEN);
    expect(row.status).toBe('running');
    expect((await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(1);
    // A tick later: the mark holds, nothing more is sent.
    expect(await redriveDeadWorkers(deps(), new Date(Date.now() + 3000))).toEqual([]);
    expect((await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(1);

    // The message resumes the request and it ends; the held and the just-late ones were not touched.
    const received = (await queue.receiveMessages()).receivedMessageItems[0]!;
    const message = JSON.parse(Buffer.from(received.messageText, 'base64').toString('utf8')) as unknown;
    expect(message).toEqual({ requestId: dead });
    expect(await processResetMessage(message, { dequeueCount: 1, maxDequeueCount: 5 }, { ...workerDependencies(getServices(), silentLogger), engine: { retry: { baseDelayMs: 10 } } })).toBe('completed');
    for (const id of [held, late]) expect((await requestStores(getServices()).store.get(id))!.statusReason).toBeUndefined();
  });
});
