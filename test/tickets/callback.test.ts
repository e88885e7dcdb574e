import { TABLES } from '../../shared/storage/names';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Integration tests on a shared two-core machine: waits are generous, the assertions are not.
vi.setConfig({ testTimeout: 150_000 });
import { functionDefinitions } from '../../functions/all';
import type { GraphTransport } from '../../shared/graph';
import { structuredLogger } from '../../shared/log';
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import { callbackUrlProblem } from '../../shared/tickets/callback-url';
import { processTicketUpdate } from '../../shared/tickets/process-ticket-update';
import { ticketDependencies } from '../../shared/tickets/ticket-services';
import { processResetMessage } from '../../shared/worker/process-reset';
import { workerDependencies } from '../../shared/worker/worker-services';
import { TEST_SECRETS } from '../support/signing';
import { startTicketSystem, ticketStatus, type TicketSystem } from './support';

const CALLBACK_SECRET = 'whsec_kT3w9Zq1bN6cR2xV8mL4pA7sD0fG5hJ1kE9uY3tW6iQ=';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A caller's webhook receiver on loopback: records every delivery, answers from a queue (then 200). */
async function startReceiver() {
  const received: Received[] = [];
  const answers: { status: number; headers?: Record<string, string> }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      received.push({ path: req.url ?? '/', headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? { status: 200 };
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    answerNext: (...next: { status: number; headers?: Record<string, string> }[]) => answers.push(...next),
    on: (path: string) => received.filter((entry) => entry.path === path),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let t: TicketSystem;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let elsewhere: Awaited<ReturnType<typeof startReceiver>>;
const passes: string[] = [];
const log = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });

beforeAll(async () => {
  receiver = await startReceiver();
  elsewhere = await startReceiver();
  // No queue triggers: the test runs the worker and the outbox itself, watching what Graph hands out.
  t = await startTicketSystem({
    definitions: functionDefinitions.filter((d) => d.trigger === 'http'),
    settings: { CALLBACK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`, CALLBACK_SIGNING_SECRET: CALLBACK_SECRET },
  });
});
afterAll(async () => {
  await t?.stop();
  await receiver?.stop();
  await elsewhere?.stop();
});

function watchingGraph(): GraphTransport {
  const base = getServices().graph;
  return {
    origin: base.origin,
    async send(request) {
      const response = await base.send(request);
      const body = response.body as { temporaryAccessPass?: unknown } | undefined;
      if (typeof body?.temporaryAccessPass === 'string') passes.push(body.temporaryAccessPass);
      return response;
    },
  };
}

async function submit(ticket: string, upn: string, callbackUrl: string, extra: Record<string, unknown> = {}) {
  const answer = await t.system.post('generic', { ticket: { system: 'acme-itsm', id: ticket }, target: { userPrincipalName: upn }, requestedBy: 'agent@contoso.com', callbackUrl, ...extra });
  expect(answer.status).toBe(202);
  const outcome = await processResetMessage({ requestId: answer.body.id }, { dequeueCount: 1, maxDequeueCount: 5 }, { ...workerDependencies(getServices(), log), graph: watchingGraph() });
  expect(['completed', 'partial', 'rejected']).toContain(outcome);
  return answer.body.id;
}

/** Runs the outbox by hand until the callback is settled (posted, failed) or the tries run out. */
async function drainOutbox(id: string) {
  const deps = { ...ticketDependencies(getServices(), log), queue: { send: async () => undefined } };
  for (let i = 0; i < 30; i += 1) {
    await processTicketUpdate({ requestId: id }, deps);
    const record = (await ticketStatus(t.system, id)).ticketUpdates?.events.callback;
    if (record && ['posted', 'failed', 'skipped'].includes(record.state)) return record;
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  throw new Error('the callback never settled');
}

describe("a generic caller's callbackUrl", () => {
  it('gets the outcome once, signed as Standard Webhooks with CALLBACK_SIGNING_SECRET, with no pass, secret or phone number', async () => {
    const id = await submit('ACME-1', 'megan.bowen@contoso.com', receiver.url('/hooks/one'), { temporaryAccessPass: { lifetimeInMinutes: 60 } });
    const record = await drainOutbox(id);
    expect(record).toMatchObject({ state: 'posted', channel: 'callback', attempts: 1 });
    const [delivery, ...more] = receiver.on('/hooks/one');
    expect(more).toHaveLength(0);

    // The receiver verifies it with the reference library and its own secret; the request secret does not verify it.
    const payload = new Webhook(CALLBACK_SECRET).verify(delivery!.body, delivery!.headers) as { type: string; data: Record<string, unknown> };
    expect(() => new Webhook(TEST_SECRETS.generic).verify(delivery!.body, delivery!.headers)).toThrow();
    expect(payload.type).toBe('mfa_reset.outcome');
    expect(payload.data).toMatchObject({ requestId: id, ticket: { system: 'acme-itsm', id: 'ACME-1' }, temporaryAccessPass: 'issued', statusPath: `/api/resets/${id}` });
    expect(['completed', 'partial']).toContain(payload.data.status);
    // Kinds with masked details, as the note shows them.
    expect(JSON.stringify(payload.data.methodsRemoved)).toContain('office +1 425*****12');

    expect(passes).toHaveLength(1);
    for (const secret of [passes[0]!, '4255550111', '4255550112', 'C302-00471234', CALLBACK_SECRET, TEST_SECRETS.generic, TEST_SECRETS.intakeMacKey]) {
      expect(delivery!.body.includes(secret) || JSON.stringify(delivery!.headers).includes(secret), `found ${secret.slice(0, 4)}…`).toBe(false);
    }
  });

  it('is retried after 503 with Retry-After under the same webhook-id, so the receiver can drop repeats', async () => {
    receiver.answerNext({ status: 503, headers: { 'retry-after': '1' } }, { status: 429, headers: { 'retry-after': '1' } });
    const id = await submit('ACME-2', 'lynne.robbins@contoso.com', receiver.url('/hooks/two'));
    const record = await drainOutbox(id);
    expect(record).toMatchObject({ state: 'posted', attempts: 3 });
    const deliveries = receiver.on('/hooks/two');
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
    for (const delivery of deliveries) expect(() => new Webhook(CALLBACK_SECRET).verify(delivery.body, delivery.headers)).not.toThrow();
  });

  it('a 4xx answer is recorded in the status and the audit and not retried', async () => {
    receiver.answerNext({ status: 410 });
    const id = await submit('ACME-3', 'lee.gu@contoso.com', receiver.url('/hooks/three'));
    const record = await drainOutbox(id);
    expect(record).toMatchObject({ state: 'failed', attempts: 1 });
    expect(record.error).toContain('callback answered 410');
    const status = await t.system.status(id);
    expect(status.audit!.entries.find((entry) => entry.action === 'ticket callback')).toMatchObject({ outcome: 'failed' });
    expect(status.audit!.verified).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await processTicketUpdate({ requestId: id }, { ...ticketDependencies(getServices(), log), queue: { send: async () => undefined } });
    expect(receiver.on('/hooks/three')).toHaveLength(1);
  });

  it('a redirect is not followed: the outcome never reaches a host that is not on the list', async () => {
    receiver.answerNext({ status: 307, headers: { location: elsewhere.url('/stolen') } });
    const id = await submit('ACME-4', 'diego.siciliani@contoso.com', receiver.url('/hooks/four'));
    const record = await drainOutbox(id);
    expect(record.state).toBe('failed');
    expect(record.error).toMatch(/307.*redirects are not followed/);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('a callbackUrl changed in storage after the intake is never posted to', async () => {
    const id = await submit('ACME-5', 'pradeep.gupta@contoso.com', receiver.url('/hooks/five'));
    // Someone with table access (no key) points the callback at another path of an allowed host.
    const table = getServices().storage.table(TABLES.requests);
    await table.updateEntity({ partitionKey: id.slice(0, 2), rowKey: id, callbackUrl: receiver.url('/hooks/attacker') }, 'Merge');
    const deps = { ...ticketDependencies(getServices(), log), queue: { send: async () => undefined } };
    for (let i = 0; i < 3; i += 1) expect(await processTicketUpdate({ requestId: id }, deps)).toBe('not-authentic');
    expect(receiver.on('/hooks/attacker')).toHaveLength(0);
    expect(receiver.on('/hooks/five')).toHaveLength(0);
    // The status answer does not present the changed row as the service's word.
    expect((await ticketStatus(t.system, id)).status).toBe('unverified');
  });

  it('the intake refuses a callbackUrl off the allow-list, over plain http, with credentials, or on another port, and stores nothing', async () => {
    const bad = [
      'https://hooks.evil.example/mfa',
      `http://hooks.contoso.com/mfa`,
      `http://user:pw@127.0.0.1:${receiver.port}/mfa`,
      `http://127.0.0.1:${elsewhere.port}/mfa`,
      'not a url',
    ];
    for (const [index, callbackUrl] of bad.entries()) {
      const answer = await t.system.post('generic', { ticket: { system: 'acme-itsm', id: `ACME-9${index}` }, target: { userPrincipalName: 'alex.wilber@contoso.com' }, requestedBy: 'agent@contoso.com', callbackUrl });
      expect([400, 422], callbackUrl).toContain(answer.status);
      expect(JSON.stringify(answer.body)).toContain('callbackUrl');
    }
  });

  it('URL rules: https only (http for loopback), exact host and port, no fragment', () => {
    const allowed = ['hooks.contoso.com', '127.0.0.1:9000'];
    expect(callbackUrlProblem('https://hooks.contoso.com/x', allowed)).toBeUndefined();
    expect(callbackUrlProblem('https://HOOKS.contoso.com/x', allowed)).toBeUndefined();
    expect(callbackUrlProblem('http://127.0.0.1:9000/x', allowed)).toBeUndefined();
    expect(callbackUrlProblem('http://hooks.contoso.com/x', allowed)).toMatch(/https/);
    expect(callbackUrlProblem('https://hooks.contoso.com:8443/x', allowed)).toMatch(/not on CALLBACK_ALLOWED_HOSTS/);
    expect(callbackUrlProblem('https://evil.hooks.contoso.com/x', allowed)).toMatch(/not on CALLBACK_ALLOWED_HOSTS/);
    expect(callbackUrlProblem('https://hooks.contoso.com.evil.example/x', allowed)).toMatch(/not on CALLBACK_ALLOWED_HOSTS/);
    expect(callbackUrlProblem('https://hooks.contoso.com/x#frag', allowed)).toMatch(/fragment/);
    expect(callbackUrlProblem('https://hooks.contoso.com/x', [])).toMatch(/CALLBACK_ALLOWED_HOSTS is empty/);
  });
});
