import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueServiceClient } from '@azure/storage-queue';
import type { InvocationContext } from '@azure/functions';
import type { FunctionDefinition } from '../../functions/definition';
import { startLocalHost } from '../../dev/local-host/local-host';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { recordingLog } from '../support/quiet-log';

const hostJsonPath = join(__dirname, '..', '..', 'host.json');
const azurite = useAzurite();

function queueFunction(name: string, queueName: string, handler: (payload: unknown, context: InvocationContext) => Promise<void>): FunctionDefinition {
  return { name, trigger: 'storageQueue', options: { queueName, connection: 'TEST_STORAGE', handler } };
}

async function hostFor(definitions: FunctionDefinition[]) {
  return startLocalHost({
    definitions,
    port: 0,
    hostJsonPath,
    env: { TEST_STORAGE: azurite.connectionString },
    enable: { http: false, timers: false },
    // One-second retries instead of host.json's 30 s, so the test does not wait minutes.
    queueSettings: { visibilityTimeoutMs: 1000, maxPollingIntervalMs: 200 },
    log: recordingLog(),
  });
}

describe('queue trigger semantics (against Azurite)', () => {
  it('delivers a Base64 message written with @azure/storage-queue as the object, with trigger metadata', async () => {
    const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const queue = service.getQueueClient('objects');
    await queue.createIfNotExists();
    await queue.sendMessage(Buffer.from(JSON.stringify({ requestId: 'r-1', n: 2 })).toString('base64'));

    const seen: { payload: unknown; metadata: Record<string, unknown> | undefined }[] = [];
    const host = await hostFor([
      queueFunction('objects', 'objects', async (payload, context) => {
        seen.push({ payload, metadata: context.triggerMetadata });
      }),
    ]);
    try {
      await eventually(() => (seen.length === 1 ? true : undefined));
      expect(seen[0]!.payload).toEqual({ requestId: 'r-1', n: 2 });
      expect(seen[0]!.metadata?.dequeueCount).toBe(1);
      expect(typeof seen[0]!.metadata?.id).toBe('string');
      // A handled message is deleted.
      await eventually(async () => ((await queue.getProperties()).approximateMessagesCount === 0 ? true : undefined));
    } finally {
      await host.stop();
    }
  });

  it('moves a message that always throws to <queue>-poison after exactly maxDequeueCount tries', async () => {
    const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const queue = service.getQueueClient('always-fails');
    await queue.createIfNotExists();
    const body = Buffer.from(JSON.stringify({ requestId: 'doomed' })).toString('base64');
    await queue.sendMessage(body);

    const dequeueCounts: number[] = [];
    const host = await hostFor([
      queueFunction('alwaysFails', 'always-fails', async (_payload, context) => {
        dequeueCounts.push(context.triggerMetadata?.dequeueCount as number);
        throw new Error('boom');
      }),
    ]);
    const maxDequeueCount = host.queueSettings.maxDequeueCount;
    expect(maxDequeueCount).toBe(5); // host.json's deliberate setting
    try {
      const poison = service.getQueueClient('always-fails-poison');
      const poisoned = await eventually(async () => {
        const peeked = await poison.peekMessages({ numberOfMessages: 5 });
        return peeked.peekedMessageItems.length > 0 ? peeked.peekedMessageItems : undefined;
      }, 20_000);
      expect(poisoned).toHaveLength(1);
      expect(poisoned[0]!.messageText).toBe(body);
      expect(dequeueCounts).toEqual([1, 2, 3, 4, 5]);
      expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(0);
    } finally {
      await host.stop();
    }
  });

  it('makes a failed message visible again and succeeds on a later try', async () => {
    const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const queue = service.getQueueClient('flaky');
    await queue.createIfNotExists();
    await queue.sendMessage(Buffer.from('"plain text is JSON too"').toString('base64'));
    await queue.sendMessage(Buffer.from('not json').toString('base64'));

    const payloads: unknown[] = [];
    let failures = 0;
    const host = await hostFor([
      queueFunction('flaky', 'flaky', async (payload) => {
        if (failures < 2) {
          failures += 1;
          throw new Error('transient');
        }
        payloads.push(payload);
      }),
    ]);
    try {
      await eventually(() => (payloads.length === 2 ? true : undefined), 15_000);
      expect(payloads.sort()).toEqual(['not json', 'plain text is JSON too']);
      const poison = service.getQueueClient('flaky-poison');
      expect((await poison.peekMessages()).peekedMessageItems).toHaveLength(0);
    } finally {
      await host.stop();
    }
  });

  it('lets a running invocation finish when the host stops', async () => {
    const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const queue = service.getQueueClient('slow');
    await queue.createIfNotExists();
    await queue.sendMessage(Buffer.from('{"slow":true}').toString('base64'));

    let started = false;
    let finished = false;
    const host = await hostFor([
      queueFunction('slow', 'slow', async () => {
        started = true;
        await new Promise((resolve) => setTimeout(resolve, 500));
        finished = true;
      }),
    ]);
    await eventually(() => (started ? true : undefined));
    await host.stop();
    expect(finished).toBe(true);
    // Finished before the stop returned, so the message was settled (deleted), not left leased.
    expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
  });
});
