import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { functionDefinitions } from '../../functions/all';
import type { GraphTransport } from '../../shared/graph';
import { structuredLogger } from '../../shared/log';
import { getServices } from '../../shared/services';
import { requestStores } from '../../shared/request-stores';
import { noteText } from '../../shared/tickets/note-format';
import { noteFor } from '../../shared/tickets/note-text';
import { processTicketUpdate } from '../../shared/tickets/process-ticket-update';
import { ticketDependencies } from '../../shared/tickets/ticket-services';
import { processResetMessage } from '../../shared/worker/process-reset';
import { workerDependencies } from '../../shared/worker/worker-services';
import { signedHeaders } from '../support/signing';
import { SYSTEM_SECRETS } from '../support/system';
import { JIRA_ACCOUNT, SN_OAUTH, startTicketSystem, ticketStatus, type TicketSystem } from './support';

let t: TicketSystem;
beforeAll(async () => {
  // No queue triggers: the test runs the worker and the outbox itself, watching what Graph hands out.
  t = await startTicketSystem({ definitions: functionDefinitions.filter((d) => d.trigger === 'http'), settings: { MACHINE_PASS_COLLECTION: 'true' } });
});
afterAll(async () => {
  await t?.stop();
});

describe('notes and mails hold no pass, secret or phone number', () => {
  it('a reset that issues a Temporary Access Pass says how to collect it, never the pass', async () => {
    t.jira.addIssue('ITSM-600');
    const answer = await t.system.post('generic', {
      ticket: { system: 'jira', id: 'ITSM-600' },
      target: { userPrincipalName: 'megan.bowen@contoso.com' },
      requestedBy: 'agent@contoso.com',
      temporaryAccessPass: { lifetimeInMinutes: 60, isUsableOnce: true },
    });
    expect(answer.status).toBe(202);
    const passes: string[] = [];
    const base = getServices().graph;
    const watching: GraphTransport = {
      origin: base.origin,
      async send(request) {
        const response = await base.send(request);
        const body = response.body as { temporaryAccessPass?: unknown } | undefined;
        if (typeof body?.temporaryAccessPass === 'string') passes.push(body.temporaryAccessPass);
        return response;
      },
    };
    const lines: string[] = [];
    const log = structuredLogger({ log: (line) => lines.push(String(line)), warn: (line) => lines.push(String(line)), error: (line) => lines.push(String(line)) });
    const outcome = await processResetMessage({ requestId: answer.body.id }, { dequeueCount: 1, maxDequeueCount: 5 }, { ...workerDependencies(getServices(), log), graph: watching });
    expect(['completed', 'partial']).toContain(outcome);
    expect(passes).toHaveLength(1);

    // The outbox, run by hand until both mails are out. A generic caller names the Jira issue, but Jira
    // did not ask: nothing is posted there (its outcome would go to its signed callbackUrl).
    const deps = { ...ticketDependencies(getServices(), log), queue: { send: async () => undefined } };
    for (let i = 0; i < 5; i += 1) await processTicketUpdate({ requestId: answer.body.id }, deps);
    const status = await ticketStatus(t.system, answer.body.id);
    expect(status.ticketUpdates!.events.outcome).toBeUndefined();
    expect(status.ticketUpdates!.events['mail-user']!.state).toBe('posted');
    expect(status.ticketUpdates!.events['mail-manager']!.state).toBe('posted');
    expect(t.jira.comments('ITSM-600')).toEqual([]);

    // The note the outcome would carry (to a ticket or a callback), made from the stored row.
    const row = (await requestStores(getServices()).store.get(answer.body.id))!;
    const note = noteText(noteFor('outcome', row, { state: 'pending', channel: 'callback', attempts: 0, marker: 'm' }, getServices().settings.CONSOLE_BASE_URL));
    expect(note).toContain('Temporary Access Pass: issued, valid 60 minutes, usable once');
    expect(note).toContain('operator console');
    const mails = t.system.graph.tenant.mailsSent.filter((mail) => mail.body.includes(answer.body.id));
    expect(mails).toHaveLength(2);

    const sinks = [
      note,
      JSON.stringify(t.jira.allComments()),
      ...mails.map((mail) => `${mail.subject}\n${mail.body}`),
      JSON.stringify(status),
      JSON.stringify(t.jira.requestLog),
      JSON.stringify(t.sn.requestLog),
      ...lines,
      ...t.system.log.lines,
    ].join('\n');
    const forbidden = [
      passes[0]!,
      '4255550111',
      '4255550112',
      JIRA_ACCOUNT.apiToken,
      Buffer.from(`${JIRA_ACCOUNT.email}:${JIRA_ACCOUNT.apiToken}`).toString('base64'),
      SN_OAUTH.clientSecret,
      SYSTEM_SECRETS.generic,
      SYSTEM_SECRETS.jira,
      SYSTEM_SECRETS.servicenow,
      SYSTEM_SECRETS.tapSealingKey,
      SYSTEM_SECRETS.intakeMacKey,
    ];
    for (const secret of forbidden) expect(sinks.includes(secret), `found ${secret.slice(0, 4)}…`).toBe(false);

    // The pass is still there to collect, once, exactly as issued.
    const raw = JSON.stringify({ requestId: answer.body.id, collectedBy: 'agent@contoso.com' });
    const collected = await fetch(`${t.system.host.url}/api/resets/${answer.body.id}/temporary-access-pass`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders('generic', raw) },
      body: raw,
    });
    expect(collected.status).toBe(200);
    expect(((await collected.json()) as { temporaryAccessPass: string }).temporaryAccessPass).toBe(passes[0]);
  });
});
