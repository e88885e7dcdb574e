import { describe, expect, it } from 'vitest';
import { demoTenant, DEMO_PROTECTED_GROUP_ID, PHONE_IDS, parseTenantFile } from '../../dev/graph-sim';
import { createGraphClient, listGroupUserMembers } from '../../shared/graph';
import { useSimulator } from './helpers';

const h = useSimulator({
  tenant: {
    ...demoTenant,
    groups: [...(demoTenant.groups ?? []), { id: '99999999-0000-4000-8000-000000000001', displayName: 'Big group' }],
    users: [
      ...demoTenant.users,
      ...Array.from({ length: 25 }, (_, n) => ({ userPrincipalName: `member${n}@contoso.com`, groups: ['Big group'] })),
      {
        userPrincipalName: 'rules@contoso.com',
        defaultMethod: 'push' as const,
        methods: [
          { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: '+1 4255550190' },
          { type: 'phone' as const, phoneType: 'alternateMobile' as const, phoneNumber: '+1 4255550191' },
          { type: 'microsoftAuthenticator' as const, displayName: 'Phone' },
          { type: 'hardwareOath' as const, serialNumber: 'HW-1' },
        ],
      },
    ],
  },
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${h.sim.url}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, requestId: response.headers.get('request-id'), retryAfter: response.headers.get('retry-after'), body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

const rules = () => h.sim.tenant.findUser('rules@contoso.com')!;

describe('Graph simulator: Graph rules', () => {
  it('answers every request with a request-id', async () => {
    for (const r of [await call('GET', '/v1.0/users/adele.vance%40contoso.com'), await call('GET', '/v1.0/users/nobody%40contoso.com'), await call('GET', '/v9/x')]) {
      expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('finds users by id or percent-encoded UPN, and 404s unknown ones', async () => {
    const guest = await call('GET', '/v1.0/users/alex.wilber_fabrikam.com%23EXT%23%40contoso.com?$select=id,userPrincipalName,userType');
    expect(guest.status).toBe(200);
    expect(guest.body?.userType).toBe('Guest');
    expect((await call('GET', `/v1.0/users/${guest.body?.id}`)).body?.userPrincipalName).toBe('alex.wilber_fabrikam.com#EXT#@contoso.com');
    expect((await call('GET', "/v1.0/users('patti.o''neil%40contoso.com')")).status).toBe(200);
    expect((await call('GET', '/v1.0/users/nobody%40contoso.com')).status).toBe(404);
  });

  it('has no generic delete and never deletes the password', async () => {
    const id = rules().id;
    expect((await call('DELETE', `/v1.0/users/${id}/authentication/methods/${PHONE_IDS.alternateMobile}`)).status).toBe(405);
    const password = await call('DELETE', `/v1.0/users/${id}/authentication/passwordMethods/28c10230-6103-485e-b985-444c60001490`);
    expect(password.status).toBe(400);
    expect(rules().methods).toHaveLength(5);
  });

  it('refuses the mobile before the alternate mobile, and the default while others remain', async () => {
    const id = rules().id;
    const mobile = await call('DELETE', `/v1.0/users/${id}/authentication/phoneMethods/${PHONE_IDS.mobile}`);
    expect(mobile.status).toBe(400);
    expect(mobile.body?.error.message).toMatch(/alternate mobile/);
    const authenticatorId = rules().methods.find((m) => m.kind === 'microsoftAuthenticator')!.id;
    const preferred = await call('GET', `/beta/users/${id}/authentication/signInPreferences`);
    expect(preferred.body?.userPreferredMethodForSecondaryAuthentication).toBe('push');
    const defaultFirst = await call('DELETE', `/v1.0/users/${id}/authentication/microsoftAuthenticatorMethods/${authenticatorId}`);
    expect(defaultFirst).toMatchObject({ status: 400, body: { error: { code: 'badRequest' } } });
    expect(defaultFirst.body?.error.message).toMatch(/default method/);
    expect(rules().methods).toHaveLength(5);
  });

  it('offers hardware OATH in beta only, and 404s a method already gone', async () => {
    const id = rules().id;
    const hardware = rules().methods.find((m) => m.kind === 'hardwareOath')!.id;
    expect((await call('GET', `/v1.0/users/${id}/authentication/methods`)).body?.value.some((m: { id: string }) => m.id === hardware)).toBe(false);
    expect((await call('GET', `/beta/users/${id}/authentication/methods`)).body?.value.some((m: { id: string }) => m.id === hardware)).toBe(true);
    expect((await call('DELETE', `/v1.0/users/${id}/authentication/hardwareOathMethods/${hardware}`)).status).toBe(400);
    expect((await call('DELETE', `/beta/users/${id}/authentication/hardwareOathMethods/${hardware}`)).status).toBe(204);
    expect((await call('DELETE', `/beta/users/${id}/authentication/hardwareOathMethods/${hardware}`)).status).toBe(404);
  });

  it('looks up roles with ConsistencyLevel eventual and $count, and protected groups transitively', async () => {
    const admin = h.sim.tenant.findUser('globaladmin@contoso.com')!;
    const path = `/v1.0/users/${admin.id}/transitiveMemberOf/microsoft.graph.directoryRole?$count=true`;
    expect((await call('GET', path)).status).toBe(400);
    const roles = await call('GET', path, undefined, { ConsistencyLevel: 'eventual' });
    expect(roles.body?.['@odata.count']).toBe(1);
    expect(roles.body?.value[0].roleTemplateId).toBe('62e90394-69f5-4237-9190-012177145e10');
    const lynne = h.sim.tenant.findUser('lynne.robbins@contoso.com')!;
    const check = await call('POST', `/v1.0/users/${lynne.id}/checkMemberGroups`, { groupIds: [DEMO_PROTECTED_GROUP_ID, '7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e'] });
    expect(check.body?.value).toEqual([DEMO_PROTECTED_GROUP_ID]);
  });

  it("creates a Temporary Access Pass within the tenant policy's 60–480 minutes, shown once, replacing an existing one", async () => {
    const nestor = h.sim.tenant.findUser('nestor.wilke@contoso.com')!;
    const path = `/v1.0/users/${nestor.id}/authentication/temporaryAccessPassMethods`;
    expect((await call('POST', path, { lifetimeInMinutes: 30 })).status).toBe(400);
    expect((await call('POST', path, { lifetimeInMinutes: 600 })).status).toBe(400);
    const created = await call('POST', path, { lifetimeInMinutes: 60, isUsableOnce: true });
    expect(created.status).toBe(201);
    expect(created.body?.temporaryAccessPass).toEqual(expect.any(String));
    const listed = await call('GET', path);
    expect(listed.body?.value[0].temporaryAccessPass).toBeNull();
    // Graph replaces the pass a user holds: still one, the new one.
    const second = await call('POST', path, { lifetimeInMinutes: 120 });
    expect(second.status).toBe(201);
    const after = await call('GET', path);
    expect(after.body?.value.map((p: { id: string }) => p.id)).toEqual([second.body?.id]);
  });

  it('revokes sign-in sessions', async () => {
    const nestor = h.sim.tenant.findUser('nestor.wilke@contoso.com')!;
    const revoked = await call('POST', `/v1.0/users/${nestor.id}/revokeSignInSessions`);
    expect(revoked).toMatchObject({ status: 200, body: { value: true } });
    expect(h.sim.tenant.revocations.at(-1)?.userId).toBe(nestor.id);
  });

  it('$batch: at most 20 requests, 200 with a status per request', async () => {
    const id = rules().id;
    const tooMany = await call('POST', '/v1.0/$batch', { requests: Array.from({ length: 21 }, (_, n) => ({ id: String(n), method: 'GET', url: `/users/${id}` })) });
    expect(tooMany.status).toBe(400);
    const mixed = await call('POST', '/v1.0/$batch', {
      requests: [
        { id: '1', method: 'DELETE', url: `/users/${id}/authentication/phoneMethods/${PHONE_IDS.alternateMobile}` },
        { id: '2', method: 'DELETE', url: `/users/${id}/authentication/phoneMethods/${PHONE_IDS.office}` },
        { id: '3', method: 'GET', url: '/users/nobody%40contoso.com' },
      ],
    });
    expect(mixed.status).toBe(200);
    expect(mixed.body?.responses.map((r: { id: string; status: number }) => [r.id, r.status])).toEqual([
      ['1', 204],
      ['2', 404],
      ['3', 404],
    ]);
    expect(mixed.body?.responses[0].headers['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const inner = h.sim.requestLog.filter((e) => e.batch === mixed.requestId);
    expect(inner).toHaveLength(3);
    expect(inner[0]?.write).toBe(true);
  });

  it('throttles per tenant with a token bucket and Retry-After', async () => {
    const sim = h.sim;
    sim.setThrottle({ readsPerSecond: 1, burst: 2 });
    try {
      const answers = [];
      for (let n = 0; n < 4; n += 1) answers.push(await call('GET', '/v1.0/users/adele.vance%40contoso.com'));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429, 429]);
      expect(Number(answers[2]?.retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      sim.setThrottle({});
    }
  });

  it('injects 503s with Retry-After, and latency', async () => {
    const sim = h.sim;
    sim.setFaults({ rate503: 1, retryAfterSeconds: 2, latencyMs: 50 });
    try {
      const started = Date.now();
      const answer = await call('GET', '/v1.0/users/adele.vance%40contoso.com');
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe('2');
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    } finally {
      sim.setFaults({});
    }
  });

  it('lists the transitive user members of a group, page by page', async () => {
    const graph = createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' });
    h.sim.resetLog();
    const members = await listGroupUserMembers(graph, '99999999-0000-4000-8000-000000000001', { pageSize: 10 });
    expect(members.map((m) => m.userPrincipalName).sort()).toEqual(Array.from({ length: 25 }, (_, n) => `member${n}@contoso.com`).sort());
    expect(h.sim.requestLog.filter((e) => e.url.includes('/transitiveMembers/microsoft.graph.user'))).toHaveLength(3);
    // Nested membership counts: Lynne is in Board office, which is in the protected group.
    const protectedMembers = await listGroupUserMembers(graph, DEMO_PROTECTED_GROUP_ID);
    expect(protectedMembers.map((m) => m.userPrincipalName)).toEqual(['lynne.robbins@contoso.com']);
  });

  it('validates tenant files and names the problem', () => {
    expect(() => parseTenantFile({ domains: ['contoso.com'], users: [{ userPrincipalName: 'x@contoso.com', methods: [{ type: 'phone' }] }] })).toThrow(
      /users\.0\.methods\.0: a phone needs phoneType and phoneNumber/,
    );
    expect(() => parseTenantFile({ users: [] })).toThrow(/domains/);
  });
});

describe("Graph simulator: Graph's identity throttling limits by default", () => {
  it('writes: 3,000 per 150 s (a burst of 3,000, then 20/s); reads: 8,000 per 10 s', async () => {
    const { TenantThrottle, TokenBucket } = await import('../../dev/graph-sim/throttle');
    const throttle = new TenantThrottle();
    let retryAfter: string | undefined;
    const untilRefused = (write: boolean) => {
      let allowed = 0;
      while ((retryAfter = throttle.check(write)) === undefined && allowed < 100_000) allowed += 1;
      return allowed;
    };
    // Real time passes while counting, so a few tokens refill meanwhile.
    expect(untilRefused(true)).toBeGreaterThanOrEqual(3000);
    expect(retryAfter).toMatch(/^\d+$/);
    expect(untilRefused(true)).toBeLessThan(100);
    expect(untilRefused(false)).toBeGreaterThanOrEqual(8000);

    let now = 0;
    const writes = new TokenBucket(20, 3000, () => now);
    for (let i = 0; i < 3000; i += 1) writes.take();
    expect(writes.take()).toMatchObject({ ok: false });
    now = 150_000;
    let taken = 0;
    while (writes.take().ok) taken += 1;
    // The window refilled: about 3,000 more (the refused caller above holds a promised slot).
    expect(taken).toBeGreaterThanOrEqual(2999);
  });
});
