import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { followTicketNote } from '../../dev/demo-ticket-note';
import { jiraWebhook } from '../intake/fixtures';
import { startJiraSim } from '../../dev/ticket-sims';
import { JIRA_ACCOUNT, startTicketSystem, type TicketSystem } from './support';

let t: TicketSystem;
beforeAll(async () => {
  t = await startTicketSystem();
});
afterAll(async () => {
  await t?.stop();
});

describe('npm run demo', () => {
  it('shows the note arriving on the issue: where each event went, then the comment as the agent reads it', async () => {
    t.jira.addIssue('ITSM-740');
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-740', target: 'adele.vance@contoso.com' }));
    expect(answer.status).toBe(202);
    let printed = '';
    await followTicketNote(t.system.host.url, answer.body.id, (text) => (printed += text), 90_000, t.jira.url);
    expect(printed).toMatch(/outcome\s+posted via jira \(comment \d+\)/);
    expect(printed).toMatch(/mail-user\s+posted via mail/);
    expect(printed).toContain('ITSM-740 comment');
    expect(printed).toContain('internal: agents only');
    expect(printed).toContain(`MFA reset`);
    expect(printed).toContain(answer.body.id);
    expect(printed).toMatch(/\| Methods removed: phone \(mobile \+1 425\*\*\*\*\*01\)/);
    expect(printed).not.toMatch(/4255550101/);
  });

  it('the transcript is a stand-in convenience: off unless npm start asks for it; the Jira API still needs credentials', async () => {
    expect((await fetch(`${t.jira.url}/rest/api/3/issue/ITSM-740/comment`)).status).toBe(401);
    const plain = await startJiraSim({ account: JIRA_ACCOUNT });
    try {
      plain.addIssue('ITSM-741');
      expect((await fetch(`${plain.url}/_stand-in/issue/ITSM-741/comments`)).status).toBe(401);
    } finally {
      await plain.stop();
    }
  });
});
