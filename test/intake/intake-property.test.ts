import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetIntake, resetIntakeJira, resetIntakeServiceNow } from '../../functions/reset-intake';
import type { FunctionDefinition } from '../../functions/definition';
import { intakeServices } from '../../shared/intake/intake-services';
import { signBase64, signHex } from '../../shared/intake/signature';
import { standardWebhookHeaders } from '../../shared/intake/standard-webhooks';
import { getServices } from '../../shared/services';
import { useAzurite } from '../support/azurite';
import { canonicalRequest, jiraWebhook, serviceNowRecord } from './fixtures';
import { applySettings, baseSettings, SECRETS, stored } from './support';

/**
 * Thousands of random bodies and headers against the three intake handlers, storage real (Azurite):
 * no 5xx, no throw, every error in the documented shape, and no row or message for anything refused.
 */

const azurite = useAzurite();
beforeAll(() => applySettings(baseSettings(azurite.connectionString)));

type Source = 'jira' | 'servicenow' | 'generic';
const HANDLERS: Record<Source, FunctionDefinition> = { jira: resetIntakeJira, servicenow: resetIntakeServiceNow, generic: resetIntake };
const SIGNATURE_HEADER: Record<Source, string> = { jira: 'x-hub-signature', servicenow: 'x-servicenow-signature', generic: 'webhook-signature' };
const DELETE = Symbol('delete');

const MUTABLE_PATHS: Record<Source, string[]> = {
  jira: ['webhookEvent', 'user', 'user.accountId', 'issue', 'issue.key', 'issue.self', 'issue.fields', 'issue.fields.customfield_10050', 'issue.fields.summary', 'timestamp', 'issue.fields.customfield_10027'],
  servicenow: ['number', 'sys_id', 'sys_class_name', 'u_target_upn', 'opened_by', 'approval', 'short_description', 'timestamp', 'result', 'table', 'instance_url'],
  generic: ['ticket', 'ticket.id', 'ticket.system', 'ticket.url', 'target', 'target.userPrincipalName', 'target.objectId', 'requestedBy', 'profile', 'methods', 'revokeSessions', 'temporaryAccessPass', 'temporaryAccessPass.lifetimeInMinutes', 'dryRun', 'timestamp', 'approvedBy', 'extra'],
};

const printable = (max: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${max}}$`));
const upn = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('adele.vance@contoso.com', 'x@eu.contoso.com') },
  fc.constantFrom('adele.vance@contoso.com', 'x@eu.contoso.com', 'alex@hotmail.co.uk', 'alex@live.com', 'bob@fabrikam.com', 'nope', 'a b@contoso.com', ''),
  fc.tuple(fc.stringMatching(/^[a-z.]{1,12}$/), fc.constantFrom('contoso.com', 'outlook.com', 'example.org')).map(([name, domain]) => `${name}@${domain}`),
  fc.string({ maxLength: 40 }),
);

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let current: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof current !== 'object' || current === null) return;
    current = (current as Record<string, unknown>)[part];
  }
  if (typeof current !== 'object' || current === null) return;
  const last = parts[parts.length - 1]!;
  if (value === DELETE) delete (current as Record<string, unknown>)[last];
  else (current as Record<string, unknown>)[last] = value;
}

const mutatedFixture = (source: Source) =>
  fc
    .record({
      ticket: fc.integer({ min: 1, max: 25 }),
      target: upn,
      mutations: fc.array(
        fc.tuple(fc.constantFrom(...MUTABLE_PATHS[source]), fc.oneof(fc.constant<typeof DELETE>(DELETE), fc.jsonValue({ maxDepth: 2 }), printable(30))),
        { maxLength: 3 },
      ),
    })
    .map(({ ticket, target, mutations }) => {
      const body: Record<string, unknown> =
        source === 'jira'
          ? jiraWebhook({ key: `PROP-${ticket}`, target })
          : source === 'servicenow'
            ? serviceNowRecord({ number: `RITM${String(ticket).padStart(7, '0')}`, u_target_upn: target })
            : canonicalRequest({ ticket: { system: 'prop', id: `P-${ticket}` }, target: { userPrincipalName: target } });
      for (const [path, value] of mutations) setPath(body, path, value);
      return Buffer.from(JSON.stringify(body));
    });

const bodyFor = (source: Source) =>
  fc.oneof(
    { weight: 6, arbitrary: mutatedFixture(source) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }).map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(64 * 1024 + 1, 0x20)) },
  );

const scenario = fc.constantFrom<Source>('jira', 'servicenow', 'generic').chain((source) =>
  fc.record({
    source: fc.constant(source),
    body: bodyFor(source),
    contentType: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
      { weight: 2, arbitrary: fc.constantFrom('', 'text/plain', 'application/xml', 'application/json; charset=iso-8859-1', 'multipart/form-data; boundary=x') },
      { weight: 1, arbitrary: printable(40) },
    ),
    signature: fc.oneof(
      { weight: 6, arbitrary: fc.constant<'valid'>('valid') },
      { weight: 1, arbitrary: fc.constant<'missing'>('missing') },
      { weight: 1, arbitrary: fc.constant<'wrong-secret'>('wrong-secret') },
      { weight: 1, arbitrary: printable(90) },
    ),
    extraHeaders: fc.oneof(
      { weight: 3, arbitrary: fc.constant({}) },
      {
        weight: 1,
        arbitrary: fc.record(
          {
            'x-atlassian-webhook-identifier': fc.oneof(fc.constantFrom('delivery-1', 'delivery-2'), printable(60)),
            'idempotency-key': fc.oneof(fc.constantFrom('key-1', 'key-2'), printable(60)),
            'x-automation-webhook-token': printable(70),
            'content-length': fc.oneof(fc.nat({ max: 70_000 }).map(String), printable(10)),
            'x-servicenow-signature': printable(50),
          },
          { requiredKeys: [] },
        ),
      },
    ),
  }),
);

const OTHER_GENERIC_SECRET = `whsec_${Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex').toString('base64')}`;

/** The signature headers for one mode: valid, missing, signed with another secret, or a random value. */
function signatureHeaders(source: Source, body: Buffer, mode: string): Record<string, string> {
  if (mode === 'missing') return {};
  if (source === 'generic') {
    if (mode === 'valid') return standardWebhookHeaders(SECRETS.generic, body, { id: `msg_prop_${body.length % 7}` });
    if (mode === 'wrong-secret') return standardWebhookHeaders(OTHER_GENERIC_SECRET, body);
    return { ...standardWebhookHeaders(SECRETS.generic, body), 'webhook-signature': mode };
  }
  const key = mode === 'wrong-secret' ? 'not-the-secret-not-the-secret-not-the-secret' : SECRETS[source];
  if (mode === 'valid' || mode === 'wrong-secret') return { [SIGNATURE_HEADER[source]]: source === 'servicenow' ? signBase64(body, key) : signHex(body, key) };
  return { [SIGNATURE_HEADER[source]]: mode };
}

describe('intake under random input', () => {
  it('never throws or answers 5xx, and stores nothing it refuses', async () => {
    const accepted = new Set<string>();
    const statuses = new Map<number, number>();
    const services = getServices();
    const { store } = intakeServices(services);
    let rowsCreatedByRefusals = 0;
    const seen: { outcome?: { created: boolean } } = {};
    const create = store.create.bind(store);
    store.create = async (row) => {
      const outcome = await create(row);
      seen.outcome = outcome;
      return outcome;
    };

    await fc.assert(
      fc.asyncProperty(scenario, async ({ source, body, contentType, signature, extraHeaders }) => {
        const headers: Record<string, string> = { ...extraHeaders };
        if (contentType !== '') headers['content-type'] = contentType;
        Object.assign(headers, signatureHeaders(source, body, signature));
        seen.outcome = undefined;

        const request = new HttpRequest({
          method: 'POST',
          url: `http://127.0.0.1:7071${source === 'generic' ? '/api/resets' : `/api/resets/${source}`}`,
          headers,
          body: { bytes: body },
        });
        const context = new InvocationContext({ functionName: HANDLERS[source].name, logHandler: () => undefined });
        const handler = HANDLERS[source].options.handler as (r: HttpRequest, c: InvocationContext) => Promise<HttpResponseInit>;
        const response = await handler(request, context);

        const outcome = seen.outcome as { created: boolean } | undefined;
        const status = response.status ?? 200;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        expect([200, 202, 400, 401, 413, 415, 422]).toContain(status);
        const json = response.jsonBody as Record<string, any>;
        if (status >= 400) {
          expect(Object.keys(json)).toEqual(['error']);
          expect(typeof json.error.code).toBe('string');
          expect(typeof json.error.message).toBe('string');
          if (outcome?.created) rowsCreatedByRefusals += 1;
          // A reused key for another ticket meets its row on the insert (created: false) and is refused.
          expect(outcome?.created ?? false).toBe(false);
        } else {
          expect(json).toMatchObject({ id: expect.any(String), status: 'accepted', statusUrl: expect.stringContaining(json.id) });
          // 202: a row was created; 200: a repeat answered from the stored request, nothing created.
          expect(outcome?.created ?? false).toBe(status === 202);
          if (status === 202) accepted.add(json.id as string);
        }
      }),
      { numRuns: 2000 },
    );

    console.log(`intake property: answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(rowsCreatedByRefusals).toBe(0);
    // Both kinds of answers really happened: the generator is not stuck on one path.
    for (const status of [200, 202, 400, 401, 413, 415, 422]) expect(statuses.get(status) ?? 0, `answers with ${status}`).toBeGreaterThan(0);

    // In Azurite: exactly one row and one queue message per 202, nothing else.
    const { rows, messages } = await stored(azurite.connectionString);
    expect(new Set(rows.map((row) => row.rowKey))).toEqual(accepted);
    expect(messages.length).toBe(Math.min(accepted.size, 32));
    store.create = create;
  }, 120_000);
});
