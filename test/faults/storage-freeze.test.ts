import { testIntegrity } from '../support/signing';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import type { RequestRow } from '../../shared/requests/request-row';
import { RequestStore } from '../../shared/requests/request-store';
import { getServices } from '../../shared/services';
import { TABLES } from '../../shared/storage/names';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * Storage frozen with SIGSTOP (the process stops answering, its sockets stay open: what a storage
 * stall looks like from the app). An insert sent into the stall may land when storage goes on.
 */
let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ definitions: functionDefinitions.filter((d) => d.trigger === 'http') });
});
afterAll(async () => {
  thaw();
  await system?.stop();
});

function freeze(): void {
  process.kill(system.azurite.pid!, 'SIGSTOP');
}
function thaw(): void {
  if (system?.azurite.pid) process.kill(system.azurite.pid, 'SIGCONT');
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function table(): TableClient {
  return TableClient.fromConnectionString(system.azurite.connectionString, TABLES.requests, { allowInsecureConnection: true });
}

function row(): RequestRow {
  const id = randomUUID();
  const at = new Date().toISOString();
  return {
    id,
    idempotencyKey: `test:${id}`,
    source: 'generic',
    status: 'accepted',
    ticketSystem: 'generic',
    ticketId: `SR-${id.slice(0, 8)}`,
    targetUpn: 'adele.vance@contoso.com',
    requestedBy: 'agent@contoso.com',
    profile: 'portal',
    revokeSessions: true,
    dryRun: false,
    attempts: 0,
    createdAt: at,
    updatedAt: at,
  };
}

async function ticketsStored(): Promise<Set<string>> {
  const tickets = new Set<string>();
  for await (const entity of table().listEntities<{ ticketId: string }>({ queryOptions: { select: ['ticketId'] } })) tickets.add(entity.ticketId);
  return tickets;
}

describe('an insert into frozen storage', () => {
  it('is resolved before answering: a timed-out insert is sent again until storage says, and then it is stored', async () => {
    const store = new RequestStore(table(), testIntegrity(), { timeoutMs: 1500, settleMs: 15_000 });
    await store.create(row()); // the table exists and this store knows it
    const request = row();
    freeze();
    const thawing = sleep(5000).then(thaw);
    try {
      const result = await store.create(request);
      expect(result.created).toBe(true);
    } finally {
      await thawing;
    }
    expect((await store.get(request.id))?.createdAt).toBe(request.createdAt);
  }, 30_000);

  it('says the outcome is unknown, not "not stored", when storage stays silent past the deadline', async () => {
    const store = new RequestStore(table(), testIntegrity(), { timeoutMs: 800, settleMs: 1500 });
    await store.create(row());
    const request = row();
    freeze();
    try {
      await expect(store.create(request)).rejects.toMatchObject({ name: 'StorageOutcomeUnknownError' });
    } finally {
      thaw();
    }
  }, 30_000);

  it('answers no 503 for a request that was stored: storage frozen for 10 s at the moment of an insert, ten requests in flight', async () => {
    // Freeze exactly while the intake's insert is on its way, as in the incident: the insert reaches
    // storage's socket, the intake's 5 s timeout fires, and storage carries the insert out on thawing.
    const client = getServices().storage.table(TABLES.requests);
    const insert = client.createEntity.bind(client);
    let thawed: Promise<void> | undefined;
    client.createEntity = (async (...args: Parameters<typeof insert>) => {
      if (!thawed) {
        freeze();
        thawed = sleep(10_000).then(thaw);
      }
      return insert(...args);
    }) as typeof insert;
    const answers: { ticket: string; status: number }[] = [];
    try {
      await Promise.all(
        Array.from({ length: 10 }, async (_, index) => {
          await sleep(index * 200);
          const ticket = `FREEZE-${index}-${randomUUID().slice(0, 6)}`;
          const answer = await system.post('generic', {
            ticket: { system: 'generic', id: ticket },
            target: { userPrincipalName: 'adele.vance@contoso.com' },
            requestedBy: 'agent@contoso.com',
          });
          answers.push({ ticket, status: answer.status });
        }),
      );
    } finally {
      client.createEntity = insert;
      await thawed;
    }
    // Anything still inside storage has landed by now.
    await sleep(2000);
    const stored = await ticketsStored();
    expect(answers).toHaveLength(10);
    for (const answer of answers) {
      expect([202, 503, 504], answer.ticket).toContain(answer.status);
      if (answer.status === 202) expect(stored.has(answer.ticket), `${answer.ticket} answered 202`).toBe(true);
      if (answer.status === 503) expect(stored.has(answer.ticket), `${answer.ticket} answered 503 "not stored"`).toBe(false);
    }
    // The request whose insert met the freeze waited for storage's answer: stored, and answered so.
    expect(answers.filter((answer) => answer.status === 202).length).toBeGreaterThan(0);
    // Every stored request was answered 202 (or, at worst, "outcome unknown"), none "not stored".
    const ours = answers.filter((answer) => stored.has(answer.ticket));
    expect(ours.every((answer) => answer.status !== 503)).toBe(true);
  }, 60_000);
  it('a 409 whose row cannot be read back is settled, not answered "not stored": the row may be this insert\'s own', async () => {
    const client = table();
    const store = new RequestStore(client, testIntegrity(), { timeoutMs: 1500, settleMs: 5000 });
    const request = row();
    // The first try landed (as when the SDK retried it): this insert meets its own row.
    await store.create(request);
    const read = client.getEntity.bind(client);
    let failures = 0;
    client.getEntity = (async (...args: Parameters<typeof read>) => {
      if (failures === 0) {
        failures += 1;
        const timeout = new Error('The operation was aborted.');
        timeout.name = 'AbortError';
        throw timeout;
      }
      return read(...args);
    }) as typeof read;
    try {
      const result = await store.create(request);
      expect(result.created).toBe(true);
      expect(result.request.id).toBe(request.id);
    } finally {
      client.getEntity = read;
    }
    expect(failures).toBe(1);
  }, 30_000);

  it('many inserts in flight when storage freezes for 10 s, more requests arriving meanwhile: every 503 has no row, every stored one was answered 202 or 504', async () => {
    // As in the incident: several inserts reach storage's sockets, then storage stops answering.
    const client = getServices().storage.table(TABLES.requests);
    const insert = client.createEntity.bind(client);
    const IN_FLIGHT = 6;
    let arrived = 0;
    let frozen: Promise<void> | undefined;
    let go!: () => void;
    const allThere = new Promise<void>((resolve) => (go = resolve));
    const fallback = setTimeout(() => go(), 5000);
    client.createEntity = (async (...args: Parameters<typeof insert>) => {
      arrived += 1;
      if (arrived === IN_FLIGHT) go();
      await allThere;
      if (!frozen) {
        freeze();
        frozen = sleep(10_000).then(thaw);
      }
      return insert(...args);
    }) as typeof insert;
    const answers: { ticket: string; status: number; code?: string }[] = [];
    const post = async (label: string) => {
      const ticket = `${label}-${randomUUID().slice(0, 8)}`;
      const answer = await system.post('generic', {
        ticket: { system: 'generic', id: ticket },
        target: { userPrincipalName: 'adele.vance@contoso.com' },
        requestedBy: 'agent@contoso.com',
      });
      answers.push({ ticket, status: answer.status, code: (answer.body as { error?: { code?: string } }).error?.code });
    };
    try {
      const inFlight = Array.from({ length: IN_FLIGHT }, (_, index) => post(`INFLIGHT-${index}`));
      await allThere;
      await sleep(300);
      // Arriving while storage is frozen: their reads time out before any insert is sent.
      const late = Array.from({ length: 4 }, async (_, index) => {
        await sleep(index * 300);
        await post(`LATE-${index}`);
      });
      await Promise.all([...inFlight, ...late]);
    } finally {
      clearTimeout(fallback);
      client.createEntity = insert;
      await frozen;
    }
    await sleep(2000);
    const stored = await ticketsStored();
    expect(answers).toHaveLength(IN_FLIGHT + 4);
    for (const answer of answers) {
      expect([202, 503, 504], `${answer.ticket} ${answer.status}`).toContain(answer.status);
      if (answer.status === 503) {
        expect(stored.has(answer.ticket), `${answer.ticket} answered 503 "not stored"`).toBe(false);
        expect(answer.code).toBe('storage_unavailable');
      }
      if (answer.status === 202) expect(stored.has(answer.ticket), `${answer.ticket} answered 202`).toBe(true);
      if (answer.status === 504) expect(answer.code).toBe('storage_outcome_unknown');
    }
    // Every insert that met the freeze was carried out when storage went on, and none was called "not stored".
    const inFlightAnswers = answers.filter((answer) => answer.ticket.startsWith('INFLIGHT-'));
    expect(inFlightAnswers.filter((answer) => stored.has(answer.ticket)).length).toBeGreaterThan(0);
    expect(inFlightAnswers.filter((answer) => answer.status === 503)).toEqual([]);
    // The check is not vacuous: requests that met the freeze before their insert were refused, and not stored.
    expect(answers.filter((answer) => answer.status === 503).length).toBeGreaterThan(0);
  }, 90_000);
});
