import type { RequestRow } from '../../shared/requests/request-row';
import { testIntegrity } from '../support/signing';
import { randomUUID } from 'node:crypto';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import { silentLogger, structuredLogger, type Logger } from '../../shared/log';
import { runSafetyNets, SAFETY_NET_SCHEDULE, safetyNets } from '../../shared/safety-nets';
import { getServices } from '../../shared/services';
import { encodeQueueMessage } from '../../shared/storage/clients';
import { QUEUES } from '../../shared/storage/names';
import { markTicketUpdatesPoisoned } from '../../shared/tickets/ticket-poison';
import { ticketDependencies } from '../../shared/tickets/ticket-services';
import { decodeBody, drainPoisonQueue } from '../../shared/worker/poison-drain';
import { markPoisoned } from '../../shared/worker/poisoned';
import { resetMessageSchema } from '../../shared/worker/reset-message';
import { workerDependencies } from '../../shared/worker/worker-services';
import { eventually } from '../support/eventually';
import { startSystem, type RunningSystem } from '../support/system';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system?.stop();
});

function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  return Object.assign(structuredLogger({ log: push, warn: push, error: push }), { lines });
}

/** One safety net's round, as the safetyNet timer runs it every 5 minutes, logging to `log`. */
async function safetyNet(name: string, log: Logger): Promise<void> {
  const net = safetyNets(getServices(), log).find((candidate) => candidate.name === name);
  if (!net) throw new Error(`no safety net ${name}`);
  expect(await runSafetyNets([net], log)).toEqual({ [name]: 'ok' });
}

async function queueNames(service: QueueServiceClient): Promise<string[]> {
  const names: string[] = [];
  for await (const queue of service.listQueues()) names.push(queue.name);
  return names;
}

/** A row as the intake writes it: with its request MAC under the test key. */
function signed(row: RequestRow): RequestRow {
  return { ...row, intakeMac: testIntegrity().rowMac(row) };
}

describe('poison handling', () => {
  it('checks request ids in messages as ids, before any storage call', () => {
    expect(resetMessageSchema.safeParse({ requestId: 'a/b#c?d' }).success).toBe(false);
    expect(resetMessageSchema.safeParse({ requestId: "x' or 1 eq 1" }).success).toBe(false);
    expect(resetMessageSchema.safeParse({ requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' }).success).toBe(true);
  });

  it('has no queue trigger on mfa-resets-poison: the Functions queue extension moves a body it cannot decode to <queue>-poison, so a trigger there would make mfa-resets-poison-poison', () => {
    const triggers = functionDefinitions.flatMap((d) => (d.trigger === 'storageQueue' ? [d.options.queueName] : []));
    expect(triggers).toContain(QUEUES.resets);
    expect(triggers).not.toContain(QUEUES.resetsPoison);
  });

  it('has no queue trigger on any *-poison queue, and the safety-net timer drains each poison queue the app has', () => {
    const poisonTriggers = functionDefinitions.flatMap((d) => (d.trigger === 'storageQueue' && d.options.queueName.endsWith('-poison') ? [d.name] : []));
    expect(poisonTriggers).toEqual([]);
    const timers = functionDefinitions.flatMap((d) => (d.trigger === 'timer' ? [[d.name, String(d.options.schedule)]] : []));
    expect(timers).toEqual([['safetyNet', SAFETY_NET_SCHEDULE]]);
    // Every poison queue the app knows has a net of its own, named for it.
    const nets = safetyNets(getServices(), silentLogger).map((net) => net.name);
    const poisonQueues = Object.values(QUEUES).filter((name) => name.endsWith('-poison'));
    expect(poisonQueues.sort()).toEqual([QUEUES.resetsPoison, QUEUES.ticketUpdatesPoison, QUEUES.beatsPoison].sort());
    for (const queue of poisonQueues) expect(nets).toContain(queue);
  });

  it('drops whatever reaches app-beats-poison: a beat is no record, and the safety net does the beats\' work anyway', async () => {
    const service = QueueServiceClient.fromConnectionString(system.azurite.connectionString);
    const poison = service.getQueueClient(QUEUES.beatsPoison);
    await poison.createIfNotExists();
    await poison.sendMessage('<not base64 at all>');
    await poison.sendMessage(encodeQueueMessage({ beat: 'bulk' }));
    const log = recording();
    await safetyNet(QUEUES.beatsPoison, log);
    expect((await poison.getProperties()).approximateMessagesCount).toBe(0);
    expect(log.lines.join('\n')).toMatch(/safety net: app-beats-poison.*"dropped":2/);
    expect(log.lines.join('\n')).not.toMatch(/not base64/);
  });

  it('drains unreadable bodies from ticket-updates-poison through the safety net: parked with a log, deleted, and no ticket-updates-poison-poison queue', async () => {
    const service = QueueServiceClient.fromConnectionString(system.azurite.connectionString);
    const updates = service.getQueueClient(QUEUES.ticketUpdates);
    const poison = service.getQueueClient(QUEUES.ticketUpdatesPoison);
    // Not Base64 on the main queue: moved to ticket-updates-poison unread, as the queue extension does.
    await updates.sendMessage('this is not base64 {');
    await eventually(async () => ((await updates.getProperties()).approximateMessagesCount === 0 ? true : undefined), 30_000, 200);
    // And written to the poison queue directly: raw text, Base64 of text, Base64 of a bad id, an id of no request.
    await poison.createIfNotExists();
    await poison.sendMessage('<not base64 at all> secret-looking words');
    await poison.sendMessage(Buffer.from('plain words, not json').toString('base64'));
    await poison.sendMessage(encodeQueueMessage({ requestId: 'a/b#c?d' }));
    await poison.sendMessage(encodeQueueMessage({ requestId: randomUUID() }));
    await eventually(async () => ((await poison.getProperties()).approximateMessagesCount === 5 ? true : undefined), 10_000, 200);

    const log = recording();
    const lines = log.lines;
    await safetyNet(QUEUES.ticketUpdatesPoison, log);

    expect((await poison.getProperties()).approximateMessagesCount).toBe(0);
    expect(lines.filter((line) => /ticket-updates poison message is not \{requestId\}; parked/.test(line))).toHaveLength(4);
    expect(lines.filter((line) => /names no request with ticket updates/.test(line))).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/safety net: ticket-updates-poison/);
    expect(lines.join('\n')).not.toMatch(/not base64|secret-looking|plain words|a\/b#c/);
    // A second run finds nothing and logs nothing.
    lines.length = 0;
    await safetyNet(QUEUES.ticketUpdatesPoison, log);
    expect(lines).toEqual([]);
    expect((await queueNames(service)).filter((name) => name.endsWith('-poison-poison'))).toEqual([]);
  }, 60_000);

  it('a readable ticket-updates poison message ends what was still open for its request as failed, audited, once', async () => {
    const service = QueueServiceClient.fromConnectionString(system.azurite.connectionString);
    const poison = service.getQueueClient(QUEUES.ticketUpdatesPoison);
    await poison.createIfNotExists();
    const deps = ticketDependencies(getServices(), silentLogger);
    const id = randomUUID();
    const at = new Date().toISOString();
    const outbox = { version: 1, status: 'completed', events: { outcome: { state: 'pending', channel: 'jira', attempts: 0, marker: `mfa-reset:${id}` } } };
    await deps.store.create(signed({
      id, idempotencyKey: `test:${id}`, source: 'jira', status: 'completed', statusReason: 'done',
      ticketSystem: 'jira', ticketId: 'SR-POISON-5', targetUpn: 'lee.gu@contoso.com', requestedBy: 'agent@contoso.com',
      profile: 'portal', revokeSessions: true, dryRun: false, attempts: 1, createdAt: at, updatedAt: at, ticketUpdates: JSON.stringify(outbox),
    }));
    await poison.sendMessage(encodeQueueMessage({ requestId: id }));
    await safetyNet(QUEUES.ticketUpdatesPoison, silentLogger);
    expect((await poison.getProperties()).approximateMessagesCount).toBe(0);
    const row = (await deps.store.get(id))!;
    expect(row.status).toBe('completed');
    const state = JSON.parse(row.ticketUpdates ?? '{}') as { events: Record<string, { state: string; error?: string }> };
    expect(state.events.outcome?.state).toBe('failed');
    expect(state.events.outcome?.error).toMatch(/poisoned/);
    // Once more (a message seen twice): nothing more is written.
    expect(await markTicketUpdatesPoisoned({ requestId: id }, deps)).toBe('already-settled');
    expect((await deps.audit.list(id)).filter((entry) => entry.action === 'ticket updates' && entry.outcome === 'failed')).toHaveLength(1);
  }, 60_000);

  it('never throws on the last try of a ticket-updates poison message: earlier tries throw (retried), the last leaves it for the ticket sweeper; a bad id never reaches storage', async () => {
    const deps = ticketDependencies(getServices(), silentLogger);
    let reads = 0;
    const broken = { ...deps, store: { ...deps.store, get: () => ((reads += 1), Promise.reject(new Error('storage down'))) } as unknown as typeof deps.store };
    const message = { requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' };
    await expect(markTicketUpdatesPoisoned(message, broken, { dequeueCount: 1, maxDequeueCount: 5 })).rejects.toThrow(/storage down/);
    expect(await markTicketUpdatesPoisoned(message, broken, { dequeueCount: 5, maxDequeueCount: 5 })).toBe('left-for-sweeper');
    reads = 0;
    for (const body of [undefined, null, 42, 'text', { requestId: 'a/b#c?d' }, { requestId: "x' or 1 eq 1" }, [message]]) {
      expect(await markTicketUpdatesPoisoned(body, broken, { dequeueCount: 1, maxDequeueCount: 5 })).toBe('parked');
    }
    expect(reads).toBe(0);
  });

  it('reads any body as the trigger would have handed it over, and the raw text when it is not Base64', () => {
    expect(decodeBody(encodeQueueMessage({ requestId: 'x' }))).toEqual({ requestId: 'x' });
    expect(decodeBody(Buffer.from('plain words').toString('base64'))).toBe('plain words');
    expect(decodeBody('this is not base64 {')).toBe('this is not base64 {');
    expect(decodeBody('{"requestId":"0f8fad5b-d9cb-469f-a165-70867728950e"}')).toBe('{"requestId":"0f8fad5b-d9cb-469f-a165-70867728950e"}');
    expect(decodeBody(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'))).toBe(Buffer.from([0xff, 0xfe, 0x00]).toString('base64'));
    expect(decodeBody('')).toBe('');
  });

  it('parks unreadable messages with a log (and an audit row on the request they name), deletes them, and no *-poison-poison queue is ever made', async () => {
    const service = QueueServiceClient.fromConnectionString(system.azurite.connectionString);
    const resets = service.getQueueClient(QUEUES.resets);
    const poison = service.getQueueClient(QUEUES.resetsPoison);

    const answer = await system.post('generic', {
      ticket: { system: 'generic', id: 'SR-POISON-1' },
      target: { userPrincipalName: 'adele.vance@contoso.com' },
      requestedBy: 'agent@contoso.com',
      dryRun: true,
    });
    expect(answer.status).toBe(202);
    const id = answer.body.id;
    await system.waitFor(id, ['planned']);

    // Not Base64 at all; not Base64 but naming the request; Base64 with an id that is no id.
    await resets.sendMessage('this is not base64 {');
    await resets.sendMessage(JSON.stringify({ requestId: id }));
    await resets.sendMessage(encodeQueueMessage({ requestId: 'a/b#c?d' }));
    // And what the Azure host itself puts on the poison queue for a body it could not decode: the raw text.
    await poison.createIfNotExists();
    await poison.sendMessage(`<not base64 at all> ${id}`);

    // The worker's queue is emptied: the unreadable ones moved to mfa-resets-poison, the bad id dropped.
    await eventually(async () => ((await resets.getProperties()).approximateMessagesCount === 0 ? true : undefined), 30_000, 200);
    await eventually(async () => ((await poison.getProperties()).approximateMessagesCount === 3 ? true : undefined), 10_000, 200);

    const log = recording();
    const report = await drainPoisonQueue(poison, workerDependencies(getServices(), log), { maxDequeueCount: 5 });
    expect(report).toEqual({ handled: { parked: 3 }, retried: 0 });
    expect((await poison.getProperties()).approximateMessagesCount).toBe(0);
    expect(log.lines.filter((line) => /poison message is not \{requestId\}; parked/.test(line))).toHaveLength(3);
    // A second run finds nothing.
    expect(await drainPoisonQueue(poison, workerDependencies(getServices(), silentLogger), { maxDequeueCount: 5 })).toEqual({ handled: {}, retried: 0 });

    expect((await queueNames(service)).filter((name) => name.endsWith('-poison-poison'))).toEqual([]);

    // The request the unreadable messages named was not changed; its audit says messages were set aside.
    const status = await system.status(id);
    expect(status.status).toBe('planned');
    expect(status.audit?.entries.filter((entry) => entry.action === 'poison-parked')).toHaveLength(2);
    expect(status.audit?.verified).toBe(true);
    // Nothing of the bodies reached the log, and the bad id was dropped as malformed, never sent to storage.
    expect(log.lines.join('\n')).not.toMatch(/not base64/);
    const hostLines = system.log.lines.join('\n');
    expect(hostLines).toMatch(/reset message is not \{requestId\}; dropped/);
    expect(hostLines).not.toMatch(/a\/b#c\?d/);
    expect(hostLines).not.toMatch(/table storage unavailable/);
  }, 60_000);

  it('marks a readable poisoned request failed; with storage down it leaves the message for the next run, and on the last try deletes it and leaves the request for the sweeper', async () => {
    const service = QueueServiceClient.fromConnectionString(system.azurite.connectionString);
    const poison = service.getQueueClient(QUEUES.resetsPoison);
    const answer = await system.post('generic', {
      ticket: { system: 'generic', id: 'SR-POISON-2' },
      target: { userPrincipalName: 'megan.bowen@contoso.com' },
      requestedBy: 'agent@contoso.com',
      dryRun: true,
    });
    const id = answer.body.id;
    await system.waitFor(id, ['planned']);

    const deps = workerDependencies(getServices(), silentLogger);
    const broken = { ...deps, store: { ...deps.store, get: () => Promise.reject(new Error('storage down')) } as unknown as typeof deps.store };
    await poison.sendMessage(encodeQueueMessage({ requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' }));
    // Storage down, not the last try: the message stays (invisible for the visibility timeout, then again).
    expect(await drainPoisonQueue(poison, broken, { maxDequeueCount: 2, visibilityTimeoutSeconds: 1 })).toEqual({ handled: {}, retried: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Its second and last try: given up without failing, and gone from the queue.
    expect(await drainPoisonQueue(poison, broken, { maxDequeueCount: 2, visibilityTimeoutSeconds: 1 })).toEqual({ handled: { 'left-for-sweeper': 1 }, retried: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await poison.getProperties()).approximateMessagesCount).toBe(0);

    // The same through markPoisoned directly: earlier tries throw (the message is retried), the last never does.
    const message = { requestId: '0f8fad5b-d9cb-469f-a165-70867728950e' };
    await expect(markPoisoned(message, broken, { dequeueCount: 1, maxDequeueCount: 5 })).rejects.toThrow(/storage down/);
    expect(await markPoisoned(message, broken, { dequeueCount: 5, maxDequeueCount: 5 })).toBe('left-for-sweeper');

    // A readable message naming a stored request that has not finished ends it failed; a finished one stays.
    await poison.sendMessage(encodeQueueMessage({ requestId: id }));
    expect(await drainPoisonQueue(poison, deps, { maxDequeueCount: 5 })).toEqual({ handled: { 'already-finished': 1 }, retried: 0 });
    expect((await system.status(id)).status).toBe('planned');

    const stuck = randomUUID();
    const at = new Date().toISOString();
    await deps.store.create(signed({
      id: stuck, idempotencyKey: `test:${stuck}`, source: 'generic', status: 'running', statusReason: 'attempt 5 failed: Graph answered 500',
      ticketSystem: 'generic', ticketId: 'SR-POISON-3', targetUpn: 'lee.gu@contoso.com', requestedBy: 'agent@contoso.com',
      profile: 'portal', revokeSessions: true, dryRun: false, attempts: 5, createdAt: at, updatedAt: at,
    }));
    await poison.sendMessage(encodeQueueMessage({ requestId: stuck }));
    expect(await drainPoisonQueue(poison, deps, { maxDequeueCount: 5 })).toEqual({ handled: { marked: 1 }, retried: 0 });
    const marked = await deps.store.get(stuck);
    expect(marked?.status).toBe('failed');
    expect(marked?.statusReason).toMatch(/moved to the poison queue; last: attempt 5 failed: Graph answered 500/);
    expect((await deps.audit.list(stuck)).map((entry) => entry.action)).toContain('poisoned');
  }, 60_000);

  it('does not fail a request a worker still holds: a message naming it is tried again once the lease has passed, and on its last try left to the holder', async () => {
    const service = QueueServiceClient.fromConnectionString(system.azurite.connectionString);
    const poison = service.getQueueClient(QUEUES.resetsPoison);
    const deps = workerDependencies(getServices(), silentLogger);
    const held = randomUUID();
    const at = new Date().toISOString();
    await deps.store.create(signed({
      id: held, idempotencyKey: `test:${held}`, source: 'generic', status: 'running', leaseUntil: new Date(Date.now() + 120_000).toISOString(),
      ticketSystem: 'generic', ticketId: 'SR-POISON-4', targetUpn: 'lee.gu@contoso.com', requestedBy: 'agent@contoso.com',
      profile: 'portal', revokeSessions: true, dryRun: false, attempts: 1, createdAt: at, updatedAt: at,
    }));
    // Anyone who can write to the queue can put this there; a running reset must not be cut short by it.
    await poison.sendMessage(encodeQueueMessage({ requestId: held }));
    expect(await drainPoisonQueue(poison, deps, { maxDequeueCount: 2, visibilityTimeoutSeconds: 1 })).toEqual({ handled: {}, retried: 1 });
    expect((await deps.store.get(held))?.status).toBe('running');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await drainPoisonQueue(poison, deps, { maxDequeueCount: 2, visibilityTimeoutSeconds: 1 })).toEqual({ handled: { 'held-elsewhere': 1 }, retried: 0 });
    const after = (await deps.store.get(held))!;
    expect(after.status).toBe('running');
    expect(await deps.audit.list(held)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await poison.getProperties()).approximateMessagesCount).toBe(0);

    // Once its lease has passed (its worker died), the poisoned message does end it failed.
    const { etag, ...fields } = after;
    await deps.store.update({ ...fields, leaseUntil: new Date(Date.now() - 1000).toISOString() }, etag);
    await poison.sendMessage(encodeQueueMessage({ requestId: held }));
    expect(await drainPoisonQueue(poison, deps, { maxDequeueCount: 5 })).toEqual({ handled: { marked: 1 }, retried: 0 });
    expect((await deps.store.get(held))?.status).toBe('failed');
  }, 60_000);
});
