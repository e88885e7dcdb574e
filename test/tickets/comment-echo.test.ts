import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { functionDefinitions } from '../../functions/all';
import { structuredLogger } from '../../shared/log';
import { getServices } from '../../shared/services';
import { processTicketUpdate } from '../../shared/tickets/process-ticket-update';
import { ticketDependencies } from '../../shared/tickets/ticket-services';
import { markPoisoned } from '../../shared/worker/poisoned';
import { workerDependencies } from '../../shared/worker/worker-services';
import { jiraWebhook } from '../intake/fixtures';
import { startTicketSystem, ticketStatus, type TicketSystem } from './support';

let t: TicketSystem;
beforeAll(async () => {
  // No queue triggers: the test decides how the request ends and runs the outbox itself.
  t = await startTicketSystem({ definitions: functionDefinitions.filter((d) => d.trigger === 'http') });
});
afterAll(async () => {
  await t?.stop();
});

const log = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });

describe("the app's own comments never start another reset", () => {
  it('after a failed request, the issue-updated (issue_commented) delivery for its FAILED note is refused, not a new attempt', async () => {
    t.jira.addIssue('ITSM-710');
    const first = await t.system.post('jira', jiraWebhook({ key: 'ITSM-710', target: 'alex.wilber@contoso.com', event: 'jira:issue_updated' }));
    expect(first.status).toBe(202);
    // The request fails (its message went to the poison queue); the failure note goes to the issue.
    expect(await markPoisoned({ requestId: first.body.id }, workerDependencies(getServices(), log))).toBe('marked');
    const deps = { ...ticketDependencies(getServices(), log), queue: { send: async () => undefined } };
    await processTicketUpdate({ requestId: first.body.id }, deps);
    expect((await ticketStatus(t.system, first.body.id)).ticketUpdates!.events.outcome!.state).toBe('posted');
    const [note] = t.jira.comments('ITSM-710');
    expect(note!.text).toContain('FAILED');

    // Jira echoes the comment as an issue update, signed like any other delivery, with the issue
    // still approved and still naming the same target: after a failed request that used to be a new attempt.
    const echo = jiraWebhook({ key: 'ITSM-710', target: 'alex.wilber@contoso.com', event: 'jira:issue_updated' }) as Record<string, unknown>;
    echo.issue_event_type_name = 'issue_commented';
    echo.user = { accountId: '557058:mfa-reset-bot', displayName: 'MFA reset bot', accountType: 'atlassian' };
    echo.comment = { id: note!.id, author: echo.user, body: note!.text };
    const again = await t.system.post('jira', echo);
    expect(again.status).toBe(422);
    expect(JSON.stringify(again.body)).toContain('is a comment and does not ask for a reset');

    // An edited or deleted comment is no different.
    for (const type of ['issue_comment_edited', 'issue_comment_deleted']) {
      const edited = { ...echo, timestamp: Date.now() + 1, issue_event_type_name: type };
      expect((await t.system.post('jira', edited)).status).toBe(422);
    }
    const status = await ticketStatus(t.system, first.body.id);
    expect((status as { nextRequestId?: string }).nextRequestId).toBeUndefined();
    expect(t.jira.comments('ITSM-710')).toHaveLength(1);
  });

  it('a real new delivery after the failure (the issue approved again) still starts a new attempt', async () => {
    t.jira.addIssue('ITSM-711');
    const first = await t.system.post('jira', jiraWebhook({ key: 'ITSM-711', target: 'isaiah.langer@contoso.com', event: 'jira:issue_updated' }));
    expect(await markPoisoned({ requestId: first.body.id }, workerDependencies(getServices(), log))).toBe('marked');
    const retry = jiraWebhook({ key: 'ITSM-711', target: 'isaiah.langer@contoso.com', event: 'jira:issue_updated', timestamp: Date.now() + 5 }) as Record<string, unknown>;
    retry.issue_event_type_name = 'issue_generic';
    const answer = await t.system.post('jira', retry);
    expect(answer.status).toBe(202);
    expect(answer.body.id).not.toBe(first.body.id);
    expect((answer.body as { previousRequestId?: string }).previousRequestId).toBe(first.body.id);
  });
});
