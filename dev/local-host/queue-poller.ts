import { randomUUID } from 'node:crypto';
import { InvocationContext, type StorageQueueFunctionOptions } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { MIN_POLLING_INTERVAL_MS, type QueueSettings } from '../../shared/host-json';
import type { HostLog } from './log';

export interface QueueFunction {
  name: string;
  options: StorageQueueFunctionOptions;
}

// While a handler runs, its message stays invisible: leased for this long and renewed at half of it.
// A host that dies leaves its messages invisible until the lease runs out, as in Azure.
const DEFAULT_LEASE_SECONDS = 60;
const PARKED_SECONDS = 3600;

/**
 * Polls one queue with the Functions queue extension's semantics: Base64 bodies (JSON becomes an object),
 * `dequeueCount` and friends in trigger metadata, a failed invocation makes the message visible again
 * after host.json's `visibilityTimeout`, and the `maxDequeueCount`-th failure moves it to `<queue>-poison`.
 */
export class QueuePoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;

  constructor(
    private readonly fn: QueueFunction,
    private readonly queue: QueueClient,
    private readonly poison: QueueClient,
    private readonly settings: QueueSettings,
    private readonly log: HostLog,
    private readonly leaseSeconds = DEFAULT_LEASE_SECONDS,
  ) {}

  /** A poison queue's own poller: nothing moves on from it, and no `<queue>-poison-poison` is made. */
  private get isPoisonQueue(): boolean {
    return this.queue.name.endsWith('-poison');
  }

  async start(): Promise<void> {
    await this.queue.createIfNotExists();
    if (!this.isPoisonQueue) await this.poison.createIfNotExists();
    this.running = true;
    this.loop = this.pollLoop();
  }

  /** Stops fetching, then waits for the invocations already running. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async pollLoop(): Promise<void> {
    let idleDelay = MIN_POLLING_INTERVAL_MS;
    while (this.running) {
      if (this.inFlight.size > this.settings.newBatchThreshold) {
        await Promise.race(this.inFlight);
        continue;
      }
      let messages: DequeuedMessageItem[] = [];
      try {
        // As the host does: a whole batch each time the running count is down to newBatchThreshold,
        // so up to batchSize + newBatchThreshold messages run at once.
        const answer = await this.queue.receiveMessages({ numberOfMessages: this.settings.batchSize, visibilityTimeout: this.leaseSeconds });
        messages = answer.receivedMessageItems;
      } catch (error) {
        this.log.error(`${this.fn.name}: polling ${this.queue.name} failed: ${describe(error)}`);
      }
      if (messages.length === 0) {
        await this.sleep(idleDelay);
        idleDelay = Math.min(idleDelay * 2, this.settings.maxPollingIntervalMs);
        continue;
      }
      idleDelay = MIN_POLLING_INTERVAL_MS;
      for (const message of messages) {
        const work = this.process(message).finally(() => this.inFlight.delete(work));
        this.inFlight.add(work);
      }
    }
  }

  private async process(message: DequeuedMessageItem): Promise<void> {
    const lease = new Lease(this.queue, message, this.leaseSeconds);
    try {
      if (message.dequeueCount > this.settings.maxDequeueCount) {
        // Delivered more often than allowed without a recorded failure (a crashed host): poison it unread.
        await this.moveToPoison(message, lease, 'dequeue count already over maxDequeueCount');
        return;
      }
      const decoded = decodeBody(message.messageText);
      if (decoded === undefined && !this.isPoisonQueue) {
        await this.moveToPoison(message, lease, 'body is not Base64');
        return;
      }
      // What reached a poison queue unreadable is handed over as its raw text: the handler takes any body.
      const payload = decoded ?? message.messageText;
      const invocationId = randomUUID();
      const context = new InvocationContext({
        invocationId,
        functionName: this.fn.name,
        logHandler: this.log.forInvocation(this.fn.name, invocationId),
        triggerMetadata: {
          id: message.messageId,
          dequeueCount: message.dequeueCount,
          insertionTime: message.insertedOn.toISOString(),
          expirationTime: message.expiresOn.toISOString(),
          nextVisibleTime: message.nextVisibleOn.toISOString(),
          popReceipt: message.popReceipt,
          queueTrigger: typeof payload === 'string' ? payload : JSON.stringify(payload),
        },
      });
      lease.keepAlive();
      try {
        await this.fn.options.handler(payload, context);
      } catch (error) {
        lease.release();
        this.log.error(`${this.fn.name} failed (try ${message.dequeueCount} of ${this.settings.maxDequeueCount}): ${describe(error)}`);
        if (message.dequeueCount >= this.settings.maxDequeueCount) {
          await this.moveToPoison(message, lease, `failed ${message.dequeueCount} times`);
        } else {
          await this.queue.updateMessage(
            message.messageId,
            lease.popReceipt,
            undefined,
            Math.ceil(this.settings.visibilityTimeoutMs / 1000),
          );
        }
        return;
      }
      lease.release();
      await this.queue.deleteMessage(message.messageId, lease.popReceipt);
    } catch (error) {
      lease.release();
      // The message stays leased and reappears when the lease runs out, as with a crashed host.
      this.log.error(`${this.fn.name}: settling message ${message.messageId} failed: ${describe(error)}`);
    }
  }

  private async moveToPoison(message: DequeuedMessageItem, lease: Lease, why: string): Promise<void> {
    if (this.isPoisonQueue) {
      // Where the host would make `<queue>-poison-poison`, which nothing reads: the message stays
      // here, out of sight for an hour, and the log says so. (The poison handler does not fail.)
      await this.queue.updateMessage(message.messageId, lease.popReceipt, undefined, PARKED_SECONDS);
      this.log.error(`${this.fn.name}: message ${message.messageId} on ${this.queue.name} kept back for ${PARKED_SECONDS} s (${why}); nothing moves on from a poison queue`);
      return;
    }
    await this.poison.sendMessage(message.messageText);
    await this.queue.deleteMessage(message.messageId, lease.popReceipt);
    this.log.error(`${this.fn.name}: message ${message.messageId} moved to ${this.poison.name} (${why})`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** Keeps a message invisible while its handler runs; tracks the pop receipt, which changes on each renewal. */
class Lease {
  popReceipt: string;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: QueueClient,
    private readonly message: DequeuedMessageItem,
    private readonly seconds: number,
  ) {
    this.popReceipt = message.popReceipt;
  }

  keepAlive(): void {
    this.timer = setInterval(() => {
      void this.queue
        .updateMessage(this.message.messageId, this.popReceipt, undefined, this.seconds)
        .then((answer) => {
          if (answer.popReceipt) this.popReceipt = answer.popReceipt;
        })
        .catch(() => undefined);
    }, (this.seconds * 1000) / 2);
    this.timer.unref();
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 text to the handler's input: parsed JSON when it is JSON, the string otherwise. */
export function decodeBody(messageText: string): unknown {
  const compact = messageText.trim();
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  const text = Buffer.from(compact, 'base64').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
