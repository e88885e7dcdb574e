import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { functionDefinitions } from '../../functions/all';
import { assigneeNote } from '../../shared/console/reveal-pass';
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import { jiraWebhook, serviceNowRecord } from '../intake/fixtures';
import { startSystem, type RunningSystem } from '../support/system';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ definitions: functionDefinitions.filter((d) => d.trigger === 'http') });
});
afterAll(async () => {
  await system?.stop();
});

const collector = { userPrincipalName: 'grady.archie@contoso.com', objectId: '2c5a4b1e-7d3f-4a9e-8b6c-1f0e2d3c4b5a' };

describe("the ticket's assignee reaches the console", () => {
  it("a Jira issue's assignee with an e-mail address is recorded under the row MAC; one without is not", async () => {
    const withMail = jiraWebhook({ key: 'ITSM-720', target: 'alex.wilber@contoso.com' }) as { issue: { fields: Record<string, unknown> } };
    withMail.issue.fields.assignee = { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Grady Archie', emailAddress: 'Grady.Archie@contoso.com' };
    const first = await system.post('jira', withMail);
    expect(first.status).toBe(202);
    const { store, integrity } = requestStores(getServices());
    const row = (await store.get(first.body.id))!;
    expect(row.ticketAssignee).toBe('grady.archie@contoso.com');
    expect(integrity.verifyRow(row)).toBe(true);
    expect(assigneeNote(row, collector)).toMatchObject({ view: { named: true, collectorIsAssignee: true } });
    expect(assigneeNote(row, { ...collector, userPrincipalName: 'lee.gu@contoso.com', objectId: '00000000-0000-4000-8000-000000000001' }).note).toContain('is NOT the ticket');

    // Someone with table access names themselves the assignee: the row no longer verifies, so the worker refuses it.
    expect(integrity.verifyRow({ ...row, ticketAssignee: 'lee.gu@contoso.com' })).toBe(false);

    // Jira left the e-mail out (profile visibility): an accountId cannot be compared with a sign-in name.
    const hidden = jiraWebhook({ key: 'ITSM-721', target: 'alex.wilber@contoso.com' }) as { issue: { fields: Record<string, unknown> } };
    hidden.issue.fields.assignee = { accountId: '5b10ac8d82e05b22cc7d4ef5', displayName: 'Grady Archie' };
    const second = await system.post('jira', hidden);
    const plain = (await store.get(second.body.id))!;
    expect(plain.ticketAssignee).toBeUndefined();
    expect(assigneeNote(plain, collector)).toMatchObject({ note: 'the ticket names no assignee', view: { named: false } });
  });

  it("a ServiceNow task's assigned_to_email is recorded; a sys_id or a name is not", async () => {
    const { store } = requestStores(getServices());
    const named = await system.post('servicenow', serviceNowRecord({ number: 'RITM0040720', sys_id: `720${'b'.repeat(29)}`, assigned_to_email: 'Grady.Archie@contoso.com' }));
    expect(named.status).toBe(202);
    expect((await store.get(named.body.id))!.ticketAssignee).toBe('grady.archie@contoso.com');
    const raw = await system.post('servicenow', serviceNowRecord({ number: 'RITM0040721', sys_id: `721${'b'.repeat(29)}`, assigned_to_email: '5137153cc611227c000bbd1bd8cd2005' }));
    expect(raw.status).toBe(202);
    expect((await store.get(raw.body.id))!.ticketAssignee).toBeUndefined();
  });
});
