import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventually } from '../support/eventually';
import { jiraWebhook } from '../intake/fixtures';
import { startTicketSystem, ticketStatus, type TicketSystem } from './support';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });

/**
 * Who may make the app write on a ticket. The attack: a generic caller (anyone holding the generic
 * secret) names an unrelated Jira issue or ServiceNow record as its ticket, with caller-chosen
 * `requestedBy` text, and the app posts an internal comment there under its integration account. Notes
 * go only where the ticket system itself asked (its own signed webhook); the generic caller's outcome
 * goes to its signed callback.
 */
let t: TicketSystem;
const SYS_ID = 'a'.repeat(8) + '0123456789abcdef01234567';
beforeAll(async () => {
  t = await startTicketSystem({ settings: { JIRA_PROJECT_KEYS: 'SEC', SERVICENOW_TABLES: 'change_request' } });
  t.jira.addIssue('SEC-4242');
  t.sn.addRecord('sys_user', SYS_ID, 'USR0001');
});
afterAll(async () => t?.stop());

const settled = (id: string) =>
  eventually(async () => {
    const status = await ticketStatus(t.system, id);
    if (['accepted', 'running'].includes(status.status)) return undefined;
    const events = Object.values(status.ticketUpdates?.events ?? {});
    return events.every((event) => ['posted', 'failed', 'skipped'].includes(event.state)) ? status : undefined;
  }, 60_000, 250);

const ticketWrites = () => [
  ...t.jira.requestLog.filter((entry) => entry.method !== 'GET'),
  ...t.sn.requestLog.filter((entry) => entry.method !== 'GET' && !entry.url.startsWith('/oauth_token.do')),
];

describe('a generic request naming a ticket it does not come from', () => {
  it('leaves no comment on the Jira issue it names, whatever requestedBy says', async () => {
    const answer = await t.system.post('generic', {
      ticket: { system: 'jira', id: 'SEC-4242' },
      target: { userPrincipalName: 'adele.vance@contoso.com' },
      requestedBy: 'CISO: this account is compromised, call +1 555 0100 now',
    });
    expect(answer.status).toBe(202);
    const status = await settled(answer.body.id);
    expect(['completed', 'partial']).toContain(status.status);
    expect(status.ticketUpdates?.events.outcome).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(t.jira.comments('SEC-4242')).toEqual([]);
    expect(ticketWrites()).toEqual([]);
  });

  it('leaves no work note on a ServiceNow record: its body cannot even name one (sys_user included), and a number alone writes nothing', async () => {
    const named = await t.system.post('generic', {
      ticket: { system: 'servicenow', id: 'USR0001', sysId: SYS_ID, table: 'sys_user' },
      target: { userPrincipalName: 'megan.bowen@contoso.com' },
      requestedBy: 'agent@contoso.com',
    });
    expect(named.status).toBe(400);
    const answer = await t.system.post('generic', {
      ticket: { system: 'servicenow', id: 'USR0001' },
      target: { userPrincipalName: 'megan.bowen@contoso.com' },
      requestedBy: 'agent@contoso.com',
    });
    expect(answer.status).toBe(202);
    const status = await settled(answer.body.id);
    expect(status.ticketUpdates?.events.outcome).toBeUndefined();
    expect(t.sn.journal('sys_user', SYS_ID)).toEqual([]);
    expect(ticketWrites()).toEqual([]);
  });

  it('while a delivery Jira signed itself still gets its note', async () => {
    t.jira.addIssue('ITSM-77');
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-77', target: 'diego.siciliani@contoso.com' }));
    expect(answer.status).toBe(202);
    const status = await settled(answer.body.id);
    expect(status.ticketUpdates?.events.outcome).toMatchObject({ state: 'posted', channel: 'jira' });
    expect(t.jira.comments('ITSM-77')).toHaveLength(1);
  });
});
