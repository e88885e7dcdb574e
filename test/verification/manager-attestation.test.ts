import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalRequest } from '../intake/fixtures';
import { eventually } from '../support/eventually';
import { AGENT, startConsoleSystem, type ConsoleSystem } from '../console/support';

/**
 * VERIFICATION_REQUIRED=manager with the demo tenant: the target's manager (Nestor Wilke for Adele and
 * Megan) gets one mail, signs in to the console, and only they may attest, with the authentication
 * context CONSOLE_ATTESTATION_AUTH_CONTEXT demands; the pass is then shown to them once, never to the agent.
 */

let c: ConsoleSystem;
beforeAll(async () => {
  c = await startConsoleSystem({
    settings: {
      VERIFICATION_REQUIRED: 'manager',
      NOTIFY_SENDER_UPN: 'it.notifications@contoso.com',
      CONSOLE_ATTESTATION_AUTH_CONTEXT: 'c1',
      CONSOLE_BASE_URL: 'http://127.0.0.1:9',
    },
  });
});
afterAll(async () => {
  await c?.stop();
});

const MANAGER = 'nestor.wilke@contoso.com';
const idOf = (upn: string) => c.system.graph.tenant.findUser(upn)!.id;
const writesFor = (upn: string) => c.system.graph.requestLog.filter((entry) => entry.write && entry.url.includes(idOf(upn))).length;

async function waiting(upn: string, ticket: string, extra: Record<string, unknown> = {}) {
  const answer = await c.system.post('generic', canonicalRequest({ ticket: { system: 'manual', id: ticket }, target: { userPrincipalName: upn }, requestedBy: 'agent@contoso.com', approvedBy: 'lead@contoso.com', ...extra }));
  expect(answer.status).toBe(202);
  const view = await c.system.waitFor(answer.body.id, ['awaiting_verification', 'completed', 'partial', 'failed', 'rejected']);
  expect(view.status).toBe('awaiting_verification');
  return answer.body.id;
}

const attest = async (id: string, upn: string, acrs?: string[]) =>
  c.call(`/requests/${id}/attestation`, await c.idp.issueToken(upn, acrs ? { acrs } : {}), { method: 'POST' });

describe('manager attestation', () => {
  it('mails the manager once, lets only the current manager attest (with the auth context), then resets and shows them the pass once', async () => {
    const id = await waiting('adele.vance@contoso.com', 'MGR-1', { temporaryAccessPass: { lifetimeInMinutes: 60 } });
    expect(writesFor('adele.vance@contoso.com')).toBe(0);
    const mail = await eventually(() => c.system.graph.tenant.mailsSent.find((m) => m.body.includes(id) && m.subject.includes('confirm')), 20_000);
    expect(mail.to).toEqual([`${MANAGER}`]);
    expect(mail.body).toContain(`/api/console/#/attest/${id}`);

    // Somebody else, the target herself, and the agent: refused, nothing changes.
    for (const [who, code] of [[AGENT, 'not_the_manager'], ['adele.vance@contoso.com', 'attestation_by_target'], ['megan.bowen@contoso.com', 'not_the_manager']] as const) {
      const answer = await attest(id, who, ['c1']);
      expect(answer.status).toBe(403);
      expect((answer.body as { error: { code: string } }).error.code).toBe(code);
    }
    // The manager may see the request, but attesting without the authentication context is a claims challenge.
    const view = await c.call(`/requests/${id}/attestation`, await c.idp.issueToken(MANAGER));
    expect(view.status).toBe(200);
    const challenge = await attest(id, MANAGER);
    expect(challenge.status).toBe(401);
    expect((challenge.body as { error: { code: string } }).error.code).toBe('auth_context_required');
    expect(challenge.headers.get('www-authenticate')).toMatch(/insufficient_claims/);
    expect(writesFor('adele.vance@contoso.com')).toBe(0);

    const passed = await attest(id, MANAGER, ['c1']);
    expect(passed.status).toBe(200);
    const done = (await c.system.waitFor(id, ['completed', 'partial', 'failed', 'rejected'])) as { status: string; verification?: Record<string, any> };
    expect(['completed', 'partial']).toContain(done.status);
    expect(done.verification?.evidence).toMatchObject({ method: 'manager', who: MANAGER, objectId: idOf(MANAGER), acrs: ['c1'] });

    // The agent (a collector) is refused; another person too; the manager sees it once.
    const agent = await c.call(`/requests/${id}/pass`, await c.idp.issueToken(AGENT), { method: 'POST' });
    expect(agent.status).toBe(403);
    expect(agent.text).not.toMatch(/temporaryAccessPass"/);
    expect((await c.call(`/requests/${id}/attestation/pass`, await c.idp.issueToken(AGENT), { method: 'POST' })).status).toBe(403);
    const shown = await c.call(`/requests/${id}/attestation/pass`, await c.idp.issueToken(MANAGER, { acrs: ['c1'] }), { method: 'POST' });
    expect(shown.status).toBe(200);
    expect((shown.body as { temporaryAccessPass: string }).temporaryAccessPass.length).toBeGreaterThan(7);
    expect((await c.call(`/requests/${id}/attestation/pass`, await c.idp.issueToken(MANAGER), { method: 'POST' })).status).toBe(410);
    const detail = await c.call(`/requests/${id}`, await c.idp.issueToken(AGENT));
    expect((detail.body as { verification: { passShownTo: string } }).verification.passShownTo).toContain(MANAGER);
    expect(detail.text).not.toContain((shown.body as { temporaryAccessPass: string }).temporaryAccessPass);
  });

  it('a manager who is the requester cannot vouch: with manager-only policy the request is refused, zero writes', async () => {
    const answer = await c.system.post('generic', canonicalRequest({ ticket: { system: 'manual', id: 'MGR-2' }, target: { userPrincipalName: 'megan.bowen@contoso.com' }, requestedBy: MANAGER, approvedBy: 'lead@contoso.com' }));
    expect(answer.status).toBe(202);
    const ended = await c.system.waitFor(answer.body.id, ['awaiting_verification', 'completed', 'partial', 'failed', 'rejected']);
    expect(ended.status).toBe('rejected');
    expect(ended.statusReason).toMatch(/manager is the person who asked/);
    expect(writesFor('megan.bowen@contoso.com')).toBe(0);
  });
});
