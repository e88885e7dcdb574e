import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BREAK_GLASS_UPN } from '../../dev/graph-sim';
import { jiraWebhook, serviceNowRecord } from '../intake/fixtures';
import { startSystem, type RunningSystem } from '../support/system';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ settings: { BREAK_GLASS_UPNS: DEMO_BREAK_GLASS_UPN } });
});
afterAll(async () => {
  await system?.stop();
});

const methodKinds = (upn: string) => system.graph.tenant.methodsOf(upn).map((method) => method.kind).sort();
const writesFor = (objectId: string) => system.graph.requestLog.filter((entry) => entry.write && entry.url.includes(objectId));

describe('webhook to finished reset (local host, Azurite, Graph simulator)', () => {
  it('a signed Jira webhook removes the portal methods and keeps the rest; Graph keeps the default Authenticator while FIDO2 and email stay: partial, naming it', async () => {
    const answer = await system.post('jira', jiraWebhook({ key: 'ITSM-101', target: 'adele.vance@contoso.com' }), {
      'x-atlassian-webhook-identifier': 'delivery-101',
    });
    expect(answer.status).toBe(202);
    const done = await system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected']);
    // Phones and software OATH go; the FIDO2 key and the email method stay (portal profile), and Graph
    // deletes a default only as the last method: the Authenticator stays, and the status says so.
    expect(done.status).toBe('partial');
    expect(done.statusReason).toMatch(/Pixel 8[^(]*\(microsoftAuthenticator, the user's default method/);
    expect(methodKinds('adele.vance@contoso.com')).toEqual(['email', 'fido2', 'microsoftAuthenticator', 'password']);
    const user = system.graph.tenant.findUser('adele.vance@contoso.com')!;
    expect(system.graph.tenant.revocations.filter((revocation) => revocation.userId === user.id)).toHaveLength(1);

    expect(done.audit?.verified).toBe(true);
    const actions = done.audit!.entries.map((entry) => entry.action);
    expect(actions[0]).toBe('start');
    expect(actions).toContain('resolve');
    expect(actions).toContain('snapshot');
    expect(actions.at(-1)).toBe('finish');
    // Every Graph write is named in the audit by its request-id.
    const audited = new Set(done.audit!.entries.flatMap((entry) => entry.graphRequestIds));
    for (const write of writesFor(user.id)) expect(audited.has(write.requestId)).toBe(true);
  });

  it('a signed ServiceNow webhook ends completed with the right methods gone', async () => {
    const answer = await system.post('servicenow', serviceNowRecord({ number: 'RITM0020001', u_target_upn: 'grady.archie@contoso.com' }));
    expect(answer.status).toBe(202);
    const done = await system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected']);
    expect(done.status).toBe('completed');
    // The Authenticator (the default, and the last method) goes; nothing stays but the password.
    expect(methodKinds('grady.archie@contoso.com')).toEqual(['password']);
  });

  it('a hardware token is deactivated, not unassigned; the default mobile stays while Windows Hello does: partial, naming it', async () => {
    const answer = await system.post('servicenow', serviceNowRecord({ number: 'RITM0020002', u_target_upn: 'megan.bowen@contoso.com' }));
    const done = await system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected']);
    expect(done.status).toBe('partial');
    expect(done.statusReason).toMatch(/mobile[^(]*\(phone, the user's default method/);
    expect(methodKinds('megan.bowen@contoso.com')).toEqual(['hardwareOath', 'password', 'phone', 'windowsHelloForBusiness']);
    expect(system.graph.tenant.methodsOf('megan.bowen@contoso.com').find((m) => m.kind === 'hardwareOath')?.device?.status).toBe('assigned');
  });

  it('a refused target ends rejected with zero Graph writes', async () => {
    for (const upn of ['globaladmin@contoso.com', DEMO_BREAK_GLASS_UPN, 'alex.wilber_fabrikam.com#EXT#@contoso.com']) {
      const before = methodKinds(upn);
      const answer = await system.post('generic', {
        ticket: { system: 'generic', id: `SR-${upn.length}` },
        target: { userPrincipalName: upn },
        requestedBy: 'agent@contoso.com',
      });
      expect(answer.status).toBe(202);
      const done = await system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected']);
      expect(done.status, upn).toBe('rejected');
      expect(done.statusReason).toBeTruthy();
      const user = system.graph.tenant.findUser(upn)!;
      expect(writesFor(user.id)).toEqual([]);
      expect(methodKinds(upn)).toEqual(before);
    }
  });

  it('a dry run ends planned and changes nothing', async () => {
    const before = methodKinds('lynne.robbins@contoso.com');
    const answer = await system.post('generic', {
      ticket: { system: 'generic', id: 'SR-DRY' },
      target: { userPrincipalName: 'lynne.robbins@contoso.com' },
      requestedBy: 'agent@contoso.com',
      dryRun: true,
    });
    const done = await system.waitFor(answer.body.id, ['planned', 'completed', 'failed', 'rejected']);
    expect(done.status).toBe('planned');
    expect(done.result?.methods?.map((method) => method.outcome).sort()).toEqual(['kept', 'planned', 'planned']); // the password is kept
    expect(methodKinds('lynne.robbins@contoso.com')).toEqual(before);
  });
});
