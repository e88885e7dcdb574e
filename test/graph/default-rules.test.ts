import { describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { reset, useSimulator, writesTo } from './helpers';

/**
 * The default method under both readings of Graph's rule. `last-only`: the default goes as the user's last
 * method (Microsoft's reset script; the password not counted). `never-while-others`: "Cannot delete default
 * method with other methods configured", read literally, the password counted. The engine is right under
 * both: it moves the default where a method that stays can take it over, tries its delete last, and when
 * Graph refuses, never says `completed`: it names what kept it and the one action that finishes the job.
 */

const authenticator = { type: 'microsoftAuthenticator' as const, displayName: 'Pixel 8' };
const users: TenantFile['users'] = [
  // A kept phone can take the default over: moved first, then the Authenticator goes.
  { userPrincipalName: 'moves@contoso.com', defaultMethod: 'push', methods: [authenticator, { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255551201' }, { type: 'email', emailAddress: 'm@example.net' }] },
  // Everything goes under `all`: only the password stays.
  { userPrincipalName: 'all.gone@contoso.com', defaultMethod: 'push', methods: [authenticator, { type: 'fido2', displayName: 'YubiKey' }] },
  // Under `portal` a FIDO2 key stays and nothing can take the default over.
  { userPrincipalName: 'portal.kept@contoso.com', defaultMethod: 'push', methods: [authenticator, { type: 'fido2', displayName: 'YubiKey' }] },
  { userPrincipalName: 'rule@contoso.com', defaultMethod: 'push', methods: [authenticator] },
];

const rules = ['last-only', 'never-while-others'] as const;
const sims = Object.fromEntries(rules.map((rule) => [rule, useSimulator({ tenant: { domains: ['contoso.com'], rules: { defaultMethod: rule }, users } })])) as Record<(typeof rules)[number], ReturnType<typeof useSimulator>>;

const kinds = (sim: (typeof sims)['last-only']['sim'], upn: string) => sim.tenant.methodsOf(upn).map((m) => m.kind).sort();

describe('the simulator applies the rule it is given', () => {
  it('a default Authenticator with only the password left: deletable under last-only, refused under never-while-others', async () => {
    for (const rule of rules) {
      const sim = sims[rule].sim;
      const user = sim.tenant.findUser('rule@contoso.com')!;
      const app = user.methods.find((m) => m.kind === 'microsoftAuthenticator')!;
      const response = await fetch(`${sim.url}/v1.0/users/${user.id}/authentication/microsoftAuthenticatorMethods/${app.id}`, { method: 'DELETE' });
      expect(response.status, rule).toBe(rule === 'last-only' ? 204 : 400);
    }
  });
});

for (const rule of rules) {
  describe(`the engine under ${rule}`, () => {
    it('a method that stays can take the default over: it is moved first, then the old default goes: completed', async () => {
      const sim = sims[rule].sim;
      const result = await reset(sim, { target: { userPrincipalName: 'moves@contoso.com' }, profile: 'portal', methods: ['microsoftAuthenticator', 'email'] });
      expect(result.status).toBe('completed');
      const order = writesTo(sim, sim.tenant.findUser('moves@contoso.com')!.id).map((e) => e.method);
      expect(order[0]).toBe('PATCH');
      expect(kinds(sim, 'moves@contoso.com')).toEqual(['password', 'phone']);
    });

    it('profile all: the default is tried last; completed only where Graph lets it go, and otherwise partial with the one action', async () => {
      const sim = sims[rule].sim;
      const user = sim.tenant.findUser('all.gone@contoso.com')!;
      const result = await reset(sim, { target: { userPrincipalName: 'all.gone@contoso.com' }, profile: 'all' });
      const deletes = writesTo(sim, user.id).filter((e) => e.method === 'DELETE');
      // The default's DELETE is the last one sent.
      expect(deletes.at(-1)?.url).toContain('/microsoftAuthenticatorMethods/');
      if (rule === 'last-only') {
        expect(result.status).toBe('completed');
        expect(kinds(sim, 'all.gone@contoso.com')).toEqual(['password']);
        return;
      }
      expect(result.status).toBe('partial');
      const reason = result.status === 'partial' ? result.reason : '';
      expect(reason).toMatch(/Pixel 8[^(]*\(microsoftAuthenticator, the user's default method/);
      expect(reason).toMatch(/Graph keeps a default method while any other method is registered, the password included, so no request to this service can remove it\. To finish: use "Require re-register multifactor authentication"/);
      expect(result.methods.find((m) => m.kind === 'microsoftAuthenticator')).toMatchObject({ outcome: 'failed', isDefault: true });
      expect(kinds(sim, 'all.gone@contoso.com')).toEqual(['microsoftAuthenticator', 'password']);
    });

    it('portal with a FIDO2 key staying: partial under both, naming the key and the request that also removes it', async () => {
      const sim = sims[rule].sim;
      const result = await reset(sim, { target: { userPrincipalName: 'portal.kept@contoso.com' }, profile: 'portal' });
      expect(result.status).toBe('partial');
      const reason = result.status === 'partial' ? result.reason : '';
      expect(reason).toMatch(/while YubiKey stay\. To finish: use "Finish: also remove FIDO2 security key \/ passkey" on this request's page in the operator console \(an operator asks, a second person approves\); it runs a linked request on the same ticket with methods \["phone","microsoftAuthenticator","softwareOath","hardwareOath","fido2"\]\.$/);
      // The named action: under last-only it finishes; under never-while-others the next answer says what is left to do.
      const again = await reset(sim, { target: { userPrincipalName: 'portal.kept@contoso.com' }, profile: 'portal', methods: ['phone', 'microsoftAuthenticator', 'softwareOath', 'hardwareOath', 'fido2'] });
      if (rule === 'last-only') {
        expect(again.status).toBe('completed');
        expect(kinds(sim, 'portal.kept@contoso.com')).toEqual(['password']);
      } else {
        expect(again.status).toBe('partial');
        expect(again.status === 'partial' && again.reason).toMatch(/the password included.*To finish: use "Require re-register multifactor authentication"/);
        expect(kinds(sim, 'portal.kept@contoso.com')).toEqual(['microsoftAuthenticator', 'password']);
      }
    });
  });
}
