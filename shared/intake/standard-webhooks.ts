import { createHash, randomUUID } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { IntakeRefusal } from '../http/answer';
import type { HeaderLookup } from './signature';

/**
 * Standard Webhooks (standardwebhooks.com) for generic callers, through the reference library:
 * `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<Base64 HMAC-SHA256 over
 * "{id}.{timestamp}.{payload}">`, tolerance 5 minutes either way. The library does the HMAC, the
 * constant-time compare and the tolerance; this module checks the headers' form first so that every
 * refusal says exactly what is wrong, and never echoes a signature.
 */

export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
/** The spec's ids are short printable strings (`msg_2KWPBgLlAfxdpx2AI54pPJ85f4W`). */
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,12}$/;

export interface VerifiedDelivery {
  webhookId: string;
  timestamp: Date;
  /** SHA-256 of the verified signature: what a replay record remembers (never the signature itself). */
  digest: string;
}

export function verifyStandardWebhook(secret: string, payload: Uint8Array, headers: HeaderLookup, now: Date = new Date()): VerifiedDelivery {
  const id = headers.get('webhook-id')?.trim();
  const timestampText = headers.get('webhook-timestamp')?.trim();
  const signature = headers.get('webhook-signature')?.trim();
  const missing = [!id && 'webhook-id', !timestampText && 'webhook-timestamp', !signature && 'webhook-signature'].filter(Boolean);
  if (missing.length > 0) {
    throw new IntakeRefusal(
      401,
      'signature_missing',
      `the request is not signed as Standard Webhooks: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (webhook-id, webhook-timestamp in Unix seconds, webhook-signature: v1,<Base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">)`,
    );
  }
  if (!WEBHOOK_ID.test(id!)) throw new IntakeRefusal(401, 'signature_invalid', 'webhook-id must be 1 to 256 printable ASCII characters without spaces');
  if (!TIMESTAMP.test(timestampText!)) throw new IntakeRefusal(401, 'timestamp_invalid', 'webhook-timestamp must be the send time in Unix seconds');
  const seconds = Number(timestampText);
  const skew = Math.floor(now.getTime() / 1000) - seconds;
  if (Math.abs(skew) > WEBHOOK_TOLERANCE_SECONDS) {
    throw new IntakeRefusal(
      401,
      'timestamp_out_of_range',
      `webhook-timestamp ${seconds} (${new Date(seconds * 1000).toISOString()}) is ${skew > 0 ? 'more than 5 minutes old' : 'more than 5 minutes in the future'}: a replayed or delayed request is refused (sign each delivery when it is sent; check the sender's clock)`,
    );
  }
  const webhook = new Webhook(secret);
  const buffer = Buffer.from(payload);
  try {
    webhook.verify(buffer, { 'webhook-id': id!, 'webhook-timestamp': timestampText!, 'webhook-signature': signature! }, { jsonParse: false });
  } catch (error) {
    if (error instanceof WebhookVerificationError) {
      if (/timestamp/i.test(error.message)) {
        throw new IntakeRefusal(401, 'timestamp_out_of_range', `webhook-timestamp ${seconds} is outside the 5-minute tolerance`);
      }
      throw new IntakeRefusal(
        401,
        'signature_invalid',
        'webhook-signature does not match: sign "{webhook-id}.{webhook-timestamp}.{body}" with the Base64 key of WEBHOOK_SECRET_GENERIC (after "whsec_"), over the exact bytes sent, and send a new webhook-id only with a new signature',
      );
    }
    throw error;
  }
  const expected = webhook.sign(id!, new Date(seconds * 1000), buffer);
  return { webhookId: id!, timestamp: new Date(seconds * 1000), digest: createHash('sha256').update(`generic\n${expected}`).digest('hex') };
}

/** The three headers for one delivery, signed by the library; for the CLI, the demo, the bench and tests. */
export function standardWebhookHeaders(
  secret: string,
  payload: string | Uint8Array,
  options: { id?: string; timestamp?: Date } = {},
): { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string } {
  const id = options.id ?? `msg_${randomUUID().replace(/-/g, '')}`;
  const timestamp = options.timestamp ?? new Date();
  const body = typeof payload === 'string' ? payload : Buffer.from(payload);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, timestamp, body),
  };
}
