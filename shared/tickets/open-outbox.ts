import type { Settings } from '../config';
import { clipAtWord } from '../clip-text';
import type { RequestRow } from '../requests/request-row';
import { storedResult } from './note-text';
import { markerOf, outboxFields, parseOutbox, type EventRecord, type OutboxEvent, type OutboxState } from './outbox-state';

export type TicketSettings = Pick<
  Settings,
  | 'SERVICENOW_INSTANCE_URL'
  | 'JIRA_SITE_URL'
  | 'CONSOLE_BASE_URL'
  | 'NOTIFY_SENDER_UPN'
  | 'FOLLOW_UP_HOURS'
  | 'FOLLOW_UP_INTERVAL_SECONDS'
  | 'CALLBACK_ALLOWED_HOSTS'
  | 'CALLBACK_SIGNING_SECRET'
  | 'JIRA_PROJECT_KEYS'
  | 'SERVICENOW_TABLES'
>;

/**
 * Where a request's notes go, from the settings and the (intake-MAC'd) ticket fields; never from a body.
 * Only where the ticket system itself asked: a request from the Jira adapter (signed by Jira) writes to
 * its Jira issue, one from the ServiceNow adapter to its record. A generic caller's signed body can name
 * any `ticket.system` and id, so it gets its signed callback instead, never a note on a ticket it named.
 * A schedule's notice writes to its ticket only when the schedule's ticket was looked up and found in
 * JIRA_PROJECT_KEYS or SERVICENOW_TABLES (shared/schedules/schedule-ticket-check.ts; the list is read
 * again here). A bulk job's users are reported in the job, not as one note per user on one ticket.
 */
export function ticketChannelOf(row: RequestRow, settings: TicketSettings): 'servicenow' | 'jira' | undefined {
  const fromSource = row.source === row.ticketSystem;
  const fromSchedule = row.source === 'schedule';
  if (!fromSource && !fromSchedule) return undefined;
  if (row.ticketSystem === 'servicenow' && settings.SERVICENOW_INSTANCE_URL && row.ticketSysId && row.ticketTable) {
    return fromSource || settings.SERVICENOW_TABLES.includes(row.ticketTable) ? 'servicenow' : undefined;
  }
  if (row.ticketSystem === 'jira' && settings.JIRA_SITE_URL) {
    return fromSource || settings.JIRA_PROJECT_KEYS.includes(row.ticketId.toUpperCase().replace(/-[0-9]+$/, '')) ? 'jira' : undefined;
  }
  return undefined;
}

/** Methods the user still has after the reset (with the pass it issued): what the follow-up compares against. */
export function baselineOf(row: RequestRow): { baseline: string[]; passMethodId: string | undefined } {
  const result = storedResult(row);
  const baseline = (result?.methods ?? []).filter((method) => method.outcome !== 'deleted' && method.outcome !== 'already-gone').map((method) => method.id.toLowerCase());
  const passMethodId = result?.temporaryAccessPass?.outcome === 'created' ? result.temporaryAccessPass.methodId?.toLowerCase() : undefined;
  if (passMethodId) baseline.push(passMethodId);
  return { baseline, passMethodId };
}

/**
 * The outbox a request opens as it reaches its final status, saved in the same write as that status
 * (so a crash after it cannot lose a note): the outcome note when the ticket system is configured, the
 * callback when a generic caller named one, the
 * mails when NOTIFY_SENDER_UPN is set and methods were removed, and the follow-up watch after a reset.
 */
export function openOutbox(row: RequestRow, settings: TicketSettings, now: Date): OutboxState | undefined {
  const channel = ticketChannelOf(row, settings);
  const result = storedResult(row);
  const events: Partial<Record<OutboxEvent, EventRecord>> = {};
  const pending = (event: OutboxEvent, via: EventRecord['channel']): EventRecord => ({ state: 'pending', channel: via, attempts: 0, marker: markerOf(row.id, event) });
  if (channel) events.outcome = pending('outcome', channel);
  // A generic caller's callbackUrl (from the MAC'd row; the intake checked it against the allow-list).
  if (row.source === 'generic' && row.callbackUrl) events.callback = pending('callback', 'callback');

  const reset = (row.status === 'completed' || row.status === 'partial') && !row.dryRun;
  const removedSomething = (result?.methods ?? []).some((method) => ['deleted', 'deactivated'].includes(method.outcome));
  if (reset && removedSomething && settings.NOTIFY_SENDER_UPN && result?.target?.objectId) {
    events['mail-user'] = pending('mail-user', 'mail');
    events['mail-manager'] = pending('mail-manager', 'mail');
  }
  const state: OutboxState = { version: 1, status: row.status, events };
  if (reset && channel && result?.target?.objectId) {
    const { baseline, passMethodId } = baselineOf(row);
    const until = new Date(now.getTime() + settings.FOLLOW_UP_HOURS * 3600_000);
    state.watch = {
      objectId: result.target.objectId.toLowerCase(),
      baseline,
      ...(passMethodId ? { passMethodId } : {}),
      startedAt: now.toISOString(),
      until: until.toISOString(),
      nextAt: new Date(Math.min(until.getTime(), now.getTime() + settings.FOLLOW_UP_INTERVAL_SECONDS * 1000)).toISOString(),
      checks: 0,
    };
  }
  if (Object.keys(events).length === 0 && !state.watch) return undefined;
  return state;
}

export type VerificationEvent = 'verification-requested' | 'verification-passed' | 'verification-failed' | 'mail-manager-attest';
/** Notes on a partial request's ticket as it is finished from the console (shared/finish). */
export type FinishEvent = 'finish-asked' | 'finish-approved';

/**
 * Adds verification events to a request's outbox before it ends (the outbox is opened early, marked
 * `awaiting_verification`, and completed when the request ends): the notes go to the ticket system the
 * request came through, the attestation mail to the target's manager when a sender mailbox is set.
 * Facts are fixed now, so the text is the same however often a note is retried.
 */
export function withVerificationEvent(row: RequestRow, event: VerificationEvent | FinishEvent, facts: Record<string, string>, settings: TicketSettings, now: Date): OutboxState | undefined {
  const channel = event === 'mail-manager-attest' ? (settings.NOTIFY_SENDER_UPN ? 'mail' : undefined) : ticketChannelOf(row, settings);
  if (!channel) return undefined;
  const state: OutboxState = parseOutbox(row.ticketUpdates) ?? { version: 1, status: row.status === 'awaiting_verification' || event.startsWith('verification') || event === 'mail-manager-attest' ? 'awaiting_verification' : row.status, events: {} };
  if (state.events[event]) return undefined;
  const clipped = Object.fromEntries(Object.entries(facts).map(([key, value]) => [key, clipAtWord(value, 500)]));
  state.events[event] = { state: 'pending', channel, attempts: 0, marker: markerOf(row.id, event), facts: clipped };
  return state;
}

/** The worker's side: fields to save with the final status, and the wake-up after that save. */
export interface TicketHook {
  fieldsOnFinish(next: RequestRow): Partial<Pick<RequestRow, 'ticketUpdates' | 'ticketDueAt'>>;
  /** Fields that add a verification note or mail to the outbox (none when nobody is to be told). */
  fieldsOnVerification(next: RequestRow, event: VerificationEvent, facts: Record<string, string>): Partial<Pick<RequestRow, 'ticketUpdates' | 'ticketDueAt'>>;
  /** Fields that add a note about finishing a partial reset from the console (none when the ticket has no channel). */
  fieldsOnFinishNote(next: RequestRow, event: FinishEvent, facts: Record<string, string>): Partial<Pick<RequestRow, 'ticketUpdates' | 'ticketDueAt'>>;
  /** Never throws: a lost wake-up is found by the ticket sweeper from the row's ticketDueAt. */
  notify(row: RequestRow): Promise<void>;
}

export function ticketHook(
  settings: TicketSettings,
  queue: { send(requestId: string, delaySeconds?: number): Promise<void> },
  log: { warn(message: string, fields?: Record<string, string | number | boolean | undefined>): void },
): TicketHook {
  return {
    fieldsOnFinish(next) {
      const now = new Date();
      const earlier = parseOutbox(next.ticketUpdates);
      // Opened once: a request saved final again (a duplicate finish) keeps what was posted. An outbox
      // opened while the person was being verified gets the final events added to it.
      if (next.ticketUpdates && earlier?.status !== 'awaiting_verification') return {};
      const state = openOutbox(next, settings, now);
      if (!earlier) return state ? outboxFields(state, now) : {};
      const merged: OutboxState = { ...earlier, status: next.status, events: { ...(state?.events ?? {}), ...earlier.events }, ...(state?.watch ? { watch: state.watch } : {}) };
      return outboxFields(merged, now);
    },
    fieldsOnVerification(next, event, facts) {
      const now = new Date();
      const state = withVerificationEvent(next, event, facts, settings, now);
      return state ? outboxFields(state, now) : {};
    },
    fieldsOnFinishNote(next, event, facts) {
      const now = new Date();
      const state = withVerificationEvent(next, event, facts, settings, now);
      return state ? outboxFields(state, now) : {};
    },
    async notify(row) {
      if (!row.ticketDueAt) return;
      try {
        await queue.send(row.id);
      } catch (error) {
        log.warn('ticket outbox not woken; the ticket sweeper will find the request', { requestId: row.id, cause: error instanceof Error ? error.message : String(error) });
      }
    },
  };
}
