import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { hashAuditEntry } from '../../shared/audit/audit-entry';
import { newRow } from '../../shared/intake/intake-service';
import { silentLogger } from '../../shared/log';
import { requestStores } from '../../shared/request-stores';
import { getServices } from '../../shared/services';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { sweepStuckRequests } from '../../shared/worker/sweeper';
import { createHash } from 'node:crypto';
import { JIRA_APPROVALS_FIELD, canonicalRequest, jiraWebhook, jsmApproved, serviceNowRecord } from '../intake/fixtures';
import { signedHeaders } from '../support/signing';
import { startSystem, type RunningSystem } from '../support/system';
import { eventually } from '../support/eventually';

/**
 * Someone holding only the storage connection string (no INTAKE_MAC_KEY) attacks stored state, and a
 * ticket-system user edits the target after an approval. Every attack ends with the simulator having
 * seen no write for the users involved.
 */

const user = (upn: string, n: number, extra: Record<string, unknown> = {}) => ({
  userPrincipalName: upn,
  displayName: upn.split('@')[0]!.split('.').map((part) => part[0]!.toUpperCase() + part.slice(1)).join(' '),
  methods: [
    { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555508${String(n).padStart(2, '0')}` },
    { type: 'microsoftAuthenticator' as const, displayName: `Phone ${n}` },
  ],
  ...extra,
});

const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: [
    user('adele.vance@contoso.com', 1, {
      mail: 'adele.vance@contoso.com',
      otherMails: ['adele.home@fabrikam.example'],
      proxyAddresses: ['SMTP:adele.vance@contoso.com', 'smtp:a.vance@contoso.com', 'smtp:adele@contoso.onmicrosoft.com'],
    }),
    user('megan.bowen@contoso.com', 2),
    user('lee.gu@contoso.com', 3),
    user('diego.siciliani@contoso.com', 4),
    user('nestor.wilke@contoso.com', 5),
    user('joni.sherman@contoso.com', 6),
    user('miriam.graham@contoso.com', 7),
    user('henrietta.mueller@contoso.com', 8),
    { ...user('globaladmin@contoso.com', 9), roles: ['Global Administrator'] },
  ],
};

let system: RunningSystem;
let requests: TableClient;
let queue: QueueClient;
beforeAll(async () => {
  system = await startSystem({ graph: { tenant }, settings: { REQUIRE_APPROVAL: 'true' } });
  requests = TableClient.fromConnectionString(system.azurite.connectionString, TABLES.requests, { allowInsecureConnection: true });
  queue = new QueueClient(system.azurite.connectionString, QUEUES.resets);
});
afterAll(async () => {
  await system?.stop();
});

const FINAL = ['completed', 'partial', 'failed', 'rejected', 'planned'];
const idOf = (upn: string) => system.graph.tenant.findUser(upn)!.id;
/** Every Graph write that names the user, by object id or UPN. */
const writesFor = (upn: string) =>
  system.graph.requestLog.filter((entry) => entry.write && (entry.url.includes(idOf(upn)) || entry.url.toLowerCase().includes(encodeURIComponent(upn).toLowerCase())));

async function generic(body: Record<string, unknown>) {
  return system.post('generic', { approvedBy: 'lead@contoso.com', ...body });
}

/** What an attacker with the connection string does: read the entity, change fields, write it back. */
async function forge(id: string, changes: Record<string, unknown>, remove: string[] = []): Promise<void> {
  const entity = await requests.getEntity<Record<string, unknown>>(id.slice(0, 2), id);
  const next: Record<string, unknown> = { ...entity, ...changes };
  for (const name of remove) delete next[name];
  for (const name of Object.keys(next)) if (name === 'etag' || name === 'timestamp' || name.startsWith('odata')) delete next[name];
  await requests.updateEntity(next as { partitionKey: string; rowKey: string }, 'Replace');
}

async function enqueue(id: string): Promise<void> {
  await queue.sendMessage(Buffer.from(JSON.stringify({ requestId: id })).toString('base64'));
}

/** A finished, authentic reset of `upn` to attack afterwards. */
async function finishedReset(upn: string, ticket: string, extra: Record<string, unknown> = {}) {
  const answer = await generic(canonicalRequest({ ticket: { system: 'manual', id: ticket }, target: { userPrincipalName: upn }, ...extra }));
  expect(answer.status).toBe(202);
  const done = await system.waitFor(answer.body.id, FINAL);
  return { id: answer.body.id, done };
}

async function expectRefusedUntouched(id: string, upns: string[], before: Map<string, number>) {
  const ended = await system.waitFor(id, ['rejected'], 20_000);
  expect(ended.statusReason).toMatch(/^unauthenticated_row/);
  for (const upn of upns) expect(writesFor(upn).length).toBe(before.get(upn));
}

const counts = (...upns: string[]) => new Map(upns.map((upn) => [upn, writesFor(upn).length]));

describe('a storage writer without the key', () => {
  it('cannot redirect a finished reset to a Global Administrator through a forged engineState target and guard outcome', async () => {
    const { id, done } = await finishedReset('megan.bowen@contoso.com', 'ST-1');
    expect(done.status).toBe('completed');
    const startedAt = Date.now();
    // The worker's outcome line names the user it resolved, by UPN and object id.
    const outcome = await eventually(() => system.log.lines.find((line) => line.includes('"reset completed"') && line.includes(id)), 10_000);
    expect(outcome).toContain('"targetUpn":"megan.bowen@contoso.com"');
    expect(outcome).toContain(`"targetObjectId":"${idOf('megan.bowen@contoso.com')}"`);
    const entity = await requests.getEntity<Record<string, unknown>>(id.slice(0, 2), id);
    const state = JSON.parse(String(entity.engineState)) as Record<string, unknown>;
    const forgedState = {
      version: 1,
      startedAt: state.startedAt,
      updatedAt: state.updatedAt,
      target: { objectId: idOf('globaladmin@contoso.com'), userPrincipalName: 'globaladmin@contoso.com' },
      guards: { outcome: 'passed' },
      deletions: {},
      passes: 0,
      events: [],
    };
    const before = counts('globaladmin@contoso.com', 'megan.bowen@contoso.com');
    await forge(id, { status: 'accepted', engineState: JSON.stringify(forgedState) }, ['result', 'completedAt', 'leaseUntil']);
    await enqueue(id);
    await expectRefusedUntouched(id, ['globaladmin@contoso.com', 'megan.bowen@contoso.com'], before);
    await eventually(() => (system.log.lines.some((line) => line.includes('its MAC does not verify') && line.includes(id)) ? true : undefined), 10_000);
    // Nothing at all was sent about the administrator, not even a read.
    expect(system.graph.requestLog.some((entry) => entry.url.includes(idOf('globaladmin@contoso.com')) && Date.parse(entry.at) > startedAt)).toBe(false);
  });

  it('cannot turn a guard refusal into a pass', async () => {
    const answer = await generic(canonicalRequest({ ticket: { system: 'manual', id: 'ST-2' }, target: { userPrincipalName: 'globaladmin@contoso.com' } }));
    const refused = await system.waitFor(answer.body.id, FINAL);
    expect(refused.status).toBe('rejected');
    const entity = await requests.getEntity<Record<string, unknown>>(answer.body.id.slice(0, 2), answer.body.id);
    const state = JSON.parse(String(entity.engineState)) as Record<string, unknown>;
    const before = counts('globaladmin@contoso.com');
    await forge(answer.body.id, { status: 'accepted', engineState: JSON.stringify({ ...state, guards: { outcome: 'passed' } }) }, ['result', 'completedAt']);
    await enqueue(answer.body.id);
    await expectRefusedUntouched(answer.body.id, ['globaladmin@contoso.com'], before);
  });

  it('cannot run a finished request again by setting it back to accepted without its progress', async () => {
    const { id } = await finishedReset('lee.gu@contoso.com', 'ST-3');
    const before = counts('lee.gu@contoso.com');
    await forge(id, { status: 'accepted', attempts: 0 }, ['engineState', 'result', 'completedAt', 'leaseUntil']);
    await enqueue(id);
    await expectRefusedUntouched(id, ['lee.gu@contoso.com'], before);
  });

  it('cannot make a finished row look better than it is: a forged result is not reported, and the worker ends the row', async () => {
    const { id, done } = await finishedReset('diego.siciliani@contoso.com', 'ST-4');
    expect(done.status).not.toBe('failed');
    await forge(id, { status: 'completed', result: JSON.stringify({ status: 'completed', headline: 'all done' }) });
    const view = await system.status(id);
    // The status answer never presents a row that fails its MAC as the service's word.
    expect(view.status).toBe('unverified');
    expect(view.statusReason).toMatch(/^unauthenticated_row/);
    expect(view.result).toBeNull();
    const before = counts('diego.siciliani@contoso.com');
    await enqueue(id);
    await expectRefusedUntouched(id, ['diego.siciliani@contoso.com'], before);
  });

  it('cannot get a row the sweeper re-drives past the worker', async () => {
    const { id } = await finishedReset('nestor.wilke@contoso.com', 'ST-5');
    const before = counts('nestor.wilke@contoso.com');
    await forge(id, { status: 'accepted', updatedAt: new Date(Date.now() - 3600_000).toISOString() }, ['engineState', 'result', 'completedAt', 'leaseUntil']);
    const stores = requestStores(getServices());
    const report = await sweepStuckRequests({ store: stores.store, queue: stores.queue, log: silentLogger }, { settleMs: 10 });
    expect(report.redriven).toContain(id);
    await expectRefusedUntouched(id, ['nestor.wilke@contoso.com'], before);
  });

  it('cannot rewrite an audit trail consistently without the audit key', async () => {
    const { id } = await finishedReset('joni.sherman@contoso.com', 'ST-6');
    expect((await system.status(id)).audit?.verified).toBe(true);
    // Rewrite every row's detail and re-chain it with plain SHA-256 (the old, unkeyed scheme).
    const audit = TableClient.fromConnectionString(system.azurite.connectionString, TABLES.audit, { allowInsecureConnection: true });
    const rows: Record<string, unknown>[] = [];
    // The audit rows (numbered), not the partition's fence row.
    for await (const row of audit.listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq '${id}'` } })) if (row.seq !== undefined) rows.push(row);
    rows.sort((a, b) => Number(a.seq) - Number(b.seq));
    let prev = '0'.repeat(64);
    for (const row of rows) {
      const unsigned = {
        requestId: id,
        seq: Number(row.seq),
        at: String(row.at),
        actor: JSON.parse(String(row.actor)) as { source: string; ticketId: string; requestedBy: string; approvedBy?: string },
        target: 'someone.else@contoso.com',
        action: String(row.action),
        outcome: String(row.outcome),
        detail: row.detail === undefined ? undefined : String(row.detail),
        graphRequestIds: JSON.parse(String(row.graphRequestIds)) as string[],
        prevHash: prev,
      };
      // A key the attacker can know: SHA-256 of nothing, standing in for "no key".
      const hash = hashAuditEntry(unsigned, createHash('sha256').digest());
      await audit.updateEntity({ partitionKey: id, rowKey: String(row.rowKey), target: unsigned.target, prevHash: prev, hash }, 'Merge');
      prev = hash;
    }
    const view = await system.status(id);
    expect(view.audit?.verified).toBe(false);
  });

  it('cannot start a stored request that is older than REQUEST_MAX_AGE_HOURS: refused as expired, not run', async () => {
    // An authentic row (the app's own key) whose message was lost and found a day later.
    const stores = requestStores(getServices());
    const id = stores.integrity.requestId('generic|delivery|aged-1');
    const row = newRow(
      id,
      {
        source: 'generic',
        idempotencyKey: 'generic|delivery|aged-1',
        request: {
          ticket: { system: 'manual', id: 'ST-7' },
          target: { userPrincipalName: 'miriam.graham@contoso.com' },
          requestedBy: { name: 'agent@contoso.com' },
          approvedBy: 'lead@contoso.com',
          profile: 'portal',
          revokeSessions: true,
          dryRun: false,
        },
      },
      new Date(Date.now() - 25 * 3600_000),
      stores.integrity,
    );
    await stores.store.create(row);
    const before = counts('miriam.graham@contoso.com');
    await enqueue(id);
    const ended = await system.waitFor(id, FINAL);
    expect(ended.status).toBe('rejected');
    expect(ended.statusReason).toMatch(/^request_expired/);
    expect(writesFor('miriam.graham@contoso.com').length).toBe(before.get('miriam.graham@contoso.com'));
    expect(system.graph.requestLog.some((entry) => entry.url.includes(idOf('miriam.graham@contoso.com')))).toBe(false);
  });
});

describe('one approval, one person', () => {
  it('Jira: a target edited after the approval gets approval_target_changed, and nobody else is reset', async () => {
    const approved = (target: string, updated: string) =>
      jiraWebhook({ key: 'ITSM-901', event: 'jira:issue_updated', target, fields: { [JIRA_APPROVALS_FIELD]: jsmApproved, updated } });
    const first = await system.post('jira', approved('henrietta.mueller@contoso.com', '2026-11-20T09:20:11.334+0100'));
    expect(first.status).toBe(202);
    await system.waitFor(first.body.id, FINAL);
    const before = counts('megan.bowen@contoso.com', 'lee.gu@contoso.com', 'diego.siciliani@contoso.com');
    const updates = ['megan.bowen@contoso.com', 'lee.gu@contoso.com', 'diego.siciliani@contoso.com'];
    for (const [index, target] of updates.entries()) {
      const again = await system.post('jira', approved(target, `2026-11-20T09:3${index}:00.000+0100`));
      expect(again.status).toBe(422);
      const error = (again.body as unknown as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('approval_target_changed');
      expect(error.message).toMatch(/Raise a new ticket/);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const target of updates) expect(writesFor(target).length).toBe(before.get(target));
  });

  it('ServiceNow: the same RITM naming a new target is refused the same way', async () => {
    const record = (target: string) => ({ ...serviceNowRecord({ number: 'RITM0090001', sys_id: '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f', u_target_upn: target }), timestamp: Date.now() });
    const first = await system.post('servicenow', record('adele.vance@contoso.com'));
    expect(first.status).toBe(202);
    await system.waitFor(first.body.id, FINAL);
    const before = counts('megan.bowen@contoso.com');
    const again = await system.post('servicenow', record('megan.bowen@contoso.com'));
    expect(again.status).toBe(422);
    expect((again.body as unknown as { error: { code: string } }).error.code).toBe('approval_target_changed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(writesFor('megan.bowen@contoso.com').length).toBe(before.get('megan.bowen@contoso.com'));
  });

  it('a bulk job approved by its own requester (another case) is refused before anything is stored', async () => {
    const raw = JSON.stringify({ ticket: 'CHG-SELF', requestedBy: 'Agent@Contoso.com', approvedBy: 'agent@contoso.COM', users: ['megan.bowen@contoso.com'], timestamp: Math.floor(Date.now() / 1000) });
    const before = counts('megan.bowen@contoso.com');
    const response = await fetch(`${system.host.url}/api/bulk`, { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders('generic', raw) }, body: raw });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('self_approval');
    expect(writesFor('megan.bowen@contoso.com').length).toBe(before.get('megan.bowen@contoso.com'));
  });

  it('an approver named by one of the target\'s mail aliases is the target: refused with zero writes', async () => {
    for (const [index, alias] of ['a.vance@contoso.com', 'ADELE@contoso.onmicrosoft.com', 'adele.home@fabrikam.example'].entries()) {
      const before = counts('adele.vance@contoso.com');
      const answer = await system.post('generic', canonicalRequest({ ticket: { system: 'manual', id: `ST-ALIAS-${index}` }, target: { userPrincipalName: 'adele.vance@contoso.com' }, approvedBy: alias }));
      expect(answer.status).toBe(202);
      const ended = await system.waitFor(answer.body.id, FINAL);
      expect(ended.status).toBe('rejected');
      expect(ended.result?.code ?? ended.statusReason).toMatch(/approval-by-target|comes from adele\.vance/);
      expect(writesFor('adele.vance@contoso.com').length).toBe(before.get('adele.vance@contoso.com'));
    }
  });
});
