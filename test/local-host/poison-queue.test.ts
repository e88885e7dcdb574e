import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log';
import { getServices } from '../../shared/services';
import { encodeQueueMessage } from '../../shared/storage/clients';
import { QUEUES } from '../../shared/storage/names';
import { markPoisoned } from '../../shared/worker/poisoned';
import { resetMessageSchema } from '../../shared/worker/reset-message';
import { workerDependencies } from '../../shared/worker/worker-services';
import { eventually } from '../support/eventually';
import { startSystem, type RunningSystem } from '../support/system';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('poison handling', () => {
  it('checks request ids in messages as ids, before any storage call', () => {
    expect(resetMessageSchema.safeParse({ requestId: 'a/b#c?d' }).success).toBe(false);
    expect(resetMessageSchema.safeParse({ requestId: "x' or 1 eq 1" }).success).toBe(false);
    expect(resetMessageSchema.safeParse({ requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' }).success).toBe(true);
  });

  it('parks unreadable messages with a log (and an audit row on the request they name), and no *-poison-poison queue is ever made', async () => {
    const service = QueueServiceClient.fromConnectionString(system.azurite.connectionString);
    const resets = service.getQueueClient(QUEUES.resets);
    const poison = service.getQueueClient(QUEUES.resetsPoison);

    const answer = await system.post('generic', {
      ticket: { system: 'generic', id: 'SR-POISON-1' },
      target: { userPrincipalName: 'adele.vance@contoso.com' },
      requestedBy: 'agent@contoso.com',
      dryRun: true,
    });
    expect(answer.status).toBe(202);
    const id = answer.body.id;
    await system.waitFor(id, ['planned']);

    // Not Base64 at all; not Base64 but naming the request; Base64 with an id that is no id.
    await resets.sendMessage('this is not base64 {');
    await resets.sendMessage(JSON.stringify({ requestId: id }));
    await resets.sendMessage(encodeQueueMessage({ requestId: 'a/b#c?d' }));

    // Both unreadable ones pass through mfa-resets-poison and are taken from there.
    await eventually(async () => {
      const [main, parked] = await Promise.all([resets.getProperties(), poison.getProperties()]);
      return main.approximateMessagesCount === 0 && parked.approximateMessagesCount === 0 ? true : undefined;
    }, 30_000, 200);
    await eventually(() => (system.log.lines.filter((line) => /poison message is not \{requestId\}; parked/.test(line)).length >= 2 ? true : undefined), 10_000);
    await sleep(500);

    const names: string[] = [];
    for await (const queue of service.listQueues()) names.push(queue.name);
    expect(names.filter((name) => name.endsWith('-poison-poison'))).toEqual([]);

    // The request the unreadable message named was not changed; its audit says a message was set aside.
    const status = await system.status(id);
    expect(status.status).toBe('planned');
    expect(status.audit?.entries.map((entry) => entry.action)).toContain('poison-parked');
    // The bad id was dropped as malformed, never sent to storage (no storage error for it).
    const lines = system.log.lines.join('\n');
    expect(lines).toMatch(/reset message is not \{requestId\}; dropped/);
    expect(lines).not.toMatch(/a\/b#c\?d/);
    expect(lines).not.toMatch(/table storage unavailable/);
  }, 60_000);

  it('does not throw on the last try when storage fails, so the message goes nowhere further; earlier tries let the queue retry', async () => {
    const deps = workerDependencies(getServices(), silentLogger);
    const broken = { ...deps, store: { ...deps.store, get: () => Promise.reject(new Error('storage down')) } as unknown as typeof deps.store };
    const message = { requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' };
    await expect(markPoisoned(message, broken, { dequeueCount: 1, maxDequeueCount: 5 })).rejects.toThrow(/storage down/);
    expect(await markPoisoned(message, broken, { dequeueCount: 5, maxDequeueCount: 5 })).toBe('left-for-sweeper');
  });
});
