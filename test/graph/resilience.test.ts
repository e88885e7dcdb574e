import { describe, expect, it } from 'vitest';
import { resetStateSchema, type ResetState } from '../../shared/graph';
import { fastRetry, reset, removalCounts, useSimulator } from './helpers';

const heavyUser = (n: number, userPrincipalName = `storm${n}@contoso.com`) => ({
  userPrincipalName,
  defaultMethod: 'push' as const,
  methods: [
    { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555502${String(n).padStart(2, '0')}` },
    { type: 'phone' as const, phoneType: 'alternateMobile' as const, phoneNumber: '+1 4255550300' },
    { type: 'phone' as const, phoneType: 'office' as const, phoneNumber: '+1 4255550301' },
    { type: 'microsoftAuthenticator' as const, displayName: 'Phone A' },
    { type: 'microsoftAuthenticator' as const, displayName: 'Phone B' },
    { type: 'softwareOath' as const },
    { type: 'fido2' as const, displayName: 'Key' },
    { type: 'email' as const, emailAddress: 'x@example.net' },
    { type: 'windowsHelloForBusiness' as const, displayName: 'PC' },
  ],
});

const h = useSimulator({
  tenant: { domains: ['contoso.com'], users: [...Array.from({ length: 12 }, (_, n) => heavyUser(n)), heavyUser(99, 'later@contoso.com')] },
  // A tight write budget with Retry-After in milliseconds, so the storm takes well under a second per user.
  throttle: { writesPerSecond: 200, readsPerSecond: 400, burst: 3, retryAfterPrecision: 'milliseconds' },
});

describe('a storm of 429, 503 and lost answers', () => {
  for (const [label, useBatch, users] of [
    ['single requests', false, [0, 1, 2, 3, 4, 5]],
    ['$batch', true, [6, 7, 8, 9, 10, 11]],
  ] as const) {
    // Every throttled try counts as an attempt, so a 503 after a dozen 429s would back off 5 ms x 2^11,
    // 10 s (the inline cap): the storm's backoffs are capped at a quarter of a second instead, as its
    // Retry-Afters are in milliseconds, so that it stays a test of outcomes, not of luck with time.
    it(`still completes, and no method is deleted twice (${label})`, async () => {
      const sim = h.sim;
      sim.setFaults({ rate503: 0.2, rate429: 0.1, timeoutRate: 0.1, retryAfterSeconds: 0.01, seed: useBatch ? 7 : 3 });
      try {
        const results = await Promise.all(
          users.map((n) => reset(sim, { target: { userPrincipalName: `storm${n}@contoso.com` }, profile: 'all', revokeSessions: true }, { useBatch, concurrency: 4, retry: { ...fastRetry, maxAttempts: 25, maxInlineWaitSeconds: 0.25 } })),
        );
        for (const [index, result] of results.entries()) {
          expect(result.status, `storm${users[index]}: ${'reason' in result ? result.reason : ''}`).toBe('completed');
          expect(sim.tenant.methodsOf(`storm${users[index]}@contoso.com`).map((m) => m.kind)).toEqual(['password']);
          // A lost answer to a DELETE that did happen comes back as 404 and is counted as already gone.
          for (const method of result.methods.filter((m) => m.kind !== 'password')) expect(['deleted', 'already-gone']).toContain(method.outcome);
        }
      } finally {
        sim.setFaults({});
      }
      expect([...removalCounts(sim).values()].every((count) => count === 1)).toBe(true);
      const log = sim.requestLog;
      expect(log.some((e) => e.status === 429 && !e.fault)).toBe(true); // the token bucket throttled
      expect(log.some((e) => e.fault === 'rate503')).toBe(true);
      expect(log.some((e) => e.fault === 'timeout')).toBe(true);
      if (useBatch) {
        expect(log.some((e) => e.batch !== undefined && e.status === 429)).toBe(true);
        expect(log.filter((e) => e.url === '/$batch').length).toBeGreaterThan(0);
      }
    });
  }
});

describe('a long Retry-After ends the run with retry-later, and the next run resumes', () => {
  it('returns retryAt instead of sleeping, then finishes without repeating a deletion', async () => {
    const sim = h.sim;
    const upn = 'later@contoso.com';
    const user = sim.tenant.findUser(upn)!;
    const persisted: ResetState[] = [];
    let deletes = 0;
    const started = Date.now();
    const first = await reset(
      sim,
      { target: { userPrincipalName: upn }, profile: 'all' },
      {
        maxInlineWaitSeconds: 5,
        onStep: async (state, event) => {
          persisted.push(state);
          if (event.step === 'delete' && ++deletes === 3) sim.setFaults({ rate429: 1, retryAfterSeconds: 120, appliesTo: 'writes' });
        },
      },
    );
    sim.setFaults({});
    expect(first.status).toBe('retry-later');
    if (first.status !== 'retry-later') return;
    expect(Date.now() - started).toBeLessThan(5000);
    const retryAt = Date.parse(first.retryAt);
    expect(retryAt - started).toBeGreaterThan(110_000);
    expect(first.reason).toMatch(/Retry-After 120/);

    const removedBefore = sim.tenant.removals.filter((r) => r.userPrincipalName === upn).map((r) => r.methodId);
    expect(removedBefore.length).toBeGreaterThanOrEqual(3);
    // The worker stores the state as JSON and hands it back on the next delivery.
    const stored = JSON.parse(JSON.stringify(persisted.at(-1))) as unknown;
    const second = await reset(sim, { target: { userPrincipalName: upn }, profile: 'all' }, { state: resetStateSchema.parse(stored) });
    expect(second.status).toBe('completed');
    expect(sim.tenant.methodsOf(upn).map((m) => m.kind)).toEqual(['password']);
    expect([...removalCounts(sim).values()].every((count) => count === 1)).toBe(true);
    // Every method went exactly once, across both runs; the second run sent nothing for the first run's.
    const done = sim.requestLog.filter((e) => e.method === 'DELETE' && e.url.includes(user.id) && e.status === 204).map((e) => e.url.split('/').at(-1));
    expect(done.sort()).toEqual([...new Set(done)].sort());
    expect(done).toHaveLength(9);
    for (const id of removedBefore) expect(second.state.deletions[id]?.attempts).toBe(1);
  });
});
