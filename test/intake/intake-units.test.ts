import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../shared/config';
import { IntakeRefusal } from '../../shared/http/answer';
import { canonicalAdapter } from '../../shared/intake/canonical';
import { jiraAdapter } from '../../shared/intake/jira';
import { idempotencyKeys } from '../../shared/intake/request-id';
import { standardWebhookHeaders } from '../../shared/intake/standard-webhooks';
import { RequestIntegrity } from '../../shared/requests/request-integrity';
import { secretSettings, TEST_SECRETS } from '../support/signing';
import { serviceNowAdapter } from '../../shared/intake/servicenow';
import { authenticate, type Authentication, signBase64, signHex } from '../../shared/intake/signature';
import { checkTarget, isPersonalMicrosoftDomain, upnProblem } from '../../shared/intake/target-checks';
import { checkSignedTimestamp, FRESHNESS } from '../../shared/intake/timestamp';
import { redact } from '../../shared/intake/status-service';
import {
  canonicalRequest,
  JIRA_APPROVALS_FIELD,
  jiraIssue,
  jiraWebhook,
  jsmApproved,
  serviceNowRecord,
  serviceNowResultWithDisplayValues,
} from './fixtures';

const settings = (env: Record<string, string> = {}) =>
  loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', INTAKE_MAC_KEY: TEST_SECRETS.intakeMacKey, REQUIRE_APPROVAL: 'false', ...env });
/** How the adapters below were authenticated: an HMAC delivery signed at SIGNED_AT, or a Standard Webhooks one. */
const HMAC: Authentication = { mode: 'hmac', digest: 'unit' };
const SIGNED_AT = 1_764_000_000_000;
const WEBHOOK: Authentication = { mode: 'standard-webhooks', digest: 'unit', webhookId: 'msg_unit', timestamp: new Date(SIGNED_AT) };
const refusal = (fn: () => unknown): IntakeRefusal => {
  try {
    fn();
  } catch (error) {
    if (error instanceof IntakeRefusal) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('signatures', () => {
  const body = Buffer.from(JSON.stringify(jiraWebhook()));
  const s = settings({ ...secretSettings() });
  const { jira, servicenow, generic } = TEST_SECRETS;

  it('accepts Jira hex and ServiceNow Base64 HMACs over the exact bytes, and Standard Webhooks for generic callers', () => {
    expect(authenticate('jira', body, new Headers({ 'X-Hub-Signature': signHex(body, jira) }), s)).toMatchObject({ mode: 'hmac' });
    expect(authenticate('servicenow', body, new Headers({ 'X-ServiceNow-Signature': signBase64(body, servicenow) }), s)).toMatchObject({ mode: 'hmac' });
    const delivery = standardWebhookHeaders(generic, body, { id: 'msg_unit_1' });
    expect(authenticate('generic', body, new Headers(delivery), s)).toMatchObject({ mode: 'standard-webhooks', webhookId: 'msg_unit_1' });
  });

  it('refuses a signature over other bytes, with another secret, in the wrong encoding, or missing', () => {
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2));
    expect(refusal(() => authenticate('jira', reformatted, new Headers({ 'X-Hub-Signature': signHex(body, jira) }), s)).code).toBe('signature_invalid');
    expect(refusal(() => authenticate('jira', body, new Headers({ 'X-Hub-Signature': signHex(body, 'other') }), s)).status).toBe(401);
    expect(refusal(() => authenticate('servicenow', body, new Headers({ 'X-ServiceNow-Signature': signHex(body, servicenow) }), s)).code).toBe('signature_invalid');
    expect(refusal(() => authenticate('jira', body, new Headers({ 'X-Hub-Signature': signHex(body, jira).slice(7) }), s)).code).toBe('signature_invalid');
    expect(refusal(() => authenticate('generic', body, new Headers({}), s)).code).toBe('signature_missing');
    // the old generic header is not a signature any more
    expect(refusal(() => authenticate('generic', body, new Headers({ 'X-Signature-256': signHex(body, generic) }), s)).code).toBe('signature_missing');
  });

  it('refuses a Standard Webhooks delivery whose webhook-id was swapped, or signed 6 minutes ago', () => {
    const delivery = standardWebhookHeaders(generic, body, { id: 'msg_original' });
    const swapped = refusal(() => authenticate('generic', body, new Headers({ ...delivery, 'webhook-id': 'msg_fresh' }), s));
    expect([swapped.status, swapped.code]).toEqual([401, 'signature_invalid']);
    const old = standardWebhookHeaders(generic, body, { timestamp: new Date(Date.now() - 6 * 60_000) });
    const stale = refusal(() => authenticate('generic', body, new Headers(old), s));
    expect([stale.status, stale.code]).toEqual([401, 'timestamp_out_of_range']);
    expect(stale.message).toContain(old['webhook-timestamp']);
    const ahead = standardWebhookHeaders(generic, body, { timestamp: new Date(Date.now() + 6 * 60_000) });
    expect(refusal(() => authenticate('generic', body, new Headers(ahead), s)).code).toBe('timestamp_out_of_range');
    expect(refusal(() => authenticate('generic', body, new Headers({ ...delivery, 'webhook-timestamp': '12e3' }), s)).code).toBe('timestamp_invalid');
  });

  it('never echoes the secret or the presented signature', () => {
    const presented = signHex(body, 'wrong');
    const error = refusal(() => authenticate('jira', body, new Headers({ 'X-Hub-Signature': presented }), s));
    expect(error.message).not.toContain(jira);
    expect(error.message).not.toContain(presented.slice(7, 20));
    const forged = { ...standardWebhookHeaders(generic, body), 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' };
    expect(refusal(() => authenticate('generic', body, new Headers(forged), s)).message).not.toContain('AAAAAAAA');
  });

  it('takes a Jira Automation token only when WEBHOOK_SECRET_JIRA_AUTOMATION is set', () => {
    const token = TEST_SECRETS.jiraAutomation;
    expect(refusal(() => authenticate('jira', body, new Headers({ 'X-Automation-Webhook-Token': token }), s)).code).toBe('token_not_accepted');
    // the HMAC secret is never a token
    expect(refusal(() => authenticate('jira', body, new Headers({ 'X-Automation-Webhook-Token': jira }), s)).code).toBe('token_not_accepted');
    const opted = settings({ ...secretSettings(), WEBHOOK_SECRET_JIRA_AUTOMATION: token });
    expect(authenticate('jira', body, new Headers({ 'X-Automation-Webhook-Token': token }), opted)).toMatchObject({ mode: 'token' });
    expect(refusal(() => authenticate('jira', body, new Headers({ 'X-Automation-Webhook-Token': jira }), opted)).code).toBe('token_invalid');
    expect(refusal(() => authenticate('servicenow', body, new Headers({ 'X-Automation-Webhook-Token': token }), opted)).code).toBe('signature_missing');
  });

  it('refuses a source without a secret unless in local demo mode', () => {
    expect(refusal(() => authenticate('servicenow', body, new Headers({}), settings())).code).toBe('source_not_configured');
    const demo = settings({ LOCAL_DEMO_MODE: 'true', GRAPH_BASE_URL: 'http://127.0.0.1:4010', GRAPH_AUTH: 'none' });
    expect(authenticate('servicenow', body, new Headers({}), demo)).toMatchObject({ mode: 'demo-unsigned', setting: 'WEBHOOK_SECRET_SERVICENOW' });
    // demo mode does not weaken a source that has a secret
    expect(
      refusal(() => authenticate('jira', body, new Headers({}), settings({ LOCAL_DEMO_MODE: 'true', GRAPH_BASE_URL: 'http://127.0.0.1:4010', GRAPH_AUTH: 'none', WEBHOOK_SECRET_JIRA: jira }))).code,
    ).toBe('signature_missing');
  });
});

describe('targets decided offline', () => {
  it.each([
    'alex@outlook.com', 'alex@hotmail.com', 'alex@hotmail.co.uk', 'alex@hotmail.fr', 'alex@live.com', 'alex@live.de',
    'alex@live.co.uk', 'alex@msn.com', 'alex@passport.com', 'alex@windowslive.com', 'alex@outlook.de', 'alex@outlook.com.au',
    'ALEX@Outlook.COM',
  ])('refuses the personal account %s and points to account recovery', (upn) => {
    const error = refusal(() => checkTarget({ userPrincipalName: upn }, []));
    expect(error.status).toBe(422);
    expect(error.code).toBe('personal_account');
    expect(error.message).toMatch(/personal Microsoft accounts .* cannot be reset by this service/);
    expect(error.message).toContain('https://account.live.com/acsr');
  });

  it.each(['alex@contoso.com', 'alex@live.contoso.com', 'alex@outlookindia.com', 'alex_outlook.com#EXT#@contoso.onmicrosoft.com', 'msn@contoso.com'])(
    'lets %s through to the worker',
    (upn) => {
      expect(isPersonalMicrosoftDomain(upn.split('@').pop()!)).toBe(false);
      expect(() => checkTarget({ userPrincipalName: upn }, [])).not.toThrow();
    },
  );

  it.each(['alex', 'alex@', '@contoso.com', 'alex@contoso', 'al ex@contoso.com', 'alex@@contoso.com', '.alex@contoso.com', 'a..b@contoso.com', 'alex@contoso..com', 'alex@-contoso.com', 'alex@10.0.0.1'])(
    'refuses the malformed UPN %s',
    (upn) => {
      expect(upnProblem(upn)).toBeDefined();
      const error = refusal(() => checkTarget({ userPrincipalName: upn }, []));
      expect([error.status, error.code]).toEqual([422, 'malformed_upn']);
    },
  );

  it('refuses domains outside TENANT_DOMAINS, subdomains included unless listed (the worker uses the same rule)', () => {
    const tenant = ['contoso.com', 'contoso.onmicrosoft.com'];
    expect(() => checkTarget({ userPrincipalName: 'a@Contoso.com' }, tenant)).not.toThrow();
    expect(refusal(() => checkTarget({ userPrincipalName: 'a@evil.contoso.com' }, tenant)).code).toBe('outside_tenant');
    expect(() => checkTarget({ userPrincipalName: 'a@EU.Contoso.com' }, [...tenant, 'eu.contoso.com'])).not.toThrow();
    const error = refusal(() => checkTarget({ userPrincipalName: 'a@fabrikam.com' }, tenant));
    expect([error.status, error.code]).toEqual([422, 'outside_tenant']);
    expect(error.message).toContain('contoso.com, contoso.onmicrosoft.com');
    expect(() => checkTarget({ userPrincipalName: 'a@notcontoso.com' }, tenant)).toThrow(IntakeRefusal);
    expect(() => checkTarget({ objectId: '6e7b768e-07e2-4810-8459-485f84f8f204' }, tenant)).not.toThrow();
  });
});

describe('request ids', () => {
  const integrity = new RequestIntegrity(TEST_SECRETS.intakeMacKey);
  it('are version-8 UUIDs, the same for the same key under the same secret, and unpredictable without it', () => {
    const key = idempotencyKeys.genericDelivery('msg_0f1e2d3c');
    const a = integrity.requestId(key);
    expect(a).toBe(integrity.requestId(key));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(integrity.requestId(idempotencyKeys.genericDelivery('msg_0f1e2d3d'))).not.toBe(a);
    // another key gives other ids: knowing the ticket, the target and the scheme is not enough
    const other = new RequestIntegrity(Buffer.from('0123456789abcdef0123456789abcdef').toString('base64'));
    expect(other.requestId(key)).not.toBe(a);
  });
});

describe('signed timestamps', () => {
  const now = new Date('2026-11-20T10:00:00Z');
  it('accepts fresh times in epoch ms, epoch seconds and ISO form, and no timestamp at all', () => {
    expect(() => checkSignedTimestamp(now.getTime() - 29 * 60_000, now)).not.toThrow();
    expect(() => checkSignedTimestamp(String(Math.floor(now.getTime() / 1000)), now)).not.toThrow();
    expect(() => checkSignedTimestamp('2026-11-20T09:58:00Z', now)).not.toThrow();
    expect(() => checkSignedTimestamp(undefined, now)).not.toThrow();
  });
  it('requires a timestamp from Jira webhooks (60 minutes) and ServiceNow (5 minutes)', () => {
    expect(refusal(() => checkSignedTimestamp(undefined, now, FRESHNESS.jira)).code).toBe('timestamp_missing');
    expect(refusal(() => checkSignedTimestamp(undefined, now, FRESHNESS.servicenow)).code).toBe('timestamp_missing');
    expect(checkSignedTimestamp(now.getTime() - 59 * 60_000, now, FRESHNESS.jira)).toBe(now.getTime() - 59 * 60_000);
    expect(refusal(() => checkSignedTimestamp(now.getTime() - 6 * 60_000, now, FRESHNESS.servicenow)).code).toBe('timestamp_out_of_range');
  });
  it('refuses stale or far-future times with 401 and malformed ones with 400', () => {
    expect(refusal(() => checkSignedTimestamp(now.getTime() - 61 * 60_000, now)).status).toBe(401);
    expect(refusal(() => checkSignedTimestamp('2026-11-20T10:06:00Z', now)).code).toBe('timestamp_out_of_range');
    expect(refusal(() => checkSignedTimestamp('yesterday', now)).status).toBe(400);
    // beyond what a Date can hold (found by the property test): a 400, not a crash
    expect(refusal(() => checkSignedTimestamp(8640000000000001, now)).status).toBe(400);
    expect(refusal(() => checkSignedTimestamp('+275760-09-13T00:00:00.001Z', now)).status).toBe(400);
  });
});

describe('Jira adapter', () => {
  const s = settings({ JIRA_TARGET_FIELD: 'customfield_10050' });
  const none = new Headers();

  it('maps an issue-created webhook: key, acting user, browse link, summary, delivery id', () => {
    const adapted = jiraAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: jiraWebhook(), headers: new Headers({ 'X-Atlassian-Webhook-Identifier': '7f3c9a1e-delivery' }), settings: s });
    expect(adapted.request.ticket).toEqual({ system: 'jira', id: 'ITSM-42', url: 'https://contoso-it.atlassian.net/browse/ITSM-42' });
    expect(adapted.request.target).toEqual({ userPrincipalName: 'alex.wilber@contoso.com' });
    expect(adapted.request.requestedBy).toEqual({ id: '5b10ac8d82e05b22cc7d4ef5', name: 'Mia Agent' });
    expect(adapted.request.reason).toBe('Lost my phone, cannot complete MFA');
    // identity from signed content: issue id, event, event time, target; the unsigned delivery id is only kept
    expect(adapted.idempotencyKey).toBe(`jira|event|10042|jira:issue_created|${SIGNED_AT}|upn:alex.wilber@contoso.com`);
    expect(adapted.deliveryId).toBe('7f3c9a1e-delivery');
    expect(adapted.request).toMatchObject({ profile: 'portal', revokeSessions: true, dryRun: false });
  });

  it('reads the target from a select option and Automation issue data, bare or wrapped', () => {
    const option = { self: 'https://contoso-it.atlassian.net/rest/api/2/customFieldOption/10101', value: 'nestor.wilke@contoso.com', id: '10101' };
    const bare = jiraAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: jiraIssue({ target: option }), headers: none, settings: s });
    expect(bare.request.target).toEqual({ userPrincipalName: 'nestor.wilke@contoso.com' });
    expect(bare.request.requestedBy.name).toBe('Alex Wilber'); // no acting user: the reporter
    expect(bare.idempotencyKey).toBe(`jira|event|10042|jira:issue_created|${SIGNED_AT}|upn:nestor.wilke@contoso.com`);
    const wrapped = jiraAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: { issue: jiraIssue() }, headers: none, settings: s });
    expect(wrapped.request.ticket.id).toBe('ITSM-42');
  });

  it('names the field path when the target field is empty', () => {
    const error = refusal(() => jiraAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: jiraWebhook({ target: null }), headers: none, settings: s }));
    expect(error.status).toBe(400);
    expect(error.details).toEqual([{ path: 'issue.fields.customfield_10050', message: expect.stringContaining('JIRA_TARGET_FIELD') }]);
    const bare = refusal(() => jiraAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: jiraIssue({ target: '' }), headers: none, settings: s }));
    expect((bare.details as { path: string }[])[0]!.path).toBe('fields.customfield_10050');
  });

  it('reads a JSM approval and refuses events that do not ask for a reset', () => {
    const approved = jiraAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: jiraWebhook({ fields: { [JIRA_APPROVALS_FIELD]: jsmApproved } }), headers: none, settings: s });
    expect(approved.request.approvedBy).toBe('Megan Bowen <jira:557058:0f1e2d3c>');
    expect(refusal(() => jiraAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: jiraWebhook({ event: 'jira:issue_deleted' }), headers: none, settings: s })).code).toBe('unsupported_event');
  });
});

describe('ServiceNow adapter', () => {
  const s = settings();
  it('maps a requested item: number, sys_id, table, requester, approval, form link', () => {
    const adapted = serviceNowAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: serviceNowRecord(), headers: new Headers(), settings: s });
    expect(adapted.request.ticket).toEqual({
      system: 'servicenow',
      id: 'RITM0010023',
      sysId: '9d385017c611228701d22104cc95c371',
      table: 'sc_req_item',
      url: 'https://contoso.service-now.com/sc_req_item.do?sys_id=9d385017c611228701d22104cc95c371',
    });
    expect(adapted.request.requestedBy).toEqual({ id: '6816f79cc0a8016401c5a33be04be441', name: '6816f79cc0a8016401c5a33be04be441' });
    expect(adapted.request.approvedBy).toBe('Fred Luddy <fred.luddy@contoso.com, sn:5137153cc611227c000bbd1bd8cd2005>');
    expect(adapted.idempotencyKey).toBe(`servicenow|delivery|sc_req_item|9d385017c611228701d22104cc95c371|${SIGNED_AT}|upn:adele.vance@contoso.com`);
  });

  it('reads display-value records wrapped in result, infers the table from the number', () => {
    const adapted = serviceNowAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: serviceNowResultWithDisplayValues(), headers: new Headers(), settings: s });
    expect(adapted.request.ticket).toMatchObject({ id: 'INC0010112', table: 'incident' });
    expect(adapted.request.requestedBy).toEqual({ id: '46d44a23a9fe19810012d100cca80666', name: 'Beth Anglin' });
    expect(adapted.request.target).toEqual({ userPrincipalName: 'lynne.robbins@contoso.com' });
    expect(adapted.request.approvedBy).toBeUndefined();
  });

  it('follows a dot path and refuses a reference where a UPN belongs', () => {
    const dotted = settings({ SERVICENOW_TARGET_FIELD: 'variables.target_upn' });
    const body = serviceNowRecord({ variables: { target_upn: 'grady.archie@contoso.com' } });
    expect(serviceNowAdapter({ auth: HMAC, signedAt: SIGNED_AT, body, headers: new Headers(), settings: dotted }).request.target).toEqual({ userPrincipalName: 'grady.archie@contoso.com' });
    const error = refusal(() =>
      serviceNowAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: serviceNowRecord({ u_target_upn: { value: '62826bf03710200044e0bfc8bcbe5df1', link: 'x' } }), headers: new Headers(), settings: s }),
    );
    expect(error.details).toEqual([{ path: 'u_target_upn', message: expect.stringContaining('dot-walk') }]);
  });

  it('refuses a rejected approval', () => {
    expect(refusal(() => serviceNowAdapter({ auth: HMAC, signedAt: SIGNED_AT, body: serviceNowRecord({ approval: 'rejected' }), headers: new Headers(), settings: s })).code).toBe('approval_rejected');
  });
});

describe('canonical adapter', () => {
  it('applies the defaults and lists every bad field path', () => {
    const adapted = canonicalAdapter({ auth: WEBHOOK, body: canonicalRequest(), headers: new Headers(), settings: settings() });
    expect(adapted.request).toMatchObject({ profile: 'portal', revokeSessions: true, dryRun: false });
    expect(adapted.request.temporaryAccessPass).toBeUndefined();
    const error = refusal(() =>
      canonicalAdapter({
        auth: WEBHOOK,
        body: canonicalRequest({ profile: 'everything', methods: ['phone', 'pigeon'], temporaryAccessPass: { lifetimeInMinutes: 5 }, revokeSession: false }),
        headers: new Headers(),
        settings: settings(),
      }),
    );
    expect(error.status).toBe(400);
    expect((error.details as { path: string }[]).map((problem) => problem.path).sort()).toEqual(
      ['methods[1]', 'profile', 'revokeSession', 'temporaryAccessPass.lifetimeInMinutes'].sort(),
    );
  });

  it('takes the signed webhook-id as the key and ignores an unsigned Idempotency-Key header', () => {
    const adapted = canonicalAdapter({ auth: WEBHOOK, body: canonicalRequest(), headers: new Headers({ 'Idempotency-Key': 'abc-1' }), settings: settings() });
    expect(adapted.idempotencyKey).toBe('generic|delivery|msg_unit');
  });

  it('refuses control characters in text fields (no forged log lines)', () => {
    const error = refusal(() =>
      canonicalAdapter({ auth: WEBHOOK, body: canonicalRequest({ ticket: { system: 'manual', id: 'SR-1\r\nINFO forged' } }), headers: new Headers(), settings: settings() }),
    );
    expect(error.status).toBe(400);
    expect((error.details as { path: string }[])[0]!.path).toBe('ticket.id');
  });
});

describe('status redaction', () => {
  it('drops secret-looking string fields at any depth and keeps option objects', () => {
    expect(
      redact({ temporaryAccessPass: { lifetimeInMinutes: 60 }, steps: [{ temporaryAccessPass: 'Xy7!abc', ok: true }], accessToken: 'eyJ' }),
    ).toEqual({ temporaryAccessPass: { lifetimeInMinutes: 60 }, steps: [{ ok: true }] });
  });
});
