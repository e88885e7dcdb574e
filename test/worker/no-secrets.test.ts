import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { functionDefinitions } from '../../functions/all';
import type { GraphTransport } from '../../shared/graph';
import { structuredLogger } from '../../shared/log';
import { signedHeaders } from '../support/signing';
import { getServices, resetServices } from '../../shared/services';
import { processResetMessage } from '../../shared/worker/process-reset';
import { workerDependencies } from '../../shared/worker/worker-services';
import { startSystem, SYSTEM_SECRETS, type RunningSystem } from '../support/system';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ definitions: functionDefinitions.filter((d) => d.trigger === 'http'), settings: { MACHINE_PASS_COLLECTION: 'true' } });
});
afterAll(async () => {
  await system?.stop();
});

describe('secrets stay out of logs, audit and tables', () => {
  it('a reset that issues a Temporary Access Pass leaves no pass, phone number or secret behind', async () => {
    const answer = await system.post('generic', {
      ticket: { system: 'generic', id: 'SR-TAP' },
      target: { userPrincipalName: 'adele.vance@contoso.com' },
      requestedBy: 'agent@contoso.com',
      // `all`: under `portal` her FIDO2 key and email stay, and Graph then keeps the default Authenticator.
      profile: 'all',
      temporaryAccessPass: { lifetimeInMinutes: 60, isUsableOnce: true },
    });
    expect(answer.status).toBe(202);

    // Watch Graph's answers to learn the pass the worker was given.
    const passes: string[] = [];
    const base = getServices().graph;
    const watching: GraphTransport = {
      origin: base.origin,
      async send(request) {
        const response = await base.send(request);
        const body = response.body as { temporaryAccessPass?: unknown } | undefined;
        if (typeof body?.temporaryAccessPass === 'string') passes.push(body.temporaryAccessPass);
        return response;
      },
    };
    const lines: string[] = [];
    const log = structuredLogger({ log: (line) => lines.push(String(line)), warn: (line) => lines.push(String(line)), error: (line) => lines.push(String(line)) });
    const outcome = await processResetMessage({ requestId: answer.body.id }, { dequeueCount: 1, maxDequeueCount: 5 }, { ...workerDependencies(getServices(), log), graph: watching });
    expect(outcome).toBe('completed');
    expect(passes).toHaveLength(1);

    // Structured log lines carry the request and ticket ids.
    const finished = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.message === 'reset completed');
    expect(finished).toMatchObject({ requestId: answer.body.id, ticketId: 'SR-TAP' });

    const everything = [...lines, ...system.log.lines, JSON.stringify(await system.status(answer.body.id)), ...(await allTableText())].join('\n');
    const forbidden = [passes[0]!, '4255550101', '4255550102', SYSTEM_SECRETS.generic, SYSTEM_SECRETS.jira, SYSTEM_SECRETS.servicenow, SYSTEM_SECRETS.tapSealingKey, SYSTEM_SECRETS.intakeMacKey];
    for (const secret of forbidden) expect(everything.includes(secret), `found ${secret.slice(0, 3)}…`).toBe(false);
    // The status still says a pass exists, without the pass.
    expect(JSON.stringify(await system.status(answer.body.id))).toContain('"temporaryAccessPass"');

    // It waits, sealed, to be collected once by a signed call that the audit names.
    const collect = (body: unknown, signed = true) => {
      const raw = JSON.stringify(body);
      return fetch(`${system.host.url}/api/resets/${answer.body.id}/temporary-access-pass`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signed ? signedHeaders('generic', raw) : {}) },
        body: raw,
      });
    };
    const requestId = answer.body.id;
    expect((await collect({ requestId, collectedBy: 'agent@contoso.com' }, false)).status).toBe(401);
    expect((await collect({})).status).toBe(400);
    const first = await collect({ requestId, collectedBy: 'agent@contoso.com' });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const handed = (await first.json()) as { temporaryAccessPass: string; expiresAt: string };
    expect(handed.temporaryAccessPass).toBe(passes[0]);
    expect(Date.parse(handed.expiresAt)).toBeGreaterThan(Date.now());
    const second = await collect({ requestId, collectedBy: 'someone.else@contoso.com' });
    expect(second.status).toBe(404);
    const trail = (await system.status(answer.body.id)).audit!;
    expect(trail.verified).toBe(true);
    expect(trail.entries.map((entry) => `${entry.action}:${entry.outcome}`)).toEqual(expect.arrayContaining(['pass-sealed:waiting', 'pass-collect:handed-over']));
    // Collected means gone: no trace of it is left in any table.
    expect((await allTableText()).some((text) => text.includes('"sealed"'))).toBe(false);
  });

  it('refuses a pass at intake when no sealing key is configured, storing nothing', async () => {
    const previous = process.env.TAP_SEALING_KEY;
    delete process.env.TAP_SEALING_KEY;
    resetServices();
    try {
      const answer = await system.post('generic', {
        ticket: { system: 'generic', id: 'SR-TAP-NOKEY' },
        target: { userPrincipalName: 'megan.bowen@contoso.com' },
        requestedBy: 'agent@contoso.com',
        temporaryAccessPass: { lifetimeInMinutes: 60 },
      });
      expect(answer.status).toBe(422);
      expect((answer.body as unknown as { error: { code: string; message: string } }).error).toMatchObject({ code: 'pass_handover_unavailable' });
      expect((await allTableText()).some((text) => text.includes('SR-TAP-NOKEY'))).toBe(false);
    } finally {
      process.env.TAP_SEALING_KEY = previous;
      resetServices();
    }
  });
});

async function allTableText(): Promise<string[]> {
  const service = TableServiceClient.fromConnectionString(system.azurite.connectionString, { allowInsecureConnection: true });
  const texts: string[] = [];
  for await (const table of service.listTables()) {
    const client = TableClient.fromConnectionString(system.azurite.connectionString, table.name!, { allowInsecureConnection: true });
    for await (const entity of client.listEntities()) texts.push(JSON.stringify(entity));
  }
  expect(texts.length).toBeGreaterThan(5);
  return texts;
}
