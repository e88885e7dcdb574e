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
      ],
    },
  });

const kindsLeft = (user: string) => h.sim.tenant.methodsOf(user).map((m) => m.kind).sort();

describe('what a reset removes, per method type and profile', () => {
  for (const kind of METHOD_KINDS) {
    for (const profile of profiles) {
      const goes = profile === 'all' || METHOD_TYPES[kind].portal;
      it(`${profile}: ${kind} ${goes ? 'is removed' : 'stays'}`, async () => {
        const user = upn(kind, profile);
        const result = await reset(h.sim, { target: { userPrincipalName: user }, profile });
        expect(result.status).toBe('completed');
        expect(kindsLeft(user)).toEqual(goes ? ['password'] : [kind, 'password'].sort());
        const outcome = result.methods.find((m) => m.kind === kind);
        expect(outcome?.outcome).toBe(goes ? 'deleted' : 'kept');
        if (goes) {
          // Deleted through its typed collection, with Graph's request-id kept.
          const write = writesTo(h.sim, h.sim.tenant.findUser(user)!.id).find((e) => e.method === 'DELETE');
          expect(write?.url).toContain(`/authentication/${METHOD_TYPES[kind].collection}/`);
          expect(write?.version).toBe(METHOD_TYPES[kind].deleteVersion);
          expect(outcome?.requestIds).toEqual([write?.requestId]);
        } else {
          expect(writesTo(h.sim, h.sim.tenant.findUser(user)!.id)).toHaveLength(0);
        }
      });
    }
  }

  it('portal on a user with every type: phones, Authenticator, software and hardware OATH go; FIDO2, Windows Hello, email, TAP, platform credential, external and the password stay', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'everything.portal@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('completed');
    expect(kindsLeft('everything.portal@contoso.com')).toEqual(
      ['email', 'externalAuthentication', 'fido2', 'password', 'platformCredential', 'temporaryAccessPass', 'windowsHelloForBusiness'].sort(),
    );
  });

  it('all on a user with every type leaves only the password', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'everything.all@contoso.com' }, profile: 'all' });
    expect(result.status).toBe('completed');
    expect(kindsLeft('everything.all@contoso.com')).toEqual(['password']);
    // The generic /authentication/methods/{id} and the password were never sent a DELETE.
    const deletes = writesTo(h.sim, h.sim.tenant.findUser('everything.all@contoso.com')!.id).filter((e) => e.method === 'DELETE');
    expect(deletes.every((e) => !/\/authentication\/(methods|passwordMethods)\//.test(e.url))).toBe(true);
    expect(deletes.every((e) => e.status === 204)).toBe(true);
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
