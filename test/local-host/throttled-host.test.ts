import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { startSystem, type RunningSystem } from '../support/system';

const USERS = 30;
const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: USERS + 1 }, (_, index) => ({
    userPrincipalName: `held${index}@contoso.com`,
    defaultMethod: 'push' as const,
    methods: [
      { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555522${String(index).padStart(2, '0')}` },
      { type: 'microsoftAuthenticator' as const, displayName: `Phone ${index}` },
    ],
  })),
};

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ graph: { tenant }, settings: { GRAPH_MAX_INLINE_WAIT_SECONDS: '2', RESET_LEASE_SECONDS: '30' } });
});
afterAll(async () => {
  await system?.stop();
});

const post = (user: number, extra: Record<string, unknown> = {}) =>
  system.post('generic', {
    ticket: { system: 'generic', id: `HELD-${user}-${Math.random().toString(36).slice(2, 8)}` },
    target: { userPrincipalName: `held${user}@contoso.com` },
    requestedBy: 'agent@contoso.com',
    ...extra,
  });

describe('the local host while Graph answers every write 429 with Retry-After 150 s', () => {
  it('holds no invocation: more resets than the poller runs at once are all re-queued, and later work is still fetched and done', async () => {
    system.graph.setFaults({ rate429: 1, retryAfterSeconds: 150, appliesTo: 'writes' });
    try {
      // More than batchSize + newBatchThreshold (16 + 8): if invocations slept, the poller would stop fetching.
      const ids = await Promise.all(Array.from({ length: USERS }, async (_, user) => (await post(user)).body.id));
      const deferred = await Promise.all(
        ids.map((id) =>
          (async () => {
            for (let i = 0; i < 300; i += 1) {
              const body = await system.status(id);
              if (/resumes at/.test(body.statusReason ?? '')) return body;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return system.status(id);
          })(),
        ),
      );
      expect(deferred.every((body) => body.status === 'accepted' && /resumes at/.test(body.statusReason ?? ''))).toBe(true);

      // Work that needs no write budget still runs at once: the poller keeps fetching.
      const dryRun = await post(USERS, { dryRun: true });
      expect((await system.waitFor(dryRun.body.id, ['planned'], 20_000)).status).toBe('planned');
    } finally {
      system.graph.setFaults({});
    }
  }, 120_000);
});
