import { describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { createGraphClient, runReset, type GraphTransport, type ResetResult } from '../../shared/graph';
import { fastRetry, noGuards, useSimulator } from './helpers';

/**
 * Privileged as Microsoft means it (entra-docs privileged-roles-permissions, "Who can perform sensitive
 * actions"): every kind of administrator the old cast `transitiveMemberOf/microsoft.graph.directoryRole`
 * query missed is refused with zero writes, and a plain user is still reset.
 */

const phone = (n: number) => [
  { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555507${String(n).padStart(2, '0')}` },
  { type: 'microsoftAuthenticator' as const, displayName: `Phone ${n}` },
];

const manyOwners = Array.from({ length: 25 }, (_, i) => `owner${i}@contoso.com`);

const tenant: TenantFile = {
  domains: ['contoso.com'],
  administrativeUnits: [{ displayName: 'Paris office' }],
  customRoles: [{ displayName: 'Helpdesk Tier 2 (custom)', permissions: ['microsoft.directory/users/authenticationMethods/delete'] }],
  groups: [
    { displayName: 'Tier 0 admins', isAssignableToRole: true, roles: ['Global Administrator'] },
    { displayName: 'Role-assignable, no role', isAssignableToRole: true, owners: ['group.owner@contoso.com'] },
    { displayName: 'Many owners', isAssignableToRole: true, owners: manyOwners },
    { displayName: 'Eligible security admins', isAssignableToRole: true, eligibleRoles: ['Security Administrator'] },
    { displayName: 'Marketing' },
    { displayName: 'Marketing EMEA', memberOf: ['Marketing'] },
  ],
  users: [
    { userPrincipalName: 'eligible.ga@contoso.com', eligibleRoles: ['Global Administrator'], methods: phone(1) },
    { userPrincipalName: 'group.admin@contoso.com', groups: ['Tier 0 admins'], methods: phone(2) },
    { userPrincipalName: 'group.owner@contoso.com', methods: phone(3) },
    { userPrincipalName: 'plain.member.of.role.group@contoso.com', groups: ['Role-assignable, no role'], methods: phone(4) },
    { userPrincipalName: 'au.useradmin@contoso.com', roles: [{ role: 'User Administrator', administrativeUnit: 'Paris office' }], methods: phone(5) },
    { userPrincipalName: 'custom.role@contoso.com', roles: ['Helpdesk Tier 2 (custom)'], methods: phone(6) },
    { userPrincipalName: 'just.granted@contoso.com', methods: phone(7) },
    { userPrincipalName: 'eligible.through.group@contoso.com', groups: ['Eligible security admins'], methods: phone(8) },
    { userPrincipalName: 'au.reader@contoso.com', roles: [{ role: 'Reports Reader', administrativeUnit: 'Paris office' }], methods: phone(9) },
    { userPrincipalName: 'reader@contoso.com', roles: ['Directory Readers', 'Message Center Reader'], methods: phone(10) },
    { userPrincipalName: 'plain@contoso.com', groups: ['Marketing EMEA'], methods: phone(11) },
    { userPrincipalName: 'auth.admin@contoso.com', roles: ['Authentication Administrator'], methods: phone(12) },
    { userPrincipalName: 'faulted@contoso.com', methods: phone(13) },
    ...manyOwners.map((upn, i) => ({ userPrincipalName: upn, methods: i === 24 ? phone(14) : [] })),
  ],
};

const h = useSimulator({ tenant });

/** A transport that answers `status` for every request whose path matches, and passes the rest on. */
function failing(inner: GraphTransport, match: RegExp, status: number): GraphTransport {
  return {
    origin: inner.origin,
    async send(request) {
      if (match.test(request.path)) {
        return { status, requestId: 'injected', retryAfterSeconds: undefined, body: { error: { code: status === 403 ? 'Authorization_RequestDenied' : 'InternalServerError', message: 'injected' } } };
      }
      return inner.send(request);
    },
  };
}

async function resetUser(upn: string, wrap: (graph: GraphTransport) => GraphTransport = (graph) => graph): Promise<ResetResult> {
  const graph = wrap(createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' }));
  return runReset(graph, { target: { userPrincipalName: upn }, profile: 'all', revokeSessions: true, temporaryAccessPass: {}, dryRun: false }, { guards: noGuards, retry: { ...fastRetry, maxAttempts: 2 } });
}

function writesFor(upn: string) {
  const id = h.sim.tenant.findUser(upn)!.id;
  return h.sim.requestLog.filter((entry) => entry.write && entry.url.includes(id));
}

describe('privileged targets are refused before any write', () => {
  const cases = [
    { what: 'a PIM-eligible Global Administrator', upn: 'eligible.ga@contoso.com', reason: /Global Administrator \(PIM-eligible, tenant-wide\)/ },
    { what: 'an administrator through a role-assignable group', upn: 'group.admin@contoso.com', reason: /member of role-assignable group Tier 0 admins/ },
    { what: 'the owner of a role-assignable group', upn: 'group.owner@contoso.com', reason: /owner of role-assignable group Role-assignable, no role/ },
    { what: 'a member of a role-assignable group that holds no role', upn: 'plain.member.of.role.group@contoso.com', reason: /member of role-assignable group Role-assignable, no role/ },
    { what: 'the 25th owner of a group (beyond what $expand returns)', upn: 'owner24@contoso.com', reason: /owner of role-assignable group Many owners/ },
    { what: 'a User Administrator scoped to an administrative unit', upn: 'au.useradmin@contoso.com', reason: /User Administrator \(active, scoped to administrative unit [0-9a-f-]{36}\)/ },
    { what: 'a holder of a custom role', upn: 'custom.role@contoso.com', reason: /custom role Helpdesk Tier 2 \(custom\) \(active, tenant-wide\)/ },
    { what: 'a member of a group eligible for a role', upn: 'eligible.through.group@contoso.com', reason: /member of role-assignable group Eligible security admins/ },
    { what: 'an allowed read-only role scoped to an administrative unit', upn: 'au.reader@contoso.com', reason: /Reports Reader \(active, scoped to administrative unit/ },
    { what: 'an Authentication Administrator (on Microsoft\'s list, refused here)', upn: 'auth.admin@contoso.com', reason: /Authentication Administrator \(active, tenant-wide\)/ },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      h.sim.resetLog();
      const before = structuredClone(h.sim.tenant.methodsOf(c.upn));
      const result = await resetUser(c.upn);
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' && result.code).toBe('privileged-target');
      expect(result.status === 'rejected' && result.reason).toMatch(c.reason);
      expect(result.status === 'rejected' && result.reason).toMatch(/Privileged Authentication Administrator/);
      expect(h.sim.requestLog.filter((entry) => entry.write)).toEqual([]);
      expect(h.sim.tenant.methodsOf(c.upn)).toEqual(before);
    });
  }

  it('a role granted a moment ago, which the cast advanced query does not show yet', async () => {
    const user = h.sim.tenant.findUser('just.granted@contoso.com')!;
    h.sim.tenant.rbac.grant(user.id, 'Privileged Role Administrator');
    // The old guard's query reads the lagging index and sees nothing:
    const stale = await fetch(`${h.sim.url}/v1.0/users/${user.id}/transitiveMemberOf/microsoft.graph.directoryRole?$count=true`, { headers: { ConsistencyLevel: 'eventual' } });
    expect(((await stale.json()) as { value: unknown[] }).value).toEqual([]);

    h.sim.resetLog();
    const result = await resetUser('just.granted@contoso.com');
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.reason).toMatch(/Privileged Role Administrator \(active, tenant-wide\)/);
    expect(writesFor('just.granted@contoso.com')).toEqual([]);
  });

  it('reads current state only: no advanced query, no cast, the unified RBAC API and uncast transitiveMemberOf', async () => {
    h.sim.resetLog();
    await resetUser('reader@contoso.com');
    const reads = h.sim.requestLog.filter((entry) => !entry.write).map((entry) => decodeURIComponent(entry.url));
    expect(reads.some((url) => url.includes('microsoft.graph.directoryRole'))).toBe(false);
    expect(reads.some((url) => url.includes('$count'))).toBe(false);
    expect(reads).toContainEqual(expect.stringMatching(/^\/roleManagement\/directory\/roleAssignments\?\$filter=principalId eq '[0-9a-f-]{36}'/));
    expect(reads).toContainEqual(expect.stringMatching(/^\/roleManagement\/directory\/roleEligibilityScheduleInstances\?\$filter=principalId eq '/));
    expect(reads).toContainEqual(expect.stringMatching(/^\/users\/[0-9a-f-]{36}\/transitiveMemberOf\?/));
    expect(reads).toContainEqual(expect.stringMatching(/^\/groups\?\$filter=isAssignableToRole eq true/));
  });
});

describe('users who are not privileged are reset', () => {
  it('a plain member of an ordinary (nested) group', async () => {
    const result = await resetUser('plain@contoso.com');
    expect(result.status).toBe('completed');
    expect(h.sim.tenant.methodsOf('plain@contoso.com').map((m) => m.kind).sort()).toEqual(['password', 'temporaryAccessPass']);
  });

  it('a holder of allow-listed read-only roles, tenant-wide', async () => {
    const result = await resetUser('reader@contoso.com');
    expect(result.status).toBe('completed');
  });
});

describe('a guard read that fails or is refused never lets a reset through', () => {
  const reads = [
    { name: 'role assignments', path: /\/roleManagement\/directory\/roleAssignments/ },
    { name: 'PIM eligibilities', path: /\/roleManagement\/directory\/roleEligibilityScheduleInstances/ },
    { name: 'memberships', path: /\/transitiveMemberOf/ },
    { name: 'role-assignable groups', path: /^\/groups\?/ },
    { name: 'PIM for Groups eligibilities', path: /\/identityGovernance\/privilegedAccess\/group\/eligibilityScheduleInstances/ },
  ];
  for (const read of reads) {
    it(`${read.name} refused (403): rejected, naming the read, zero writes`, async () => {
      h.sim.resetLog();
      const result = await resetUser('faulted@contoso.com', (graph) => failing(graph, read.path, 403));
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' && result.code).toBe('guard-unverifiable');
      expect(result.status === 'rejected' && result.reason).toMatch(/nothing was changed.*Authorization_RequestDenied/);
      expect(writesFor('faulted@contoso.com')).toEqual([]);
    });

    it(`${read.name} failing (500): failed and retryable, zero writes, guards not recorded as passed`, async () => {
      h.sim.resetLog();
      const result = await resetUser('faulted@contoso.com', (graph) => failing(graph, read.path, 500));
      expect(result.status).toBe('failed');
      expect(result.status === 'failed' && result.transient).toBe(true);
      expect(result.state.guards).toBeUndefined();
      expect(writesFor('faulted@contoso.com')).toEqual([]);
    });
  }

  it('owners of a group beyond the expanded 20 are read in full, and that read failing refuses too', async () => {
    h.sim.resetLog();
    const result = await resetUser('faulted@contoso.com', (graph) => failing(graph, /\/owners\?/, 403));
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.reason).toMatch(/owners of role-assignable group Many owners/);
  });
});

describe('the simulator answers as Graph documents', () => {
  it('GET /users/{id}/ownedObjects answers an application (User.Read.All), listing the groups the user owns', async () => {
    const user = h.sim.tenant.findUser('group.owner@contoso.com')!;
    const response = await fetch(`${h.sim.url}/v1.0/users/${user.id}/ownedObjects`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { value: { '@odata.type': string; displayName: string }[] };
    expect(body.value).toEqual([expect.objectContaining({ '@odata.type': '#microsoft.graph.group', displayName: 'Role-assignable, no role' })]);
  });

  it('an unsupported $filter on roleAssignments is a 400, not an empty list', async () => {
    const response = await fetch(`${h.sim.url}/v1.0/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent("startswith(principalId,'a')")}`);
    expect(response.status).toBe(400);
  });

  it('refuses a tenant file that gives a role to a group that is not role-assignable', async () => {
    const { startGraphSimulator } = await import('../../dev/graph-sim');
    await expect(startGraphSimulator({ tenant: { domains: ['x.com'], groups: [{ displayName: 'G', roles: ['Global Administrator'] }], users: [] } })).rejects.toThrow(/not isAssignableToRole/);
  });
});
