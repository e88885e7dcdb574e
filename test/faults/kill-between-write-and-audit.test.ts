import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/free-port';
import { startGraphSimulator, type RunningGraphSimulator, type TenantFile } from '../../dev/graph-sim';
import { AuditLog } from '../../shared/audit/audit-log';
import { TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { secretSettings, signedHeaders, testIntegrity } from '../support/signing';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const root = join(__dirname, '..', '..');
const UPN = 'crash.target@contoso.com';
const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: [
    {
      userPrincipalName: UPN,
      defaultMethod: 'push',
      methods: [
        { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550199' },
        { type: 'microsoftAuthenticator', displayName: 'Crash phone' },
        { type: 'softwareOath' },
      ],
    },
  ],
};

const azurite = useAzurite();
let sim: RunningGraphSimulator;
let proxy: FaultProxy;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  sim = await startGraphSimulator({ tenant });
  proxy = await startFaultProxy(sim.url);
});
afterAll(async () => {
  await Promise.all([...children].map((child) => stop(child, 'SIGKILL')));
  await proxy?.stop();
  await sim?.stop();
});

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** `npm start`'s entry in its own process (Node itself, so SIGKILL reaches the app), Graph behind the proxy. */
async function startApp(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'dev', 'start.ts')], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      AzureWebJobsStorage: azurite.connectionString,
      GRAPH_BASE_URL: proxy.url,
      GRAPH_AUTH: 'none',
      ...secretSettings(),
      // Approval has tests of its own (REQUIRE_APPROVAL is on by default); these are about other things.
      REQUIRE_APPROVAL: 'false',
      TENANT_DOMAINS: 'contoso.com',
      GRAPH_MAX_CONCURRENCY: '1',
      RESET_LEASE_SECONDS: '10',
      LOCAL_QUEUE_LEASE_SECONDS: '5',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${url}/api/health`)).status === 200 ? true : undefined), 60_000, 200);
  return { child, url };
}

describe('kill -9 between a Graph write and its audit', () => {
  it('the write that removed the method is in the audit with its request id, and resume settles it with what Graph says now', async () => {
    const first = await startApp();
    // Graph carries out the first DELETE; its answer never reaches the app, which is then killed.
    proxy.holdNext((method) => method === 'DELETE');
    const raw = JSON.stringify({ ticket: { system: 'generic', id: 'SR-CRASH-1' }, target: { userPrincipalName: UPN }, requestedBy: 'agent@contoso.com' });
    const posted = await fetch(`${first.url}/api/resets`, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders('generic', raw) }, body: raw });
    expect(posted.status).toBe(202);
    const { id } = (await posted.json()) as { id: string };
    const held = await eventually(() => proxy.held[0], 60_000, 20);
    expect(held.status).toBe(204);
    await stop(first.child, 'SIGKILL');
    const clientRequestId = String(held.requestHeaders['client-request-id']);
    const graphRequestId = String(held.responseHeaders['request-id']);
    expect(clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    // Graph (its log) has the removing write under the id the app sent.
    const removing = sim.requestLog.find((entry) => entry.method === 'DELETE' && entry.status === 204);
    expect(removing?.clientRequestId).toBe(clientRequestId);
    expect(sim.tenant.removals).toHaveLength(1);

    const audit = new AuditLog(TableClient.fromConnectionString(azurite.connectionString, TABLES.audit, { allowInsecureConnection: true }), testIntegrity().auditKey());
    // Written before the call: the intent, naming the write and its client-request-id.
    const before = await audit.list(id);
    const intent = before.find((entry) => entry.action.startsWith('intent DELETE') && entry.graphRequestIds.includes(clientRequestId));
    expect(intent?.action).toContain(held.url.replace(/^\/(v1\.0|beta)/, ''));

    // Started again: the request resumes and finishes; the open intent is settled first.
    const second = await startApp();
    const done = await eventually(async () => {
      const answer = await fetch(`${second.url}/api/resets/${id}`);
      const body = (await answer.json()) as { status: string };
      return ['completed', 'partial', 'failed'].includes(body.status) ? body : undefined;
    }, 90_000, 250);
    expect(done.status).toBe('completed');
    await stop(second.child, 'SIGTERM');

    const trail = await audit.list(id);
    expect((await audit.verify(id)).ok).toBe(true);
    const resolved = trail.find((entry) => entry.action.startsWith('resolved DELETE') && entry.graphRequestIds.includes(clientRequestId));
    expect(resolved?.outcome).toBe('gone');
    expect(resolved!.seq).toBeGreaterThan(intent!.seq);
    // Each method was removed once; the removing write is the held one, not the later 404.
    expect(sim.tenant.removals).toHaveLength(3);
    expect(new Set(sim.tenant.removals.map((removal) => removal.methodId)).size).toBe(3);
    expect(sim.tenant.removals.map((removal) => removal.requestId)).toContain(graphRequestId);
    // Every write the trail announced was settled: an outcome row (sent or resolved) for each intent.
    const intents = trail.filter((entry) => entry.action.startsWith('intent ')).map((entry) => entry.graphRequestIds[0]);
    const settled = new Set(trail.filter((entry) => /^(sent|resolved) /.test(entry.action)).flatMap((entry) => entry.graphRequestIds));
    expect(intents.every((clientId) => settled.has(clientId!))).toBe(true);
  }, 240_000);
});
