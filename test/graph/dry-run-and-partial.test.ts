import { describe, expect, it } from 'vitest';
import { demoTenant } from '../../dev/graph-sim';
import { reset, useSimulator } from './helpers';

const h = useSimulator({
  tenant: {
    ...demoTenant,
    users: [
      ...demoTenant.users,
      {
        userPrincipalName: 'sticky@contoso.com',
        methods: [
          { type: 'softwareOath' },
          { type: 'microsoftAuthenticator', displayName: 'Old phone', undeletable: 'sticky' },
        ],
      },
    ],
  },
});

describe('dry run', () => {
  it('resolves, guards, snapshots and plans, and makes no write', async () => {
    const sim = h.sim;
    sim.resetLog();
    const result = await reset(sim, { target: { userPrincipalName: 'adele.vance@contoso.com' }, profile: 'all', dryRun: true, revokeSessions: true, temporaryAccessPass: { lifetimeInMinutes: 60 } });
    expect(result.status).toBe('planned');
    expect(sim.requestLog.length).toBeGreaterThan(0);
    expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
    expect(sim.requestLog.every((e) => e.method === 'GET' || e.url.endsWith('/checkMemberGroups'))).toBe(true);
    expect(sim.tenant.methodsOf('adele.vance@contoso.com')).toHaveLength(7);
    expect(sim.tenant.revocations).toEqual([]);
    expect(result.plan?.deletions.map((d) => d.kind)).toHaveLength(6);
    expect(result.methods.filter((m) => m.outcome === 'planned')).toHaveLength(6);
    expect(result.oneTimeSecrets).toBeUndefined();
    // Snapshot details are masked.
    expect(JSON.stringify(result)).not.toContain('4255550101');
    expect(JSON.stringify(result)).not.toContain('adele.personal@example.net');
  });
});

describe('partial: what cannot be deleted is named, never reported done', () => {
  it('a method Graph refuses to delete', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'diego.siciliani@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    if (result.status !== 'partial') return;
    expect(result.reason).toContain('office +1 425*****51');
    expect(result.reason).toContain('accessDenied');
    const phone = result.methods.find((m) => m.kind === 'phone')!;
    expect(phone.outcome).toBe('failed');
    // Tried in the first pass and once more after verification.
    expect(phone.requestIds).toHaveLength(2);
    // Authenticator is the default, and Graph keeps a default while other methods stay: named too.
    const authenticator = result.methods.find((m) => m.kind === 'microsoftAuthenticator')!;
    expect(authenticator.outcome).toBe('failed');
    expect(authenticator.isDefault).toBe(true);
    expect(authenticator.reason).toMatch(/refused to delete the user's default method while other methods are registered/);
    // The office phone that stays is one this service cannot remove: the admin center is the way to finish.
    expect(result.reason).toMatch(/This service cannot remove office \+1 425\*{5}51\. To finish: use "Require re-register multifactor authentication"/);
    expect(result.reason).toContain('Pixel 7');
    expect(sim.tenant.methodsOf('diego.siciliani@contoso.com').map((m) => m.kind).sort()).toEqual(['microsoftAuthenticator', 'password', 'phone']);
  });

  it('a method Graph says it deleted but still lists', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'sticky@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    const sticky = result.methods.find((m) => m.kind === 'microsoftAuthenticator')!;
    expect(sticky.outcome).toBe('remaining');
    expect(result.status === 'partial' && result.reason).toContain('Old phone');
    expect(result.state.verify?.remaining).toEqual([sticky.id]);
    expect(result.state.passes).toBe(2);
  });

  it('a method of an unknown type is reported, kept under portal, and makes `all` partial', async () => {
    const sim = h.sim;
    const portal = await reset(sim, { target: { userPrincipalName: 'lee.gu@contoso.com' }, profile: 'portal', dryRun: true });
    expect(portal.plan?.unknownTypes).toEqual(['#microsoft.graph.futureBadgeAuthenticationMethod']);
    expect(portal.warnings.join(' ')).toContain('futureBadgeAuthenticationMethod');
    const all = await reset(sim, { target: { userPrincipalName: 'lee.gu@contoso.com' }, profile: 'all' });
    expect(all.status).toBe('partial');
    expect(all.status === 'partial' && all.reason).toContain('futureBadgeAuthenticationMethod');
    expect(all.methods.find((m) => m.kind === 'unknown')?.outcome).toBe('kept');
    // The unknown method stays, so Graph keeps the default mobile phone too, and the result names it.
    expect(all.status === 'partial' && all.reason).toMatch(/mobile \+44[^(]*\(phone, the user's default method/);
    expect(sim.tenant.methodsOf('lee.gu@contoso.com').map((m) => m.kind).sort()).toEqual(['other', 'password', 'phone']);
  });

  it('a user without MFA methods completes with nothing to do', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'nestor.wilke@contoso.com' }, profile: 'all' });
    expect(result.status).toBe('completed');
    expect(result.plan?.deletions).toEqual([]);
  });
});
