import { describe, expect, it } from 'vitest';
import { demoTenant } from '../../dev/graph-sim';
import { resetStateSchema, withoutSecrets, type ResetState } from '../../shared/graph';
import { reset, removalCounts, useSimulator } from './helpers';

const h = useSimulator({
  tenant: {
    ...demoTenant,
    users: [
      ...demoTenant.users,
      ...['crash', 'tap', 'tap-lost'].map((name) => ({
        userPrincipalName: `${name}@contoso.com`,
        defaultMethod: 'sms' as const,
        methods: [
          { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: '+1 4255550177' },
          { type: 'phone' as const, phoneType: 'alternateMobile' as const, phoneNumber: '+1 4255550178' },
          { type: 'microsoftAuthenticator' as const, displayName: 'Phone' },
          { type: 'softwareOath' as const },
          { type: 'temporaryAccessPass' as const, lifetimeInMinutes: 60 },
        ],
      })),
    ],
  },
});

class Crash extends Error {}

describe('resuming from the persisted state', () => {
  it('after a crash at every step, finished steps are not repeated', async () => {
    const sim = h.sim;
    const upn = 'crash@contoso.com';
    const input = { target: { userPrincipalName: upn }, profile: 'portal' as const, revokeSessions: true, temporaryAccessPass: { lifetimeInMinutes: 30 } };
    let saved: ResetState | undefined;
    let secret: string | undefined;
    const steps: string[] = [];
    // Each run persists one more step, then "crashes"; the next run starts from what was persisted.
    for (let run = 0; run < 30; run += 1) {
      let persistedThisRun = 0;
      try {
        const result = await reset(sim, input, {
          concurrency: 1,
          ...(saved ? { state: resetStateSchema.parse(JSON.parse(JSON.stringify(saved))) } : {}),
          onStep: async (state, event) => {
            saved = state;
            steps.push(event.step === 'delete' ? `${event.step}:${event.outcome}` : event.step);
            if (++persistedThisRun === 1) throw new Crash('worker died');
          },
        });
        expect(result.status).toBe('completed');
        secret = result.oneTimeSecrets?.temporaryAccessPass;
        break;
      } catch (error) {
        if (!(error instanceof Crash)) throw error;
      }
    }
    expect(steps.slice(0, 5)).toEqual(['resolve', 'guards', 'snapshot', 'policy', 'plan']);
    expect(steps).toContain('revoke');
    expect(steps.filter((s) => s === 'revoke')).toHaveLength(1);
    expect(steps.filter((s) => s === 'temporaryAccessPass')).toHaveLength(1);
    const user = sim.tenant.findUser(upn)!;
    expect([...removalCounts(sim).values()].every((n) => n === 1)).toBe(true);
    // Not even a DELETE answered 404: a deletion recorded as done is never sent again.
    const deletes = sim.requestLog.filter((e) => e.method === 'DELETE' && e.url.includes(user.id));
    expect(deletes.map((e) => e.status)).toEqual(deletes.map(() => 204));
    expect(new Set(deletes.map((e) => e.url)).size).toBe(deletes.length);
    // The revoke runs side by side with the verification: a worker dying while both are in flight
    // sends the revoke again, which is harmless (it is idempotent). Deletions and passes never repeat.
    expect(sim.tenant.revocations.filter((r) => r.userId === user.id).length).toBeGreaterThanOrEqual(1);
    expect(sim.tenant.revocations.filter((r) => r.userId === user.id).length).toBeLessThanOrEqual(2);
    expect(sim.tenant.passesIssued.filter((p) => p.userId === user.id)).toHaveLength(1);
    // The old pass was replaced (one pass per user), the portal profile's other out-of-scope methods stay.
    expect(user.methods.map((m) => m.kind).sort()).toEqual(['password', 'temporaryAccessPass']);
    expect(user.methods.find((m) => m.kind === 'temporaryAccessPass')?.id).toBe(sim.tenant.passesIssued.at(-1)?.methodId);
    // The run that created the pass crashed before returning: its secret is gone, never in the state.
    expect(secret).toBeUndefined();
    expect(saved?.temporaryAccessPass?.outcome).toBe('created');
    // 30 minutes is below the tenant policy's 60-minute minimum: raised, and said so.
    expect(saved?.temporaryAccessPass?.lifetimeInMinutes).toBe(60);
    expect(saved?.temporaryAccessPass?.adjusted).toMatch(/lifetime 30 minutes raised to 60/);
  });
});

describe('revoke and Temporary Access Pass', () => {
  it('returns the pass only in oneTimeSecrets, never in state, events or the request log', async () => {
    const sim = h.sim;
    sim.resetLog();
    const upn = 'tap@contoso.com';
    const states: string[] = [];
    const result = await reset(
      sim,
      { target: { userPrincipalName: upn }, profile: 'portal', revokeSessions: true, temporaryAccessPass: { lifetimeInMinutes: 120, isUsableOnce: true } },
      { onStep: async (state) => void states.push(JSON.stringify(state)) },
    );
    expect(result.status).toBe('completed');
    const pass = result.oneTimeSecrets?.temporaryAccessPass;
    expect(pass).toMatch(/^\S{8,}$/);
    expect(result.temporaryAccessPass).toMatchObject({ outcome: 'created', lifetimeInMinutes: 120, isUsableOnce: true, secretAvailable: true });
    for (const json of [...states, JSON.stringify(result.state), JSON.stringify(withoutSecrets(result)), JSON.stringify(sim.requestLog)]) {
      expect(json).not.toContain(pass!);
      expect(json).not.toContain('4255550177');
    }
    const user = sim.tenant.findUser(upn)!;
    expect(sim.tenant.revocations.filter((r) => r.userId === user.id)).toHaveLength(1);
    // Every write carries Graph's request-id into the result.
    const writes = sim.requestLog.filter((e) => e.write && e.status < 300);
    expect(result.requestIds.sort()).toEqual(writes.map((e) => e.requestId).sort());
    expect(result.revoke?.requestId).toBe(writes.find((e) => e.url.endsWith('/revokeSignInSessions'))?.requestId);
  });

  it('a lost answer to the pass creation is not replayed into a second pass', async () => {
    const sim = h.sim;
    const upn = 'tap-lost@contoso.com';
    const user = sim.tenant.findUser(upn)!;
    let armed = false;
    const result = await reset(
      sim,
      { target: { userPrincipalName: upn }, profile: 'all', revokeSessions: true, temporaryAccessPass: {} },
      {
        onStep: async (_state, event) => {
          // Once the revoke is done, the next request (the pass creation) is carried out but its answer is lost.
          if (event.step === 'revoke' && !armed) {
            armed = true;
            sim.setFaults({ timeoutRate: 1, appliesTo: 'writes' });
          }
        },
      },
    );
    sim.setFaults({});
    // Methods gone, no usable pass: something asked for was not done.
    expect(result.status).toBe('partial');
    if (result.status !== 'partial') return;
    expect(result.reason).toMatch(/no Temporary Access Pass was issued/);
    expect(result.temporaryAccessPass?.outcome).toBe('unknown');
    expect(result.oneTimeSecrets).toBeUndefined();
    expect(sim.tenant.passesIssued.filter((p) => p.userId === user.id)).toHaveLength(1);
    // Resuming does not create another.
    const again = await reset(sim, { target: { userPrincipalName: upn }, profile: 'all', revokeSessions: true, temporaryAccessPass: {} }, { state: result.state });
    expect(again.status).toBe('partial');
    expect(sim.tenant.passesIssued.filter((p) => p.userId === user.id)).toHaveLength(1);
  });
});
