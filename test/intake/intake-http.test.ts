import { RequestStore } from '../../shared/requests/request-store';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/free-port';
import type { RunningLocalHost } from '../../dev/local-host/local-host';
import { AuditLog } from '../../shared/audit/audit-log';
import { signBase64, signHex } from '../../shared/intake/signature';
import { signedHeaders, TEST_SECRETS, testIntegrity } from '../support/signing';
import { TABLES } from '../../shared/storage/names';
import { TableClient } from '@azure/data-tables';
import { useAzurite } from '../support/azurite';
import { canonicalRequest, JIRA_APPROVALS_FIELD, jiraIssue, jiraWebhook, jsmApproved, serviceNowRecord, serviceNowResultWithDisplayValues } from './fixtures';
import { applySettings, baseSettings, SECRETS, startIntakeHost, stored } from './support';

const azurite = useAzurite();
let host: RunningLocalHost & { log: { lines: string[] } };

beforeAll(async () => {
  applySettings(baseSettings(azurite.connectionString));
  host = await startIntakeHost();
});
afterAll(async () => {
  await host?.stop();
});
beforeEach(() => applySettings(baseSettings(azurite.connectionString)));

type Source = 'jira' | 'servicenow' | 'generic';
const ROUTES: Record<Source, string> = { jira: '/api/resets/jira', servicenow: '/api/resets/servicenow', generic: '/api/resets' };

interface PostOptions {
  headers?: Record<string, string>;
  /** false: no signature header; a string: that header value. Default: a correct signature. */
  sign?: boolean | string;
  contentType?: string;
}

async function post(source: Source, body: unknown, options: PostOptions = {}) {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json; charset=utf-8', ...options.headers };
  if (options.sign !== false) {
    const signed = signedHeaders(source, raw, { webhookId: options.headers?.['webhook-id'] });
    if (typeof options.sign === 'string') {
      const name = { jira: 'x-hub-signature', servicenow: 'x-servicenow-signature', generic: 'webhook-signature' }[source];
      signed[name] = options.sign;
    }
    Object.assign(headers, signed, options.headers);
  }
  const response = await fetch(`${host.url}${ROUTES[source]}`, { method: 'POST', headers, body: raw });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

async function expectNothingStored(action: () => Promise<{ status: number; body: Record<string, any> }>, status: number, code: string) {
  const before = await stored(azurite.connectionString);
  const answer = await action();
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ error: { code, message: expect.any(String), ...(answer.body.error?.details !== undefined ? { details: answer.body.error.details } : {}) } });
  expect(Object.keys(answer.body.error).every((key) => ['code', 'message', 'details'].includes(key))).toBe(true);
  const after = await stored(azurite.connectionString);
  expect(after.rows.length).toBe(before.rows.length);
  expect(after.messages.length).toBe(before.messages.length);
  return answer;
}

const rowOf = async (id: string) => (await stored(azurite.connectionString)).rows.find((row) => row.rowKey === id);
const messagesFor = async (id: string) => (await stored(azurite.connectionString)).messages.filter((message) => (message as { requestId: string }).requestId === id);

describe('POST /api/resets/jira', () => {
  it('accepts a signed issue-created webhook: 202, row stored, then the id queued', async () => {
    const answer = await post('jira', jiraWebhook({ key: 'ITSM-101' }), { headers: { 'x-atlassian-webhook-identifier': 'd1c2a3b4-0001' } });
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'accepted', statusUrl: `${host.url}/api/resets/${answer.body.id}` });
    expect(answer.headers.get('location')).toBe(answer.body.statusUrl);

    const row = await rowOf(answer.body.id);
    expect(row).toMatchObject({
      partitionKey: answer.body.id.slice(0, 2),
      source: 'jira',
      status: 'accepted',
      deliveryId: 'd1c2a3b4-0001',
      ticketSystem: 'jira',
      ticketId: 'ITSM-101',
      ticketUrl: 'https://contoso-it.atlassian.net/browse/ITSM-101',
      targetUpn: 'alex.wilber@contoso.com',
      requestedBy: 'Mia Agent',
      requestedById: '5b10ac8d82e05b22cc7d4ef5',
      profile: 'portal',
      revokeSessions: true,
      dryRun: false,
      attempts: 0,
    });
    expect(await messagesFor(answer.body.id)).toEqual([{ requestId: answer.body.id }]);
  });

  it('answers a Jira retry (same delivery identifier) with 200 and the first answer, storing nothing new', async () => {
    const payload = jiraWebhook({ key: 'ITSM-102' });
    const headers = { 'x-atlassian-webhook-identifier': 'd1c2a3b4-0002' };
    const first = await post('jira', payload, { headers });
    const retry = await post('jira', payload, { headers: { ...headers, 'x-atlassian-webhook-retry': '1' } });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('x-idempotent-replay')).toBe('true');
    expect(await messagesFor(first.body.id)).toHaveLength(1);
  });

  it('refuses an Automation token unless WEBHOOK_SECRET_JIRA_AUTOMATION is set', async () => {
    await expectNothingStored(
      () => post('jira', jiraIssue({ key: 'HELP-6' }), { sign: false, headers: { 'x-automation-webhook-token': TEST_SECRETS.jira } }),
      401,
      'token_not_accepted',
    );
  });

  it('accepts Automation issue data with its own opt-in token, deduplicating on issue key + target', async () => {
    applySettings({ ...baseSettings(azurite.connectionString), WEBHOOK_SECRET_JIRA_AUTOMATION: TEST_SECRETS.jiraAutomation });
    const headers = { 'x-automation-webhook-token': TEST_SECRETS.jiraAutomation };
    const first = await post('jira', jiraIssue({ key: 'HELP-7' }), { sign: false, headers });
    const again = await post('jira', { issue: jiraIssue({ key: 'help-7' }) }, { sign: false, headers });
    expect([first.status, again.status]).toEqual([202, 200]);
    expect(again.body.id).toBe(first.body.id);
    expect(await rowOf(first.body.id)).toMatchObject({ ticketId: 'HELP-7', requestedBy: 'Alex Wilber' });
    await expectNothingStored(() => post('jira', jiraIssue({ key: 'HELP-8' }), { sign: false, headers: { 'x-automation-webhook-token': 'guess' } }), 401, 'token_invalid');
  });

  it('refuses a missing or wrong X-Hub-Signature with 401 and stores nothing', async () => {
    await expectNothingStored(() => post('jira', jiraWebhook({ key: 'ITSM-103' }), { sign: false }), 401, 'signature_missing');
    await expectNothingStored(() => post('jira', jiraWebhook({ key: 'ITSM-103' }), { sign: signHex('{}', SECRETS.jira) }), 401, 'signature_invalid');
    await expectNothingStored(() => post('jira', jiraWebhook({ key: 'ITSM-103' }), { sign: 'sha256=zz' }), 401, 'signature_invalid');
  });

  it('checks the signature over the exact bytes: the same JSON re-serialised does not verify', async () => {
    const compact = JSON.stringify(jiraWebhook({ key: 'ITSM-104' }));
    const pretty = JSON.stringify(JSON.parse(compact), null, 2);
    await expectNothingStored(() => post('jira', pretty, { sign: signHex(compact, SECRETS.jira) }), 401, 'signature_invalid');
    expect((await post('jira', pretty, { sign: signHex(pretty, SECRETS.jira) })).status).toBe(202);
  });

  it('refuses a stale signed timestamp with 401', async () => {
    await expectNothingStored(() => post('jira', jiraWebhook({ key: 'ITSM-105', timestamp: Date.now() - 2 * 3600_000 })), 401, 'timestamp_out_of_range');
  });

  it('answers 400 naming the target field when it is empty, 422 for other events', async () => {
    const answer = await expectNothingStored(() => post('jira', jiraWebhook({ key: 'ITSM-106', target: null })), 400, 'invalid_request');
    expect(answer.body.error.details).toEqual([{ path: 'issue.fields.customfield_10050', message: expect.any(String) }]);
    await expectNothingStored(() => post('jira', jiraWebhook({ key: 'ITSM-106', event: 'comment_created' })), 422, 'unsupported_event');
  });
});

describe('POST /api/resets/servicenow', () => {
  it('accepts a Base64-signed Business Rule body and keeps sys_id and table for write-back', async () => {
    const answer = await post('servicenow', serviceNowRecord());
    expect(answer.status).toBe(202);
    expect(await rowOf(answer.body.id)).toMatchObject({
      source: 'servicenow',
      ticketId: 'RITM0010023',
      ticketSysId: '9d385017c611228701d22104cc95c371',
      ticketTable: 'sc_req_item',
      targetUpn: 'adele.vance@contoso.com',
      approvedBy: 'Fred Luddy <fred.luddy@contoso.com, sn:5137153cc611227c000bbd1bd8cd2005>',
      reason: 'MFA reset: lost phone',
    });
    const again = await post('servicenow', serviceNowRecord({ sys_updated_on: '2026-11-20 08:11:02', sys_mod_count: '4' }));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(answer.body);
  });

  it('refuses a hex signature where Base64 is expected, and an unsigned body', async () => {
    const record = serviceNowRecord({ number: 'RITM0010024' });
    await expectNothingStored(() => post('servicenow', record, { sign: signHex(JSON.stringify(record), SECRETS.servicenow) }), 401, 'signature_invalid');
    await expectNothingStored(() => post('servicenow', record, { sign: false }), 401, 'signature_missing');
  });

  it('with REQUIRE_APPROVAL refuses an unapproved record (422) and accepts it once approved', async () => {
    applySettings({ ...baseSettings(azurite.connectionString), REQUIRE_APPROVAL: 'true' });
    const pending = serviceNowResultWithDisplayValues();
    const refused = await expectNothingStored(() => post('servicenow', pending), 422, 'approval_required');
    expect(refused.body.error.message).toContain('INC0010112');
    const approved = serviceNowResultWithDisplayValues({
      approval: { display_value: 'Approved', value: 'approved' },
      approvals: [{ sys_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', state: 'approved', approver: { value: '5137153cc611227c000bbd1bd8cd2005', display_value: 'Fred Luddy' }, approver_email: 'fred.luddy@contoso.com' }],
    });
    expect((await post('servicenow', approved)).status).toBe(202);
  });
});

describe('POST /api/resets (canonical)', () => {
  it('accepts a signed canonical request and shows it at its status URL', async () => {
    const answer = await post('generic', canonicalRequest({ temporaryAccessPass: { lifetimeInMinutes: 60, isUsableOnce: true }, dryRun: true }));
    expect(answer.status).toBe(202);
    const status = await fetch(answer.body.statusUrl);
    expect(status.status).toBe(200);
    const view = (await status.json()) as Record<string, any>;
    expect(view).toMatchObject({
      id: answer.body.id,
      status: 'accepted',
      ticket: { system: 'freshservice', id: 'SR-1093' },
      target: { userPrincipalName: 'diego.siciliani@contoso.com' },
      requestedBy: { name: 'Isaiah Langer', id: 'agent-17' },
      options: { profile: 'portal', revokeSessions: true, temporaryAccessPass: { lifetimeInMinutes: 60, isUsableOnce: true }, dryRun: true },
      plan: null,
      result: null,
      audit: { entries: [], verified: true },
    });
    expect(JSON.stringify(view)).not.toMatch(new RegExp(`${SECRETS.generic}|signature|idempotencyKey`, 'i'));
  });

  it.each([
    ['personal_account', 'alex@hotmail.co.uk'],
    ['personal_account', 'alex@outlook.com'],
    ['outside_tenant', 'alex@fabrikam.com'],
    ['malformed_upn', 'alex at contoso.com'],
  ])('refuses %s (%s) with 422 and stores nothing', async (code, upn) => {
    const answer = await expectNothingStored(
      () => post('generic', canonicalRequest({ ticket: { system: 'x', id: `T-${upn}` }, target: { userPrincipalName: upn } })),
      422,
      code,
    );
    if (code === 'personal_account') expect(answer.body.error.message).toContain('account.live.com/acsr');
  });

  it('answers 400 with every field path for schema errors, and for bad JSON', async () => {
    const answer = await expectNothingStored(
      () => post('generic', { ticket: { system: 'x' }, target: {}, profile: 'nuke', methods: ['sms'] }),
      400,
      'invalid_request',
    );
    expect(answer.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(
      ['methods[0]', 'profile', 'requestedBy', 'target', 'ticket.id'].sort(),
    );
    await expectNothingStored(() => post('generic', '{"ticket": '), 400, 'invalid_json');
    await expectNothingStored(() => post('generic', '[1,2]'), 400, 'invalid_request');
  });

  it('answers 413 over 64 KiB and 415 for a body that is not JSON', async () => {
    const big = canonicalRequest({ reason: 'x'.repeat(70 * 1024) });
    await expectNothingStored(() => post('generic', big), 413, 'body_too_large');
    await expectNothingStored(() => post('generic', canonicalRequest(), { contentType: 'text/plain' }), 415, 'unsupported_media_type');
    await expectNothingStored(() => post('generic', canonicalRequest(), { contentType: 'application/json; charset=iso-8859-1' }), 415, 'unsupported_media_type');
    expect((await post('generic', canonicalRequest({ ticket: { system: 'x', id: 'CT-1' } }), { contentType: 'Application/JSON' })).status).toBe(202);
  });

  it('refuses a source whose secret is not set, unless in local demo mode, which says so loudly', async () => {
    applySettings({ ...baseSettings(azurite.connectionString), WEBHOOK_SECRET_GENERIC: '' });
    await expectNothingStored(() => post('generic', canonicalRequest({ ticket: { system: 'x', id: 'DEMO-1' } }), { sign: false }), 401, 'source_not_configured');

    applySettings({ ...baseSettings(azurite.connectionString), WEBHOOK_SECRET_GENERIC: '', LOCAL_DEMO_MODE: 'true' });
    const answer = await post('generic', canonicalRequest({ ticket: { system: 'x', id: 'DEMO-1' } }), { sign: false });
    expect(answer.status).toBe(202);
    expect(answer.headers.get('x-demo-mode')).toBe('unsigned-accepted');
    expect(host.log.lines.some((line) => /warning: .*LOCAL DEMO MODE.*UNSIGNED generic.*WEBHOOK_SECRET_GENERIC/.test(line))).toBe(true);
    // a source that has a secret is still checked
    await expectNothingStored(() => post('jira', jiraWebhook({ key: 'DEMO-2' }), { sign: false }), 401, 'signature_missing');
  });
});

describe('GET /api/resets/{id}', () => {
  it('answers 404 for an unknown or malformed id', async () => {
    for (const id of ['0f1e2d3c-4b5a-8c69-8796-a5b4c3d2e1f0', 'not-an-id']) {
      const response = await fetch(`${host.url}/api/resets/${id}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });

  it('shows the audit trail, its verification, the plan and the result once the worker writes them', async () => {
    const answer = await post('generic', canonicalRequest({ ticket: { system: 'x', id: 'AUD-1' } }));
    const audit = new AuditLog(TableClient.fromConnectionString(azurite.connectionString, TABLES.audit, { allowInsecureConnection: true }), testIntegrity().auditKey());
    const actor = { source: 'generic', ticketId: 'AUD-1', requestedBy: 'Isaiah Langer' };
    await audit.append(answer.body.id, actor, 'diego.siciliani@contoso.com', { action: 'resolve', outcome: 'ok' });
    await audit.append(answer.body.id, actor, 'diego.siciliani@contoso.com', { action: 'delete phone', outcome: 'ok', graphRequestIds: ['g-1'] });
    // Written as the worker writes it: through the store, under the row's state MAC.
    const store = new RequestStore(TableClient.fromConnectionString(azurite.connectionString, TABLES.requests, { allowInsecureConnection: true }), testIntegrity());
    const { etag, ...row } = (await store.get(answer.body.id))!;
    await store.update(
      {
        ...row,
        status: 'completed',
        engineState: JSON.stringify({ plan: [{ kind: 'phone', id: '3179e48a-750b-4051-897c-87b9720928f7' }] }),
        result: JSON.stringify({ removed: 1, temporaryAccessPass: 'S3cr3t!Pass', tap: { issued: true } }),
      },
      etag,
    );
    const view = (await (await fetch(answer.body.statusUrl)).json()) as Record<string, any>;
    expect(view.status).toBe('completed');
    expect(view.plan).toEqual([{ kind: 'phone', id: '3179e48a-750b-4051-897c-87b9720928f7' }]);
    expect(view.result).toEqual({ removed: 1, tap: { issued: true } });
    expect(view.audit.verified).toBe(true);
    expect(view.audit.entries.map((entry: { action: string }) => entry.action)).toEqual(['resolve', 'delete phone']);
    expect(JSON.stringify(view)).not.toContain('S3cr3t');
  });
});

describe('storage unavailable', () => {
  it('answers 503 with the error body, acknowledging nothing', async () => {
    const port = await freePort();
    const dead = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${'A'.repeat(86)}==;TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:${port}/devstoreaccount1;BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1`;
    applySettings({ ...baseSettings(dead) });
    const answer = await post('generic', canonicalRequest({ ticket: { system: 'x', id: 'DOWN-1' } }));
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ error: { code: 'storage_unavailable', message: expect.stringContaining('not accepted') } });
    expect(answer.headers.get('retry-after')).toBe('30');
    const status = await fetch(`${host.url}/api/resets/0f1e2d3c-4b5a-8c69-8796-a5b4c3d2e1f0`);
    expect(status.status).toBe(503);

    applySettings(baseSettings(azurite.connectionString));
    const rows = (await stored(azurite.connectionString)).rows;
    expect(rows.some((row) => row.ticketId === 'DOWN-1')).toBe(false);
  }, 60_000);
});
