import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { jiraWebhook } from '../intake/fixtures';
import { eventually } from '../support/eventually';
import { startTicketSystem, ticketStatus, type TicketSystem } from './support';

let t: TicketSystem;
beforeAll(async () => {
  t = await startTicketSystem();
});
afterAll(async () => {
  await t?.stop();
});

describe('Jira as the write-back sees it', () => {
  it('a user-picker target answers 400 saying Jira Cloud sends no e-mail for it and which field type to use', async () => {
    const picker = { self: 'https://contoso-it.atlassian.net/rest/api/2/user?accountId=712020:aa', accountId: '712020:aa11bb22', displayName: 'Adele Vance', active: true, accountType: 'atlassian' };
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-700', target: picker }));
    expect(answer.status).toBe(400);
    const text = JSON.stringify(answer.body);
    expect(text).toContain('user picker');
    expect(text).toContain('does not send e-mail addresses');
    expect(text).toMatch(/short text field/);
    expect(text).not.toContain('is empty or missing');
  });

  it("the issue-updated event Jira sends for the app's own comment does not reset the user again", async () => {
    t.jira.addIssue('ITSM-701');
    const first = await t.system.post('jira', jiraWebhook({ key: 'ITSM-701', target: 'pradeep.gupta@contoso.com' }));
    expect(first.status).toBe(202);
    await t.system.waitFor(first.body.id, ['completed', 'partial', 'failed', 'rejected'], 60_000);
    await eventually(async () => ((await ticketStatus(t.system, first.body.id)).ticketUpdates?.events.outcome?.state === 'posted' ? true : undefined), 60_000);
    const writes = () => t.system.graph.requestLog.filter((entry) => entry.write).length;
    const before = writes();

    // Jira fires jira:issue_updated (issue_commented) for the comment the write-back account just added.
    const echo = jiraWebhook({ key: 'ITSM-701', target: 'pradeep.gupta@contoso.com', event: 'jira:issue_updated' }) as Record<string, unknown>;
    echo.issue_event_type_name = 'issue_commented';
    echo.user = { accountId: '557058:mfa-reset-bot', displayName: 'MFA reset bot', accountType: 'app' };
    echo.comment = { id: t.jira.comments('ITSM-701')[0]!.id, author: echo.user };
    const again = await t.system.post('jira', echo);
    // A comment never asks for a reset (after a failed request it would otherwise start a new attempt).
    expect(again.status).toBe(422);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(writes()).toBe(before);
    expect(t.jira.comments('ITSM-701')).toHaveLength(1);
  });
});

describe('a comment whose answer was lost, on a site that lists comments without their properties', () => {
  it('is found by its reference line when it is internal, and a public comment quoting the reference does not silence the note', async () => {
    const { startJiraSim } = await import('../../dev/ticket-sims');
    const { JiraClient } = await import('../../shared/tickets/jira-client');
    const { noteAdf } = await import('../../shared/tickets/note-format');
    const { JIRA_ACCOUNT } = await import('./support');
    const sim = await startJiraSim({ account: JIRA_ACCOUNT, omitListProperties: true });
    try {
      sim.addIssue('ITSM-750');
      const client = new JiraClient({ siteUrl: sim.url, email: JIRA_ACCOUNT.email, apiToken: JIRA_ACCOUNT.apiToken });
      const marker = 'entra-mfa-reset:0f0e0d0c-0b0a-4908-8706-050403020100:outcome';
      const note = { title: 'MFA reset completed', lines: ['Outcome: Completed.'], marker };
      // A customer quotes the reference in a public comment first (no sd.public.comment property).
      const quoted = await fetch(`${sim.url}/rest/api/3/issue/ITSM-750/comment`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${JIRA_ACCOUNT.email}:${JIRA_ACCOUNT.apiToken}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body: noteAdf(note) }),
      });
      expect(quoted.status).toBe(201);
      expect(await client.findComment('ITSM-750', marker)).toMatchObject({ kind: 'ok', body: undefined });
      const posted = await client.addInternalComment('ITSM-750', noteAdf(note), marker);
      expect(posted.kind).toBe('ok');
      const found = await client.findComment('ITSM-750', marker);
      expect(found).toMatchObject({ kind: 'ok', body: posted.kind === 'ok' ? posted.body.id : 'x' });
    } finally {
      await sim.stop();
    }
  });
});
