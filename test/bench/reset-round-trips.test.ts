import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStorageRequests, type StorageRequestCounter } from '../../dev/bench/storage-requests';
import type { TenantFile } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import { silentLogger } from '../../shared/log';
import { getServices } from '../../shared/services';
import { processResetMessage } from '../../shared/worker/process-reset';
import type { WorkerDependencies } from '../../shared/worker/worker-dependencies';
import { workerDependencies } from '../../shared/worker/worker-services';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * What the worker's part of one reset costs in storage, counted (every request this process sends to
 * Azurite's table and queue ports), for the bench's user: a mobile phone and the Authenticator (the
 * default), so two deletions and a session revocation, three Graph writes. The bench reports the same
 * under load as `e2e_table_round_trips`, with the intake's two inserts. Graph pacing's own shared state
 * (a heartbeat every few seconds, not per reset) is left out: the worker here sends Graph unpaced.
 */
const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: 6 }, (_, index) => ({
    userPrincipalName: `trips${index}@contoso.com`,
    defaultMethod: 'push' as const,
    methods: [
      { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555599${index}0` },
      { type: 'microsoftAuthenticator' as const, displayName: `Phone ${index}` },
    ],
  })),
};

let system: RunningSystem;
let counter: StorageRequestCounter;
beforeAll(async () => {
  system = await startSystem({ graph: { tenant }, definitions: functionDefinitions.filter((d) => d.trigger === 'http') });
  counter = countStorageRequests(system.azurite.ports);
});
afterAll(async () => {
  counter?.stop();
  await system?.stop();
});

const deps = (): WorkerDependencies => ({ ...workerDependencies(getServices(), silentLogger), graph: getServices().graph });

async function reset(user: number) {
  const answer = await system.post('generic', { ticket: { system: 'generic', id: `TRIPS-${user}` }, target: { userPrincipalName: `trips${user}@contoso.com` }, requestedBy: 'agent@contoso.com' });
  expect(answer.status).toBe(202);
  counter.reset();
  const outcome = await processResetMessage({ requestId: answer.body.id }, { dequeueCount: 1, maxDequeueCount: 5 }, deps());
  const trips = counter.counts();
  return { id: answer.body.id, outcome, trips };
}

describe("storage round trips of the worker's part of a reset", () => {
  beforeAll(async () => {
    // The first call of each client creates its table once per process: not per reset.
    expect((await reset(0)).outcome).toBe('completed');
  });

  it('ten table round trips for three Graph writes, and nothing on the queue', async () => {
    for (const user of [1, 2, 3]) {
      const { id, outcome, trips } = await reset(user);
      expect(outcome).toBe('completed');
      // Read the row; read and take the user's lock (one query, one transaction); the claim; the audit
      // batch with each of the three writes' intents; the last audit rows; the final row; the lock let go.
      expect(trips.table).toBe(10);
      expect(trips.queue).toBe(0);
      // The trail is whole: every step and every write, in order, under a head the row names.
      const status = await system.status(id);
      expect(status.audit?.verified).toBe(true);
      const actions = status.audit!.entries.map((entry) => entry.action.split(' ')[0]);
      expect(actions[0]).toBe('start');
      expect(actions.filter((action) => action === 'intent')).toHaveLength(3);
      expect(actions.filter((action) => action === 'sent')).toHaveLength(3);
      expect(actions).toEqual(expect.arrayContaining(['resolve', 'guards', 'snapshot', 'plan', 'delete', 'verify', 'revoke']));
      expect(actions.at(-1)).toBe('finish');
    }
  });
});
