import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import { signedCall } from '../../dev/cli/client';
import { DEMO_CONSOLE_READER_GROUP_ID } from '../../dev/graph-sim';
import { eventually } from '../support/eventually';
import { SYSTEM_SECRETS } from '../support/system';
import { AGENT, OUTSIDER, READER, startConsoleSystem, type ConsoleSystem } from './support';

/**
 * Who may see the console's data: every way of calling without being a signed-in member of a console
 * group gets 401 or 403 and a body with nothing but the error. The tokens are the local identity
 * provider's, bent the ways an attacker or a misconfiguration would bend them; the validation is the
 * production code's.
 */

let c: ConsoleSystem;
let requestId: string;
let scheduleId: string;
let run: { runId: string; bulkJobId: string | null };
const TICKET = 'SR-CONSOLE-ACCESS-7';
const SCHEDULE_NAME = 'Console readers re-registration (dry run)';

beforeAll(async () => {
  c = await startConsoleSystem({ definitions: functionDefinitions });
  const answer = await c.system.post('generic', {
    ticket: { system: 'servicedesk', id: TICKET },
    target: { userPrincipalName: 'megan.bowen@contoso.com' },
    requestedBy: 'agent@contoso.com',
    temporaryAccessPass: { lifetimeInMinutes: 60 },
  });
  expect(answer.status).toBe(202);
  requestId = answer.body.id;
  await c.system.waitFor(requestId, ['completed', 'partial', 'failed', 'rejected']);
  // A schedule with one run (a dry run of a one-member group), created and run over the signed routes.
  const api = { url: c.system.host.url, secret: SYSTEM_SECRETS.generic };
  const created = await signedCall(api, 'POST', 'schedules', {
    name: SCHEDULE_NAME,
    schedule: '0 30 2 * * 1-5',
    timeZone: 'Europe/Amsterdam',
    source: { groupId: DEMO_CONSOLE_READER_GROUP_ID },
    requestedBy: 'soc@contoso.com',
    approvedBy: 'lead@contoso.com',
    dryRun: true,
  });
  scheduleId = (created.body as { id: string }).id;
  run = (await signedCall(api, 'POST', `schedules/${scheduleId}/run`, {})).body as { runId: string; bulkJobId: string | null };
});
afterAll(async () => {
  await c?.stop();
});

const DATA_ROUTES = () => ['/me', '/requests', `/requests/${requestId}`, '/bulk', '/schedules', '/health'];

/** A refusal shows nothing of the store: only the error object, no ticket, no id, no user. */
function expectNothingShown(text: string) {
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error']);
  expect(text).not.toContain(TICKET);
  expect(text).not.toContain(requestId);
  expect(text).not.toContain('megan.bowen');
  expect(text).not.toContain(scheduleId);
  expect(text).not.toContain(DEMO_CONSOLE_READER_GROUP_ID);
}

describe('console API: refused without a valid person in a console group', () => {
  it('the setup really has data to hide: the agent sees the request', async () => {
    const answer = await c.call(`/requests?ticket=${TICKET}`, await c.idp.issueToken(AGENT));
    expect(answer.status).toBe(200);
    expect(answer.text).toContain(requestId);
  });

  it('no token: 401 with a Bearer challenge, on every data route', async () => {
    for (const path of DATA_ROUTES()) {
      const answer = await c.call(path);
      expect(answer.status, path).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expectNothingShown(answer.text);
    }
  });

  const badTokens: [string, () => Promise<string>][] = [
    ['expired', () => c.idp.issueToken(AGENT, { expiresIn: -300 })],
    ['for another audience', () => c.idp.issueToken(AGENT, { audience: '00000003-0000-0000-c000-000000000000' })],
    ['from another tenant (issuer and tid)', () => c.idp.issueToken(AGENT, { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', issuer: `${c.idp.url}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0` })],
    ['with this issuer but another tenant claim', () => c.idp.issueToken(AGENT, { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' })],
    ['signed with a key the tenant does not publish', () => c.idp.issueToken(AGENT, { unpublishedKey: true })],
    ['without the console scope (an ID token or an app-only token)', () => c.idp.issueToken(AGENT, { scp: null })],
    ['with another scope', () => c.idp.issueToken(AGENT, { scp: 'User.Read' })],
    ['issued to another client app', () => c.idp.issueToken(AGENT, { azp: '11111111-2222-4333-8444-555555555555' })],
    ['a v1.0 token', () => c.idp.issueToken(AGENT, { ver: '1.0' })],
    [
      'with its payload altered after signing (groups added)',
      async () => {
        const [header, payload, signature] = (await c.idp.issueToken(OUTSIDER)).split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
        claims.groups = [process.env.PASS_COLLECTOR_GROUP_ID];
        return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
      },
    ],
    [
      'unsigned (alg none)',
      async () => {
        const payload = (await c.idp.issueToken(AGENT)).split('.')[1];
        return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
      },
    ],
  ];

  for (const [what, make] of badTokens) {
    it(`a token ${what}: 401`, async () => {
      const token = await make();
      for (const path of DATA_ROUTES()) {
        const answer = await c.call(path, token);
        expect(answer.status, `${what} ${path}`).toBe(401);
        expectNothingShown(answer.text);
      }
      const reveal = await c.call(`/requests/${requestId}/pass`, token, { method: 'POST' });
      expect(reveal.status).toBe(401);
    });
  }

  it('a signed-in person outside both groups: 403 and nothing shown, on every route', async () => {
    const token = await c.idp.issueToken(OUTSIDER);
    for (const path of DATA_ROUTES()) {
      const answer = await c.call(path, token);
      expect(answer.status, path).toBe(403);
      expectNothingShown(answer.text);
    }
    const reveal = await c.call(`/requests/${requestId}/pass`, token, { method: 'POST' });
    expect(reveal.status).toBe(403);
    expectNothingShown(reveal.text);
  });

  it('a reader sees the request but may not reveal its pass (403), and the pass stays waiting', async () => {
    const token = await c.idp.issueToken(READER);
    const detail = await c.call(`/requests/${requestId}`, token);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ pass: { requested: true, waiting: true, canReveal: false } });
    const reveal = await c.call(`/requests/${requestId}/pass`, token, { method: 'POST' });
    expect(reveal.status).toBe(403);
    expect(reveal.text).not.toMatch(/temporaryAccessPass/);
    const again = await c.call(`/requests/${requestId}`, await c.idp.issueToken(AGENT));
    expect(again.body).toMatchObject({ pass: { waiting: true, canReveal: true } });
  });

  it('a valid token beside machine credentials (function key, webhook signature): 401, no route takes both', async () => {
    const token = await c.idp.issueToken(AGENT);
    const machineCredentials: Record<string, string>[] = [{ 'x-functions-key': 'k' }, { 'webhook-signature': 'v1,abc' }, { 'x-hub-signature': 'sha256=00' }, { 'x-signature-256': 'sha256=00' }];
    for (const extra of machineCredentials) {
      const answer = await c.call(`/requests/${requestId}`, token, { headers: extra });
      expect(answer.status).toBe(401);
      expectNothingShown(answer.text);
    }
    const withCode = await c.call(`/requests/${requestId}?code=somekey`, token);
    expect(withCode.status).toBe(401);
  });

  it('a person token on machine routes acts as nothing: intake and the machine pass route refuse it', async () => {
    const token = await c.idp.issueToken(AGENT);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const intake = await fetch(`${c.system.host.url}/api/resets`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ticket: { system: 'x', id: 'SR-BEARER' }, target: { userPrincipalName: 'lee.gu@contoso.com' }, requestedBy: AGENT }),
    });
    expect(intake.status).toBe(401);
    const machinePass = await fetch(`${c.system.host.url}/api/resets/${requestId}/temporary-access-pass`, { method: 'POST', headers, body: JSON.stringify({ collectedBy: AGENT }) });
    expect([401, 404]).toContain(machinePass.status);
    expect(await machinePass.text()).not.toMatch(/"temporaryAccessPass"/);
  });

  it('the machine pass collection route is off by default', async () => {
    const answer = await fetch(`${c.system.host.url}/api/resets/${requestId}/temporary-access-pass`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ collectedBy: 'someone' }),
    });
    expect(answer.status).toBe(404);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('machine_pass_collection_off');
  });

  it('the page shell is public but holds no data, and is served with a strict content security policy', async () => {
    const page = await fetch(`${c.system.host.url}/api/console/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain(TICKET);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await fetch(`${c.system.host.url}/api/console/../../host.json`)).status).toBe(404);
    expect((await fetch(`${c.system.host.url}/api/console/console-views.ts`)).status).toBe(404);
  });
});

describe('pass reveal', () => {
  it('shows the pass once to a collector, names them in the audit, and a second reveal says who took it', async () => {
    const token = await c.idp.issueToken(AGENT);
    const [first, racing] = await Promise.all([
      c.call(`/requests/${requestId}/pass`, token, { method: 'POST' }),
      c.call(`/requests/${requestId}/pass`, token, { method: 'POST' }),
    ]);
    // Exactly one gets it; the other finds it gone (and, once the winner's audit row is written, who took it).
    expect([first.status, racing.status].filter((status) => status === 200)).toHaveLength(1);
    expect([404, 410]).toContain(first.status === 200 ? racing.status : first.status);
    const shown = (first.status === 200 ? first : racing).body as { temporaryAccessPass: string; expiresAt: string; collectedBy: { userPrincipalName: string; objectId: string } };
    expect(shown.temporaryAccessPass.length).toBeGreaterThan(7);
    expect(Date.parse(shown.expiresAt)).toBeGreaterThan(Date.now());
    expect(shown.collectedBy.userPrincipalName).toBe(AGENT);
    const agentId = c.idp.directory.findUser(AGENT)!.id;
    expect(shown.collectedBy.objectId).toBe(agentId);

    const second = await c.call(`/requests/${requestId}/pass`, await c.idp.issueToken(AGENT), { method: 'POST' });
    expect(second.status).toBe(410);
    expect(second.body).toMatchObject({ error: { code: 'pass_collected', details: { collected: { by: { userPrincipalName: AGENT, objectId: agentId } } } } });
    expect(second.text).not.toContain(shown.temporaryAccessPass);

    const detail = await c.call(`/requests/${requestId}`, token);
    const view = detail.body as { audit: { verified: boolean; entries: { action: string; outcome: string; detail?: string }[] }; pass: unknown };
    expect(view.audit.verified).toBe(true);
    const reveal = view.audit.entries.find((entry) => entry.action === 'pass-reveal');
    expect(reveal).toMatchObject({ outcome: 'handed-over' });
    expect(reveal!.detail).toContain(AGENT);
    expect(reveal!.detail).toContain(agentId);
    expect(reveal!.detail).toContain('assignee');
    expect(view.pass).toMatchObject({ waiting: false, canReveal: false, collected: { by: { userPrincipalName: AGENT } } });
    expect(detail.text).not.toContain(shown.temporaryAccessPass);
  });
});

describe('schedules', () => {
  it('a reader sees each schedule: name, expression, time zone, next runs, enabled, and its last runs linked to their bulk jobs', async () => {
    expect(run.bulkJobId).toEqual(expect.any(String));
    const answer = await c.call('/schedules', await c.idp.issueToken(READER));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const { items } = answer.body as { items: Record<string, unknown>[] };
    const shown = items.find((item) => item.id === scheduleId)!;
    expect(shown).toMatchObject({
      name: SCHEDULE_NAME,
      schedule: '0 30 2 * * 1-5',
      timeZone: 'Europe/Amsterdam',
      enabled: true,
      dryRun: true,
      authentic: true,
      source: { groupId: DEMO_CONSOLE_READER_GROUP_ID },
      runs: [expect.objectContaining({ id: run.runId, trigger: 'manual', bulkJobId: run.bulkJobId, found: 1, planned: 1 })],
    });
    // Three next runs, each 02:30 on a weekday in Amsterdam (00:30 or 01:30 UTC).
    const next = shown.nextRunTimes as string[];
    expect(next).toHaveLength(3);
    for (const time of next) {
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', weekday: 'short', hour: '2-digit', minute: '2-digit', hour12: false }).format(new Date(time));
      expect(local).toMatch(/^(Mon|Tue|Wed|Thu|Fri) 02:30$/);
    }
    // The run's bulk job link opens in the console.
    await eventually(async () => ((await c.call(`/bulk/${run.bulkJobId}`, await c.idp.issueToken(READER))).status === 200 ? true : undefined), 30_000);
    // Nothing in the list is secret: no MAC, no ETag.
    expect(answer.text).not.toMatch(/"mac"|"etag"/);
  });

  it('the page has a Schedules section behind the same sign-in', async () => {
    const html = await (await fetch(`${c.system.host.url}/api/console/`)).text();
    expect(html).toContain('href="#/schedules"');
    const script = await (await fetch(`${c.system.host.url}/api/console/app.js`)).text();
    expect(script).toContain("api('/schedules')");
  });
});

describe('request list filters', () => {
  it('finds by ticket and UPN fragments, status and source; refuses malformed filters', async () => {
    const token = await c.idp.issueToken(READER);
    const found = (await c.call(`/requests?ticket=access-7&upn=MEGAN`, token)).body as { items: { id: string }[] };
    expect(found.items.map((item) => item.id)).toContain(requestId);
    const none = (await c.call(`/requests?ticket=${TICKET}&source=jira`, token)).body as { items: unknown[] };
    expect(none.items).toEqual([]);
    const old = (await c.call(`/requests?ticket=${TICKET}&from=2020-01-01&to=2020-01-31`, token)).body as { items: unknown[] };
    expect(old.items).toEqual([]);
    expect((await c.call('/requests?status=done', token)).status).toBe(400);
    expect((await c.call('/requests?from=yesterday', token)).status).toBe(400);
  });
});
