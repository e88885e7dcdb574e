import type { QueueClient } from '@azure/storage-queue';
import { encodeQueueMessage } from '../storage/clients';

/** What travels on queue mfa-resets: only the id; the row in ResetRequests is the source of truth. */
export interface ResetQueueMessage {
  requestId: string;
}

/** The service returns at most 32 messages per peek. */
export const PEEK_MAX = 32;

export interface QueueBacklog {
  /** Visible messages seen at the front, up to PEEK_MAX. */
  visible: number;
  /** PEEK_MAX were seen: there may be more behind them. */
  full: boolean;
  /** When the oldest message seen was sent. */
  oldestSentAt?: Date;
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

  /**
   * What is waiting in the queue now: the visible messages at its front (at most PEEK_MAX, the
   * service's limit) and when the oldest of them was sent. Messages being processed or sent with a
   * delay are invisible and not counted. The sweeper uses it to tell a backlog from a lost message.
   */
  async waiting(): Promise<QueueBacklog> {
    await this.ensureQueue();
    const answer = await this.queue.peekMessages({ numberOfMessages: PEEK_MAX, abortSignal: AbortSignal.timeout(this.timeoutMs) });
    const sent = answer.peekedMessageItems.map((item) => item.insertedOn.getTime()).filter((time) => Number.isFinite(time));
    return {
      visible: answer.peekedMessageItems.length,
      full: answer.peekedMessageItems.length >= PEEK_MAX,
      ...(sent.length > 0 ? { oldestSentAt: new Date(Math.min(...sent)) } : {}),
    };
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
