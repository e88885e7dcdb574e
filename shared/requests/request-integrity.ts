import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeBase64Key } from '../security/secret-strength';
import { requestRowSchema, type RequestRow } from './request-row';

/**
 * What only the intake can produce, under INTAKE_MAC_KEY (Key Vault, never in storage):
 *  - request ids: an HMAC of the idempotency key, so an id is stable for repeats but cannot be computed
 *    (or its target read) from public data such as a ticket number and a UPN;
 *  - index keys (replay records, ticket lineage), for the same reason;
 *  - the row MAC: proof that a ResetRequests row was written by the intake (or the bulk dispatcher) with
 *    exactly these request fields. Someone who can write to the table but does not hold the key cannot
 *    make a row the worker will act on.
 * Each use has its own label, so a value made for one purpose is never valid for another.
 */
export class RequestIntegrity {
  private readonly key: Buffer;

  constructor(base64Key: string) {
    const key = decodeBase64Key(base64Key);
    if (!key || key.length < 32) throw new Error('INTAKE_MAC_KEY must be at least 32 random bytes in Base64');
    this.key = key;
  }

  /** A UUID-shaped id (RFC 9562 version 8) from the first 128 bits of the HMAC. */
  requestId(idempotencyKey: string): string {
    const bytes = this.hmac('request-id', idempotencyKey).subarray(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x80;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** An opaque table key for an index entry (hex). */
  indexKey(purpose: string, value: string): string {
    return this.hmac(`index/${purpose}`, value).toString('hex');
  }

  /** The MAC over a row's request fields (Base64url). */
  rowMac(row: RequestRow): string {
    return this.hmac('row', canonicalRowFields(row)).toString('base64url');
  }

  /** Whether the row carries a valid intake MAC. */
  verifyRow(row: RequestRow): boolean {
    return this.matches('row', canonicalRowFields(row), row.intakeMac);
  }

  /**
   * The MAC over the whole row as the app last wrote it (every field but this MAC and updatedAt): its
   * status, progress, result, lease, audit head and outbox as well as the request. Someone who can write
   * to the table but does not hold the key can neither change a field the worker acts on nor set a
   * finished request back.
   */
  stateMac(row: RequestRow): string {
    return this.hmac('state', canonicalStateFields(row)).toString('base64url');
  }

  /** Whether the row carries a valid state MAC for exactly the values it holds. */
  verifyState(row: RequestRow): boolean {
    return this.matches('state', canonicalStateFields(row), row.stateMac);
  }

  /** Both MACs: the intake's over the request, and the app's over the row as it is now. */
  trusts(row: RequestRow): boolean {
    return this.verifyRow(row) && this.verifyState(row);
  }

  /**
   * The audit chain's HMAC key: a key of its own derived under its own label, so an audit row's hash
   * is never valid as any other MAC (shared/audit/audit-entry.ts).
   */
  auditKey(): Buffer {
    return this.hmac('audit-chain-key', '');
  }

  /** A MAC over any canonical text under its own label (bulk jobs and items use it). */
  mac(label: string, text: string): string {
    return this.hmac(`mac/${label}`, text).toString('base64url');
  }

  verifyMac(label: string, text: string, mac: string | undefined): boolean {
    return this.matches(`mac/${label}`, text, mac);
  }

  /** Whether `mac` (Base64url) is this key's MAC of `text` under `label`, compared in constant time. */
  private matches(label: string, text: string, mac: string | undefined): boolean {
    if (!mac) return false;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.hmac(label, text);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private hmac(label: string, value: string): Buffer {
    return createHmac('sha256', this.key).update(`entra-mfa-reset/${label}/v1\n`, 'utf8').update(value, 'utf8').digest();
  }
}

/**
 * The fields that say what to do to whom, on whose word: everything the intake decided. Progress
 * fields (status, engineState, result, lease, audit head) are the worker's and are not covered.
 */
export const MAC_FIELDS = [
  'id',
  'idempotencyKey',
  'source',
  'deliveryId',
  'bulkJobId',
  'previousRequestId',
  'ticketSystem',
  'ticketId',
  'ticketUrl',
  'ticketSysId',
  'ticketTable',
  'targetUpn',
  'targetObjectId',
  'requestedBy',
  'requestedById',
  'approvedBy',
  'reason',
  'profile',
  'methods',
  'revokeSessions',
  'temporaryAccessPass',
  'dryRun',
  'createdAt',
] as const satisfies readonly (keyof RequestRow)[];

/**
 * Request fields added later: covered when present, left out of the text when absent, so that rows
 * stored before they existed keep their MAC.
 */
export const OPTIONAL_MAC_FIELDS = ['callbackUrl', 'ticketAssignee', 'verificationAsked'] as const satisfies readonly (keyof RequestRow)[];

export function canonicalRowFields(row: RequestRow): string {
  const fields: [string, unknown][] = MAC_FIELDS.map((name) => [name, canonicalValue(row[name])]);
  for (const name of OPTIONAL_MAC_FIELDS) if (row[name] !== undefined) fields.push([name, canonicalValue(row[name])]);
  return JSON.stringify(fields);
}

/** Left out of the state MAC: the MAC itself, and the time storage writes stamp on every update. */
const UNCOVERED_STATE_FIELDS: readonly string[] = ['stateMac', 'updatedAt'];

/** Every field of the row but those above, by name in a fixed order; absent fields are left out. */
export function canonicalStateFields(row: RequestRow): string {
  const fields = Object.entries(row as Record<string, unknown>)
    .filter(([name, value]) => value !== undefined && !UNCOVERED_STATE_FIELDS.includes(name) && STATE_FIELD_NAMES.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => [name, canonicalValue(value)]);
  return JSON.stringify(fields);
}

/** Objects with their keys sorted, so that the same values always give the same text. */
function canonicalValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, inner]) => inner !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, canonicalValue(inner)]),
    );
  }
  return value;
}

/** The row schema's own fields: anything else on the object (an ETag, a trust flag) is not row content. */
const STATE_FIELD_NAMES: ReadonlySet<string> = new Set(Object.keys(requestRowSchema.shape));

const cache = new Map<string, RequestIntegrity>();

/** One instance per key. */
export function requestIntegrity(settings: { INTAKE_MAC_KEY?: string }): RequestIntegrity {
  const key = settings.INTAKE_MAC_KEY;
  if (!key) throw new Error('INTAKE_MAC_KEY is not set: the intake cannot prove the requests it stores');
  let made = cache.get(key);
  if (!made) {
    made = new RequestIntegrity(key);
    cache.set(key, made);
  }
  return made;
}
