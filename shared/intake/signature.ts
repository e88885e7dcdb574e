import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Settings } from '../config';
import { IntakeRefusal } from '../http/answer';
import { verifyStandardWebhook } from './standard-webhooks';

export type IntakeSource = 'jira' | 'servicenow' | 'generic';

/** Reads a request header by name, case-insensitively (the Fetch `Headers` fits). */
export interface HeaderLookup {
  get(name: string): string | null | undefined;
}

/**
 * How a delivery proved itself. `digest` identifies the signed bytes (a replay record remembers it);
 * it is a hash of the signature, never the signature or the secret.
 */
export type Authentication =
  /** Generic callers: Standard Webhooks; the webhook-id is the idempotency key. */
  | { mode: 'standard-webhooks'; digest: string; webhookId: string; timestamp: Date }
  /** Jira admin webhooks and ServiceNow: an HMAC over the body. */
  | { mode: 'hmac'; digest: string }
  /** Jira Automation's static token (opt-in, WEBHOOK_SECRET_JIRA_AUTOMATION): covers no bytes. */
  | { mode: 'token'; digest: string }
  /** LOCAL_DEMO_MODE and no secret for this source: accepted unsigned. */
  | { mode: 'demo-unsigned'; digest: string; setting: string; webhookId?: string };

/**
 * Jira Automation's "Send web request" cannot compute an HMAC, so a rule may authenticate with a static
 * token in this header, equal to WEBHOOK_SECRET_JIRA_AUTOMATION. Off unless that setting exists.
 */
export const JIRA_AUTOMATION_TOKEN_HEADER = 'x-automation-webhook-token';

/** How the HMAC sources sign (DESIGN section 5). */
const HMAC_SOURCES = {
  jira: { header: 'x-hub-signature', name: 'X-Hub-Signature', encoding: 'hex', setting: 'WEBHOOK_SECRET_JIRA', prefix: true },
  servicenow: { header: 'x-servicenow-signature', name: 'X-ServiceNow-Signature', encoding: 'base64', setting: 'WEBHOOK_SECRET_SERVICENOW', prefix: false },
} as const;

/**
 * Checks a delivery's signature over the exact bytes received, in constant time. Throws a 401
 * refusal; never puts a secret or the presented signature in a message.
 */
export function authenticate(source: IntakeSource, body: Uint8Array, headers: HeaderLookup, settings: Settings, now: Date = new Date()): Authentication {
  if (source === 'generic') return authenticateGeneric(body, headers, settings, now);
  const spec = HMAC_SOURCES[source];
  const secret = settings[spec.setting];
  const automationSecret = source === 'jira' ? settings.WEBHOOK_SECRET_JIRA_AUTOMATION : undefined;
  const presented = headerValue(headers, spec.header);
  const presentedToken = source === 'jira' ? headerValue(headers, JIRA_AUTOMATION_TOKEN_HEADER) : undefined;

  if (!secret && !automationSecret) {
    if (settings.LOCAL_DEMO_MODE) return { mode: 'demo-unsigned', setting: spec.setting, digest: bodyDigest(source, body) };
    throw new IntakeRefusal(
      401,
      'source_not_configured',
      `${source} webhooks are refused: ${spec.setting} is not set on the service, so their signature cannot be checked`,
    );
  }

  if (presented !== undefined) {
    if (!secret) throw new IntakeRefusal(401, 'source_not_configured', `${spec.name} cannot be checked: ${spec.setting} is not set on the service`);
    const given = verifyHmac(body, presented, secret, spec.encoding, spec.prefix);
    if (given) return { mode: 'hmac', digest: createHash('sha256').update(`${source}\n`).update(given).digest('hex') };
    throw new IntakeRefusal(401, 'signature_invalid', `${spec.name} does not match the body: check the shared secret and that the exact bytes sent are signed`);
  }
  if (presentedToken !== undefined) {
    if (!automationSecret) {
      throw new IntakeRefusal(
        401,
        'token_not_accepted',
        'X-Automation-Webhook-Token is not accepted: Jira Automation tokens are off unless WEBHOOK_SECRET_JIRA_AUTOMATION is set on the service; prefer a Jira admin webhook with a secret',
      );
    }
    if (sameSecret(presentedToken.trim(), automationSecret)) return { mode: 'token', digest: bodyDigest('jira-automation', body) };
    throw new IntakeRefusal(401, 'token_invalid', 'X-Automation-Webhook-Token does not match WEBHOOK_SECRET_JIRA_AUTOMATION');
  }

  const expected = [
    secret ? `${spec.name}: ${spec.prefix ? 'sha256=' : ''}<${spec.encoding === 'hex' ? 'hex' : 'Base64'} HMAC-SHA256 of the body>` : undefined,
    automationSecret ? 'X-Automation-Webhook-Token: <WEBHOOK_SECRET_JIRA_AUTOMATION>' : undefined,
  ].filter(Boolean);
  throw new IntakeRefusal(401, 'signature_missing', `the request is not signed: expected ${expected.join(' or ')}`);
}

function authenticateGeneric(body: Uint8Array, headers: HeaderLookup, settings: Settings, now: Date): Authentication {
  const secret = settings.WEBHOOK_SECRET_GENERIC;
  if (!secret) {
    if (settings.LOCAL_DEMO_MODE) {
      const webhookId = headerValue(headers, 'webhook-id')?.trim().slice(0, 256);
      return { mode: 'demo-unsigned', setting: 'WEBHOOK_SECRET_GENERIC', webhookId, digest: bodyDigest(`generic\n${webhookId ?? ''}`, body) };
    }
    throw new IntakeRefusal(401, 'source_not_configured', 'generic webhooks are refused: WEBHOOK_SECRET_GENERIC is not set on the service, so their signature cannot be checked');
  }
  const verified = verifyStandardWebhook(secret, body, headers, now);
  return { mode: 'standard-webhooks', ...verified };
}

/** The presented MAC's bytes when it matches, else undefined. */
function verifyHmac(body: Uint8Array, presented: string, secret: string, encoding: 'hex' | 'base64', prefixed: boolean): Buffer | undefined {
  let value = presented.trim();
  if (prefixed || /^sha256=/i.test(value)) {
    if (!/^sha256=/i.test(value)) return undefined;
    value = value.slice('sha256='.length);
  }
  const given = decode(value, encoding);
  if (!given) return undefined;
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected) ? expected : undefined;
}

function decode(value: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  if (encoding === 'hex') return /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : undefined;
  return /^[A-Za-z0-9+/]{43}=$/.test(value) ? Buffer.from(value, 'base64') : undefined;
}

function bodyDigest(label: string, body: Uint8Array): string {
  return createHash('sha256').update(`${label}\n`).update(body).digest('hex');
}

/** Constant-time comparison of two secrets of any length (compares their digests). */
function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function headerValue(headers: HeaderLookup, name: string): string | undefined {
  const value = headers.get(name);
  return value === null || value === undefined || value.trim() === '' ? undefined : value;
}

/** Signatures as Jira and ServiceNow compute them; used by tests and documentation examples. */
export function signHex(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function signBase64(body: string | Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}
