import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Settings } from '../config';
import { IntakeRefusal } from './answer';

export type IntakeSource = 'jira' | 'servicenow' | 'generic';

/** Reads a request header by name, case-insensitively (the Fetch `Headers` fits). */
export interface HeaderLookup {
  get(name: string): string | null | undefined;
}

export type Authentication =
  | { mode: 'hmac' }
  | { mode: 'token' }
  /** LOCAL_DEMO_MODE and no secret for this source: accepted unsigned. */
  | { mode: 'demo-unsigned'; setting: string };

/** How each source signs (DESIGN section 5). */
const SOURCES = {
  jira: { header: 'x-hub-signature', encoding: 'hex', setting: 'WEBHOOK_SECRET_JIRA', prefix: true },
  servicenow: { header: 'x-servicenow-signature', encoding: 'base64', setting: 'WEBHOOK_SECRET_SERVICENOW', prefix: false },
  generic: { header: 'x-signature-256', encoding: 'hex', setting: 'WEBHOOK_SECRET_GENERIC', prefix: true },
} as const;

/**
 * Jira Automation's "Send web request" cannot compute an HMAC, so an Automation rule authenticates with a
 * static token in this header instead. The token is derived from WEBHOOK_SECRET_JIRA (see
 * jiraAutomationToken) so that the HMAC secret itself never travels in a request, and rotating the
 * secret rotates the token.
 */
export const JIRA_AUTOMATION_TOKEN_HEADER = 'x-automation-webhook-token';
const JIRA_AUTOMATION_TOKEN_LABEL = 'entra-mfa-reset/jira-automation';

/** hex HMAC-SHA256(WEBHOOK_SECRET_JIRA, "entra-mfa-reset/jira-automation"): what the Automation rule sends. */
export function jiraAutomationToken(secret: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(JIRA_AUTOMATION_TOKEN_LABEL, 'utf8').digest('hex');
}

const HEADER_NAMES: Record<string, string> = {
  'x-hub-signature': 'X-Hub-Signature',
  'x-servicenow-signature': 'X-ServiceNow-Signature',
  'x-signature-256': 'X-Signature-256',
};

/**
 * Checks the request's signature over the exact bytes received, in constant time. Throws a 401
 * refusal; never puts the secret or the presented signature in a message.
 */
export function authenticate(source: IntakeSource, body: Uint8Array, headers: HeaderLookup, settings: Settings): Authentication {
  const spec = SOURCES[source];
  const secret = settings[spec.setting];
  const token = source === 'jira' && secret ? jiraAutomationToken(secret) : undefined;
  const presented = headerValue(headers, spec.header);
  const presentedToken = source === 'jira' ? headerValue(headers, JIRA_AUTOMATION_TOKEN_HEADER) : undefined;
  const headerName = HEADER_NAMES[spec.header]!;

  if (!secret) {
    if (settings.LOCAL_DEMO_MODE) return { mode: 'demo-unsigned', setting: spec.setting };
    throw new IntakeRefusal(
      401,
      'source_not_configured',
      `${source} webhooks are refused: ${spec.setting} is not set on the service, so their signature cannot be checked`,
    );
  }

  if (presented !== undefined && secret) {
    if (verifyHmac(body, presented, secret, spec.encoding, spec.prefix)) return { mode: 'hmac' };
    throw new IntakeRefusal(401, 'signature_invalid', `${headerName} does not match the body: check the shared secret and that the exact bytes sent are signed`);
  }
  if (presentedToken !== undefined && token) {
    if (sameSecret(presentedToken.trim().toLowerCase(), token)) return { mode: 'token' };
    throw new IntakeRefusal(401, 'token_invalid', 'X-Automation-Webhook-Token does not match the token derived from WEBHOOK_SECRET_JIRA');
  }

  const expected = [
    `${headerName}: ${spec.prefix ? 'sha256=' : ''}<${spec.encoding === 'hex' ? 'hex' : 'Base64'} HMAC-SHA256 of the body>`,
    token ? 'X-Automation-Webhook-Token: <Automation token>' : undefined,
  ].filter(Boolean);
  throw new IntakeRefusal(401, 'signature_missing', `the request is not signed: expected ${expected.join(' or ')}`);
}

function verifyHmac(body: Uint8Array, presented: string, secret: string, encoding: 'hex' | 'base64', prefixed: boolean): boolean {
  let value = presented.trim();
  if (prefixed || /^sha256=/i.test(value)) {
    if (!/^sha256=/i.test(value)) return false;
    value = value.slice('sha256='.length);
  }
  const given = decode(value, encoding);
  if (!given) return false;
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function decode(value: string, encoding: 'hex' | 'base64'): Buffer | undefined {
  if (encoding === 'hex') return /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : undefined;
  return /^[A-Za-z0-9+/]{43}=$/.test(value) ? Buffer.from(value, 'base64') : undefined;
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

/** Signatures as the sources compute them; used by tests and documentation examples. */
export function signHex(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function signBase64(body: string | Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}
