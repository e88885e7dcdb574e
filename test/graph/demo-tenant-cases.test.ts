import { describe, expect, it } from 'vitest';
import { demoTenant } from '../../dev/graph-sim';
import { reset, useSimulator } from './helpers';

/** The demo tenant's users for this pass end as the README's table says. */

const h = useSimulator({ tenant: demoTenant });
const writes = () => h.sim.requestLog.filter((e) => e.write);

describe('demo tenant: the README table holds', () => {
  it('irvin.sayers: portal keeps QR code + PIN and says why; profile all removes it', async () => {
    const portal = await reset(h.sim, { target: { userPrincipalName: 'irvin.sayers@contoso.com' }, profile: 'portal' });
    expect(portal.status).toBe('completed');
    expect(portal.methods.find((m) => m.kind === 'qrCodePin')).toMatchObject({ outcome: 'kept', reason: expect.stringMatching(/does not remove QR code \+ PIN/) });
    const all = await reset(h.sim, { target: { userPrincipalName: 'irvin.sayers@contoso.com' }, profile: 'all' });
    expect(all.status).toBe('completed');
    expect(h.sim.tenant.methodsOf('irvin.sayers@contoso.com').map((m) => m.kind)).toEqual(['password']);
  });

  it('lidia.holloway, the common case: portal removes her phone, Authenticator and OATH code: completed', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'lidia.holloway@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('completed');
    expect(h.sim.tenant.methodsOf('lidia.holloway@contoso.com').map((m) => m.kind)).toEqual(['password']);
  });

  it('adele.vance, the blocker case: portal ends partial naming the finish; her wider method list completes', async () => {
    const portal = await reset(h.sim, { target: { userPrincipalName: 'adele.vance@contoso.com' }, profile: 'portal' });
    expect(portal.status).toBe('partial');
    expect(portal.status === 'partial' && portal.reason).toMatch(/To finish: use "Finish: also remove FIDO2 security key \/ passkey, email \(self-service password reset\)"/);
    const finish = await reset(h.sim, { target: { userPrincipalName: 'adele.vance@contoso.com' }, profile: 'portal', methods: ['phone', 'microsoftAuthenticator', 'softwareOath', 'hardwareOath', 'fido2', 'email'] });
    expect(finish.status).toBe('completed');
    expect(h.sim.tenant.methodsOf('adele.vance@contoso.com').map((m) => m.kind)).toEqual(['password']);
  });

  const refused = [
    { upn: 'enrico.cattaneo@contoso.com', code: 'temporary-access-pass-not-targeted', pass: true },
    { upn: 'debra.berger@contoso.com', code: 'restricted-administrative-unit', pass: false },
    { upn: 'allan.deyoung@contoso.com', code: 'privileged-target', pass: false },
    { upn: 'emily.braun@contoso.com', code: 'privileged-target', pass: false },
  ];
  for (const c of refused) {
    it(`${c.upn.split('@')[0]}: rejected (${c.code}), nothing written`, async () => {
      h.sim.resetLog();
      const result = await reset(h.sim, { target: { userPrincipalName: c.upn }, ...(c.pass ? { temporaryAccessPass: {} } : {}) });
      expect(result.status === 'rejected' && result.code).toBe(c.code);
      expect(writes()).toEqual([]);
    });
  }

  it('enrico.cattaneo without a pass is reset as anyone else', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'enrico.cattaneo@contoso.com' } });
    expect(result.status).toBe('completed');
  });
});
