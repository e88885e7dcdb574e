import { RestError, type QueueClient } from '@azure/storage-queue';
import type { Logger } from '../log';

export interface DrainOptions {
  /** Tries per message before it is given up (host.json's maxDequeueCount, as for the main queue). */
  maxDequeueCount: number;
  /** How long a message being handled stays invisible to other drains (s). Default 60. */
  visibilityTimeoutSeconds?: number;
  /** At most this many messages per run (the queue service hands out 32 at a time). Default 320. */
  maxMessages?: number;
}

/** Which try this is: a handler throws before the last try (the message shows again) and never on it. */
export interface DrainDelivery {
  dequeueCount: number;
  maxDequeueCount: number;
}

export interface DrainReport<Outcome extends string> {
  handled: Partial<Record<Outcome, number>>;
  /** Left on the queue for a later run (the handler threw: storage failed while recording them). */
  retried: number;
}

/** Takes any body (decoded as the trigger would have handed it over) and says what it did with it. */
export type DrainHandler<Outcome extends string> = (body: unknown, delivery: DrainDelivery) => Promise<Outcome>;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Empties a poison queue with the storage SDK itself, on a timer, instead of a queue trigger.
 *
 * Why not a trigger: the Functions queue extension decodes every message as host.json's
 * `messageEncoding` (base64) before any code runs, and a body it cannot decode is moved straight to
 * `<queue>-poison` (the extension's MessageDecodingFailed handler). A trigger on `x-poison` would so
 * send every unreadable body on to `x-poison-poison`, which nothing reads. Read here, a message
 * arrives as its raw text: the handler sees any body, each message is deleted once handled, and no
 * queue trigger exists that could make a `*-poison-poison` queue. A handler that throws leaves its
 * message for the next run (after the visibility timeout); on the last try it must not throw.
 */
export async function drainQueue<Outcome extends string>(
  queue: QueueClient,
  handle: DrainHandler<Outcome>,
  log: Logger,
  options: DrainOptions,
): Promise<DrainReport<Outcome>> {
  const report: DrainReport<Outcome> = { handled: {}, retried: 0 };
  const limit = options.maxMessages ?? 320;
  let seen = 0;
  while (seen < limit) {
    let batch;
    try {
      batch = await queue.receiveMessages({
        numberOfMessages: Math.min(32, limit - seen),
        visibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
        abortSignal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      // No poison queue yet: nothing was ever poisoned.
      if (error instanceof RestError && error.statusCode === 404) return report;
      throw error;
    }
    const messages = batch.receivedMessageItems;
    if (messages.length === 0) break;
    seen += messages.length;
    for (const message of messages) {
      let outcome: Outcome;
      try {
        outcome = await handle(decodeBody(message.messageText), { dequeueCount: message.dequeueCount, maxDequeueCount: options.maxDequeueCount });
      } catch (error) {
        // Storage failed before the last try: the message shows again after its visibility timeout.
        report.retried += 1;
        log.warn('poison message not recorded yet; tried again later', {
          queue: queue.name,
          dequeueCount: message.dequeueCount,
          cause: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      report.handled[outcome] = (report.handled[outcome] ?? 0) + 1;
      try {
        await queue.deleteMessage(message.messageId, message.popReceipt, { abortSignal: AbortSignal.timeout(10_000) });
      } catch (error) {
        // Seen again later: handling it twice changes nothing (a finished request stays as it is).
        log.warn('poison message recorded but not deleted; it shows again', { queue: queue.name, cause: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return report;
}

/**
 * What the queue trigger would have handed over: JSON when the text is Base64 of JSON, the decoded text
 * when it is Base64 of something else, and the raw text when it is not Base64 at all.
 */
export function decodeBody(messageText: string): unknown {
  const compact = messageText.trim();
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) return messageText;
  const bytes = Buffer.from(compact, 'base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return messageText;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
