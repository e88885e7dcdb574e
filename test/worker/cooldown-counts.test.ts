import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import type { GraphTransport } from '../../shared/graph';
import { silentLogger } from '../../shared/log';
import { getServices } from '../../shared/services';
import { processResetMessage, type Delivery } from '../../shared/worker/process-reset';
import type { WorkerDependencies } from '../../shared/worker/worker-dependencies';
import { workerDependencies } from '../../shared/worker/worker-services';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * The cooldown counts what happened to the user, not how the run ended: a run that deleted a method
 * and then failed counts. It is checked under the per-user lock, so two requests racing for one user
 * cannot both get below the limit.
 */

const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: 2 }, (_, index) => ({
    userPrincipalName: `cool${index}@contoso.com`,
    methods: [
      { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555508${index}0` },
      { type: 'softwareOath' as const },
      { type: 'microsoftAuthenticator' as const, displayName: `Phone ${index}` },
    ],
  })),
};

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({
    graph: { tenant },
    settings: { RESET_COOLDOWN_MAX: '1', RESET_COOLDOWN_MINUTES: '60', RESET_LEASE_SECONDS: '10' },
    definitions: functionDefinitions.filter((d) => d.trigger === 'http'),
  });
});
afterAll(async () => {
  await system?.stop();
});

const last: Delivery = { dequeueCount: 5, maxDequeueCount: 5 };
const first: Delivery = { dequeueCount: 1, maxDequeueCount: 5 };
const deps = (graph?: (inner: GraphTransport) => GraphTransport): WorkerDependencies => {
  const base = workerDependencies(getServices(), silentLogger);
  return { ...base, graph: graph ? graph(base.graph) : base.graph, engine: { retry: { baseDelayMs: 1, maxAttempts: 2 } } };
};

/** Lets the first DELETE through, then answers 500 to everything: the run deletes one method and fails. */
function failAfterFirstDelete(inner: GraphTransport): GraphTransport {
  let deleted = false;
  return {
    origin: inner.origin,
    async send(request) {
      if (deleted) return { status: 500, requestId: 'injected', retryAfterSeconds: undefined, body: { error: { code: 'InternalServerError', message: 'injected' } } };
      const response = await inner.send(request);
      if (request.method === 'DELETE' && response.status === 204) deleted = true;
      return response;
    },
  };
}

async function submit(upn: string, ticket: string): Promise<string> {
  const answer = await system.post('generic', { ticket: { system: 'generic', id: ticket }, target: { userPrincipalName: upn }, requestedBy: 'agent@contoso.com' });
  expect(answer.status).toBe(202);
  return answer.body.id;
}

describe('cooldown that counts', () => {
  it('a run that deleted a method and then failed counts against the cooldown', async () => {
    const id = await submit('cool0@contoso.com', 'CC-1');
    expect(await processResetMessage({ requestId: id }, last, deps(failAfterFirstDelete))).toBe('failed');
    expect(system.graph.tenant.removals.filter((r) => r.userPrincipalName === 'cool0@contoso.com')).toHaveLength(1);

    const again = await submit('cool0@contoso.com', 'CC-2');
    expect(await processResetMessage({ requestId: again }, first, deps())).toBe('rejected');
    const status = await system.status(again);
    expect(status.result?.code).toBe('cooldown');
    expect(system.graph.tenant.removals.filter((r) => r.userPrincipalName === 'cool0@contoso.com')).toHaveLength(1);
  });

  it('two requests racing for one user: one resets, the other waits for the lock and is then refused by the cooldown', { timeout: 30_000 }, async () => {
    const a = await submit('cool1@contoso.com', 'RACE-1');
    const b = await submit('cool1@contoso.com', 'RACE-2');
    const outcomes = await Promise.all([processResetMessage({ requestId: a }, first, deps()), processResetMessage({ requestId: b }, first, deps())]);
    expect(outcomes.filter((o) => o === 'completed')).toHaveLength(1);
    const loser = outcomes[0] === 'completed' ? b : a;
    const loserOutcome = outcomes[0] === 'completed' ? outcomes[1] : outcomes[0];
    if (loserOutcome !== 'rejected') {
      expect(loserOutcome).toBe('waiting-for-user');
      // Its delayed message comes back when the winner's lock would have run out (RESET_LEASE_SECONDS).
      let outcome = await processResetMessage({ requestId: loser }, first, deps());
      for (let i = 0; outcome === 'deferred' && i < 60; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        outcome = await processResetMessage({ requestId: loser }, first, deps());
      }
      expect(outcome).toBe('rejected');
    }
    expect((await system.status(loser)).result?.code).toBe('cooldown');
    // One reset's worth of removals: three methods, once each.
    expect(system.graph.tenant.removals.filter((r) => r.userPrincipalName === 'cool1@contoso.com')).toHaveLength(3);
  });
});
