import { fieldError, IntakeRefusal } from '../http/answer';

/**
 * The signed send time in the body: the top-level `timestamp` (epoch milliseconds, or seconds, or an
 * ISO-8601 time), inside the bytes the HMAC covers. Where a source's signature covers only the body, this
 * is what makes a captured delivery expire (DESIGN section 5):
 *  - Jira admin webhooks carry the event time, unchanged on Jira's retries (up to about half an hour):
 *    required, at most 60 minutes old;
 *  - the ServiceNow Business Rule sends `new GlideDateTime().getNumericValue()`: required, 5 minutes;
 *  - Standard Webhooks callers are bounded by the signed webhook-timestamp; a body timestamp, if sent,
 *    must be fresh too.
 * ServiceNow's `sys_updated_on` is when the record changed, not when it was sent, and is not used.
 */
export interface FreshnessRule {
  required: boolean;
  maxAgeMs: number;
  /** How the sender adds it, for the refusal's message. */
  hint: string;
}

export const MAX_TIMESTAMP_AHEAD_MS = 5 * 60 * 1000;

export const FRESHNESS: Record<'jira' | 'jira-token' | 'servicenow' | 'generic' | 'unsigned', FreshnessRule> = {
  jira: { required: true, maxAgeMs: 60 * 60 * 1000, hint: 'Jira admin webhooks send it themselves' },
  'jira-token': { required: false, maxAgeMs: 60 * 60 * 1000, hint: 'add "timestamp": "{{now}}" to the body of the rule' },
  servicenow: { required: true, maxAgeMs: 5 * 60 * 1000, hint: 'the Business Rule adds "timestamp": new GlideDateTime().getNumericValue()' },
  generic: { required: false, maxAgeMs: 5 * 60 * 1000, hint: 'or leave it out: webhook-timestamp is signed' },
  unsigned: { required: false, maxAgeMs: 60 * 60 * 1000, hint: 'epoch milliseconds' },
};

/** The signed time in epoch milliseconds (undefined when absent and not required); throws a refusal. */
export function checkSignedTimestamp(value: unknown, now: Date, rule: FreshnessRule = FRESHNESS.unsigned): number | undefined {
  if (value === undefined || value === null) {
    if (!rule.required) return undefined;
    throw new IntakeRefusal(
      401,
      'timestamp_missing',
      `timestamp is missing from the body: a signed send time (epoch milliseconds) is required so that a captured request cannot be replayed later (${rule.hint})`,
      [{ path: 'timestamp', message: 'is required' }],
    );
  }
  const at = parseTimestamp(value);
  if (at === undefined) {
    throw fieldError('timestamp', 'must be epoch milliseconds (or seconds) or an ISO-8601 time');
  }
  const age = now.getTime() - at;
  if (age > rule.maxAgeMs || age < -MAX_TIMESTAMP_AHEAD_MS) {
    throw new IntakeRefusal(
      401,
      'timestamp_out_of_range',
      `the signed timestamp ${new Date(at).toISOString()} is ${age > 0 ? `older than ${rule.maxAgeMs / 60000} minutes` : 'more than 5 minutes in the future'}; a replayed or delayed request is refused (check the sender's clock)`,
    );
  }
  return at;
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
