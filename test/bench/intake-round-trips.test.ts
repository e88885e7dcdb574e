import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countStorageRequests, type StorageRequestCounter } from '../../dev/bench/storage-requests';
import { loadSettings } from '../../shared/config';
import { receiveResetRequest, type IntakeDependencies } from '../../shared/intake/intake-service';
import { IntakeIndex } from '../../shared/requests/intake-index';
import { RequestIntegrity } from '../../shared/requests/request-integrity';
import { RequestStore } from '../../shared/requests/request-store';
import { ResetQueue } from '../../shared/requests/reset-queue';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';
import { secretSettings, signedHeaders, TEST_SECRETS, testIntegrity } from '../support/signing';
import { canonicalRequest } from '../intake/fixtures';

/**
 * What one accepted request costs in storage, counted (every HTTP request this process sends to
 * Azurite's table and queue ports), and the guarantees that cost must not weaken: a replay never makes
 * a second request, a reused key for another ticket is refused without taking that ticket over, and a
 * delivery answered with another's request stays answered so. The bench reports the same count under
 * load as `intake_storage_round_trips`.
 */
const azurite = useAzurite();
const integrity = new RequestIntegrity(TEST_SECRETS.intakeMacKey);
let deps: IntakeDependencies;
let counter: StorageRequestCounter;

beforeAll(() => {
  const connection = azurite.connectionString;
  const table = (name: string) => TableClient.fromConnectionString(connection, name, { allowInsecureConnection: true });
  deps = {
    settings: loadSettings({ AzureWebJobsStorage: connection, ...secretSettings(), REQUIRE_APPROVAL: 'false' }),
    store: new RequestStore(table(TABLES.requests), testIntegrity()),
    queue: new ResetQueue(new QueueClient(connection, QUEUES.resets)),
    index: new IntakeIndex(table(TABLES.intakeIndex)),
    integrity,
  };
  counter = countStorageRequests(azurite.running.ports);
});
afterAll(() => counter?.stop());

type Answer = { status: number; body: { id: string; status: string; previousRequestId?: string; error?: { code: string } } };

async function deliver(raw: string, headers: Record<string, string>): Promise<Answer & { trips: { table: number; queue: number } }> {
  counter.reset();
  const answer = await receiveResetRequest(
    { source: 'generic', body: Buffer.from(raw), headers: new Headers({ 'content-type': 'application/json', ...headers }) },
    deps,
  );
  const { table, queue } = counter.counts();
  return { status: answer.status, body: answer.jsonBody as Answer['body'], trips: { table, queue } };
}

const request = (ticket: string, upn = 'diego.siciliani@contoso.com') => JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: ticket }, target: { userPrincipalName: upn } }));

describe('storage round trips of the intake', () => {
  beforeAll(async () => {
    // The first call of each client creates its table or queue once per process: not per request.
    const raw = request('RT-WARM');
    expect((await deliver(raw, signedHeaders('generic', raw))).status).toBe(202);
  });

  it('a new request costs two table round trips (the ticket claim and the row) and one queue message', async () => {
    for (const ticket of ['RT-1', 'RT-2', 'RT-3']) {
      const raw = request(ticket);
      const answer = await deliver(raw, signedHeaders('generic', raw));
      expect(answer.status).toBe(202);
      expect(answer.trips).toEqual({ table: 2, queue: 1 });
    }
  });

  it('the same signed bytes again find their request (no replay record needed) and queue nothing', async () => {
    const raw = request('RT-REPLAY');
    const headers = signedHeaders('generic', raw);
    const first = await deliver(raw, headers);
    expect(first.status).toBe(202);
    for (const extra of [{}, { 'idempotency-key': 'fresh' }] as Record<string, string>[]) {
      const again = await deliver(raw, { ...headers, ...extra });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      // The claim meets the first delivery's (409), no replay record, the row by its id.
      expect(again.trips).toEqual({ table: 3, queue: 0 });
    }
    const stored = await deps.store.get(first.body.id);
    expect(stored?.status).toBe('accepted');
  });

  it('a webhook-id reused for another ticket is refused 422 and does not take that ticket over', async () => {
    const first = request('RT-KEY-A');
    const accepted = await deliver(first, signedHeaders('generic', first, { webhookId: 'msg_rt_reused' }));
    expect(accepted.status).toBe(202);
    const other = request('RT-KEY-B', 'nestor.wilke@contoso.com');
    const reused = await deliver(other, signedHeaders('generic', other, { webhookId: 'msg_rt_reused' }));
    expect(reused.status).toBe(422);
    expect(reused.body.error?.code).toBe('idempotency_conflict');
    expect(reused.trips.queue).toBe(0);
    // An honest delivery for ticket B makes B's own request, not an answer with A's.
    const honest = await deliver(other, signedHeaders('generic', other));
    expect(honest.status).toBe(202);
    expect(honest.body.id).not.toBe(accepted.body.id);
    expect(honest.body.previousRequestId).toBeUndefined();
    expect(await deps.store.get(honest.body.id)).toMatchObject({ ticketId: 'RT-KEY-B', targetUpn: 'nestor.wilke@contoso.com' });
  });

  it('even when taking the claim back fails, the reused key leaves ticket B free for its own request', async () => {
    const release = deps.index.releaseTicket.bind(deps.index);
    deps.index.releaseTicket = () => Promise.reject(new Error('storage gone for the release'));
    try {
      const first = request('RT-STUCK-A');
      const accepted = await deliver(first, signedHeaders('generic', first, { webhookId: 'msg_rt_stuck' }));
      expect(accepted.status).toBe(202);
      const other = request('RT-STUCK-B', 'nestor.wilke@contoso.com');
      expect((await deliver(other, signedHeaders('generic', other, { webhookId: 'msg_rt_stuck' }))).status).toBe(422);
      deps.index.releaseTicket = release;
      const honest = await deliver(other, signedHeaders('generic', other));
      expect(honest.status).toBe(202);
      expect(honest.body.id).not.toBe(accepted.body.id);
      expect(await deps.store.get(honest.body.id)).toMatchObject({ ticketId: 'RT-STUCK-B' });
      // And the ticket's lineage is B's own from then on: a new delivery for B answers B's request.
      const later = await deliver(other, signedHeaders('generic', other));
      expect(later.status).toBe(200);
      expect(later.body.id).toBe(honest.body.id);
    } finally {
      deps.index.releaseTicket = release;
    }
  });

  it('a delivery answered with the live request of its ticket is still answered so when replayed after that request failed', async () => {
    const first = request('RT-LIVE');
    const accepted = await deliver(first, signedHeaders('generic', first));
    expect(accepted.status).toBe(202);
    // A second delivery for the same ticket and target while the first is live: answered with it.
    const second = request('RT-LIVE');
    const secondHeaders = signedHeaders('generic', second);
    const live = await deliver(second, secondHeaders);
    expect(live.status).toBe(200);
    expect(live.body.id).toBe(accepted.body.id);
    // Claim (409), replay record, row by id, lineage, the live row, and this delivery's replay record.
    expect(live.trips).toEqual({ table: 6, queue: 0 });

    // The first request fails; the captured second delivery is replayed within its window.
    const row = (await deps.store.get(accepted.body.id))!;
    const { etag, ...fields } = row;
    await deps.store.update({ ...fields, status: 'failed' }, etag);
    const replayed = await deliver(second, secondHeaders);
    expect(replayed.status).toBe(200);
    expect(replayed.body.id).toBe(accepted.body.id);
    expect(replayed.trips).toEqual({ table: 3, queue: 0 });

    // A fresh delivery (new signed bytes) starts the linked new attempt, as before.
    const third = request('RT-LIVE');
    const retry = await deliver(third, signedHeaders('generic', third));
    expect(retry.status).toBe(202);
    expect(retry.body.previousRequestId).toBe(accepted.body.id);
    // Claim (409), replay record, row by id, lineage, the failed row, the lineage replaced, the new
    // row, the link on the failed row; and its queue message.
    expect(retry.trips).toEqual({ table: 8, queue: 1 });
  });
});
