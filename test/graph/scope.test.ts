import { describe, expect, it } from 'vitest';
import { METHOD_KINDS, type MethodKind } from '../../shared/method-names';
import { METHOD_TYPES } from '../../shared/graph';
import type { TenantFile } from '../../dev/graph-sim';
import { reset, useSimulator, writesTo } from './helpers';

type TenantMethod = TenantFile['users'][number]['methods'] extends (infer M)[] | undefined ? M : never;

const sample: Record<MethodKind, TenantMethod> = {
  phone: { type: 'phone', phoneType: 'office', phoneNumber: '+1 4255550199' },
  microsoftAuthenticator: { type: 'microsoftAuthenticator', displayName: 'Pixel 8' },
  softwareOath: { type: 'softwareOath' },
  hardwareOath: { type: 'hardwareOath', serialNumber: 'HW-1234', manufacturer: 'Token2' },
  fido2: { type: 'fido2', displayName: 'YubiKey' },
  windowsHelloForBusiness: { type: 'windowsHelloForBusiness', displayName: 'LAPTOP' },
  email: { type: 'email', emailAddress: 'someone@example.net' },
  temporaryAccessPass: { type: 'temporaryAccessPass', lifetimeInMinutes: 60 },
  platformCredential: { type: 'platformCredential', displayName: 'MBP' },
  externalAuthentication: { type: 'externalAuthentication', displayName: 'Bridge' },
  qrCodePin: { type: 'qrCodePin' },
};

const profiles = ['portal', 'all'] as const;
const upn = (kind: string, profile: string) => `${kind.toLowerCase()}.${profile}@contoso.com`;

const everything = (name: string) => ({
  userPrincipalName: name,
  defaultMethod: 'push' as const,
  methods: [
    { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: '+1 4255550100' },
    { type: 'phone' as const, phoneType: 'alternateMobile' as const, phoneNumber: '+1 4255550101' },
    ...METHOD_KINDS.map((kind) => sample[kind]),
  ],
});

const h = useSimulator({
    tenant: {
      domains: ['contoso.com'],
      users: [
        ...METHOD_KINDS.flatMap((kind) => profiles.map((profile) => ({ userPrincipalName: upn(kind, profile), methods: [sample[kind]] }))),
        everything('everything.portal@contoso.com'),
        everything('everything.all@contoso.com'),
        everything('everything.explicit@contoso.com'),
        everything('everything.unassign@contoso.com'),
        {
          userPrincipalName: 'default.moves@contoso.com',
          defaultMethod: 'push' as const,
          methods: [
            { type: 'microsoftAuthenticator' as const, displayName: 'Pixel 8' },
            { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: '+1 4255550177' },
            { type: 'email' as const, emailAddress: 'moves@example.net' },
          ],
        },
      ],
    },
  });

const kindsLeft = (user: string) => h.sim.tenant.methodsOf(user).map((m) => m.kind).sort();

describe('what a reset removes, per method type and profile', () => {
  for (const kind of METHOD_KINDS) {
    for (const profile of profiles) {
      const goes = profile === 'all' || METHOD_TYPES[kind].portal;
      const deactivated = goes && kind === 'hardwareOath';
      it(`${profile}: ${kind} ${deactivated ? 'is deactivated, and stays assigned' : goes ? 'is removed' : 'stays'}`, async () => {
        const user = upn(kind, profile);
        const result = await reset(h.sim, { target: { userPrincipalName: user }, profile });
        expect(result.status).toBe('completed');
        expect(kindsLeft(user)).toEqual(goes && !deactivated ? ['password'] : [kind, 'password'].sort());
        const outcome = result.methods.find((m) => m.kind === kind);
        expect(outcome?.outcome).toBe(deactivated ? 'deactivated' : goes ? 'deleted' : 'kept');
        if (deactivated) {
          // POST beta .../hardwareOathMethods/{id}/deactivate, never DELETE (which would unassign it).
          const writes = writesTo(h.sim, h.sim.tenant.findUser(user)!.id);
          expect(writes.map((e) => `${e.method} ${e.version}`)).toEqual(['POST beta']);
          expect(writes[0]!.url).toMatch(/\/authentication\/hardwareOathMethods\/[^/]+\/deactivate$/);
          expect(h.sim.tenant.methodsOf(user).find((m) => m.kind === 'hardwareOath')?.device?.status).toBe('assigned');
          expect(h.sim.tenant.removals.filter((r) => r.userPrincipalName === user)).toHaveLength(0);
        } else if (goes) {
          // Deleted through its typed collection, with Graph's request-id kept.
          const write = writesTo(h.sim, h.sim.tenant.findUser(user)!.id).find((e) => e.method === 'DELETE');
          expect(write?.url).toContain(`/authentication/${METHOD_TYPES[kind].collection}${METHOD_TYPES[kind].singleton ? '' : '/'}`);
          expect(write?.version).toBe(METHOD_TYPES[kind].deleteVersion);
          expect(outcome?.requestIds).toEqual([write?.requestId]);
        } else {
          expect(writesTo(h.sim, h.sim.tenant.findUser(user)!.id)).toHaveLength(0);
        }
      });
    }
  }

  it('portal on a user with every type: phones, software OATH go, the hardware token is deactivated; the default Authenticator stays while FIDO2, email and the rest stay: partial, naming it', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'everything.portal@contoso.com' }, profile: 'portal' });
    // Graph deletes a default only as the last method, and FIDO2/email/Windows Hello cannot take the default over.
    expect(result.status).toBe('partial');
    const reason = result.status === 'partial' ? result.reason : '';
    expect(reason).toMatch(/Pixel 8[^(]*\(microsoftAuthenticator, the user's default method/);
    // The one action that finishes it: the same request with the kinds that stayed added.
    expect(reason).toMatch(/To finish: use "Finish: also remove .*" on this request's page in the operator console .*with methods \[.*"fido2".*"qrCodePin"\]/);
    expect(result.plan?.defaultBlocked?.staying.length).toBeGreaterThan(0);
    expect(result.methods.find((m) => m.kind === 'microsoftAuthenticator')).toMatchObject({ outcome: 'failed', isDefault: true });
    expect(kindsLeft('everything.portal@contoso.com')).toEqual(
      ['email', 'externalAuthentication', 'fido2', 'hardwareOath', 'microsoftAuthenticator', 'password', 'platformCredential', 'qrCodePin', 'temporaryAccessPass', 'windowsHelloForBusiness'].sort(),
    );
  });

  it('all on a user with every type leaves only the password and the deactivated hardware token', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'everything.all@contoso.com' }, profile: 'all' });
    expect(result.status).toBe('completed');
    expect(kindsLeft('everything.all@contoso.com')).toEqual(['hardwareOath', 'password']);
    // The generic /authentication/methods/{id} and the password were never sent a DELETE.
    const deletes = writesTo(h.sim, h.sim.tenant.findUser('everything.all@contoso.com')!.id).filter((e) => e.method === 'DELETE');
    expect(deletes.every((e) => !/\/authentication\/(methods|passwordMethods)\//.test(e.url))).toBe(true);
    expect(deletes.every((e) => e.status === 204)).toBe(true);
  });

  it('all with hardwareOathAction unassign deletes the token (back to inventory) and leaves only the password', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'everything.unassign@contoso.com' }, profile: 'all', hardwareOathAction: 'unassign' });
    expect(result.status).toBe('completed');
    expect(kindsLeft('everything.unassign@contoso.com')).toEqual(['password']);
    const write = writesTo(h.sim, h.sim.tenant.findUser('everything.unassign@contoso.com')!.id).find((e) => e.url.includes('hardwareOathMethods'));
    expect(write?.method).toBe('DELETE');
  });

  it('a default Authenticator with a phone that stays: the default moves to the phone first, then the Authenticator goes', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'default.moves@contoso.com' }, profile: 'portal', methods: ['microsoftAuthenticator'] });
    expect(result.status).toBe('completed');
    expect(kindsLeft('default.moves@contoso.com')).toEqual(['email', 'password', 'phone']);
    const user = h.sim.tenant.findUser('default.moves@contoso.com')!;
    expect(h.sim.tenant.preferenceChanges.filter((c) => c.userId === user.id).map((c) => [c.from, c.to])).toEqual([['push', 'voiceMobile']]);
    const writes = writesTo(h.sim, user.id);
    expect(writes.map((e) => e.method)).toEqual(['PATCH', 'DELETE']);
    expect(writes[0]!.url).toMatch(/\/authentication\/signInPreferences$/);
    expect(result.warnings.join(' ')).toMatch(/Default method changed from push to voiceMobile/);
    expect(result.state.events.some((e) => e.step === 'defaultMethod' && e.outcome === 'done')).toBe(true);
  });

  it('an explicit list of types replaces the profile', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'everything.explicit@contoso.com' }, profile: 'portal', methods: ['fido2', 'email'] });
    expect(result.status).toBe('completed');
    const left = kindsLeft('everything.explicit@contoso.com');
    expect(left).not.toContain('fido2');
    expect(left).not.toContain('email');
    expect(left).toContain('microsoftAuthenticator');
    expect(left).toContain('phone');
  });
});
