import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import { signedHeaders } from '../support/signing';
import { AGENT, startConsoleSystem, type ConsoleSystem } from '../console/support';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });

/**
 * Two requests for one user, each with a Temporary Access Pass. Graph keeps one pass per user: issuing
 * the second deleted the first. The attack: reveal the first request's pass, which the console used to
 * show as valid although it no longer exists.
 */
let c: ConsoleSystem;
const USER = 'megan.bowen@contoso.com';
let first: string;
let second: string;

async function passRequest(ticket: string): Promise<string> {
  const answer = await c.system.post('generic', {
    ticket: { system: 'servicedesk', id: ticket },
    target: { userPrincipalName: USER },
    requestedBy: 'agent@contoso.com',
    temporaryAccessPass: { lifetimeInMinutes: 60 },
  });
  expect(answer.status).toBe(202);
  await c.system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected']);
  return answer.body.id;
}

beforeAll(async () => {
  c = await startConsoleSystem({ definitions: functionDefinitions, settings: { MACHINE_PASS_COLLECTION: 'true' } });
  first = await passRequest('SR-PASS-1');
  second = await passRequest('SR-PASS-2');
});
afterAll(async () => c?.stop());

const passesIssued = () => c.system.graph.requestLog.filter((entry) => entry.method === 'POST' && /temporaryAccessPassMethods$/.test(entry.url));
const passMethodOf = async (id: string) => ((await c.system.status(id)) as { result?: { temporaryAccessPass?: { methodId?: string } } }).result?.temporaryAccessPass?.methodId;

describe('a pass superseded by a later request for the same user', () => {
  it('is refused on reveal, saying which request superseded it; the later pass is revealed and is the one Graph has', async () => {
    expect(passesIssued()).toHaveLength(2);
    const token = await c.idp.issueToken(AGENT);

    const detail = await c.call(`/requests/${first}`, token);
    expect(detail.body).toMatchObject({ pass: { requested: true, waiting: false, canReveal: false, superseded: { byRequestId: second } } });

    const reveal = await c.call(`/requests/${first}/pass`, token, { method: 'POST' });
    expect(reveal.status).toBe(410);
    expect(reveal.body).toMatchObject({ error: { code: 'pass_superseded', details: { supersededBy: second } } });
    expect((reveal.body as { error: { message: string } }).error.message).toContain(`superseded by request ${second}`);
    expect(reveal.text).not.toMatch(/"temporaryAccessPass"/);

    // The signed machine route answers the same for the first request.
    const raw = JSON.stringify({ requestId: first, collectedBy: 'agent@contoso.com' });
    const collected = await fetch(`${c.system.host.url}/api/resets/${first}/temporary-access-pass`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders('generic', raw) },
      body: raw,
    });
    expect(collected.status).toBe(410);
    expect(((await collected.json()) as { error: { code: string } }).error.code).toBe('pass_superseded');

    // The audit of the first request names the refusal; the second request records what it voided.
    const firstAudit = (await c.call(`/requests/${first}`, token)).body as { audit: { verified: boolean; entries: { action: string; outcome: string; detail?: string }[] } };
    expect(firstAudit.audit.verified).toBe(true);
    expect(firstAudit.audit.entries.filter((entry) => entry.outcome === 'superseded').map((entry) => entry.action)).toEqual(['pass-reveal', 'pass-collect']);
    const secondAudit = (await c.call(`/requests/${second}`, token)).body as { audit: { entries: { action: string; outcome: string; detail?: string }[] } };
    expect(secondAudit.audit.entries.find((entry) => entry.action === 'pass-supersede')?.detail).toContain(first);

    // The later pass is still waiting, and it is the one the user has in Entra ID now; the first is gone there.
    const shown = await c.call(`/requests/${second}/pass`, token, { method: 'POST' });
    expect(shown.status).toBe(200);
    expect((shown.body as { temporaryAccessPass: string }).temporaryAccessPass).toMatch(/\S{8,}/);
    const current = c.system.graph.tenant.findUser(USER)!.methods.filter((method) => method.kind === 'temporaryAccessPass').map((method) => method.id);
    expect(current).toEqual([await passMethodOf(second)]);
    expect(current).not.toContain(await passMethodOf(first));
  });
});
