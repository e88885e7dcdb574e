import { describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { createGraphClient, runReset, type GraphTransport } from '../../shared/graph';
import { fastRetry, noGuards, useSimulator } from './helpers';

/**
 * Restricted management administrative units: "Applications can't modify objects in restricted management
 * administrative units … If you assign Microsoft Graph application permissions to the application, those
 * permissions won't apply" (admin-units-restricted-management). The simulator answers 403 to every app
 * write on a direct member; the guard refuses such a user before the first write, naming the unit and
 * that an administrator scoped to it must do it.
 */

const phone = (n: number) => [
  { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555508${String(n).padStart(2, '0')}` },
  { type: 'microsoftAuthenticator' as const, displayName: `Phone ${n}` },
];

const tenant: TenantFile = {
  domains: ['contoso.com'],
  groups: [{ displayName: 'Board' }],
  administrativeUnits: [
    { displayName: 'Executive office', isMemberManagementRestricted: true, members: ['exec@contoso.com', 'Board'] },
    { displayName: 'Paris office', members: ['paris@contoso.com', 'exec.paris@contoso.com'] },
    { displayName: 'Legal (restricted)', isMemberManagementRestricted: true, members: ['exec.paris@contoso.com'] },
  ],
  users: [
    { userPrincipalName: 'exec@contoso.com', methods: phone(1) },
    { userPrincipalName: 'paris@contoso.com', methods: phone(2) },
    { userPrincipalName: 'board.member@contoso.com', groups: ['Board'], methods: phone(3) },
    { userPrincipalName: 'exec.paris@contoso.com', methods: phone(4) },
    { userPrincipalName: 'plain@contoso.com', methods: phone(5) },
  ],
};

const h = useSimulator({ tenant });

function resetUser(upn: string, wrap: (graph: GraphTransport) => GraphTransport = (graph) => graph) {
  const graph = wrap(createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' }));
  return runReset(graph, { target: { userPrincipalName: upn }, profile: 'all', revokeSessions: true, temporaryAccessPass: {}, dryRun: false }, { guards: noGuards, retry: { ...fastRetry, maxAttempts: 2 } });
}

const writes = () => h.sim.requestLog.filter((e) => e.write);

describe('members of a restricted management administrative unit are refused before any write', () => {
  it('a direct member: rejected, naming the unit and who must do it, zero writes', async () => {
    h.sim.resetLog();
    const before = structuredClone(h.sim.tenant.methodsOf('exec@contoso.com'));
    const result = await resetUser('exec@contoso.com');
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.code).toBe('restricted-administrative-unit');
    expect(result.status === 'rejected' && result.reason).toMatch(/member of restricted management administrative unit Executive office \([0-9a-f-]{36}\).*An administrator scoped to that unit .* must reset this user's MFA/);
    expect(writes()).toEqual([]);
    expect(h.sim.tenant.methodsOf('exec@contoso.com')).toEqual(before);
  });

  it('a member of two units, one of them restricted: the restricted one is named', async () => {
    h.sim.resetLog();
    const result = await resetUser('exec.paris@contoso.com');
    expect(result.status === 'rejected' && result.reason).toMatch(/unit Legal \(restricted\)/);
    expect(result.status === 'rejected' && result.reason).not.toMatch(/Paris office/);
    expect(writes()).toEqual([]);
  });

  it('a member through a group in a restricted unit is refused too (the tenant protected that unit; Graph protects direct members only)', async () => {
    h.sim.resetLog();
    const result = await resetUser('board.member@contoso.com');
    expect(result.status === 'rejected' && result.code).toBe('restricted-administrative-unit');
    expect(writes()).toEqual([]);
  });

  it('a member of an ordinary unit, and a user in no unit, are reset', async () => {
    for (const upn of ['paris@contoso.com', 'plain@contoso.com']) {
      const result = await resetUser(upn);
      expect(result.status, upn).toBe('completed');
      expect(h.sim.tenant.methodsOf(upn).map((m) => m.kind)).toEqual(['password', 'temporaryAccessPass']);
    }
  });

  it('units listed with limited information (no AdministrativeUnit.Read.All) are read on their own; refused, that read fails closed', async () => {
    h.sim.tenant.withheldPermissions.add('AdministrativeUnit.Read.All');
    try {
      h.sim.resetLog();
      const result = await resetUser('exec.paris@contoso.com');
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' && result.code).toBe('guard-unverifiable');
      expect(result.status === 'rejected' && result.reason).toMatch(/Reading administrative unit [0-9a-f-]{36} failed: Authorization_RequestDenied.*AdministrativeUnit\.Read\.All/);
      expect(writes()).toEqual([]);
    } finally {
      h.sim.tenant.withheldPermissions.clear();
    }
  });

  it('a listing that leaves the property out: the unit is read on its own, and a restricted one refused', async () => {
    const withoutProperty = (inner: GraphTransport): GraphTransport => ({
      origin: inner.origin,
      async send(request) {
        const response = await inner.send(request);
        if (!request.path.includes('/transitiveMemberOf')) return response;
        const body = response.body as { value: Record<string, unknown>[] };
        return { ...response, body: { ...body, value: body.value.map(({ isMemberManagementRestricted: _dropped, ...rest }) => rest) } };
      },
    });
    h.sim.resetLog();
    const result = await resetUser('exec@contoso.com', withoutProperty);
    expect(result.status === 'rejected' && result.code).toBe('restricted-administrative-unit');
    expect(h.sim.requestLog.some((e) => e.url.startsWith('/directory/administrativeUnits/'))).toBe(true);
    expect(writes()).toEqual([]);
  });
});

describe('the simulator refuses app writes on a restricted unit member, as Graph does', () => {
  it('DELETE a method, revoke sessions, issue a pass: 403; reads still answer', async () => {
    const user = h.sim.tenant.findUser('exec@contoso.com')!;
    const app = user.methods.find((m) => m.kind === 'microsoftAuthenticator')!;
    const attempts = [
      ['DELETE', `/v1.0/users/${user.id}/authentication/microsoftAuthenticatorMethods/${app.id}`],
      ['POST', `/v1.0/users/${user.id}/revokeSignInSessions`],
      ['POST', `/v1.0/users/${user.id}/authentication/temporaryAccessPassMethods`],
    ] as const;
    for (const [method, path] of attempts) {
      const response = await fetch(`${h.sim.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(response.status, path).toBe(403);
      expect(body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: expect.stringMatching(/restricted management administrative unit/) });
    }
    expect((await fetch(`${h.sim.url}/v1.0/users/${user.id}/authentication/methods`)).status).toBe(200);
    expect(h.sim.tenant.methodsOf('exec@contoso.com')).toHaveLength(3);
    // A member through a group is not protected by Graph: the write goes through.
    const board = h.sim.tenant.findUser('board.member@contoso.com')!;
    expect((await fetch(`${h.sim.url}/v1.0/users/${board.id}/revokeSignInSessions`, { method: 'POST' })).status).toBe(200);
  });

  it('transitiveMemberOf lists the units with isMemberManagementRestricted, and the unit reads on its own', async () => {
    const user = h.sim.tenant.findUser('exec.paris@contoso.com')!;
    const listed = (await (await fetch(`${h.sim.url}/v1.0/users/${user.id}/transitiveMemberOf`)).json()) as { value: Record<string, unknown>[] };
    const units = listed.value.filter((m) => m['@odata.type'] === '#microsoft.graph.administrativeUnit');
    expect(units.map((u) => [u.displayName, u.isMemberManagementRestricted]).sort()).toEqual([
      ['Legal (restricted)', true],
      ['Paris office', false],
    ]);
    const unit = (await (await fetch(`${h.sim.url}/v1.0/directory/administrativeUnits/${units[0]!.id}`)).json()) as Record<string, unknown>;
    expect(unit).toMatchObject({ id: units[0]!.id, isMemberManagementRestricted: units[0]!.isMemberManagementRestricted });
  });
});
