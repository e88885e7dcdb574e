import type { Settings } from '../config';
import { IntakeRefusal, refused } from '../http/answer';
import type { JiraClient } from '../tickets/jira-client';
import type { ServiceNowClient } from '../tickets/servicenow-client';
import type { CallOutcome } from '../tickets/ticket-http';
import type { Schedule } from './schedule-rows';

/** The ticket system clients a schedule's ticket is looked up with (shared/tickets). */
export interface TicketLookup {
  jira?: JiraClient;
  servicenow?: ServiceNowClient;
}

type TicketFields = Pick<Schedule, 'ticketSystem' | 'ticketId' | 'ticketSysId' | 'ticketTable'>;

/**
 * A schedule's signed body names its ticket, and nothing else vouches for it: unlike a request from
 * the Jira or ServiceNow adapter, no ticket system asked. So a refused run writes a note there only if
 * the ticket was looked up when the schedule was stored (or its ticket changed) and found in an
 * allowed project (JIRA_PROJECT_KEYS) or table (SERVICENOW_TABLES); a schedule cannot name `sys_user`
 * or another team's issue. When that system's write-back is configured, a ticket that fails the check
 * is refused (422, nothing stored); otherwise the ticket is a label only, and the run's notice says why
 * nothing was posted. Returns when the check passed, or undefined (a label).
 */
export async function checkScheduleTicket(
  ticket: TicketFields,
  settings: Pick<Settings, 'JIRA_SITE_URL' | 'SERVICENOW_INSTANCE_URL' | 'JIRA_PROJECT_KEYS' | 'SERVICENOW_TABLES'>,
  lookup: TicketLookup,
  now: Date,
): Promise<string | undefined> {
  const id = ticket.ticketId ?? '';
  if (ticket.ticketSystem === 'jira' && settings.JIRA_SITE_URL && lookup.jira) {
    const key = id.toUpperCase();
    if (!/^[A-Z][A-Z0-9_]*-[1-9][0-9]*$/.test(key)) throw refused('ticket_not_allowed', `ticket.id ${id.slice(0, 64)} is not a Jira issue key (such as ITSM-42); nothing was stored`, { fields: ['ticket.id'] });
    const project = key.slice(0, key.lastIndexOf('-'));
    allowed(project, settings.JIRA_PROJECT_KEYS, 'JIRA_PROJECT_KEYS', `Jira project ${project}`);
    const found = settled(await lookup.jira.getIssue(key), `Jira issue ${key}`);
    if (found.key.toUpperCase() !== key) {
      throw refused('ticket_moved', `Jira issue ${key} is now ${found.key.slice(0, 64)}; name it by its current key. Nothing was stored.`, { fields: ['ticket.id'] });
    }
    allowed(found.projectKey.toUpperCase(), settings.JIRA_PROJECT_KEYS, 'JIRA_PROJECT_KEYS', `Jira project ${found.projectKey.slice(0, 64)}`);
    return now.toISOString();
  }
  if (ticket.ticketSystem === 'servicenow' && settings.SERVICENOW_INSTANCE_URL && lookup.servicenow && ticket.ticketSysId && ticket.ticketTable) {
    allowed(ticket.ticketTable, settings.SERVICENOW_TABLES, 'SERVICENOW_TABLES', `ServiceNow table ${ticket.ticketTable}`);
    const found = settled(await lookup.servicenow.getRecord(ticket.ticketTable, ticket.ticketSysId), `ServiceNow record ${ticket.ticketTable}/${ticket.ticketSysId}`);
    if (found.number !== undefined && found.number.toLowerCase() !== id.toLowerCase()) {
      throw refused('ticket_mismatch', `ServiceNow record ${ticket.ticketTable}/${ticket.ticketSysId} is ${found.number.slice(0, 64)}, not ${id.slice(0, 64)}; name the record by its number and sys_id. Nothing was stored.`, { fields: ['ticket.id', 'ticket.sysId'] });
    }
    return now.toISOString();
  }
  return undefined;
}

function allowed(value: string, list: readonly string[], setting: string, what: string): void {
  if (list.includes(value)) return;
  throw refused(
    'ticket_not_allowed',
    `${what} is not in ${setting} (${list.length > 0 ? list.join(', ') : 'empty'}): a schedule writes notes only where that setting allows. Nothing was stored.`,
    { fields: ['ticket'] },
  );
}

function settled<T>(answer: CallOutcome<T>, what: string): T {
  if (answer.kind === 'ok') return answer.body;
  if (answer.kind === 'refused' && (answer.status === 404 || answer.status === 400)) {
    throw refused('ticket_not_found', `${what} does not exist, or the integration account cannot see it; nothing was stored`, { fields: ['ticket'] });
  }
  if (answer.kind === 'refused') throw refused('ticket_unreadable', `${what} could not be looked up: ${answer.message.slice(0, 200)}; nothing was stored`, { fields: ['ticket'] });
  throw new IntakeRefusal(503, 'ticket_system_unavailable', `${what} could not be looked up just now (${answer.message.slice(0, 200)}); nothing was stored, send it again later`, undefined, { 'retry-after': '30' });
}
