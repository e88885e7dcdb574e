import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkServices } from '../../shared/bulk/bulk-services';
import { emptyCounts } from '../../shared/bulk/bulk-rows';
import { dispatchBulkJobs } from '../../shared/bulk/dispatcher';
import { newRow } from '../../shared/intake/intake-service';
import { silentLogger } from '../../shared/log';
import { getServices } from '../../shared/services';
import { toEntity } from '../../shared/requests/request-row';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { canonicalRequest, jiraWebhook, serviceNowRecord } from './fixtures';
import { signedHeaders } from '../support/signing';
import { startSystem, type RunningSystem } from '../support/system';

/**
 * The intake attacked as the threat model describes: captured bytes replayed with fresh unsigned
 * headers, old signatures, swapped ids, pass collections replayed, and rows written straight into
 * storage. One authentic, fresh request causes at most one reset.
 */
let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ settings: { MACHINE_PASS_COLLECTION: 'true' } });
});
afterAll(async () => {
  await system?.stop();
});

const FINAL = ['completed', 'partial', 'failed', 'rejected', 'planned'];
const userId = (upn: string) => system.graph.tenant.findUser(upn)!.id;
const writesFor = (upn: string) => system.graph.requestLog.filter((entry) => entry.write && entry.url.includes(userId(upn)));
const revocationsOf = (upn: string) => system.graph.tenant.revocations.filter((revocation) => revocation.userId === userId(upn)).length;

async function send(path: string, raw: string, headers: Record<string, string>) {
  const response = await fetch(`${system.host.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('generic callers (Standard Webhooks)', () => {
  it('the same bytes again answer 200 with the same request, and Graph sees one reset', async () => {
    const raw = JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: 'SR-REPLAY-1' }, target: { userPrincipalName: 'lee.gu@contoso.com' } }));
    const headers = signedHeaders('generic', raw);
    const first = await send('/api/resets', raw, headers);
    expect(first.status).toBe(202);
    await system.waitFor(first.body.id, FINAL);
    const writes = writesFor('lee.gu@contoso.com').length;
    const revocations = revocationsOf('lee.gu@contoso.com');
    expect(writes).toBeGreaterThan(0);

    // A captured delivery replayed as is, and with unsigned headers changed or added.
    const extras: Record<string, string>[] = [{}, { 'idempotency-key': 'fresh-1' }, { 'x-atlassian-webhook-identifier': 'fresh-2' }];
    for (const extra of extras) {
      const again = await send('/api/resets', raw, { ...headers, ...extra });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      // The repeat reports the request's current status, not a stale "accepted".
      expect(FINAL).toContain(again.body.status);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(writesFor('lee.gu@contoso.com').length).toBe(writes);
    expect(revocationsOf('lee.gu@contoso.com')).toBe(revocations);
  });

  it('the old signature with a new webhook-id is refused 401 and stores nothing', async () => {
    const raw = JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: 'SR-REPLAY-2' } }));
    const headers = signedHeaders('generic', raw, { webhookId: 'msg_original_2' });
    const forged = await send('/api/resets', raw, { ...headers, 'webhook-id': 'msg_attacker_2' });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('signature_invalid');
  });

  it('a delivery signed 6 minutes ago is refused 401 naming the timestamp', async () => {
    const raw = JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: 'SR-REPLAY-3' } }));
    const headers = signedHeaders('generic', raw, { timestamp: new Date(Date.now() - 6 * 60_000) });
    const stale = await send('/api/resets', raw, headers);
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('timestamp_out_of_range');
    expect(stale.body.error.message).toContain('webhook-timestamp');
    expect(stale.body.error.message).toContain(headers['webhook-timestamp']!);
  });

  it('a repeat of a webhook-id that asks for something else is refused 422 naming the field', async () => {
    const first = JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: 'SR-CONFLICT' }, target: { userPrincipalName: 'diego.siciliani@contoso.com' }, dryRun: true }));
    const accepted = await send('/api/resets', first, signedHeaders('generic', first, { webhookId: 'msg_conflict' }));
    expect(accepted.status).toBe(202);
    const other = JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: 'SR-CONFLICT' }, target: { userPrincipalName: 'nestor.wilke@contoso.com' }, dryRun: true, profile: 'all' }));
    const conflict = await send('/api/resets', other, signedHeaders('generic', other, { webhookId: 'msg_conflict' }));
    expect(conflict.status).toBe(422);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    expect(conflict.body.error.details.fields).toEqual(expect.arrayContaining(['target.userPrincipalName', 'profile']));
    expect(conflict.body.error.message).toContain('target.userPrincipalName');
  });

  it('ids are not derived from public data: the same ticket and target under two deliveries never collide with a guessable id', async () => {
    const raw = JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: 'SR-GUESS' }, dryRun: true }));
    const answer = await send('/api/resets', raw, signedHeaders('generic', raw));
    expect(answer.status).toBe(202);
    const { createHash } = await import('node:crypto');
    // The old scheme: SHA-256 of a namespaced key built from the source, the ticket and the UPN.
    const old = createHash('sha256').update('entra-mfa-reset/request/v1\ngeneric|ticket|manual|SR-GUESS|upn:adele.vance@contoso.com').digest('hex');
    expect(answer.body.id.replace(/-/g, '').slice(0, 12)).not.toBe(old.slice(0, 12));
  });
});

describe('Jira and ServiceNow', () => {
  it('a Jira delivery re-sent with a new X-Atlassian-Webhook-Identifier finds the same request', async () => {
    const body = jiraWebhook({ key: 'ITSM-501', target: 'isaiah.langer@contoso.com' });
    const first = await system.post('jira', body, { 'x-atlassian-webhook-identifier': 'delivery-a' });
    expect(first.status).toBe(202);
    const again = await system.post('jira', body, { 'x-atlassian-webhook-identifier': 'delivery-b' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
  });

  it('Jira and ServiceNow deliveries without a signed timestamp, or too old, are refused 401', async () => {
    const { timestamp: _drop, ...noTime } = jiraWebhook({ key: 'ITSM-502' });
    expect((await system.post('jira', noTime)).status).toBe(401);
    expect((await system.post('jira', jiraWebhook({ key: 'ITSM-503', timestamp: Date.now() - 61 * 60_000 }))).status).toBe(401);
    const { timestamp: _sn, ...snNoTime } = serviceNowRecord({ number: 'RITM0050001' });
    const missing = await system.post('servicenow', snNoTime);
    expect(missing.status).toBe(401);
    expect((missing.body as unknown as { error: { code: string } }).error.code).toBe('timestamp_missing');
    expect((await system.post('servicenow', serviceNowRecord({ number: 'RITM0050002', timestamp: Date.now() - 6 * 60_000 }))).status).toBe(401);
  });

  it('a new delivery for a ticket whose request failed starts a linked new attempt; one for a finished request answers its status', async () => {
    const target = 'grady.archie@contoso.com';
    system.graph.setFaults({ rate503: 1, retryAfterSeconds: 0.01 });
    let failedId: string;
    try {
      const first = await system.post('servicenow', serviceNowRecord({ number: 'RITM0050010', u_target_upn: target }));
      expect(first.status).toBe(202);
      failedId = first.body.id;
      const failed = await system.waitFor(failedId, FINAL, 100_000);
      expect(failed.status).toBe('failed');
    } finally {
      system.graph.setFaults({});
    }
    // The Business Rule fires again (a new, fresh, signed delivery for the same ticket and target).
    const retry = await system.post('servicenow', serviceNowRecord({ number: 'RITM0050010', u_target_upn: target, timestamp: Date.now() + 1 }));
    expect(retry.status).toBe(202);
    expect(retry.body.id).not.toBe(failedId);
    expect((retry.body as unknown as { previousRequestId: string }).previousRequestId).toBe(failedId);
    const done = await system.waitFor(retry.body.id, FINAL, 30_000);
    expect(['completed', 'partial']).toContain(done.status);
    expect(await system.status(failedId)).toMatchObject({ status: 'failed', nextRequestId: retry.body.id });
    expect(await system.status(retry.body.id)).toMatchObject({ previousRequestId: failedId });

    // Once it succeeded, another delivery for that ticket is not a new reset.
    const third = await system.post('servicenow', serviceNowRecord({ number: 'RITM0050010', u_target_upn: target, timestamp: Date.now() + 2 }));
    expect(third.status).toBe(200);
    expect(third.body.id).toBe(retry.body.id);
    expect(third.body.status).toBe(done.status);
  }, 150_000);
});

describe('racing deliveries', () => {
  it('two fresh deliveries for one ticket and target at the same moment make one request, never two', async () => {
    const now = Date.now();
    const answers = await Promise.all(
      [0, 1, 2].map((offset) => system.post('servicenow', serviceNowRecord({ number: 'RITM0050020', u_target_upn: 'alex.wilber_fabrikam.com#EXT#@contoso.com', timestamp: now + offset, approval: 'approved' }))),
    );
    const accepted = answers.filter((answer) => answer.status === 202);
    expect(accepted).toHaveLength(1);
    // The others answer with that request, or say they were not stored (and may be sent again).
    for (const answer of answers.filter((answer) => answer.status !== 202)) {
      expect([200, 503]).toContain(answer.status);
      if (answer.status === 200) expect(answer.body.id).toBe(accepted[0]!.body.id);
    }
  });
});

describe('pass collection', () => {
  it('a collection replayed against the same or another request is refused, and the pass stays sealed', async () => {
    const issue = async (id: string, upn: string) => {
      const answer = await system.post('generic', {
        ticket: { system: 'manual', id },
        target: { userPrincipalName: upn },
        requestedBy: 'agent@contoso.com',
        approvedBy: 'lead@contoso.com',
        temporaryAccessPass: { lifetimeInMinutes: 60 },
      });
      expect(answer.status).toBe(202);
      return (await system.waitFor(answer.body.id, FINAL, 30_000)).id;
    };
    const a = await issue('SR-TAP-A', 'johanna.lorenz@contoso.com');
    const b = await issue('SR-TAP-B', 'pradeep.gupta@contoso.com');
    const collect = (id: string, raw: string, headers: Record<string, string>) => send(`/api/resets/${id}/temporary-access-pass`, raw, headers);

    // The old body shape (no request id) is refused.
    const legacy = JSON.stringify({ collectedBy: 'agent@contoso.com' });
    expect((await collect(a, legacy, signedHeaders('generic', legacy))).status).toBe(400);

    // A collection signed for request A, pointed at request B: refused, B's pass stays sealed.
    const forA = JSON.stringify({ requestId: a, collectedBy: 'agent@contoso.com' });
    const headersA = signedHeaders('generic', forA);
    const atB = await collect(b, forA, headersA);
    expect(atB.status).toBe(401);
    expect(atB.body.error.code).toBe('signature_not_for_this_request');
    expect(JSON.stringify(atB.body)).not.toMatch(/temporaryAccessPass/);

    // Collected once...
    const first = await collect(a, forA, headersA);
    expect(first.status).toBe(200);
    expect(typeof first.body.temporaryAccessPass).toBe('string');
    // ...and the same signed bytes again are a replay.
    const replay = await collect(a, forA, headersA);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('replayed');

    // B's pass is still there for an honest, fresh collection.
    const forB = JSON.stringify({ requestId: b, collectedBy: 'agent@contoso.com' });
    const honest = await collect(b, forB, signedHeaders('generic', forB));
    expect(honest.status).toBe(200);
    expect(honest.body.temporaryAccessPass).not.toBe(first.body.temporaryAccessPass);
  });
});

describe('storage write is not reset power', () => {
  it('a row written straight into the table with a queue message ends rejected (unauthenticated_row) with zero Graph writes', async () => {
    const target = 'patti.o\'neil@contoso.com';
    const id = '0badf00d-0000-8000-8000-00000000cafe';
    const row = newRow(id, {
      source: 'generic',
      idempotencyKey: 'generic|delivery|forged',
      request: {
        ticket: { system: 'manual', id: 'FORGED-1' },
        target: { userPrincipalName: target },
        requestedBy: { name: 'attacker@contoso.com' },
        approvedBy: 'attacker@contoso.com',
        profile: 'all',
        revokeSessions: true,
        dryRun: false,
        temporaryAccessPass: { lifetimeInMinutes: 480 },
      },
    }, new Date());
    const table = TableClient.fromConnectionString(system.azurite.connectionString, TABLES.requests, { allowInsecureConnection: true });
    await table.createTable().catch(() => undefined);
    // A MAC-looking value does not help: it must verify under the key.
    await table.createEntity(toEntity({ ...row, intakeMac: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
    const queue = new QueueClient(system.azurite.connectionString, QUEUES.resets);
    await queue.createIfNotExists();
    await queue.sendMessage(Buffer.from(JSON.stringify({ requestId: id })).toString('base64'));

    const before = writesFor(target).length;
    const done = await system.waitFor(id, FINAL, 20_000);
    expect(done.status).toBe('rejected');
    expect(done.statusReason).toMatch(/^unauthenticated_row/);
    expect(done.audit?.entries.map((entry) => entry.action)).toContain('finish');
    expect(writesFor(target).length).toBe(before);
    expect(system.graph.requestLog.some((entry) => entry.url.includes(encodeURIComponent(target)) || entry.url.includes(userId(target)))).toBe(false);

    // A stored, authentic row whose target is changed in storage fails the same way.
    const raw = JSON.stringify(canonicalRequest({ ticket: { system: 'manual', id: 'SR-TAMPER' }, dryRun: true }));
    const accepted = await send('/api/resets', raw, signedHeaders('generic', raw));
    await system.waitFor(accepted.body.id, FINAL, 20_000);
    const entity = await table.getEntity<Record<string, unknown>>(accepted.body.id.slice(0, 2), accepted.body.id);
    await table.updateEntity({ ...entity, partitionKey: entity.partitionKey as string, rowKey: entity.rowKey as string, status: 'accepted', targetUpn: target, dryRun: false }, 'Replace');
    await queue.sendMessage(Buffer.from(JSON.stringify({ requestId: accepted.body.id })).toString('base64'));
    const tampered = await system.waitFor(accepted.body.id, ['rejected'], 20_000);
    expect(tampered.statusReason).toMatch(/^unauthenticated_row/);
    expect(writesFor(target).length).toBe(before);
  });

  it('a bulk job written straight into storage is failed by the dispatcher and releases nobody', async () => {
    const deps = bulkServices(getServices(), silentLogger);
    const now = new Date().toISOString();
    const id = '0badf00d-0000-8000-8000-00000000b01c';
    await deps.bulk.putItems([{ jobId: id, index: 0, row: 2, userPrincipalName: 'megan.bowen@contoso.com', status: 'waiting' }]);
    await deps.bulk.createJob({
      id, status: 'running', kind: 'users', ticketSystem: 'bulk', ticketId: 'FORGED-BULK', requestedBy: 'attacker@contoso.com', approvedBy: 'attacker@contoso.com',
      profile: 'all', revokeSessions: true, dryRun: false, ratePerMinute: 600, rows: 1, valid: 1, invalid: 0, cursor: 0, released: 0,
      counts: emptyCounts(), credit: 10, createdAt: now, updatedAt: now, intakeMac: 'forged',
    });
    const before = writesFor('megan.bowen@contoso.com').length;
    await dispatchBulkJobs(deps);
    const job = await deps.bulk.getJob(id);
    expect(job?.status).toBe('failed');
    expect(job?.statusReason).toMatch(/^unauthenticated_row/);
    expect(job?.released).toBe(0);
    expect(writesFor('megan.bowen@contoso.com').length).toBe(before);
  });
});
