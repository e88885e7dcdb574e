import { describe, expect, it } from 'vitest';
import { startGraphSimulator, type TenantFile } from '../../dev/graph-sim';
import { createGraphClient, listGroupUserMembers, PHONE_IDS } from '../../shared/graph';
import { reset, useSimulator, writesTo } from './helpers';

/**
 * The simulator as strict as Graph's documentation, and the engine right under it: hardware tokens
 * deactivated (not unassigned) and read through their device, the default method deletable only as
 * the last one, advanced-query headers for OData casts, the tenant's Temporary Access Pass policy,
 * and Graph's error shape.
 */

const TEAM_GROUP = '44444444-0000-4000-8000-000000000001';
const OUTSIDE_GROUP = '44444444-0000-4000-8000-000000000002';

const user = (name: string, methods: NonNullable<TenantFile['users'][number]['methods']>, extra: Partial<TenantFile['users'][number]> = {}) => ({
  userPrincipalName: `${name}@contoso.com`,
  groups: ['Team'],
  methods,
  ...extra,
});
const mobile = { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: '+1 4255550160' };
const token = { type: 'hardwareOath' as const, displayName: 'Desk token', serialNumber: 'TOTP-00991234', manufacturer: 'Token2', model: 'C302' };

const tenant = (extra: Partial<TenantFile> = {}): TenantFile => ({
  domains: ['contoso.com'],
  groups: [
    { id: TEAM_GROUP, displayName: 'Team' },
    { id: OUTSIDE_GROUP, displayName: 'No passes' },
  ],
  temporaryAccessPassPolicy: { maximumLifetimeInMinutes: 480, excludeTargets: ['No passes'] },
  users: [
    user('hw', [mobile, token], { defaultMethod: 'sms' }),
    user('hw.sticky', [mobile, { ...token, undeletable: 'sticky' }], { defaultMethod: 'sms' }),
    user('hw.unread', [mobile, token], { defaultMethod: 'sms' }),
    user('hw.refused', [mobile, { ...token, undeletable: 'refuse' }], { defaultMethod: 'sms', groups: [] }),
    user('default.kept', [{ type: 'microsoftAuthenticator', displayName: 'Pixel 8' }, { type: 'fido2', displayName: 'YubiKey' }, { type: 'email', emailAddress: 'k@example.net' }], { defaultMethod: 'push' }),
    user('lenient', [{ type: 'microsoftAuthenticator', displayName: 'Pixel 8' }, { type: 'fido2', displayName: 'YubiKey' }], { defaultMethod: 'push' }),
    user('tap.long', [mobile]),
    user('tap.outside', [mobile], { groups: ['No passes'] }),
    user('tap.disabled', [mobile]),
    user('tap.once', [mobile]),
    user('tap.unread', [mobile], { groups: [] }),
    ...extra.users ?? [],
  ],
  ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'users')),
});

const h = useSimulator({ tenant: tenant() });
const unreadable = useSimulator({ tenant: tenant({ hardwareOathMethods: false }) });
const national = useSimulator({ tenant: tenant({ cloud: 'national' }) });
const lenient = useSimulator({ tenant: tenant({ rules: { defaultMethod: 'lenient' } }) });
const disabled = useSimulator({ tenant: tenant({ temporaryAccessPassPolicy: { state: 'disabled' } }) });
const oneTime = useSimulator({ tenant: tenant({ temporaryAccessPassPolicy: { isUsableOnce: true } }) });

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('hardware OATH tokens: deactivated, not unassigned', () => {
  it('the simulator keeps serial, model and status on the device, shown with $expand=device only', async () => {
    const id = h.sim.tenant.findUser('hw@contoso.com')!.id;
    const plain = await call(h.sim.url, 'GET', `/beta/users/${id}/authentication/hardwareOathMethods`);
    expect(plain.body?.value[0].device).toBeUndefined();
    expect(plain.body?.value[0].serialNumber).toBeUndefined();
    const expanded = await call(h.sim.url, 'GET', `/beta/users/${id}/authentication/hardwareOathMethods?$expand=device`);
    expect(expanded.body?.value[0].device).toMatchObject({ serialNumber: 'TOTP-00991234', model: 'C302', status: 'activated', assignedTo: { id } });
  });

  it('a portal reset deactivates the token (request log: POST …/deactivate, no DELETE), verifies its status and keeps it assigned', async () => {
    const sim = h.sim;
    const target = sim.tenant.findUser('hw@contoso.com')!;
    const tokenId = target.methods.find((m) => m.kind === 'hardwareOath')!.id;
    const result = await reset(sim, { target: { userPrincipalName: 'hw@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('completed');
    const writes = writesTo(sim, target.id);
    expect(writes.filter((e) => e.url.includes('hardwareOathMethods')).map((e) => `${e.method} /${e.version}${e.url.replace(target.id, '{id}')}`)).toEqual([
      `POST /beta/users/{id}/authentication/hardwareOathMethods/${tokenId}/deactivate`,
    ]);
    expect(writes.some((e) => e.method === 'DELETE' && e.url.includes('hardwareOathMethods'))).toBe(false);
    expect(sim.tenant.methodsOf('hw@contoso.com').find((m) => m.kind === 'hardwareOath')?.device?.status).toBe('assigned');
    expect(result.methods.find((m) => m.kind === 'hardwareOath')).toMatchObject({ outcome: 'deactivated', detail: expect.stringContaining('serial …1234') });
    // The listing read the device, where Graph keeps serial and model.
    expect(sim.requestLog.some((e) => e.url === `/users/${target.id}/authentication/hardwareOathMethods?$expand=device`)).toBe(true);
  });

  it('a token Graph says it deactivated but still lists as activated is not reported done', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'hw.sticky@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    expect(result.status === 'partial' && result.reason).toMatch(/Desk token/);
    expect(result.methods.find((m) => m.kind === 'hardwareOath')?.outcome).toBe('remaining');
  });

  it('a refused deactivation (403 accessDenied) ends partial naming the token and the default phone it keeps, never completed', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'hw.refused@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    if (result.status !== 'partial') return;
    expect(result.reason).toMatch(/Desk token[^;]*hardwareOath[^;]*accessDenied/);
    expect(result.reason).toMatch(/the user's default method/);
    expect(result.methods.find((m) => m.kind === 'hardwareOath')?.outcome).toBe('failed');
    expect(sim.tenant.methodsOf('hw.refused@contoso.com').find((m) => m.kind === 'hardwareOath')?.device?.status).toBe('activated');
  });

  it('a refused hardware-token read ends partial with the reason, never completed, even though the rest went', async () => {
    const sim = unreadable.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'hw.unread@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    expect(result.status === 'partial' && result.reason).toMatch(/Hardware OATH tokens are in scope but hardware OATH tokens could not be read .*403|accessDenied/);
    expect(result.warnings.join(' ')).toMatch(/hardware OATH tokens could not be read/);
    // The unread token is still active, so Graph also keeps the default mobile phone: named as well.
    expect(sim.tenant.methodsOf('hw.unread@contoso.com').map((m) => m.kind).sort()).toEqual(['hardwareOath', 'password', 'phone']);
    expect(result.status === 'partial' && result.reason).toMatch(/the user's default method/);
  });

  it('where Graph has no hardwareOathMethods (400 unknown segment, as in a national cloud), the reset ends partial saying so, not failed', async () => {
    const sim = national.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'tap.long@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    expect(result.status === 'partial' && result.reason).toMatch(/hardware OATH tokens could not be read \(.*Resource not found for the segment 'hardwareOathMethods'.*\): check the user's tokens in the admin center/);
    expect(sim.tenant.methodsOf('tap.long@contoso.com').map((m) => m.kind)).toEqual(['password']);
    // Left out of the request, the tokens are not asked about and the reset can complete.
    const explicit = await reset(sim, { target: { userPrincipalName: 'tap.once@contoso.com' }, profile: 'portal', methods: ['phone', 'microsoftAuthenticator', 'softwareOath'] });
    expect(explicit.status).toBe('completed');
  });

  it('out of scope (an explicit list without hardware tokens), the beta collection is not read at all', async () => {
    const result = await reset(unreadable.sim, { target: { userPrincipalName: 'tap.long@contoso.com' }, profile: 'portal', methods: ['phone'] });
    expect(result.status).toBe('completed');
  });
});

describe('the default method: deletable only as the last method', () => {
  it('the simulator refuses the default while FIDO2 or email remain (strict), and the old lenient reading let it go', async () => {
    const strictUser = h.sim.tenant.findUser('default.kept@contoso.com')!;
    const app = strictUser.methods.find((m) => m.kind === 'microsoftAuthenticator')!.id;
    const refused = await call(h.sim.url, 'DELETE', `/v1.0/users/${strictUser.id}/authentication/microsoftAuthenticatorMethods/${app}`);
    expect(refused.status).toBe(400);
    expect(refused.body?.error.message).toMatch(/Cannot delete default method with other methods configured/);
    const lenientUser = lenient.sim.tenant.findUser('lenient@contoso.com')!;
    const lenientApp = lenientUser.methods.find((m) => m.kind === 'microsoftAuthenticator')!.id;
    expect((await call(lenient.sim.url, 'DELETE', `/v1.0/users/${lenientUser.id}/authentication/microsoftAuthenticatorMethods/${lenientApp}`)).status).toBe(204);
  });

  it('a default Authenticator with FIDO2 and email kept: partial naming the default and what to do, never completed with it left', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'default.kept@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    if (result.status !== 'partial') return;
    expect(result.reason).toMatch(/Pixel 8[^(]*\(microsoftAuthenticator, the user's default method/);
    expect(result.reason).toMatch(/YubiKey/);
    expect(result.reason).toMatch(/To finish: use "Finish: also remove FIDO2 security key \/ passkey, email \(self-service password reset\)" on this request's page in the operator console .*with methods \[.*"fido2".*"email".*\]/);
    expect(result.plan?.defaultBlocked?.staying).toEqual(expect.arrayContaining(['YubiKey', 'k***@example.net']));
    expect(sim.tenant.methodsOf('default.kept@contoso.com').some((m) => m.kind === 'microsoftAuthenticator')).toBe(true);
    // No PATCH: FIDO2 and email cannot become the default (signInPreferences has no value for them).
    expect(writesTo(sim, sim.tenant.findUser('default.kept@contoso.com')!.id).some((e) => e.method === 'PATCH')).toBe(false);
  });

  it('a dry run of the same user does not say the default would be deleted: it says a real run would end partial with it left', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'default.kept@contoso.com' }, profile: 'portal', dryRun: true });
    expect(result.status).toBe('planned');
    const authenticator = result.methods.find((m) => m.kind === 'microsoftAuthenticator');
    expect(authenticator?.reason).toMatch(/Graph keeps the default method while .*YubiKey.* stay: a real run would end partial/);
    expect(authenticator?.reason).not.toMatch(/would be deleted/);
    expect(result.warnings.join('\n')).toMatch(/A real run would end partial: Graph keeps Pixel 8/);
  });

  it('signInPreferences takes PATCH on beta only, with documented values for a method the user has', async () => {
    const sim = h.sim;
    const target = sim.tenant.findUser('tap.once@contoso.com')!;
    const path = `/users/${target.id}/authentication/signInPreferences`;
    expect((await call(sim.url, 'PATCH', `/v1.0${path}`, { userPreferredMethodForSecondaryAuthentication: 'sms' })).status).toBe(400);
    expect((await call(sim.url, 'PATCH', `/beta${path}`, { userPreferredMethodForSecondaryAuthentication: 'fido2' })).status).toBe(400);
    expect((await call(sim.url, 'PATCH', `/beta${path}`, { userPreferredMethodForSecondaryAuthentication: 'push' })).status).toBe(400);
    expect((await call(sim.url, 'PATCH', `/beta${path}`, { userPreferredMethodForSecondaryAuthentication: 'voiceMobile' })).status).toBe(204);
    expect((await call(sim.url, 'GET', `/beta${path}`)).body?.userPreferredMethodForSecondaryAuthentication).toBe('voiceMobile');
    expect(target.methods.some((m) => m.id === PHONE_IDS.mobile)).toBe(true);
  });
});

describe('group expansion: an OData cast on transitiveMembers is an advanced query', () => {
  it('the simulator refuses the cast without ConsistencyLevel: eventual and $count=true, as Graph documents', async () => {
    const bare = await call(h.sim.url, 'GET', `/v1.0/groups/${TEAM_GROUP}/transitiveMembers/microsoft.graph.user`);
    expect(bare.status).toBe(400);
    expect(bare.body?.error.code).toBe('Request_UnsupportedQuery');
    const headerOnly = await call(h.sim.url, 'GET', `/v1.0/groups/${TEAM_GROUP}/transitiveMembers/microsoft.graph.user`, undefined, { ConsistencyLevel: 'eventual' });
    expect(headerOnly.status).toBe(400);
    const advanced = await call(h.sim.url, 'GET', `/v1.0/groups/${TEAM_GROUP}/transitiveMembers/microsoft.graph.user?$count=true`, undefined, { ConsistencyLevel: 'eventual' });
    expect(advanced.status).toBe(200);
    expect(advanced.body?.['@odata.count']).toBe(8);
  });

  it('the engine lists group members with the headers, on every page', async () => {
    const graph = createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' });
    h.sim.resetLog();
    const members = await listGroupUserMembers(graph, TEAM_GROUP, { pageSize: 3 });
    expect(members).toHaveLength(8);
    const pages = h.sim.requestLog.filter((e) => e.url.includes('/transitiveMembers/'));
    expect(pages).toHaveLength(3);
    expect(pages.every((e) => e.status === 200 && decodeURIComponent(e.url).includes('$count=true'))).toBe(true);
  });

  it('the same listing without the header fails under the simulator, as it would at Graph, instead of returning nobody', async () => {
    const graph = createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' });
    const withoutHeader = { origin: graph.origin, send: (request: Parameters<typeof graph.send>[0]) => graph.send({ ...request, headers: {} }) };
    await expect(listGroupUserMembers(withoutHeader, TEAM_GROUP, { pageSize: 3 })).rejects.toThrow(/400|Request_UnsupportedQuery|advanced query/);
  });
});

describe('Temporary Access Pass: the tenant policy', () => {
  it('600 minutes against a 480-minute policy: clamped to 480 and said in the result', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'tap.long@contoso.com' }, profile: 'portal', temporaryAccessPass: { lifetimeInMinutes: 600 } });
    expect(result.status).toBe('completed');
    expect(result.temporaryAccessPass).toMatchObject({ outcome: 'created', lifetimeInMinutes: 480, adjusted: expect.stringMatching(/lifetime 600 minutes clamped to 480/) });
    expect(result.warnings.join(' ')).toMatch(/clamped to 480/);
    expect(result.oneTimeSecrets?.temporaryAccessPass).toEqual(expect.any(String));
  });

  it("a user the policy excludes: refused before anything is removed, naming the group and what to change", async () => {
    const sim = h.sim;
    sim.resetLog();
    const result = await reset(sim, { target: { userPrincipalName: 'tap.outside@contoso.com' }, profile: 'portal', temporaryAccessPass: {} });
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.code).toBe('temporary-access-pass-not-targeted');
    expect(result.status === 'rejected' && result.reason).toMatch(/policy excludes tap\.outside@contoso\.com \(through group No passes \(44444444-0000-4000-8000-000000000002\)\).*Take the user out of the policy's excluded groups/);
    expect(writesTo(sim, sim.tenant.findUser('tap.outside@contoso.com')!.id)).toEqual([]);
    expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
    expect(sim.tenant.methodsOf('tap.outside@contoso.com').map((m) => m.kind)).toEqual(['password', 'phone']);
  });

  it('a policy the app may not read (no Policy.Read.AuthenticationMethod): refused before anything is removed, naming the permission', async () => {
    const sim = h.sim;
    sim.tenant.withheldPermissions.add('Policy.Read.AuthenticationMethod');
    try {
      sim.resetLog();
      const result = await reset(sim, { target: { userPrincipalName: 'tap.unread@contoso.com' }, profile: 'portal', temporaryAccessPass: { lifetimeInMinutes: 600 } });
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' && result.code).toBe('temporary-access-pass-policy-unreadable');
      expect(result.status === 'rejected' && result.reason).toMatch(/policy could not be read \(accessDenied: Request Authorization failed\).*Grant the app Policy\.Read\.AuthenticationMethod/);
      expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
      expect(result.oneTimeSecrets).toBeUndefined();
    } finally {
      sim.tenant.withheldPermissions.clear();
    }
  });

  it('a disabled policy refuses the request before anything is removed', async () => {
    const sim = disabled.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'tap.disabled@contoso.com' }, profile: 'portal', temporaryAccessPass: {} });
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.code).toBe('temporary-access-pass-disabled');
    expect(writesTo(sim, sim.tenant.findUser('tap.disabled@contoso.com')!.id)).toEqual([]);
  });

  it('a policy of one-time passes makes the pass one-time use, and says so', async () => {
    const result = await reset(oneTime.sim, { target: { userPrincipalName: 'tap.once@contoso.com' }, profile: 'portal', temporaryAccessPass: { isUsableOnce: false } });
    expect(result.status).toBe('completed');
    expect(result.temporaryAccessPass).toMatchObject({ isUsableOnce: true, adjusted: expect.stringMatching(/one-time use/) });
  });
});

describe("Graph's error shape", () => {
  it('every error body carries code, message and innerError with the request ids, inside $batch too', async () => {
    const missing = await call(h.sim.url, 'GET', '/v1.0/users/nobody@contoso.com', undefined, { 'client-request-id': 'abc-123' });
    expect(missing.status).toBe(404);
    expect(missing.body?.error).toMatchObject({ code: expect.any(String), message: expect.any(String), innerError: { 'request-id': expect.any(String), 'client-request-id': 'abc-123', date: expect.any(String) } });
    const batch = await call(h.sim.url, 'POST', '/v1.0/$batch', { requests: [{ id: '1', method: 'GET', url: '/users/nobody@contoso.com' }] });
    expect(batch.body?.responses[0].body.error.innerError['request-id']).toEqual(batch.body?.responses[0].headers['request-id']);
  });

  it('every kind of refusal the simulator gives has that shape, and the authentication methods API repeats its message in innerError', async () => {
    const sim = h.sim;
    const hw = sim.tenant.findUser('hw@contoso.com')!;
    const kept = sim.tenant.findUser('default.kept@contoso.com')!;
    const app = kept.methods.find((m) => m.kind === 'microsoftAuthenticator')!.id;
    const attempts: { method: string; path: string; body?: unknown; headers?: Record<string, string>; status: number; authentication: boolean }[] = [
      { method: 'GET', path: '/v2.0/users', status: 404, authentication: false },
      { method: 'GET', path: '/v1.0/nothingHere', status: 400, authentication: false },
      { method: 'GET', path: '/v1.0/users/nobody@contoso.com', status: 404, authentication: false },
      { method: 'PATCH', path: `/v1.0/users/${hw.id}`, body: { displayName: 'x' }, status: 405, authentication: false },
      { method: 'GET', path: `/v1.0/users/${hw.id}/revokeSignInSessions`, status: 405, authentication: false },
      { method: 'GET', path: `/v1.0/groups/${TEAM_GROUP}/transitiveMembers/microsoft.graph.user`, status: 400, authentication: false },
      { method: 'POST', path: '/v1.0/$batch', body: { requests: 'no' }, status: 400, authentication: false },
      { method: 'DELETE', path: `/v1.0/users/${hw.id}/authentication/methods/${PHONE_IDS.mobile}`, status: 405, authentication: true },
      { method: 'DELETE', path: `/v1.0/users/${hw.id}/authentication/phoneMethods/00000000-0000-4000-8000-000000000000`, status: 404, authentication: true },
      { method: 'DELETE', path: `/v1.0/users/${kept.id}/authentication/microsoftAuthenticatorMethods/${app}`, status: 400, authentication: true },
      { method: 'PATCH', path: `/beta/users/${hw.id}/authentication/signInPreferences`, body: { userPreferredMethodForSecondaryAuthentication: 'fido2' }, status: 400, authentication: true },
      { method: 'GET', path: `/beta/users/${hw.id}/authentication/hardwareOathMethods/deactivate`, status: 404, authentication: true },
      { method: 'POST', path: `/v1.0/users/${hw.id}/authentication/temporaryAccessPassMethods`, body: { lifetimeInMinutes: 5 }, status: 400, authentication: true },
    ];
    for (const attempt of attempts) {
      const answer = await call(sim.url, attempt.method, attempt.path, attempt.body, { 'client-request-id': 'shape-1', ...attempt.headers });
      const where = `${attempt.method} ${attempt.path}`;
      expect(answer.status, where).toBe(attempt.status);
      expect(Object.keys(answer.body ?? {}), where).toEqual(['error']);
      const error = answer.body!.error;
      expect(error, where).toMatchObject({ code: expect.stringMatching(/^\w+$/), message: expect.any(String) });
      expect(error.innerError, where).toMatchObject({ date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/), 'request-id': expect.any(String), 'client-request-id': 'shape-1' });
      expect(error.innerError.message, where).toBe(attempt.authentication ? error.message : undefined);
    }
    // A 405 is Entra's answer, not a hint at what the simulator takes.
    const patch = await call(sim.url, 'PATCH', `/v1.0/users/${hw.id}`, { displayName: 'x' });
    expect(patch.body?.error).toMatchObject({ code: 'Request_BadRequest', message: 'Specified HTTP method is not allowed for the request target.' });
  });

  it('a simulator started with an unknown rule fails fast', async () => {
    await expect(startGraphSimulator({ tenant: { ...tenant(), rules: { defaultMethod: 'kind' as never } } })).rejects.toThrow(/rules\.defaultMethod/);
  });
});
