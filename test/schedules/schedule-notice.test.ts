import { describe, expect, it } from 'vitest';
import { requestIntegrity } from '../../shared/requests/request-integrity';
import { noticeRow, tellTicket, type NoticeDependencies } from '../../shared/schedules/schedule-notice';
import type { ScheduleRun, StoredSchedule } from '../../shared/schedules/schedule-rows';
import { noteText } from '../../shared/tickets/note-format';
import { outcomeNote } from '../../shared/tickets/note-text';
import { TEST_SECRETS } from '../support/signing';

/** The note a refused run posts, and when nothing is written at all: without storage, Graph or a ticket system. */
const integrity = requestIntegrity({ INTAKE_MAC_KEY: TEST_SECRETS.intakeMacKey });
const now = new Date('2025-03-01T02:00:05Z');
const schedule: StoredSchedule = {
  id: 'a49fc1cd-ea5d-8920-9a06-1622fbe914fd',
  name: 'Nightly re-registration',
  schedule: '0 0 2 * * *',
  timeZone: 'Europe/Amsterdam',
  sourceKind: 'group',
  groupId: '3e1f0b6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b',
  profile: 'portal',
  revokeSessions: true,
  removeFromGroupAfterReset: true,
  requestedBy: 'soc@contoso.com',
  approvedBy: 'lead@contoso.com',
  ticketSystem: 'jira',
  ticketId: 'SEC-12',
  enabled: true,
  dryRun: false,
  maxUsersPerRun: 2,
  createdAt: '2025-02-01T00:00:00.000Z',
  updatedAt: '2025-02-01T00:00:00.000Z',
  etag: '',
};
const run: ScheduleRun = { scheduleId: schedule.id, id: '001740794400000-timer', slot: '2025-03-01T01:00:00.000Z', trigger: 'timer', status: 'refused', found: 3, planned: 3, alreadyReset: 0, dryRun: false, startedAt: now.toISOString() };
const reason = "max_users_exceeded: this run found 3 users to reset, more than the schedule's maxUsersPerRun of 2, so it reset nobody.";

describe('the notice of a refused run', () => {
  it('is a rejected request the outbox trusts (intake MAC), with one id per schedule and run, and no target', () => {
    const row = noticeRow(schedule, run, 'max_users_exceeded', reason, integrity, now);
    expect(row).toMatchObject({ source: 'schedule', status: 'rejected', ticketSystem: 'jira', ticketId: 'SEC-12', approvedBy: 'lead@contoso.com' });
    expect(row.targetUpn).toBeUndefined();
    expect(row.targetObjectId).toBeUndefined();
    expect(integrity.verifyRow(row)).toBe(true);
    expect(noticeRow(schedule, run, 'max_users_exceeded', reason, integrity, new Date()).id).toBe(row.id);
    expect(noticeRow(schedule, { ...run, id: '001740798000000-timer' }, 'max_users_exceeded', reason, integrity, now).id).not.toBe(row.id);
    expect(noticeRow({ ...schedule, id: 'b49fc1cd-ea5d-8920-9a06-1622fbe914fd' }, run, 'max_users_exceeded', reason, integrity, now).id).not.toBe(row.id);
  });

  it('says the run reset nobody, why, what to do, and where the record is; names no user', () => {
    const row = noticeRow(schedule, run, 'max_users_exceeded', reason, integrity, now);
    const text = noteText(outcomeNote(row));
    expect(text.split('\n')[0]).toBe(`Scheduled MFA reset run refused (request ${row.id})`);
    expect(text).toContain('- Outcome: REFUSED: this run reset nobody; nothing was changed.');
    expect(text).toContain(`- Schedule: "Nightly re-registration" (${schedule.id}), run ${run.id}. Requested by soc@contoso.com, approved by lead@contoso.com.`);
    expect(text).toContain(`- Reason: ${reason}`);
    expect(text).toContain('raise maxUsersPerRun');
    expect(text).toContain(`GET /api/schedules/${schedule.id}`);
    expect(text).not.toMatch(/^- User:/m);
    expect(text.endsWith(`Ref: entra-mfa-reset:${row.id}:outcome`)).toBe(true);
  });

  it('stores nothing when the ticket cannot be reached: no ticket, another system, ServiceNow without its record, or no write-back configured', async () => {
    const untouched = new Proxy({}, { get: () => () => Promise.reject(new Error('nothing may be stored or sent')) });
    const deps = { store: untouched, audit: untouched, queue: untouched, integrity, log: untouched, settings: { JIRA_SITE_URL: 'https://contoso.atlassian.net' } } as unknown as NoticeDependencies;
    const cases: [Partial<StoredSchedule>, string][] = [
      [{ ticketSystem: undefined, ticketId: undefined }, 'the schedule names no ticket'],
      [{ ticketSystem: 'schedule', ticketId: 'CHG-1' }, 'no write-back is configured for ticket system "schedule"'],
      [{ ticketSystem: 'servicenow', ticketId: 'CHG0030001' }, "the schedule's ServiceNow ticket has no sysId and table"],
    ];
    for (const [change, why] of cases) expect(await tellTicket({ ...schedule, ...change }, run, 'max_users_exceeded', reason, deps, now)).toEqual({ told: false, why });
    const noJira = { ...deps, settings: {} } as unknown as NoticeDependencies;
    expect(await tellTicket(schedule, run, 'max_users_exceeded', reason, noJira, now)).toEqual({ told: false, why: 'no write-back is configured for ticket system "jira"' });
  });
});
