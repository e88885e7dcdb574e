import { testIntegrity } from '../support/signing';
import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import type { RequestRow } from '../../shared/requests/request-row';
import { RequestStore } from '../../shared/requests/request-store';
import { ResetQueue } from '../../shared/requests/reset-queue';
import { sweepStuckRequests } from '../../shared/worker/sweeper';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const BACKLOG = 1000;
const LOST = 20;

/** A row as the intake writes it, with its request MAC. */
function row(id: string, at: Date): RequestRow {
  const fields: RequestRow = {
    id,
    idempotencyKey: `test:${id}`,
    source: 'generic',
    status: 'accepted',
    ticketSystem: 'generic',
    ticketId: `SR-${id.slice(0, 8)}`,
    targetUpn: `user-${id.slice(0, 8)}@contoso.com`,
    requestedBy: 'agent@contoso.com',
    profile: 'portal',
    revokeSessions: true,
    dryRun: false,
    attempts: 0,
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
  };
  return { ...fields, intakeMac: testIntegrity().rowMac(fields) };
}

async function inBatches<T>(items: readonly T[], size: number, task: (item: T) => Promise<unknown>): Promise<void> {
  for (let index = 0; index < items.length; index += size) await Promise.all(items.slice(index, index + size).map(task));
}

describe('the sweeper under a queue backlog', () => {
  it('re-drives none of 1,000 requests waiting in the queue, adds no message on repeated sweeps, and re-drives only the lost ones once the backlog has passed', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, 'ResetRequests', { allowInsecureConnection: true });
    const rawQueue = new QueueClient(azurite.connectionString, 'mfa-resets');
    const deps = { store: new RequestStore(table, testIntegrity()), queue: new ResetQueue(rawQueue), log: silentLogger };
    const start = new Date();
    const ids = Array.from({ length: BACKLOG }, () => randomUUID());
    const lost = new Set(ids.slice(0, LOST));
    // Every request stored and queued as the intake does, but for LOST whose send failed after the insert.
    await inBatches(ids, 25, async (id) => {
      await deps.store.create(row(id, start));
      if (!lost.has(id)) await deps.queue.send(id);
    });

    // Five minutes later no worker has run: every row looks stuck in accepted.
    const later = new Date(start.getTime() + 5 * 60_000);
    for (let sweep = 0; sweep < 3; sweep += 1) {
      const report = await sweepStuckRequests(deps, { now: later });
      expect(report.redriven).toEqual([]);
      expect(report.waiting).toHaveLength(BACKLOG);
    }
    expect((await rawQueue.getProperties()).approximateMessagesCount).toBe(BACKLOG - LOST);
    const stored = await deps.store.listByStatus('accepted', { limit: 2 * BACKLOG });
    expect(stored.filter((request) => /lost|re-driven/.test(request.statusReason ?? ''))).toEqual([]);

    // The workers take the backlog: every queued request is processed and its message deleted, and the
    // sweeper keeps running meanwhile, down to the last few messages (a front no longer full).
    const sweepsDuringDrain: string[][] = [];
    for (let batch = 0; ; batch += 1) {
      const left = (await rawQueue.getProperties()).approximateMessagesCount ?? 0;
      // Every fifth batch, and at the tail (fewer than a peek's 32 left), while messages still wait.
      if (left > 0 && (batch % 5 === 4 || left < 32)) sweepsDuringDrain.push((await sweepStuckRequests(deps, { now: later })).redriven);
      const { receivedMessageItems } = await rawQueue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (receivedMessageItems.length === 0) break;
      await Promise.all(
        receivedMessageItems.map(async (message) => {
          const { requestId } = JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')) as { requestId: string };
          const current = (await deps.store.get(requestId))!;
          const { etag, ...fields } = current;
          await deps.store.update({ ...fields, status: 'completed', completedAt: new Date().toISOString() }, etag);
          await rawQueue.deleteMessage(message.messageId, message.popReceipt);
        }),
      );
    }

    expect(sweepsDuringDrain.length).toBeGreaterThanOrEqual(6);
    expect(sweepsDuringDrain.flat()).toEqual([]);

    // Now only the requests whose message never reached the queue are re-driven, and called lost.
    const report = await sweepStuckRequests(deps, { now: later });
    expect(new Set(report.redriven)).toEqual(lost);
    for (const id of lost) {
      expect((await deps.store.get(id))!.statusReason).toMatch(/no queue message for it was waiting/);
    }
    expect((await rawQueue.getProperties()).approximateMessagesCount).toBe(LOST);
    // Their new messages wait in the queue: the next sweep sends none again.
    const again = await sweepStuckRequests(deps, { now: new Date(Date.now() + 5 * 60_000) });
    expect(again.redriven).toEqual([]);
    expect(new Set(again.waiting)).toEqual(lost);
    expect((await rawQueue.getProperties()).approximateMessagesCount).toBe(LOST);
  }, 300_000);
  it('does not call lost a request whose message a worker has just taken: invisible to the peek, its claim lands while the sweeper waits to read it again', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, `Taken${randomUUID().slice(0, 8).replace(/-/g, '')}`, { allowInsecureConnection: true });
    const rawQueue = new QueueClient(azurite.connectionString, `taken-${randomUUID().slice(0, 8)}`);
    const deps = { store: new RequestStore(table, testIntegrity()), queue: new ResetQueue(rawQueue), log: silentLogger };
    await rawQueue.createIfNotExists();
    const start = new Date();
    const taken = randomUUID();
    const lost = randomUUID();
    await deps.store.create(row(taken, start));
    await deps.store.create(row(lost, start));
    await deps.queue.send(taken);
    // A worker takes the message (now invisible); its claim of the row is slow to land.
    const { receivedMessageItems } = await rawQueue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 300 });
    expect(receivedMessageItems).toHaveLength(1);

    // The claim lands right after the sweeper's peek (which cannot see the taken message).
    let claimed: Promise<unknown> | undefined;
    const queue = deps.queue;
    const watched = Object.assign(Object.create(queue) as ResetQueue, {
      waiting: async () => {
        const backlog = await queue.waiting();
        claimed = (async () => {
          const { etag, ...fields } = (await deps.store.get(taken))!;
          await deps.store.update({ ...fields, status: 'running', attempts: 1, leaseUntil: new Date(Date.now() + 120_000).toISOString() }, etag);
        })();
        return backlog;
      },
    });
    const report = await sweepStuckRequests({ ...deps, queue: watched }, { now: new Date(start.getTime() + 5 * 60_000), settleMs: 2000 });
    await claimed;

    // Only the request that really had no message is re-driven and called lost.
    expect(report.redriven).toEqual([lost]);
    expect((await deps.store.get(taken))!.statusReason).toBeUndefined();
    expect((await deps.store.get(lost))!.statusReason).toMatch(/no queue message for it was waiting/);
    await rawQueue.delete();
  }, 60_000);
});
