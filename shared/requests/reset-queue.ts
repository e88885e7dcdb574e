import type { QueueClient } from '@azure/storage-queue';
import { encodeQueueMessage } from '../storage/clients';

/** What travels on queue mfa-resets: only the id; the row in ResetRequests is the source of truth. */
export interface ResetQueueMessage {
  requestId: string;
}

export interface ResetQueueOptions {
  /** Give up on one send after this long. Default 5 s. */
  timeoutMs?: number;
}

/** Sends request ids to queue mfa-resets, Base64-encoded as the Functions queue extension expects. */
export class ResetQueue {
  private queueReady: Promise<void> | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly queue: QueueClient,
    options: ResetQueueOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** `delaySeconds` keeps the message invisible that long: a throttled or waiting reset comes back later. */
  async send(requestId: string, delaySeconds?: number): Promise<void> {
    await this.ensureQueue();
    const message: ResetQueueMessage = { requestId };
    try {
      await this.queue.sendMessage(encodeQueueMessage(message), {
        abortSignal: AbortSignal.timeout(this.timeoutMs),
        // The queue service accepts at most seven days of delay.
        ...(delaySeconds ? { visibilityTimeout: Math.min(Math.ceil(delaySeconds), 7 * 24 * 3600) } : {}),
      });
    } catch (error) {
      // The queue may have been deleted since we created it: create it again next time.
      this.queueReady = undefined;
      throw error;
    }
  }

  private ensureQueue(): Promise<void> {
    this.queueReady ??= this.queue
      .createIfNotExists({ abortSignal: AbortSignal.timeout(this.timeoutMs) })
      .then(() => undefined)
      .catch((error: unknown) => {
        this.queueReady = undefined;
        throw error;
      });
    return this.queueReady;
  }
}
