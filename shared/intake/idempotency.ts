import type { RequestRow } from '../requests/request-row';
import { IntakeRefusal } from '../http/answer';

/**
 * A repeat of an idempotency key must ask for the same thing. Answering the first request for a repeat
 * that names another target or profile would silently drop what changed, so a difference is a 422
 * `idempotency_conflict` naming the fields (never 409: Jira retries a 409).
 */
const COMPARED: readonly { field: keyof RequestRow; path: string; caseInsensitive?: boolean }[] = [
  { field: 'source', path: 'source' },
  { field: 'ticketSystem', path: 'ticket.system', caseInsensitive: true },
  { field: 'ticketId', path: 'ticket.id' },
  { field: 'ticketUrl', path: 'ticket.url' },
  { field: 'ticketSysId', path: 'sys_id', caseInsensitive: true },
  { field: 'ticketTable', path: 'table' },
  { field: 'targetUpn', path: 'target.userPrincipalName', caseInsensitive: true },
  { field: 'targetObjectId', path: 'target.objectId', caseInsensitive: true },
  { field: 'requestedBy', path: 'requestedBy' },
  { field: 'requestedById', path: 'requestedBy.id' },
  { field: 'approvedBy', path: 'approvedBy' },
  { field: 'reason', path: 'reason' },
  { field: 'profile', path: 'profile' },
  { field: 'methods', path: 'methods' },
  { field: 'revokeSessions', path: 'revokeSessions' },
  { field: 'temporaryAccessPass', path: 'temporaryAccessPass' },
  { field: 'dryRun', path: 'dryRun' },
  { field: 'callbackUrl', path: 'callbackUrl' },
];

/** The request paths whose values differ between the stored request and a repeat of its key. */
export function differingFields(existing: RequestRow, repeat: RequestRow): string[] {
  return COMPARED.filter(({ field, caseInsensitive }) => {
    const a = comparable(existing[field], caseInsensitive);
    const b = comparable(repeat[field], caseInsensitive);
    return a !== b;
  }).map(({ path }) => path);
}

export function idempotencyConflict(existing: RequestRow, repeat: RequestRow): IntakeRefusal | undefined {
  const fields = differingFields(existing, repeat);
  if (fields.length === 0) return undefined;
  return new IntakeRefusal(
    422,
    'idempotency_conflict',
    `this delivery repeats the idempotency key of request ${existing.id} but asks for something else (${fields.join(', ')} differ); nothing was changed. Send a new request as a new delivery (a new webhook-id) instead of reusing one.`,
    { requestId: existing.id, fields },
  );
}

function comparable(value: unknown, caseInsensitive = false): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return caseInsensitive ? value.toLowerCase() : value;
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
