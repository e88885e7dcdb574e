import { fieldError, IntakeRefusal } from './answer';

/**
 * A signed send time in the body: the top-level `timestamp` of any source (Jira webhooks carry one,
 * in epoch milliseconds; a ServiceNow Business Rule or a canonical caller may add one, as epoch
 * milliseconds or an ISO-8601 time). ServiceNow's `sys_updated_on` is when the record changed, not when
 * it was sent, and is not used. Without a timestamp there is no freshness check; replays of a stored
 * request are answered from the row (idempotency) either way.
 *
 * The window is an hour back because Jira retries a failed delivery for up to about thirty minutes
 * with the original body, and a few minutes forward for clock skew.
 */
export const MAX_TIMESTAMP_AGE_MS = 60 * 60 * 1000;
export const MAX_TIMESTAMP_AHEAD_MS = 5 * 60 * 1000;

export function checkSignedTimestamp(value: unknown, now: Date): void {
  if (value === undefined || value === null) return;
  const at = parseTimestamp(value);
  if (at === undefined) {
    throw fieldError('timestamp', 'must be epoch milliseconds (or seconds) or an ISO-8601 time');
  }
  const age = now.getTime() - at;
  if (age > MAX_TIMESTAMP_AGE_MS || age < -MAX_TIMESTAMP_AHEAD_MS) {
    throw new IntakeRefusal(
      401,
      'timestamp_out_of_range',
      `the signed timestamp ${new Date(at).toISOString()} is ${age > 0 ? 'older than 60 minutes' : 'more than 5 minutes in the future'}; a replayed or delayed request is refused (check the sender's clock)`,
    );
  }
}

/** The largest time a Date can hold. */
const MAX_DATE_MS = 8.64e15;

function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'string' && /^\d{9,16}$/.test(value.trim())) return fromEpoch(Number(value.trim()));
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(text)) return undefined;
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** Epoch milliseconds; a value below 10^11 is taken as seconds (as some senders write it). */
function fromEpoch(value: number): number | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  const ms = value < 1e11 ? value * 1000 : value;
  return ms <= MAX_DATE_MS ? ms : undefined;
}
