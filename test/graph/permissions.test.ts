import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { createGraphClient } from '../../shared/graph';
import { assessRoles, missingFromRoles, PERMISSION_NEEDS, PER_METHOD_ROLES } from '../../shared/graph/permission-needs';
import { checkHealth } from '../../shared/health';
import type { Services } from '../../shared/services';
import { useSimulator } from './helpers';

/**
 * Application permissions: the simulator answers Graph's 403 for a withheld one (without naming it, as
 * Graph does), and the health probe names what is missing, from its reads and from its token's roles.
 */

const h = useSimulator({
  tenant: { domains: ['contoso.com'], users: [{ userPrincipalName: 'someone@contoso.com', methods: [{ type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550160' }] }] },
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${h.sim.url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** An unsigned token with these roles: the client only reads its own token's claims. */
function tokenWith(roles: string[] | undefined): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ aud: 'https://graph.microsoft.com', ...(roles ? { roles } : {}) })}.`;
}

class FixedCredential implements TokenCredential {
  scopes: string[][] = [];
  constructor(private readonly token: string) {}
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopes.push([scopes].flat());
    return { token: this.token, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

describe('the simulator withholds application permissions as Graph refuses them', () => {
  const cases: { permission: Parameters<typeof h.sim.tenant.withheldPermissions.add>[0]; method: string; path: string; code: string; message: string }[] = [
    { permission: 'User.Read.All', method: 'GET', path: '/v1.0/users/someone@contoso.com', code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
    { permission: 'UserAuthenticationMethod.ReadWrite.All', method: 'DELETE', path: `/v1.0/users/someone@contoso.com/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7`, code: 'accessDenied', message: 'Request Authorization failed' },
    { permission: 'User.RevokeSessions.All', method: 'POST', path: '/v1.0/users/someone@contoso.com/revokeSignInSessions', code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
    { permission: 'RoleManagement.Read.Directory', method: 'GET', path: '/v1.0/roleManagement/directory/roleAssignments', code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
    { permission: 'Policy.Read.AuthenticationMethod', method: 'GET', path: '/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass', code: 'accessDenied', message: 'Request Authorization failed' },
    { permission: 'Application.Read.All', method: 'GET', path: '/v1.0/servicePrincipals?$top=1', code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
    { permission: 'AdministrativeUnit.Read.All', method: 'GET', path: '/v1.0/directory/administrativeUnits', code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' },
  ];
  for (const c of cases) {
    it(`without ${c.permission}: ${c.method} ${c.path.split('/').slice(2, 4).join('/')} answers 403 ${c.code}, the user's methods untouched`, async () => {
      h.sim.tenant.withheldPermissions.add(c.permission);
      try {
        const refused = await call(c.method, c.path);
        expect(refused.status).toBe(403);
        expect(refused.body?.error).toMatchObject({ code: c.code, message: c.message, innerError: { 'request-id': expect.any(String), date: expect.any(String) } });
        expect(JSON.stringify(refused.body)).not.toContain(c.permission);
      } finally {
        h.sim.tenant.withheldPermissions.clear();
      }
      expect(h.sim.tenant.methodsOf('someone@contoso.com').map((m) => m.kind).sort()).toEqual(['password', 'phone']);
    });
  }

  it('authorizes before it looks up: a user who does not exist is a 403 too, and inside $batch as well', async () => {
    h.sim.tenant.withheldPermissions.add('UserAuthenticationMethod.Read.All');
    h.sim.tenant.withheldPermissions.add('UserAuthenticationMethod.ReadWrite.All');
    try {
      expect((await call('GET', '/v1.0/users/nobody@contoso.com/authentication/methods')).status).toBe(403);
      const batch = await call('POST', '/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: '/users/someone@contoso.com/authentication/methods' }] });
      expect(batch.body?.responses[0]).toMatchObject({ status: 403, body: { error: { code: 'accessDenied' } } });
      // Holding the read role alone is enough for reads, not for writes.
      h.sim.tenant.withheldPermissions.delete('UserAuthenticationMethod.Read.All');
      expect((await call('GET', '/v1.0/users/someone@contoso.com/authentication/methods')).status).toBe(200);
    } finally {
      h.sim.tenant.withheldPermissions.clear();
    }
  });

  it('a tenant file names withheld permissions, and an unknown one is refused at start', async () => {
    const { startGraphSimulator } = await import('../../dev/graph-sim');
    await expect(startGraphSimulator({ tenant: { domains: ['contoso.com'], users: [], withheldPermissions: ['Directory.ReadWrite.All' as never] } })).rejects.toThrow(/withheldPermissions/);
  });
});

describe("the health probe names missing permissions from the token's roles", () => {
  it("the client reads the roles of the very token it sends (same scope), sending no request", async () => {
    const credential = new FixedCredential(tokenWith(['User.Read.All', 'UserAuthenticationMethod.ReadWrite.All']));
    const graph = createGraphClient({ GRAPH_BASE_URL: 'https://graph.microsoft.us', GRAPH_AUTH: 'default' }, { credential });
    expect(await graph.appRoles!()).toEqual(['User.Read.All', 'UserAuthenticationMethod.ReadWrite.All']);
    expect(credential.scopes).toEqual([['https://graph.microsoft.us/.default']]);
    expect(await createGraphClient({ GRAPH_BASE_URL: 'https://graph.microsoft.com', GRAPH_AUTH: 'default' }, { credential: new FixedCredential(tokenWith(undefined)) }).appRoles!()).toEqual([]);
    // No token, no roles to read: the simulator's client has no appRoles.
    expect(createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' }).appRoles).toBeUndefined();
  });

  const script = [
    'User.Read.All',
    'User.RevokeSessions.All',
    'GroupMember.Read.All',
    'RoleManagement.Read.Directory',
    'PrivilegedEligibilitySchedule.Read.AzureADGroup',
    'Policy.Read.AuthenticationMethod',
    'Application.Read.All',
    'AdministrativeUnit.Read.All',
  ];
  const portalRoles = ['UserAuthenticationMethod.Read.All', 'UserAuthMethod-Phone.ReadWrite.All', 'UserAuthMethod-MicrosoftAuthApp.ReadWrite.All', 'UserAuthMethod-SoftwareOATH.ReadWrite.All', 'UserAuthMethod-HardwareOATH.ReadWrite.All', 'UserAuthMethod-TAP.ReadWrite.All'];
  const otherRoles = ['UserAuthMethod-Passkey.ReadWrite.All', 'UserAuthMethod-WindowsHello.ReadWrite.All', 'UserAuthMethod-Email.ReadWrite.All', 'UserAuthMethod-PlatformCred.ReadWrite.All', 'UserAuthMethod-External.ReadWrite.All', 'UserAuthMethod-QR.ReadWrite.All'];
  it('the grant script in each of its modes satisfies every need; each role left out is named', () => {
    expect(missingFromRoles(['UserAuthenticationMethod.ReadWrite.All', ...script], PERMISSION_NEEDS)).toEqual([]);
    expect(assessRoles(['UserAuthenticationMethod.ReadWrite.All', ...script], {})).toEqual({ missing: [], notes: [] });
    expect(assessRoles([...portalRoles, ...script], {}).missing).toEqual([]);
    expect(assessRoles([...portalRoles, ...otherRoles, ...script], {})).toEqual({ missing: [], notes: [] });
    // The per-method roles named here are the grant script's.
    expect(new Set(Object.values(PER_METHOD_ROLES))).toEqual(new Set([...portalRoles.slice(1), ...otherRoles]));
    for (const role of script) {
      expect(missingFromRoles(['UserAuthenticationMethod.ReadWrite.All', ...script.filter((r) => r !== role)], PERMISSION_NEEDS).map((m) => m.grant)).toEqual([role]);
    }
  });

  it('removing needs the broad role or every per-method role of the portal profile: one of them is not enough', () => {
    // Read-only method access cannot remove anything: named with what it is for.
    const readOnly = assessRoles(['UserAuthenticationMethod.Read.All', ...script], {});
    expect(readOnly.missing).toEqual([{ grant: 'UserAuthenticationMethod.ReadWrite.All', for: expect.stringMatching(/removing the portal profile's methods and issuing passes .*missing UserAuthMethod-Phone\.ReadWrite\.All, .*UserAuthMethod-TAP\.ReadWrite\.All$/) }]);
    // The old check passed on any one per-method role; a reset touching phones and OATH tokens needs each.
    const phoneOnly = assessRoles(['UserAuthenticationMethod.Read.All', 'UserAuthMethod-Phone.ReadWrite.All', ...script], {});
    expect(phoneOnly.missing).toHaveLength(1);
    expect(phoneOnly.missing[0]!.for).toMatch(/missing UserAuthMethod-MicrosoftAuthApp\.ReadWrite\.All, UserAuthMethod-SoftwareOATH\.ReadWrite\.All, UserAuthMethod-HardwareOATH\.ReadWrite\.All, UserAuthMethod-TAP\.ReadWrite\.All/);
    expect(phoneOnly.missing[0]!.for).not.toMatch(/missing.*UserAuthMethod-Phone/);
    // A look-alike role name is not a grant.
    expect(assessRoles(['UserAuthMethod-Phone.Read.All', ...portalRoles.filter((r) => r !== 'UserAuthMethod-Phone.ReadWrite.All'), ...script], {}).missing).toHaveLength(1);
    // The portal roles without the others: not missing (portal is the default), but said for profile all.
    const portalOnly = assessRoles([...portalRoles, ...script], {});
    expect(portalOnly.notes).toEqual([expect.stringMatching(/profile "all".*would end partial: the token lacks UserAuthMethod-Passkey.*UserAuthMethod-QR\.ReadWrite\.All/)]);
  });

  it('Mail.Send is never a false fault: absent from the token (Exchange RBAC for Applications) it is "not checkable", present it is an Entra grant to narrow', () => {
    const rbac = assessRoles(['UserAuthenticationMethod.ReadWrite.All', ...script], { notifySender: 'mfa-reset@contoso.com' });
    expect(rbac.missing).toEqual([]);
    expect(rbac.notes).toEqual([expect.stringMatching(/Mail\.Send is not checkable from the token.*Test-ServicePrincipalAuthorization .*-Resource mfa-reset@contoso\.com/)]);
    const entra = assessRoles(['UserAuthenticationMethod.ReadWrite.All', 'Mail.Send', ...script], { notifySender: 'mfa-reset@contoso.com' });
    expect(entra.missing).toEqual([]);
    expect(entra.notes).toEqual([expect.stringMatching(/Mail\.Send is granted in Entra ID.*restrict it to mfa-reset@contoso\.com with Exchange Online RBAC for Applications/)]);
  });

  it('checkHealth is degraded and names a role the token lacks, even when every read succeeds', async () => {
    const transport = createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' });
    const storage = {
      description: 'test',
      queue: () => ({ peekMessages: async () => ({ peekedMessageItems: [] }) }),
      table: () => ({ listEntities: () => ({ byPage: () => ({ next: async () => ({ done: true }) }) }) }),
    };
    const services = (roles: () => Promise<string[]>, settings: Record<string, unknown> = {}) =>
      ({ settings: { GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none', ...settings }, storage, graph: { ...transport, send: transport.send, appRoles: roles } }) as unknown as Services;

    const all = ['UserAuthenticationMethod.ReadWrite.All', ...script];
    expect((await checkHealth(services(async () => all))).status).toBe('ok');
    // A national cloud is Microsoft Graph too, and the answer says which.
    const gov = await checkHealth(services(async () => all, { GRAPH_BASE_URL: 'https://graph.microsoft.us' }));
    expect(gov.graph).toMatchObject({ kind: 'Microsoft Graph', cloud: 'US Government L4', reachable: true });

    const noRevoke = await checkHealth(services(async () => all.filter((r) => r !== 'User.RevokeSessions.All')));
    expect(noRevoke.status).toBe('degraded');
    expect(noRevoke.graph.missingPermissions).toEqual(['User.RevokeSessions.All']);
    expect(noRevoke.graph.error).toMatch(/User\.RevokeSessions\.All \(revoking sign-in sessions\)/);

    // Mail.Send through Exchange RBAC for Applications never shows in the token: ok, with what to verify.
    const mail = await checkHealth(services(async () => all, { NOTIFY_SENDER_UPN: 'mfa-reset@contoso.com' }));
    expect(mail.status).toBe('ok');
    expect(mail.graph.missingPermissions).toBeUndefined();
    expect(mail.graph.notes).toEqual([expect.stringMatching(/Mail\.Send is not checkable from the token/)]);

    // One per-method role is not "can delete": degraded, naming what the portal profile lacks.
    const onePerMethod = await checkHealth(services(async () => [...script, 'UserAuthenticationMethod.Read.All', 'UserAuthMethod-Phone.ReadWrite.All']));
    expect(onePerMethod.status).toBe('degraded');
    expect(onePerMethod.graph.error).toMatch(/UserAuthenticationMethod\.ReadWrite\.All \(removing the portal profile's methods.*missing UserAuthMethod-MicrosoftAuthApp/);

    const noToken = await checkHealth(services(async () => Promise.reject(new Error('ManagedIdentityCredential: no identity'))));
    expect(noToken.status).toBe('degraded');
    expect(noToken.graph.error).toMatch(/no Graph token: ManagedIdentityCredential/);
  });
});
