import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { getJson, signedCall, type ApiAnswer, type ApiTarget } from '../../dev/cli/client';
import { structuredLogger } from '../../shared/log';
import { requestStores } from '../../shared/request-stores';
import { tellTicket } from '../../shared/schedules/schedule-notice';
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
