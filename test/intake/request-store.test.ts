import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { RequestIntegrity } from '../../shared/requests/request-integrity';
import { IntakeIndex } from '../../shared/requests/intake-index';
import { secretSettings, signedHeaders, TEST_SECRETS, testIntegrity } from '../support/signing';
import { newRow, receiveResetRequest } from '../../shared/intake/intake-service';
import { ResetQueue } from '../../shared/requests/reset-queue';
import { QueueClient } from '@azure/storage-queue';
import { freePort } from '../../dev/free-port';
import { loadSettings } from '../../shared/config';
import { canonicalRequest } from './fixtures';
import { RequestConflictError, RequestNotFoundError, RequestStore } from '../../shared/requests/request-store';
import { toEntity, type RequestRow } from '../../shared/requests/request-row';
import { TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const integrity = new RequestIntegrity(TEST_SECRETS.intakeMacKey);
const requestIdFor = (key: string) => integrity.requestId(key);
const store = () => new RequestStore(TableClient.fromConnectionString(azurite.connectionString, TABLES.requests, { allowInsecureConnection: true }), testIntegrity());

function row(key: string, overrides: Partial<RequestRow> = {}): RequestRow {
  const base = newRow(
    requestIdFor(key),
    {
      source: 'generic',
      idempotencyKey: key,
      request: {
        ticket: { system: 'servicenow', id: 'RITM0010001', sysId: '9d385017c611228701d22104cc95c371', table: 'sc_req_item' },
        target: { userPrincipalName: 'adele.vance@contoso.com' },
        requestedBy: { name: 'Beth Anglin', id: '46d44a23a9fe19810012d100cca80666' },
        profile: 'all',
        methods: ['phone', 'fido2'],
        revokeSessions: false,
        temporaryAccessPass: { lifetimeInMinutes: 120 },
        dryRun: false,
      },
    },
    new Date('2026-11-20T10:00:00Z'),
  );
  // As the intake stores it: MAC'd over what it asks for, so a different request never passes for the same insert.
  const next = { ...base, ...overrides };
  return { ...next, intakeMac: integrity.rowMac(next) };
}

describe('RequestStore', () => {
  it('creates a row once; a second create returns the existing row unchanged', async () => {
    const requests = store();
    const first = await requests.create(row('store|1'));
    expect(first.created).toBe(true);
    const second = await requests.create(row('store|1', { reason: 'different' }));
    expect(second.created).toBe(false);
    expect(second.request.reason).toBeUndefined();
    expect(second.request).toMatchObject({ methods: ['phone', 'fido2'], temporaryAccessPass: { lifetimeInMinutes: 120 }, ticketSysId: '9d385017c611228701d22104cc95c371' });
    expect(await requests.get(first.request.id)).toEqual({ ...second.request });
  });

  it('stores complex values as JSON strings under a point-readable key', () => {
    const entity = toEntity(row('store|2'));
    expect(entity.partitionKey).toBe(entity.rowKey.slice(0, 2));
    expect(entity.methods).toBe('["phone","fido2"]');
    expect(entity.temporaryAccessPass).toBe('{"lifetimeInMinutes":120}');
    expect('id' in entity).toBe(false);
  });

  it('updates with ETag concurrency and throws a typed conflict on a stale ETag', async () => {
    const requests = store();
    const { request } = await requests.create(row('store|3'));
    const running = await requests.update({ ...request, status: 'running', attempts: 1, leaseUntil: '2026-11-20T10:05:00.000Z' }, request.etag);
    expect(running.etag).not.toBe(request.etag);
    await expect(requests.update({ ...request, status: 'failed' }, request.etag)).rejects.toBeInstanceOf(RequestConflictError);
    const done = await requests.update(
      { ...running, status: 'completed', engineState: JSON.stringify({ step: 'done' }), result: JSON.stringify({ removed: 2 }), completedAt: new Date().toISOString() },
      running.etag,
    );
    expect(await requests.get(request.id)).toMatchObject({ status: 'completed', attempts: 1, result: '{"removed":2}', etag: done.etag });
    await expect(requests.update({ ...row('store|missing'), trusted: true }, '*')).rejects.toBeInstanceOf(RequestNotFoundError);
  });

  it('lists rows by status for a sweeper, optionally only those not updated lately', async () => {
    const requests = store();
    const { request } = await requests.create(row('store|4'));
    const accepted = await requests.listByStatus('accepted');
    expect(accepted.map((r) => r.id)).toContain(request.id);
    expect((await requests.listByStatus('accepted', { updatedBefore: new Date('2026-11-20T09:00:00Z') })).map((r) => r.id)).not.toContain(request.id);
    expect((await requests.listByStatus('accepted', { updatedBefore: new Date('2026-11-20T11:00:00Z') })).map((r) => r.id)).toContain(request.id);
    expect(await requests.listByStatus('planned')).toEqual([]);
  });

  it('answers undefined for an unknown id', async () => {
    expect(await store().get(requestIdFor('never'))).toBeUndefined();
  });
});

describe('intake when the queue cannot be reached', () => {
  it('still answers 202 once the row exists, leaving it accepted for the sweeper', async () => {
    const port = await freePort();
    const deadQueue = new QueueClient(`http://127.0.0.1:${port}/devstoreaccount1/mfa-resets`);
    const settings = loadSettings({ AzureWebJobsStorage: azurite.connectionString, ...secretSettings(), REQUIRE_APPROVAL: 'false' });
    const body = Buffer.from(JSON.stringify(canonicalRequest({ ticket: { system: 'x', id: 'QDOWN-1' } })));
    const requests = store();
    const warnings: string[] = [];
    const answer = await receiveResetRequest(
      { source: 'generic', body, headers: new Headers({ 'content-type': 'application/json', ...signedHeaders('generic', body) }) },
      {
        settings,
        store: requests,
        queue: new ResetQueue(deadQueue, { timeoutMs: 500 }),
        index: new IntakeIndex(TableClient.fromConnectionString(azurite.connectionString, TABLES.intakeIndex, { allowInsecureConnection: true })),
        integrity,
        log: { info: () => undefined, warn: (m) => warnings.push(m) },
      },
    );
    expect(answer.status).toBe(202);
    const id = (answer.jsonBody as { id: string }).id;
    expect(await requests.get(id)).toMatchObject({ status: 'accepted', ticketId: 'QDOWN-1' });
    expect(warnings.some((line) => line.includes(`request ${id} stored but not queued`))).toBe(true);
  });
});
