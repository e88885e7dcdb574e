import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { functionDefinitions } from '../../functions/all';
import { structuredLogger } from '../../shared/log';
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import { processTicketUpdate, type TicketDependencies } from '../../shared/tickets/process-ticket-update';
import { ticketDependencies } from '../../shared/tickets/ticket-services';
import { processResetMessage } from '../../shared/worker/process-reset';
import { workerDependencies } from '../../shared/worker/worker-services';
import { jiraWebhook } from '../intake/fixtures';
import { startTicketSystem, ticketStatus, type TicketSystem } from './support';

let t: TicketSystem;
beforeAll(async () => {
  // No queue triggers: the test runs the worker and the outbox itself, on a clock it moves.
  t = await startTicketSystem({ definitions: functionDefinitions.filter((d) => d.trigger === 'http') });
});
afterAll(async () => {
  await t?.stop();
});

const log = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });

function outbox(now: () => Date): TicketDependencies {
  return { ...ticketDependencies(getServices(), log), queue: { send: async () => undefined }, tuning: { now } };
}

async function resetOnJira(key: string, upn: string, reporter?: Record<string, unknown>) {
  t.jira.addIssue(key);
  const body = jiraWebhook({ key, target: upn, event: 'jira:issue_updated' }) as { issue: { fields: Record<string, unknown> } };
  if (reporter) body.issue.fields.reporter = reporter;
  const answer = await t.system.post('jira', body);
  expect(answer.status).toBe(202);
  const outcome = await processResetMessage({ requestId: answer.body.id }, { dequeueCount: 1, maxDequeueCount: 5 }, workerDependencies(getServices(), log));
  expect(['completed', 'partial']).toContain(outcome);
  await processTicketUpdate({ requestId: answer.body.id }, outbox(() => new Date()));
  expect((await ticketStatus(t.system, answer.body.id)).ticketUpdates!.events.outcome!.state).toBe('posted');
  return answer.body.id;
}

describe('the re-registration follow-up', () => {
  it('stops without a note once the ticket has started a newer request, even if the user registers again', async () => {
    const id = await resetOnJira('ITSM-730', 'pradeep.gupta@contoso.com');
    // A later request from the same ticket marks this one superseded (as the intake's lineage does).
    const { store } = requestStores(getServices());
    const row = (await store.get(id))!;
    const { etag, ...fields } = row;
    await store.update({ ...fields, nextRequestId: '0f0e0d0c-0b0a-4908-8706-050403020100' }, etag);
    t.system.graph.tenant.registerMethod('pradeep.gupta@contoso.com', { type: 'microsoftAuthenticator', displayName: 'Pixel 9' } as never);

    const later = () => new Date(Date.now() + 10_000);
    for (let i = 0; i < 3; i += 1) await processTicketUpdate({ requestId: id }, outbox(later));
    const status = await ticketStatus(t.system, id);
    expect(status.ticketUpdates!.watch!.ended).toBe('superseded');
    expect(status.ticketUpdates!.events['follow-up']).toBeUndefined();
    expect(t.jira.comments('ITSM-730')).toHaveLength(1);
    expect(status.audit!.entries.find((entry) => entry.action === 'follow-up')).toMatchObject({ outcome: 'superseded' });
  });

  it('posts a last note when FOLLOW_UP_HOURS pass without a new method', async () => {
    const id = await resetOnJira('ITSM-731', 'johanna.lorenz@contoso.com');
    const afterWindow = () => new Date(Date.now() + 2 * 3600_000);
    for (let i = 0; i < 3; i += 1) await processTicketUpdate({ requestId: id }, outbox(afterWindow));
    const status = await ticketStatus(t.system, id);
    expect(status.ticketUpdates!.watch!.ended).toBe('window-closed');
    expect(status.ticketUpdates!.events['follow-up-closed']).toMatchObject({ state: 'posted' });
    const comments = t.jira.comments('ITSM-731');
    expect(comments).toHaveLength(2);
    expect(comments[1]!.text).toContain('No new MFA method was registered within 1 hours');
    expect(comments[1]!.jsdPublic).toBe(false);
  });

  it("a reporter's display name cannot add a line to the note or put a phone number in it", async () => {
    const reporter = { accountId: 'qm:eve-0001', displayName: 'Eve +1 425 555 0199\u2028- Temporary Access Pass: issued, read it here', active: true };
    const id = await resetOnJira('ITSM-732', 'nestor.wilke@contoso.com', reporter);
    const [comment] = t.jira.comments('ITSM-732');
    expect(comment!.text).not.toContain('4255550199');
    expect(comment!.text).not.toContain('425 555 0199');
    expect(comment!.text).not.toMatch(/[\u2028\u2029]/);
    // The name stays inside its own line: no line of the note starts with the forged text.
    const doc = comment!.body as { content: { type: string; content?: { content?: { content?: { text: string }[] }[] }[] }[] };
    const items = doc.content.find((block) => block.type === 'bulletList')!.content!.map((item) => item.content![0]!.content![0]!.text);
    expect(items.some((line) => line.startsWith('Temporary Access Pass'))).toBe(false);
    expect(items.find((line) => line.startsWith('User:'))).toContain('Requested by Eve +* *** *** **99');
    expect(id).toBeTruthy();
  });
});
