import { describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { createGraphClient, runReset, type GraphTransport, type ResetState } from '../../shared/graph';
import { fastRetry, noGuards, reset, useSimulator, writesTo } from './helpers';

/**
 * The Temporary Access Pass policy's targets, checked before the first write: "Although you can create
 * a Temporary Access Pass for any user, only users included in the policy can sign in with it" (Entra's
 * TAP how-to). A request for a pass for a user the policy does not include (includeTargets: all_users,
 * groups, users; minus excludeTargets) is refused before anything is removed, naming the policy and what
 * to change; so is a policy nobody could read.
 */

const PASS_USERS = '55555555-0000-4000-8000-000000000001';
const NESTED = '55555555-0000-4000-8000-000000000002';
const EXCLUDED = '55555555-0000-4000-8000-000000000003';
const mobile = (n: number) => [{ type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555510${String(n).padStart(2, '0')}` }];

const tenant = (policy: TenantFile['temporaryAccessPassPolicy']): TenantFile => ({
  domains: ['contoso.com'],
  groups: [
    { id: PASS_USERS, displayName: 'Pass users' },
    { id: NESTED, displayName: 'Pass users, Lisbon', memberOf: ['Pass users'] },
    { id: EXCLUDED, displayName: 'No passes' },
  ],
  temporaryAccessPassPolicy: policy,
  users: [
    { userPrincipalName: 'in.group@contoso.com', groups: ['Pass users'], methods: mobile(1) },
    { userPrincipalName: 'in.nested@contoso.com', groups: ['Pass users, Lisbon'], methods: mobile(2) },
    { userPrincipalName: 'by.name@contoso.com', methods: mobile(3) },
    { userPrincipalName: 'outside@contoso.com', methods: mobile(4) },
    { userPrincipalName: 'excluded@contoso.com', groups: ['Pass users', 'No passes'], methods: mobile(5) },
    { userPrincipalName: 'resumed@contoso.com', methods: mobile(6) },
  ],
});

const h = useSimulator({ tenant: tenant({ includeTargets: ['Pass users', 'by.name@contoso.com'], excludeTargets: ['No passes'] }) });
const nobody = useSimulator({ tenant: tenant({ includeTargets: [] }) });

const writesOf = (sim: typeof h.sim, upn: string) => writesTo(sim, sim.tenant.findUser(upn)!.id);

describe("a pass for a user the policy does not include is refused before anything is removed", () => {
  it('targets shown as Graph documents them: authenticationMethodTargets with targetType group or user', async () => {
    const policy = (await (await fetch(`${h.sim.url}/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`)).json()) as Record<string, unknown>;
    expect(policy.includeTargets).toEqual([
      { targetType: 'group', id: PASS_USERS, isRegistrationRequired: false },
      { targetType: 'user', id: h.sim.tenant.findUser('by.name@contoso.com')!.id, isRegistrationRequired: false },
    ]);
    expect(policy.excludeTargets).toEqual([{ targetType: 'group', id: EXCLUDED }]);
  });

  for (const upn of ['in.group@contoso.com', 'in.nested@contoso.com', 'by.name@contoso.com']) {
    it(`${upn.split('@')[0]}: included, reset, and the pass issued`, async () => {
      const result = await reset(h.sim, { target: { userPrincipalName: upn }, temporaryAccessPass: {} });
      expect(result.status).toBe('completed');
      expect(result.temporaryAccessPass?.outcome).toBe('created');
    });
  }

  it('a user in none of the targets: rejected, naming what the policy targets and what to change, zero writes', async () => {
    const sim = h.sim;
    sim.resetLog();
    const result = await reset(sim, { target: { userPrincipalName: 'outside@contoso.com' }, temporaryAccessPass: {}, revokeSessions: true });
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.code).toBe('temporary-access-pass-not-targeted');
    expect(result.status === 'rejected' && result.reason).toMatch(
      new RegExp(`does not include outside@contoso\\.com \\(it targets group ${PASS_USERS}, user [0-9a-f-]{36}\\).*nothing was changed\\. Add the user, or a group they are in, to the policy's targets in Entra ID \\(Authentication methods > Policies > Temporary Access Pass\\), or send the request without a pass`),
    );
    expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
    expect(sim.tenant.methodsOf('outside@contoso.com').map((m) => m.kind).sort()).toEqual(['password', 'phone']);
  });

  it('an excluded group wins over an included one: rejected, naming the group', async () => {
    const sim = h.sim;
    sim.resetLog();
    const result = await reset(sim, { target: { userPrincipalName: 'excluded@contoso.com' }, temporaryAccessPass: {} });
    expect(result.status === 'rejected' && result.reason).toMatch(/excludes excluded@contoso\.com \(through group No passes \(55555555-0000-4000-8000-000000000003\)\)/);
    expect(writesOf(sim, 'excluded@contoso.com')).toEqual([]);
  });

  it('without a pass the same user is reset: the policy is not even read', async () => {
    const sim = h.sim;
    sim.resetLog();
    const result = await reset(sim, { target: { userPrincipalName: 'outside@contoso.com' } });
    expect(result.status).toBe('completed');
    expect(sim.requestLog.some((e) => e.url.includes('TemporaryAccessPass'))).toBe(false);
  });

  it('a policy that targets nobody refuses everyone who asks for a pass', async () => {
    const result = await reset(nobody.sim, { target: { userPrincipalName: 'in.group@contoso.com' }, temporaryAccessPass: {} });
    expect(result.status === 'rejected' && result.reason).toMatch(/\(it targets nobody\)/);
    expect(nobody.sim.requestLog.filter((e) => e.write)).toEqual([]);
  });

  it('on a resumed run that stopped after the guards, the check still holds (the groups read again)', async () => {
    const sim = h.sim;
    const graph = createGraphClient({ GRAPH_BASE_URL: sim.url, GRAPH_AUTH: 'none' });
    const input = { target: { userPrincipalName: 'outside@contoso.com' }, profile: 'portal' as const, revokeSessions: false, temporaryAccessPass: {}, dryRun: false };
    let saved: ResetState | undefined;
    await expect(
      runReset(graph, input, {
        guards: noGuards,
        retry: fastRetry,
        onStep: async (state, event) => {
          if (event.step === 'guards') {
            saved = state;
            throw new Error('worker stopped');
          }
        },
      }),
    ).rejects.toThrow(/worker stopped/);
    expect(saved?.guards?.outcome).toBe('passed');
    sim.resetLog();
    const resumed = await runReset(graph, input, { guards: noGuards, retry: fastRetry, state: saved });
    expect(resumed.status === 'rejected' && resumed.code).toBe('temporary-access-pass-not-targeted');
    expect(sim.requestLog.some((e) => e.url.includes('/transitiveMemberOf'))).toBe(true);
    expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
  });

  it('a policy read Graph fails (500): failed and retried later, never a pass on an unread policy, zero writes', async () => {
    const sim = h.sim;
    const inner = createGraphClient({ GRAPH_BASE_URL: sim.url, GRAPH_AUTH: 'none' });
    const broken: GraphTransport = {
      origin: inner.origin,
      send: async (request) => (request.path.includes('TemporaryAccessPass') ? { status: 500, requestId: 'x', retryAfterSeconds: undefined, body: { error: { code: 'InternalServerError', message: 'injected' } } } : inner.send(request)),
    };
    sim.resetLog();
    const result = await runReset(broken, { target: { userPrincipalName: 'in.group@contoso.com' }, profile: 'portal', revokeSessions: false, temporaryAccessPass: {}, dryRun: false }, { guards: noGuards, retry: { ...fastRetry, maxAttempts: 2 } });
    expect(result.status).toBe('failed');
    expect(result.status === 'failed' && result.transient).toBe(true);
    expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
  });

  it('a policy answer without includeTargets is not read as "everyone": refused', async () => {
    const sim = h.sim;
    const inner = createGraphClient({ GRAPH_BASE_URL: sim.url, GRAPH_AUTH: 'none' });
    const stripped: GraphTransport = {
      origin: inner.origin,
      async send(request) {
        const response = await inner.send(request);
        if (!request.path.includes('TemporaryAccessPass')) return response;
        const { includeTargets: _gone, ...rest } = response.body as Record<string, unknown>;
        return { ...response, body: rest };
      },
    };
    sim.resetLog();
    const result = await runReset(stripped, { target: { userPrincipalName: 'in.group@contoso.com' }, profile: 'portal', revokeSessions: false, temporaryAccessPass: {}, dryRun: false }, { guards: noGuards, retry: fastRetry });
    expect(result.status === 'rejected' && result.code).toBe('temporary-access-pass-policy-unreadable');
    expect(sim.requestLog.filter((e) => e.write)).toEqual([]);
  });
});
