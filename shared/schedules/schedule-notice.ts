import type { AuditLog } from '../audit/audit-log';
import type { Logger } from '../log';
import type { RequestIntegrity } from '../requests/request-integrity';
import type { RequestRow } from '../requests/request-row';
import type { RequestStore } from '../requests/request-store';
import { openOutbox, ticketChannelOf, type TicketSettings } from '../tickets/open-outbox';
import { outboxFields } from '../tickets/outbox-state';
import { actorOf, targetOf } from '../worker/request-view';
import type { ScheduleRun, StoredSchedule } from './schedule-rows';

/**
 * Telling a schedule's ticket that a run reset nobody (over maxUsersPerRun), through the one ticket
 * write-back there is (shared/tickets): the run becomes a notice request in ResetRequests (source
 * `schedule`, status `rejected`, no target, intake-MAC'd like every row the outbox trusts) whose outbox
 * holds the outcome note, and a `{requestId}` message on queue ticket-updates wakes it; the ticket
 * sweeper finds it from `ticketDueAt` if that message is lost. The outbox's claim and marker make the
 * note exactly once; the notice's id is an HMAC of schedule and run, so a retried run makes no second one.
 */

export interface NoticeDependencies {
  store: RequestStore;
  audit: AuditLog;
  integrity: RequestIntegrity;
  /** Queue ticket-updates. */
  queue: { send(requestId: string, delaySeconds?: number): Promise<void> };
  settings: TicketSettings;
  log: Logger;
}

export type NoticeOutcome = { told: true; requestId: string } | { told: false; why: string };

export const noticeKeyOf = (scheduleId: string, runId: string) => `schedule|${scheduleId}|run|${runId}|notice`;

/** The notice request of a refused run: what a note is made from (shared/tickets/note-text.ts). */
export function noticeRow(schedule: StoredSchedule, run: ScheduleRun, code: string, reason: string, integrity: RequestIntegrity, now: Date): RequestRow {
  const key = noticeKeyOf(schedule.id, run.id);
  const time = now.toISOString();
  const row: RequestRow = {
    id: integrity.requestId(key),
    idempotencyKey: key,
    source: 'schedule',
    status: 'rejected',
    statusReason: reason,
    ticketSystem: schedule.ticketSystem ?? 'schedule',
    ticketId: schedule.ticketId ?? `schedule-${schedule.id}`,
    ticketUrl: schedule.ticketUrl,
    ticketSysId: schedule.ticketSysId,
    ticketTable: schedule.ticketTable,
    requestedBy: schedule.requestedBy,
    requestedById: schedule.requestedById,
    approvedBy: schedule.approvedBy,
    reason: `schedule "${schedule.name}" (${schedule.id}) run ${run.id}`,
    profile: schedule.profile,
    methods: schedule.methods,
    revokeSessions: schedule.revokeSessions,
    dryRun: schedule.dryRun,
    result: JSON.stringify({
      status: 'rejected',
      code,
      reason,
      schedule: { id: schedule.id, name: schedule.name, runId: run.id, slot: run.slot, trigger: run.trigger, found: run.found, planned: run.planned },
    }),
    attempts: 0,
    createdAt: time,
    updatedAt: time,
    completedAt: time,
  };
  return { ...row, intakeMac: integrity.rowMac(row) };
}

/**
 * Opens the notice's outbox and wakes it. Nothing is written when the schedule's ticket is not one
 * the write-back can reach (no ticket, another system, or that system not configured): the reason
 * stays on the run, which is where it is shown.
 */
export async function tellTicket(schedule: StoredSchedule, run: ScheduleRun, code: string, reason: string, deps: NoticeDependencies, now: Date): Promise<NoticeOutcome> {
  const row = noticeRow(schedule, run, code, reason, deps.integrity, now);
  // Only a ticket that was looked up and found where notes are allowed (schedule-ticket-check.ts).
  if (!schedule.ticketCheckedAt || !ticketChannelOf(row, deps.settings)) {
    const why = !schedule.ticketId
      ? 'the schedule names no ticket'
      : schedule.ticketSystem === 'servicenow' && (!schedule.ticketSysId || !schedule.ticketTable)
        ? 'the schedule\'s ServiceNow ticket has no sysId and table'
        : !['jira', 'servicenow'].includes(schedule.ticketSystem ?? '') || !(schedule.ticketSystem === 'jira' ? deps.settings.JIRA_SITE_URL : deps.settings.SERVICENOW_INSTANCE_URL)
          ? `no write-back is configured for ticket system "${schedule.ticketSystem ?? ''}"`
          : !schedule.ticketCheckedAt
            ? `${schedule.ticketSystem} ${schedule.ticketId} was not looked up when the schedule was stored (PATCH its ticket to check it)`
            : `${schedule.ticketSystem} ${schedule.ticketId} is no longer in ${schedule.ticketSystem === 'jira' ? 'JIRA_PROJECT_KEYS' : 'SERVICENOW_TABLES'}`;
    return { told: false, why };
  }
  const existing = await deps.store.get(row.id);
  if (!existing) {
    const state = openOutbox(row, deps.settings, now);
    if (!state) return { told: false, why: 'the outbox had nothing to post' };
    // Write-ahead: the audit names the refusal before the row that posts it exists.
    const entry = await deps.audit.append(row.id, actorOf(row), targetOf(row), { action: 'schedule run refused', outcome: 'rejected', detail: reason.slice(0, 500) });
    await deps.store.create({ ...row, ...outboxFields(state, now), auditSeq: entry.seq, auditHash: entry.hash });
  }
  try {
    await deps.queue.send(row.id);
  } catch (error) {
    deps.log.warn('schedule notice not woken; the ticket sweeper will find it', { requestId: row.id, cause: error instanceof Error ? error.message : String(error) });
  }
  return { told: true, requestId: row.id };
}
