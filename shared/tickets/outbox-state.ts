import { z } from 'zod';

/**
 * The outbox of one request, kept on its ResetRequests row (property `ticketUpdates`, JSON) and changed
 * only with the row's ETag: which notes and mails are due, which were posted (and where), which failed
 * and why. Recording "posting" before a call and "posted" after it is what makes each note exactly once
 * across retries and restarts: a call whose outcome is unknown is looked up on the ticket before it is
 * sent again. Nothing secret is kept here.
 */

/** One side effect of a request: a note, a mail or a callback. */
export const OUTBOX_EVENTS = [
  'verification-requested',
  'mail-manager-attest',
  'verification-passed',
  'verification-failed',
  'outcome',
  'follow-up',
  'follow-up-closed',
  'mail-user',
  'mail-manager',
  'callback',
  'finish-asked',
  'finish-approved',
] as const;
export type OutboxEvent = (typeof OUTBOX_EVENTS)[number];

export const EVENT_STATES = ['pending', 'posting', 'retrying', 'posted', 'failed', 'skipped'] as const;
export type EventState = (typeof EVENT_STATES)[number];

const isoTime = z.string().datetime({ offset: true });

export const eventRecordSchema = z.object({
  state: z.enum(EVENT_STATES),
  /** Where it goes: servicenow, jira, callback, mail. */
  channel: z.enum(['servicenow', 'jira', 'callback', 'mail']),
  /** Tries sent so far. */
  attempts: z.number().int().nonnegative().default(0),
  /** Written into the note (and a Jira comment property) so that an unknown outcome can be looked up. */
  marker: z.string(),
  /** posting: the claim runs until then; retrying: the next try is due then. */
  until: isoTime.optional(),
  postedAt: isoTime.optional(),
  /** The ticket system's id of what was posted (Jira comment id, ServiceNow record sys_updated_on), or the mail recipient (masked). */
  remoteId: z.string().max(256).optional(),
  /** sha256 of the text posted, so the record shows what went out without holding it twice. */
  textHash: z.string().optional(),
  /** The last failure, as the ticket system answered it (status and message, clipped, never a secret). */
  error: z.string().max(1000).optional(),
  /** Facts an event's text is made from (follow-up: the new method), fixed when the event is created. */
  facts: z.record(z.string(), z.string().max(500)).optional(),
});
export type EventRecord = z.infer<typeof eventRecordSchema>;

export const watchSchema = z.object({
  /** Object id of the user watched. */
  objectId: z.string(),
  /** Method ids the user had when the reset ended (and the pass issued by it): anything else is new. */
  baseline: z.array(z.string()),
  passMethodId: z.string().optional(),
  startedAt: isoTime,
  until: isoTime,
  nextAt: isoTime,
  checks: z.number().int().nonnegative().default(0),
  /** Set when the watch stopped: new-method, pass-used, window-closed, superseded, unreadable, not-authentic. */
  ended: z.string().optional(),
});
export type Watch = z.infer<typeof watchSchema>;

export const outboxStateSchema = z.object({
  version: z.literal(1),
  /** The status the request ended in, when the outbox was opened. */
  status: z.string(),
  events: z.record(z.enum(OUTBOX_EVENTS), eventRecordSchema).default({}),
  watch: watchSchema.optional(),
});
export type OutboxState = z.infer<typeof outboxStateSchema>;

/** The stored JSON, or undefined when the row has none or it does not parse (then nothing is posted for it). */
export function parseOutbox(json: string | undefined): OutboxState | undefined {
  if (!json) return undefined;
  try {
    const parsed = outboxStateSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** When the outbox next has something to do, or undefined when nothing is left. */
export function nextDueAt(state: OutboxState, now: Date): string | undefined {
  const times: number[] = [];
  for (const record of Object.values(state.events)) {
    if (!record) continue;
    if (record.state === 'pending') times.push(now.getTime());
    if ((record.state === 'posting' || record.state === 'retrying') && record.until) times.push(Date.parse(record.until));
  }
  if (state.watch && !state.watch.ended) times.push(Date.parse(state.watch.nextAt));
  if (times.length === 0) return undefined;
  return new Date(Math.min(...times)).toISOString();
}

/** The fields to save with the state: the JSON and the sweeper's due time. */
export function outboxFields(state: OutboxState, now: Date): { ticketUpdates: string; ticketDueAt: string | undefined } {
  return { ticketUpdates: JSON.stringify(state), ticketDueAt: nextDueAt(state, now) };
}

export function markerOf(requestId: string, event: OutboxEvent): string {
  return `entra-mfa-reset:${requestId}:${event}`;
}
