import { describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { createGraphClient, runReset, type GraphTransport, type ResetResult } from '../../shared/graph';
import type { GuardSettings } from '../../shared/graph/guards';
import { fastRetry, noGuards, useSimulator } from './helpers';

/**
 * PIM for Groups: a user eligible for membership or ownership of a role-assignable group is no member
 * yet (transitiveMemberOf does not show it), but after signing in with a pass they activate it and hold
 * the group's roles. Read from identityGovernance/privilegedAccess/group/eligibilityScheduleInstances
 * (filtered on the user, as Graph requires), and refused like an active member, with zero writes.
 */

const phone = (n: number) => [
  { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555508${String(n).padStart(2, '0')}` },
  { type: 'microsoftAuthenticator' as const, displayName: `Phone ${n}` },
];

const PROTECTED = '5a0c6e2b-3f4d-4e5f-9a6b-7c8d9e0f1a2b';

const tenant: TenantFile = {
  domains: ['contoso.com'],
  groups: [
    { displayName: 'Tier 0 (PIM)', isAssignableToRole: true, roles: ['Global Administrator'], eligibleMembers: ['eligible.member@contoso.com'], eligibleOwners: ['eligible.owner@contoso.com'] },
    { displayName: 'Role-assignable, no role', isAssignableToRole: true, eligibleMembers: ['eligible.plain@contoso.com'] },
    { id: PROTECTED, displayName: 'Executives', eligibleMembers: ['eligible.exec@contoso.com'] },
    { displayName: 'Ordinary (PIM)', eligibleMembers: ['eligible.ordinary@contoso.com'] },
  ],
  users: [
    { userPrincipalName: 'eligible.member@contoso.com', methods: phone(1) },
    { userPrincipalName: 'eligible.owner@contoso.com', methods: phone(2) },
    { userPrincipalName: 'eligible.plain@contoso.com', methods: phone(3) },
    { userPrincipalName: 'eligible.exec@contoso.com', methods: phone(4) },
    { userPrincipalName: 'eligible.ordinary@contoso.com', methods: phone(5) },
    { userPrincipalName: 'just.made.eligible@contoso.com', methods: phone(6) },
  ],
};

const h = useSimulator({ tenant });

async function resetUser(upn: string, guards: GuardSettings = noGuards, wrap: (graph: GraphTransport) => GraphTransport = (graph) => graph): Promise<ResetResult> {
  const graph = wrap(createGraphClient({ GRAPH_BASE_URL: h.sim.url, GRAPH_AUTH: 'none' }));
  return runReset(graph, { target: { userPrincipalName: upn }, profile: 'all', revokeSessions: true, temporaryAccessPass: {}, dryRun: false }, { guards, retry: { ...fastRetry, maxAttempts: 2 } });
}

const writes = () => h.sim.requestLog.filter((entry) => entry.write);

describe('PIM for Groups eligibility', () => {
  const cases = [
    { what: 'eligible member of a role-assignable group holding Global Administrator', upn: 'eligible.member@contoso.com', reason: /PIM-eligible member of role-assignable group Tier 0 \(PIM\)/ },
    { what: 'eligible owner of a role-assignable group', upn: 'eligible.owner@contoso.com', reason: /PIM-eligible owner of role-assignable group Tier 0 \(PIM\)/ },
    { what: 'eligible member of a role-assignable group that holds no role', upn: 'eligible.plain@contoso.com', reason: /PIM-eligible member of role-assignable group Role-assignable, no role/ },
  ];
  for (const c of cases) {
    it(`${c.what}: rejected, privileged-target, zero writes`, async () => {
      h.sim.resetLog();
      const before = structuredClone(h.sim.tenant.methodsOf(c.upn));
      const result = await resetUser(c.upn);
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' && result.code).toBe('privileged-target');
      expect(result.status === 'rejected' && result.reason).toMatch(c.reason);
      expect(writes()).toEqual([]);
      expect(h.sim.tenant.methodsOf(c.upn)).toEqual(before);
    });
  }

  it('an eligibility granted a moment ago is seen (the read is current state, filtered on the user)', async () => {
    const user = h.sim.tenant.findUser('just.made.eligible@contoso.com')!;
    const tier0 = h.sim.tenant.groups.find((g) => g.displayName === 'Tier 0 (PIM)')!;
    h.sim.tenant.rbac.grantGroupEligibility(user.id, tier0.id, 'member');
    h.sim.resetLog();
    const result = await resetUser('just.made.eligible@contoso.com');
    expect(result.status === 'rejected' && result.reason).toMatch(/PIM-eligible member of role-assignable group Tier 0/);
    expect(writes()).toEqual([]);
    const read = h.sim.requestLog.find((entry) => entry.url.startsWith('/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances'));
    expect(decodeURIComponent(read!.url)).toBe(`/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=principalId eq '${user.id}'`);
  });

  it('eligible for a protected group: refused as protected-group, zero writes', async () => {
    h.sim.resetLog();
    const result = await resetUser('eligible.exec@contoso.com', { ...noGuards, protectedGroupIds: [PROTECTED] });
    expect(result.status === 'rejected' && result.code).toBe('protected-group');
    expect(result.status === 'rejected' && result.reason).toMatch(/PIM-eligible for protected group 5a0c6e2b/);
    expect(writes()).toEqual([]);
  });

  it('eligible for an ordinary group only: reset', async () => {
    const result = await resetUser('eligible.ordinary@contoso.com');
    expect(result.status).toBe('completed');
  });

  it('the simulator refuses the list without a principalId or groupId filter, as Graph documents', async () => {
    const bare = await fetch(`${h.sim.url}/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances`);
    expect(bare.status).toBe(400);
    const accessOnly = await fetch(`${h.sim.url}/v1.0/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=${encodeURIComponent("accessId eq 'member'")}`);
    expect(accessOnly.status).toBe(400);
  });

  it('the read refused for want of PrivilegedEligibilitySchedule.Read.AzureADGroup: rejected naming the permission, zero writes', async () => {
    h.sim.tenant.withheldPermissions.add('PrivilegedEligibilitySchedule.Read.AzureADGroup');
    try {
      h.sim.resetLog();
      const result = await resetUser('eligible.ordinary@contoso.com');
      expect(result.status === 'rejected' && result.code).toBe('guard-unverifiable');
      expect(result.status === 'rejected' && result.reason).toMatch(/PrivilegedEligibilitySchedule\.Read\.AzureADGroup/);
      expect(writes()).toEqual([]);
    } finally {
      h.sim.tenant.withheldPermissions.delete('PrivilegedEligibilitySchedule.Read.AzureADGroup');
    }
  });
});

describe('a tenant without the licence PIM needs', () => {
  const unlicensed = useSimulator({
    tenant: {
      domains: ['contoso.com'],
      pimLicensed: false,
      groups: [{ displayName: 'Tier 0', isAssignableToRole: true, roles: ['Global Administrator'] }],
      users: [
        { userPrincipalName: 'plain@contoso.com', methods: phone(7) },
        { userPrincipalName: 'admin@contoso.com', groups: ['Tier 0'], methods: phone(8) },
      ],
    },
  });
  const run = (upn: string) =>
    runReset(createGraphClient({ GRAPH_BASE_URL: unlicensed.sim.url, GRAPH_AUTH: 'none' }), { target: { userPrincipalName: upn }, profile: 'all', revokeSessions: true, dryRun: false }, { guards: noGuards, retry: { ...fastRetry, maxAttempts: 2 } });

  it('Graph answers both eligibility reads 400 AadPremiumLicenseRequired: nobody can be eligible, so a plain user is reset', async () => {
    const role = await fetch(`${unlicensed.sim.url}/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$filter=${encodeURIComponent("principalId eq 'x'")}`);
    expect(role.status).toBe(400);
    expect(((await role.json()) as { error: { code: string } }).error.code).toBe('AadPremiumLicenseRequired');
    const result = await run('plain@contoso.com');
    expect(result.status).toBe('completed');
  });

  it('active administrators are still refused there, and any other 400 from those reads still refuses', async () => {
    const admin = await run('admin@contoso.com');
    expect(admin.status === 'rejected' && admin.code).toBe('privileged-target');
    const inner = createGraphClient({ GRAPH_BASE_URL: unlicensed.sim.url, GRAPH_AUTH: 'none' });
    const otherRefusal: GraphTransport = {
      origin: inner.origin,
      async send(request) {
        if (request.path.includes('EligibilityScheduleInstances') || request.path.includes('eligibilityScheduleInstances')) {
          return { status: 400, requestId: 'injected', retryAfterSeconds: undefined, body: { error: { code: 'BadRequest', message: 'Invalid filter clause' } } };
        }
        return inner.send(request);
      },
    };
    unlicensed.sim.resetLog();
    const refused = await runReset(otherRefusal, { target: { userPrincipalName: 'plain@contoso.com' }, profile: 'all', revokeSessions: true, dryRun: false }, { guards: noGuards, retry: { ...fastRetry, maxAttempts: 2 } });
    expect(refused.status === 'rejected' && refused.code).toBe('guard-unverifiable');
    expect(unlicensed.sim.requestLog.filter((entry) => entry.write)).toEqual([]);
  });
});
