import { describe, expect, it } from 'vitest';
import { demoTenant, DEMO_BREAK_GLASS_UPN, DEMO_PROTECTED_GROUP_ID } from '../../dev/graph-sim';
import { reset, useSimulator, noGuards } from './helpers';

const h = useSimulator({
  tenant: {
    ...demoTenant,
    users: [
      ...demoTenant.users,
      { userPrincipalName: '$svc.desk@contoso.com', methods: [{ type: 'microsoftAuthenticator', displayName: 'Desk phone' }] },
      { userPrincipalName: 'reader@contoso.com', roles: ['Reports Reader'], methods: [{ type: 'softwareOath' }] },
      { userPrincipalName: 'someone@fabrikam.com', methods: [{ type: 'softwareOath' }] },
    ],
  },
});

const demoGuards = { protectedGroupIds: [DEMO_PROTECTED_GROUP_ID], breakGlassUpns: [DEMO_BREAK_GLASS_UPN.toUpperCase()], tenantDomains: ['contoso.com'] };

describe('guards refuse, with a reason a person can act on, and write nothing', () => {
  const refusals = [
    { upn: 'alex.wilber_fabrikam.com#EXT#@contoso.com', code: 'guest', reason: /is a guest, and this service does not reset guests.*Require re-register/i },
    { upn: 'globaladmin@contoso.com', code: 'privileged-target', reason: /Global Administrator \(active, tenant-wide\).*Privileged Authentication Administrator/ },
    { upn: 'isaiah.langer@contoso.com', code: 'privileged-target', reason: /Helpdesk Administrator/ },
    { upn: 'lynne.robbins@contoso.com', code: 'protected-group', reason: new RegExp(`protected group ${DEMO_PROTECTED_GROUP_ID}`) },
    { upn: DEMO_BREAK_GLASS_UPN, code: 'break-glass', reason: /break-glass/ },
    { upn: 'nobody.here@contoso.com', code: 'user-not-found', reason: /No user nobody\.here@contoso\.com.*spelling/ },
    { upn: 'someone@fabrikam.com', code: 'domain-outside-tenant', reason: /TENANT_DOMAINS/ },
  ];
  for (const refusal of refusals) {
    it(`${refusal.code}: ${refusal.upn}`, async () => {
      const sim = h.sim;
      sim.resetLog();
      const before = structuredClone(sim.tenant.findUser(refusal.upn)?.methods ?? []);
      const result = await reset(sim, { target: { userPrincipalName: refusal.upn }, profile: 'all', revokeSessions: true, temporaryAccessPass: {} }, { guards: demoGuards });
      expect(result.status).toBe('rejected');
      if (result.status !== 'rejected') return;
      expect(result.code).toBe(refusal.code);
      expect(result.reason).toMatch(refusal.reason);
      expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
      expect(sim.tenant.findUser(refusal.upn)?.methods ?? []).toEqual(before);
      expect(result.state.guards?.outcome).toBe('rejected');
    });
  }

  it('a refused request passed back with its state is refused again without a Graph call', async () => {
    const sim = h.sim;
    const first = await reset(sim, { target: { userPrincipalName: 'globaladmin@contoso.com' } }, { guards: demoGuards });
    sim.resetLog();
    const again = await reset(sim, { target: { userPrincipalName: 'globaladmin@contoso.com' } }, { guards: demoGuards, state: first.state });
    expect(again.status).toBe('rejected');
    expect(sim.requestLog).toEqual([]);
  });

  it('looks the guest up by its percent-encoded #EXT# UPN (found, then refused as a guest, not "not found")', async () => {
    const sim = h.sim;
    sim.resetLog();
    await reset(sim, { target: { userPrincipalName: 'alex.wilber_fabrikam.com#EXT#@contoso.com' } }, { guards: noGuards });
    expect(sim.requestLog[0]?.url).toMatch(/^\/users\/alex\.wilber_fabrikam\.com%23EXT%23%40contoso\.com\?/);
    expect(sim.requestLog[0]?.status).toBe(200);
  });

  it("resets a user whose UPN holds an apostrophe, then addresses the object id only", async () => {
    const sim = h.sim;
    sim.resetLog();
    const upn = "patti.o'neil@contoso.com";
    // `all`: under `portal` the pass and the platform credential would stay and keep the default Authenticator.
    const result = await reset(sim, { target: { userPrincipalName: upn }, profile: 'all' }, { guards: demoGuards });
    expect(result.status).toBe('completed');
    expect(sim.requestLog[0]?.url).toContain('patti.o%27neil%40contoso.com');
    const id = sim.tenant.findUser(upn)!.id;
    const userCalls = sim.requestLog.slice(1).filter((e) => e.url.startsWith('/users'));
    expect(userCalls.length).toBeGreaterThan(0);
    expect(userCalls.every((e) => e.url.startsWith(`/users/${id}/`))).toBe(true);
    expect(sim.tenant.methodsOf(upn).map((m) => m.kind).sort()).toEqual(['password']);
  });

  it('resets a user whose UPN starts with $ through the key form', async () => {
    const sim = h.sim;
    sim.resetLog();
    const result = await reset(sim, { target: { userPrincipalName: '$svc.desk@contoso.com' } }, { guards: demoGuards });
    expect(result.status).toBe('completed');
    expect(sim.requestLog[0]?.url).toMatch(/^\/users\('%24svc\.desk%40contoso\.com'\)/);
  });

  it('keeps an object id as given and accepts holders of read-only roles', async () => {
    const sim = h.sim;
    const user = sim.tenant.findUser('reader@contoso.com')!;
    const result = await reset(sim, { target: { objectId: user.id.toUpperCase() } }, { guards: demoGuards });
    expect(result.status).toBe('completed');
    expect(result.target?.userPrincipalName).toBe('reader@contoso.com');
  });

  it('refuses when the object id and the UPN name different users', async () => {
    const sim = h.sim;
    const adele = sim.tenant.findUser('adele.vance@contoso.com')!;
    const result = await reset(sim, { target: { objectId: adele.id, userPrincipalName: 'megan.bowen@contoso.com' } }, { guards: demoGuards });
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.reason).toMatch(/belongs to adele\.vance@contoso\.com/);
  });

  it('refuses a Temporary Access Pass lifetime outside 10–43200 minutes before calling Graph', async () => {
    const sim = h.sim;
    sim.resetLog();
    const result = await reset(sim, { target: { userPrincipalName: 'adele.vance@contoso.com' }, temporaryAccessPass: { lifetimeInMinutes: 5 } });
    expect(result.status).toBe('rejected');
    expect(sim.requestLog).toEqual([]);
  });
});
