import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ApiError, getJson, signedCall, type ApiAnswer, type ApiTarget } from '../../dev/cli/client';
import { structuredLogger } from '../../shared/log';
import { requestStores } from '../../shared/request-stores';
import { tellTicket } from '../../shared/schedules/schedule-notice';
import { scheduleMacText } from '../../shared/schedules/schedule-rows';
import { scheduleServices } from '../../shared/schedules/schedule-services';
import { getServices } from '../../shared/services';
import { eventually } from '../support/eventually';
import { bulkTenant, GROUP_ID, SECRET } from '../bulk/support';
import { startTicketSystem, ticketStatus, type TicketSystem } from '../tickets/support';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });

/**
 * A run over maxUsersPerRun tells the schedule's ticket through the ticket outbox (queue
 * ticket-updates), the one write-back there is: exactly one note per refused run, saying why nobody
 * was reset, on the Jira and ServiceNow stand-ins.
 */
let t: TicketSystem;
let api: ApiTarget;
const quiet = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });

beforeAll(async () => {
  // Three members (one through the nested group).
  t = await startTicketSystem({ graph: { tenant: bulkTenant(5, { groupFrom: 0, groupSize: 3 }) }, settings: { JIRA_PROJECT_KEYS: 'SEC', SERVICENOW_TABLES: 'change_request' } });
  api = { url: t.system.host.url, secret: SECRET };
});
afterAll(async () => t?.stop());

const base = { schedule: '0 0 3 1 1 *', requestedBy: 'soc@contoso.com', approvedBy: 'lead@contoso.com', source: { groupId: GROUP_ID }, maxUsersPerRun: 2 };
const runSchema = z.object({ id: z.string(), status: z.string(), reason: z.string().optional(), noticeRequestId: z.string().optional(), ticketNotice: z.string().optional() }).passthrough();
const showSchema = z.object({ runs: z.array(runSchema) }).passthrough();

const body = (answer: ApiAnswer, status: number) => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  return answer.body;
};

async function refusedRun(ticket: unknown) {
  const id = z.object({ id: z.string() }).parse(body(await signedCall(api, 'POST', 'schedules', { ...base, name: 'Re-register', ticket }), 201)).id;
  const writes = t.system.graph.requestLog.filter((entry) => entry.write).length;
  const started = z.object({ runId: z.string(), bulkJobId: z.null(), status: z.literal('refused') }).parse(body(await signedCall(api, 'POST', `schedules/${id}/run`, {}), 202));
  expect(t.system.graph.requestLog.filter((entry) => entry.write).length).toBe(writes);
  const shown = showSchema.parse(body(await signedCall(api, 'GET', `schedules/${id}`), 200));
  const run = shown.runs.find((candidate) => candidate.id === started.runId)!;
  return { id, run };
}

const settledOutcome = async (requestId: string) =>
  eventually(async () => {
    const status = await ticketStatus(t.system, requestId);
    const outcome = status.ticketUpdates?.events.outcome;
    return outcome && ['posted', 'failed'].includes(outcome.state) ? status : undefined;
  }, 60_000, 250);

describe('a run over maxUsersPerRun tells the schedule\'s ticket', () => {
  it('Jira: exactly one internal comment saying why nobody was reset, also when the outbox is woken again', async () => {
    t.jira.addIssue('SEC-90');
    const { id, run } = await refusedRun({ system: 'jira', id: 'SEC-90' });
    expect(run.status).toBe('refused');
    expect(run.noticeRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.ticketNotice).toContain('SEC-90');

    const status = await settledOutcome(run.noticeRequestId!);
    expect(status).toMatchObject({ status: 'rejected' });
    expect(status.ticketUpdates!.events.outcome).toMatchObject({ state: 'posted', channel: 'jira', attempts: 1 });
    expect(status.audit!.verified).toBe(true);
    expect(status.audit!.entries.map((entry) => `${entry.action}:${entry.outcome}`)).toEqual(['schedule run refused:rejected', 'ticket outcome:posted']);

    const comments = t.jira.comments('SEC-90');
    expect(comments).toHaveLength(1);
    const text = comments[0]!.text;
    expect(comments[0]!.jsdPublic).toBe(false);
    expect(text).toContain('Scheduled MFA reset run refused');
    expect(text).toContain('this run reset nobody');
    expect(text).toContain(`Schedule: "Re-register" (${id}), run ${run.id}`);
    expect(text).toContain("this run found 3 users to reset, more than the schedule's maxUsersPerRun of 2, so it reset nobody");
    expect(text).toContain('raise maxUsersPerRun');
    expect(text).toContain(run.noticeRequestId!);

    // The same run told again (a retried release), and the outbox woken twice more: still one comment.
    const deps = scheduleServices(getServices(), quiet);
    const schedule = (await deps.schedules.get(id))!;
    const stored = (await deps.schedules.getRun(id, run.id))!;
    const again = await tellTicket(schedule, stored, 'max_users_exceeded', stored.reason!, deps.notice!, new Date());
    expect(again).toEqual({ told: true, requestId: run.noticeRequestId });
    await deps.notice!.queue.send(run.noticeRequestId!);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(t.jira.comments('SEC-90')).toHaveLength(1);

    // A second refused run is a second event: one more note, naming its own run.
    const second = z.object({ runId: z.string() }).parse(body(await signedCall(api, 'POST', `schedules/${id}/run`, {}), 202));
    await eventually(() => (t.jira.comments('SEC-90').length >= 2 ? true : undefined), 60_000, 250);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(t.jira.comments('SEC-90')).toHaveLength(2);
    expect(t.jira.comments('SEC-90')[1]!.text).toContain(`run ${second.runId}`);
  });

  it('ServiceNow: one work note on the change record the schedule names by sysId and table', async () => {
    const sysId = `c0ffee${'b'.repeat(26)}`;
    t.sn.addRecord('change_request', sysId, 'CHG0030042');
    const { run } = await refusedRun({ system: 'servicenow', id: 'CHG0030042', sysId, table: 'change_request' });
    await settledOutcome(run.noticeRequestId!);
    const notes = t.sn.journal('change_request', sysId);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.element).toBe('work_notes');
    expect(notes[0]!.value).toContain('so it reset nobody');
  });

  it('a schedule whose ticket the write-back cannot reach says so on the run, and nothing is stored for it', async () => {
    const before = t.jira.allComments().length;
    const { run } = await refusedRun('CHG-LOCAL-1');
    expect(run.noticeRequestId).toBeUndefined();
    expect(run.ticketNotice).toBe('not told: no write-back is configured for ticket system "schedule"');
    const servicenow = await refusedRun({ system: 'servicenow', id: 'CHG0030043' });
    expect(servicenow.run.ticketNotice).toBe("not told: the schedule's ServiceNow ticket has no sysId and table");
    expect(t.jira.allComments()).toHaveLength(before);
  });

  it('refuses a ticket sysId or table that is not one, and a name with a line break (it would forge note lines)', async () => {
    for (const ticket of [{ system: 'servicenow', id: 'CHG1', sysId: 'not-a-sys-id', table: 'change_request' }, { system: 'servicenow', id: 'CHG1', sysId: 'a'.repeat(32), table: 'Change Request' }]) {
      const answer = await signedCall(api, 'POST', 'schedules', { ...base, name: 'x', ticket }).catch((error: { status: number }) => error);
      expect((answer as { status: number }).status).toBe(400);
    }
    const forged = await signedCall(api, 'POST', 'schedules', { ...base, name: 'Nightly\n- Outcome: Completed', ticket: 'SEC-1' }).catch((error: { status: number }) => error);
    expect((forged as { status: number }).status).toBe(400);
  });

  it('the notice rows are what the intake would trust: MAC verifies, source schedule, no target', async () => {
    const services = getServices();
    const [comment] = t.jira.comments('SEC-90');
    const requestId = /request ([0-9a-f-]{36})/.exec(comment!.text)![1]!;
    const row = (await requestStores(services).store.get(requestId))!;
    expect(row).toMatchObject({ source: 'schedule', status: 'rejected', ticketSystem: 'jira', ticketId: 'SEC-90' });
    expect(row.targetUpn).toBeUndefined();
    expect(requestStores(services).integrity.verifyRow(row)).toBe(true);
    expect((await getJson(api, `resets/${requestId}`)).status).toBe(200);
  });
});

/** The answer of a call the client refuses (it throws them), or of one it accepts. */
const outcome = (call: Promise<ApiAnswer>): Promise<{ status: number; body: unknown }> =>
  call.catch((error: unknown) => {
    if (error instanceof ApiError) return { status: error.status, body: error.body };
    throw error;
  });
const codeOf = (answer: { body: unknown }) => (answer.body as { error?: { code?: string } }).error?.code;

describe('a schedule names only tickets it may write to', () => {
  it('refuses an issue outside JIRA_PROJECT_KEYS, a table outside SERVICENOW_TABLES (sys_user), and an issue or record that does not exist; nothing stored, nothing written', async () => {
    t.jira.addIssue('HR-7');
    const sysUser = `d00d${'c'.repeat(28)}`;
    t.sn.addRecord('sys_user', sysUser, 'USR0042');
    const before = (await scheduleServices(getServices(), quiet).schedules.list()).length;
    const writesBefore = [...t.jira.requestLog, ...t.sn.requestLog].filter((entry) => entry.method !== 'GET' && !entry.url.startsWith('/oauth_token.do')).length;
    const cases: [unknown, string][] = [
      [{ system: 'jira', id: 'HR-7' }, 'ticket_not_allowed'],
      [{ system: 'servicenow', id: 'USR0042', sysId: sysUser, table: 'sys_user' }, 'ticket_not_allowed'],
      [{ system: 'jira', id: 'SEC-404' }, 'ticket_not_found'],
      [{ system: 'servicenow', id: 'CHG0099999', sysId: `beef${'0'.repeat(28)}`, table: 'change_request' }, 'ticket_not_found'],
    ];
    for (const [ticket, code] of cases) {
      const answer = await outcome(signedCall(api, 'POST', 'schedules', { ...base, name: 'Elsewhere', ticket }));
      expect(answer.status, JSON.stringify(ticket)).toBe(422);
      expect(codeOf(answer)).toBe(code);
    }
    // A PATCH cannot point an existing schedule there either.
    const sysId = `c0ffee${'d'.repeat(26)}`;
    t.sn.addRecord('change_request', sysId, 'CHG0030044');
    const id = z.object({ id: z.string() }).parse(body(await signedCall(api, 'POST', 'schedules', { ...base, name: 'Here', ticket: { system: 'servicenow', id: 'CHG0030044', sysId, table: 'change_request' } }), 201)).id;
    const moved = await outcome(signedCall(api, 'PATCH', `schedules/${id}`, { ticket: { system: 'servicenow', id: 'USR0042', sysId: sysUser, table: 'sys_user' } }));
    expect(codeOf(moved)).toBe('ticket_not_allowed');
    expect((await scheduleServices(getServices(), quiet).schedules.get(id))).toMatchObject({ ticketTable: 'change_request', ticketSysId: sysId });

    expect((await scheduleServices(getServices(), quiet).schedules.list()).length).toBe(before + 1);
    expect([...t.jira.requestLog, ...t.sn.requestLog].filter((entry) => entry.method !== 'GET' && !entry.url.startsWith('/oauth_token.do')).length).toBe(writesBefore);
    expect(t.jira.comments('HR-7')).toEqual([]);
    expect(t.sn.journal('sys_user', sysUser)).toEqual([]);
  });
});

describe('a schedule\'s approval', () => {
  it('runs out after SCHEDULE_APPROVAL_DAYS: the run resets nobody and asks its ticket for a renewal; a PATCH naming the approver renews it', async () => {
    t.jira.addIssue('SEC-91');
    const id = z.object({ id: z.string(), approvalExpiresAt: z.string() }).parse(body(await signedCall(api, 'POST', 'schedules', { ...base, maxUsersPerRun: 10, dryRun: true, name: 'Aging', ticket: { system: 'jira', id: 'SEC-91' } }), 201)).id;
    // Forty days pass for this schedule: its approval is dated back, MAC'd as the service would.
    const deps = scheduleServices(getServices(), quiet);
    const stored = (await deps.schedules.get(id))!;
    const aged = { ...stored, approvedAt: new Date(Date.now() - 40 * 86_400_000).toISOString() };
    await deps.schedules.update({ ...aged, mac: deps.integrity.mac('schedule', scheduleMacText(aged)) }, new Date());

    const writes = t.system.graph.requestLog.filter((entry) => entry.write).length;
    const started = z.object({ runId: z.string(), bulkJobId: z.null(), status: z.literal('refused'), reason: z.string() }).parse(body(await signedCall(api, 'POST', `schedules/${id}/run`, {}), 202));
    expect(started.reason).toMatch(/^approval_expired: the approval by lead@contoso\.com given at .* is older than SCHEDULE_APPROVAL_DAYS \(30 days\), so this run reset nobody/);
    expect(t.system.graph.requestLog.filter((entry) => entry.write).length).toBe(writes);
    await eventually(() => (t.jira.comments('SEC-91').length > 0 ? true : undefined), 60_000, 250);
    expect(t.jira.comments('SEC-91')[0]!.text).toContain('Renew it');

    const renewed = z.object({ approvalExpiresAt: z.string(), approvedBy: z.string() }).passthrough().parse(body(await signedCall(api, 'PATCH', `schedules/${id}`, { approvedBy: 'ciso@contoso.com' }), 200));
    expect(Date.parse(renewed.approvalExpiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const next = z.object({ status: z.string(), bulkJobId: z.string() }).parse(body(await signedCall(api, 'POST', `schedules/${id}/run`, {}), 202));
    expect(next.status).toBe('running');
  });

  it('a PATCH that changes whom or how it resets needs a fresh approval in the same call; removal only from REMEDIATION_GROUP_IDS', async () => {
    const id = z.object({ id: z.string() }).parse(body(await signedCall(api, 'POST', 'schedules', { ...base, dryRun: true, name: 'Guarded' }), 201)).id;
    const deps = scheduleServices(getServices(), quiet);
    const before = (await deps.schedules.get(id))!;
    for (const change of [{ methods: ['phone'] }, { profile: 'all' }, { dryRun: false }, { source: { riskyUsers: { minimumRiskLevel: 'high' } } }]) {
      const answer = await outcome(signedCall(api, 'PATCH', `schedules/${id}`, change));
      expect(answer.status, JSON.stringify(change)).toBe(422);
      expect(codeOf(answer)).toBe('approval_required');
    }
    expect((await deps.schedules.get(id))!.etag).toBe(before.etag);
    const approved = await signedCall(api, 'PATCH', `schedules/${id}`, { methods: ['phone'], approvedBy: 'ciso@contoso.com' });
    expect(approved.body).toMatchObject({ methods: ['phone'], approvedBy: 'ciso@contoso.com' });
    expect(Date.parse(String((approved.body as { approvedAt: string }).approvedAt))).toBeGreaterThan(Date.parse(before.approvedAt!));

    // GroupMember.ReadWrite.All could empty any group (a Conditional Access "require MFA" group): only listed ones.
    const removal = await outcome(signedCall(api, 'PATCH', `schedules/${id}`, { removeFromGroupAfterReset: true, approvedBy: 'ciso@contoso.com' }));
    expect(codeOf(removal)).toBe('group_not_for_removal');
    const created = await outcome(signedCall(api, 'POST', 'schedules', { ...base, name: 'Empty it', removeFromGroupAfterReset: true }));
    expect(codeOf(created)).toBe('group_not_for_removal');
  });
});
