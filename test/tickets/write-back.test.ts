import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { jiraWebhook, serviceNowRecord } from '../intake/fixtures';
import { eventually } from '../support/eventually';
import { startTicketSystem, ticketStatus, type TicketSystem } from './support';

let t: TicketSystem;
beforeAll(async () => {
  t = await startTicketSystem();
});
afterAll(async () => {
  await t?.stop();
});

const FINAL = ['completed', 'partial', 'failed', 'rejected'];
const sysIdFor = (n: number) => `${n.toString(16).padStart(4, '0')}${'a'.repeat(28)}`;
const posted = (event: string) => async (id: string) => {
  const status = await ticketStatus(t.system, id);
  const record = status.ticketUpdates?.events[event];
  return record && ['posted', 'failed', 'skipped'].includes(record.state) ? status : undefined;
};

describe('the outcome reaches the ticket', () => {
  it('a Jira webhook ends with exactly one internal comment naming the outcome and the methods removed; user and manager get one mail each', async () => {
    t.jira.addIssue('ITSM-501');
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-501', target: 'adele.vance@contoso.com' }));
    expect(answer.status).toBe(202);
    const done = await t.system.waitFor(answer.body.id, FINAL, 60_000);
    const status = await eventually(() => posted('outcome')(answer.body.id), 60_000);
    expect(status.ticketUpdates!.events.outcome).toMatchObject({ state: 'posted', channel: 'jira' });

    const comments = t.jira.comments('ITSM-501');
    expect(comments).toHaveLength(1);
    const [comment] = comments;
    // Internal: a Jira Service Management customer does not see it on the portal.
    expect(comment!.jsdPublic).toBe(false);
    expect(comment!.properties).toContainEqual({ key: 'sd.public.comment', value: { internal: true } });
    expect(comment!.author).toBe('mfa-reset-bot@contoso.com');
    expect(comment!.text).toContain(answer.body.id);
    expect(comment!.text).toMatch(new RegExp(`Outcome: ${done.status === 'completed' ? 'Completed' : 'PARTIAL'}`));
    expect(comment!.text).toContain('Methods removed: phone (mobile +1 425*****01), phone (alternateMobile +1 425*****02)');
    expect(comment!.text).toMatch(/Sign-in sessions: revoked/);
    expect(comment!.text).not.toMatch(/4255550101|4255550102/);

    // The audit names the note, and the chain still verifies with the rows the outbox added.
    const audit = (await t.system.status(answer.body.id)).audit!;
    expect(audit.verified).toBe(true);
    expect(audit.entries.map((entry) => `${entry.action}:${entry.outcome}`)).toContain('ticket outcome:posted');

    // The person affected and their manager are told, once each, from the notification mailbox.
    await eventually(() => (t.system.graph.tenant.mailsSent.filter((mail) => mail.body.includes(answer.body.id)).length >= 2 ? true : undefined), 60_000);
    const mails = t.system.graph.tenant.mailsSent.filter((mail) => mail.body.includes(answer.body.id));
    expect(mails.map((mail) => mail.to.join()).sort()).toEqual(['adele.vance@contoso.com', 'nestor.wilke@contoso.com']);
    for (const mail of mails) {
      expect(mail.from).toBe('it.notifications@contoso.com');
      expect(mail.body).toContain('ITSM-501');
      expect(mail.body).toMatch(/did not ask for this/);
      expect(mail.body).not.toMatch(/4255550101|4255550102/);
    }
  });

  it('a ServiceNow webhook ends with exactly one work note, written with an OAuth client credentials token', async () => {
    const sysId = sysIdFor(1);
    t.sn.addRecord('sc_req_item', sysId, 'RITM0030001');
    const answer = await t.system.post('servicenow', serviceNowRecord({ number: 'RITM0030001', sys_id: sysId, u_target_upn: 'megan.bowen@contoso.com' }));
    expect(answer.status).toBe(202);
    await t.system.waitFor(answer.body.id, FINAL, 60_000);
    await eventually(() => posted('outcome')(answer.body.id), 60_000);

    const notes = t.sn.journal('sc_req_item', sysId);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.element).toBe('work_notes');
    expect(notes[0]!.value).toContain(answer.body.id);
    expect(notes[0]!.value).toMatch(/Outcome: (Completed|PARTIAL)/);
    expect(notes[0]!.value).toContain('phone (mobile +1 425*****11)');
    expect(notes[0]!.value).not.toMatch(/4255550111|4255550112/);
    const log = t.sn.requestLog.filter((entry) => entry.url.startsWith('/oauth_token.do') || entry.url.includes(sysId));
    expect(log.map((entry) => `${entry.method} ${entry.url.split('?')[0]} ${entry.status} ${entry.auth}`)).toEqual([
      'POST /oauth_token.do 200 client-credentials',
      `PATCH /api/now/table/sc_req_item/${sysId} 200 bearer`,
    ]);
  });

  it('a refused privileged target gets a note with the next step', async () => {
    t.jira.addIssue('ITSM-502');
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-502', target: 'globaladmin@contoso.com' }));
    const done = await t.system.waitFor(answer.body.id, FINAL, 60_000);
    expect(done.status).toBe('rejected');
    await eventually(() => posted('outcome')(answer.body.id), 60_000);
    const comments = t.jira.comments('ITSM-502');
    expect(comments).toHaveLength(1);
    expect(comments[0]!.text).toContain('REFUSED: nothing was changed');
    expect(comments[0]!.text).toContain('route this ticket to a Privileged Authentication Administrator');
    // Nobody is mailed about a reset that did not happen.
    expect(t.system.graph.tenant.mailsSent.some((mail) => mail.body.includes(answer.body.id))).toBe(false);
  });
});

describe('exactly once, whatever the ticket system does', () => {
  it('with ServiceNow failing twice (503) and the app restarted in between, the ticket still gets exactly one note', async () => {
    const sysId = sysIdFor(2);
    t.sn.addRecord('sc_req_item', sysId, 'RITM0030002');
    t.sn.failNext(
      { kind: 'status', status: 503, retryAfterSeconds: 1, matches: /^PATCH / },
      { kind: 'status', status: 503, retryAfterSeconds: 1, matches: /^PATCH / },
    );
    const answer = await t.system.post('servicenow', serviceNowRecord({ number: 'RITM0030002', sys_id: sysId, u_target_upn: 'lynne.robbins@contoso.com' }));
    await t.system.waitFor(answer.body.id, FINAL, 60_000);
    const patches = () => t.sn.requestLog.filter((entry) => entry.method === 'PATCH' && entry.url.includes(sysId));
    await eventually(() => (patches().length >= 1 ? true : undefined), 60_000);
    await t.system.restartHost();
    const status = await eventually(() => posted('outcome')(answer.body.id), 60_000);
    expect(status.ticketUpdates!.events.outcome!.state).toBe('posted');
    expect(t.sn.journal('sc_req_item', sysId)).toHaveLength(1);
    expect(patches().map((entry) => entry.status)).toEqual([503, 503, 200]);
  });

  it('a comment whose answer was lost is found on the issue and not posted again', async () => {
    t.jira.addIssue('ITSM-503');
    // Jira stores the comment, then the connection drops before the answer arrives.
    t.jira.failNext({ kind: 'drop', matches: /^POST .*ITSM-503/ });
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-503', target: 'lee.gu@contoso.com' }));
    await t.system.waitFor(answer.body.id, FINAL, 60_000);
    const status = await eventually(() => posted('outcome')(answer.body.id), 60_000);
    expect(status.ticketUpdates!.events.outcome).toMatchObject({ state: 'posted', attempts: 2 });
    expect(t.jira.comments('ITSM-503')).toHaveLength(1);
    const calls = t.jira.requestLog.filter((entry) => entry.url.includes('ITSM-503')).map((entry) => `${entry.method} ${entry.status}`);
    expect(calls).toEqual(['POST 0', 'GET 200']);
    const audit = (await t.system.status(answer.body.id)).audit!;
    expect(audit.entries.find((entry) => entry.action === 'ticket outcome')).toBeDefined();
  });

  it('a 401 from the ticket system is in the status and the audit and is not retried', async () => {
    t.jira.addIssue('ITSM-504');
    t.jira.failNext({ kind: 'status', status: 401, matches: /^POST .*ITSM-504/ });
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-504', target: 'diego.siciliani@contoso.com' }));
    await t.system.waitFor(answer.body.id, FINAL, 60_000);
    const status = await eventually(() => posted('outcome')(answer.body.id), 60_000);
    expect(status.ticketUpdates!.events.outcome).toMatchObject({ state: 'failed', attempts: 1 });
    expect(status.ticketUpdates!.events.outcome!.error).toContain('Jira answered 401');
    const failed = status.audit!.entries.find((entry) => entry.action === 'ticket outcome');
    expect(failed).toMatchObject({ outcome: 'failed' });
    expect(status.audit!.verified).toBe(true);
    // Given time to retry, it does not.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(t.jira.requestLog.filter((entry) => entry.url.includes('ITSM-504'))).toHaveLength(1);
    expect(t.jira.comments('ITSM-504')).toHaveLength(0);
  });
});

describe('re-registration follow-up', () => {
  it('posts a second note when the user registers a new method after the reset', async () => {
    t.jira.addIssue('ITSM-505');
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-505', target: "patti.o'neil@contoso.com" }));
    await t.system.waitFor(answer.body.id, FINAL, 60_000);
    await eventually(() => posted('outcome')(answer.body.id), 60_000);
    // The watch has looked at least once and found nothing new.
    await eventually(async () => ((await ticketStatus(t.system, answer.body.id)).ticketUpdates?.watch?.checks ?? 0) >= 1 || undefined, 60_000);
    expect(t.jira.comments('ITSM-505')).toHaveLength(1);

    t.system.graph.tenant.registerMethod("patti.o'neil@contoso.com", { type: 'microsoftAuthenticator', displayName: 'iPhone 16' } as never);
    const status = await eventually(() => posted('follow-up')(answer.body.id), 60_000);
    expect(status.ticketUpdates!.watch!.ended).toBe('new-method');
    const comments = t.jira.comments('ITSM-505');
    expect(comments).toHaveLength(2);
    expect(comments[1]!.text).toContain('follow-up');
    expect(comments[1]!.text).toContain('registered a new sign-in method: Microsoft Authenticator (iPhone 16');
    expect(comments[1]!.jsdPublic).toBe(false);
  });
});
