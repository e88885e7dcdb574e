import type { QueueClient } from '@azure/storage-queue';
import { encodeQueueMessage } from '../storage/clients';
import type { BeatMessage } from './beat-message';

/** Sends beat messages to queue app-beats, Base64-encoded as the Functions queue extension expects. */
export class BeatQueue {
  private queueReady: Promise<void> | undefined;

  constructor(private readonly queue: QueueClient) {}

  /**
   * `delayMs` keeps the message invisible about that long: to the nearest second, the queue service's
   * unit, so that a beat comes every 5 s on average rather than every 5 s plus its own work time.
   */
  async send(message: BeatMessage, delayMs: number): Promise<void> {
    await this.ensureQueue();
    const seconds = Math.round(Math.max(0, delayMs) / 1000);
    try {
      await this.queue.sendMessage(encodeQueueMessage(message), {
        abortSignal: AbortSignal.timeout(5000),
        ...(seconds > 0 ? { visibilityTimeout: seconds } : {}),
      });
    } catch (error) {
      // The queue may have been deleted since it was made: make it again next time.
      this.queueReady = undefined;
      throw error;
    }
  }

  private ensureQueue(): Promise<void> {
    this.queueReady ??= this.queue
      .createIfNotExists({ abortSignal: AbortSignal.timeout(5000) })
      .then(() => undefined)
      .catch((error: unknown) => {
        this.queueReady = undefined;
        throw error;
      });
    return this.queueReady;
  }
}
