import type { Settings } from '../config';
import type { RequestRow } from '../requests/request-row';
import { storedResult } from './note-text';
import { markerOf, outboxFields, type EventRecord, type OutboxEvent, type OutboxState } from './outbox-state';

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
>;

/** Where a request's notes go, from the settings and the (intake-MAC'd) ticket fields; never from a body. */
export function ticketChannelOf(row: RequestRow, settings: TicketSettings): 'servicenow' | 'jira' | undefined {
  // A bulk job's users are reported in the job, not as one note per user on one ticket.
  if (row.source === 'bulk') return undefined;
  if (row.ticketSystem === 'servicenow' && settings.SERVICENOW_INSTANCE_URL && row.ticketSysId && row.ticketTable) return 'servicenow';
  if (row.ticketSystem === 'jira' && settings.JIRA_SITE_URL) return 'jira';
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

/** The worker's side: fields to save with the final status, and the wake-up after that save. */
export interface TicketHook {
  fieldsOnFinish(next: RequestRow): Partial<Pick<RequestRow, 'ticketUpdates' | 'ticketDueAt'>>;
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
      // Opened once: a request saved final again (a duplicate finish) keeps what was posted.
      if (next.ticketUpdates) return {};
      const now = new Date();
      const state = openOutbox(next, settings, now);
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
