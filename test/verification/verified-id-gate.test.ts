import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { startVerifiedIdSimulator, type RunningVerifiedIdSim } from '../../dev/verified-id-sim';
import { resetServices } from '../../shared/services';
import { TABLES } from '../../shared/storage/names';
import { canonicalRequest, jiraWebhook } from '../intake/fixtures';
import { eventually } from '../support/eventually';
import { startTicketSystem, type TicketSystem } from '../tickets/support';

/**
 * VERIFICATION_REQUIRED=verified-id against the Request Service stand-in: a request waits with zero
 * Graph writes, exactly one presentation request is sent (shaped as Microsoft documents it, with our
 * issuers, threshold and the target's UPN pinned), every bad callback leaves it waiting or ends it
 * rejected with zero writes, one valid callback completes it with the evidence everywhere, and a
 * replay of that callback changes nothing.
 */

const ISSUER = 'did:web:verifiedid.contoso.com';
const user = (upn: string, n: number) => ({
  userPrincipalName: upn,
  displayName: upn.split('@')[0]!.split('.').map((part) => part[0]!.toUpperCase() + part.slice(1)).join(' '),
  methods: [
    { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555507${String(n).padStart(2, '0')}` },
    { type: 'microsoftAuthenticator' as const, displayName: `Phone ${n}` },
  ],
});
const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: [user('adele.vance@contoso.com', 1), user('megan.bowen@contoso.com', 2), user('lee.gu@contoso.com', 3), user('diego.siciliani@contoso.com', 4), user('joni.sherman@contoso.com', 5), user('nestor.wilke@contoso.com', 6)],
};

let t: TicketSystem;
let vid: RunningVerifiedIdSim;
beforeAll(async () => {
  vid = await startVerifiedIdSimulator({ issuer: ISSUER });
  t = await startTicketSystem({
    graph: { tenant },
    settings: {
      VERIFICATION_REQUIRED: 'verified-id',
      VERIFIED_ID_ENDPOINT: vid.endpoint,
      VERIFIED_ID_AUTHORITY: 'did:web:verifier.contoso.com',
      VERIFIED_ID_ACCEPTED_ISSUERS: ISSUER,
      CONSOLE_BASE_URL: 'http://127.0.0.1:9',
      VERIFICATION_MAX_FAILURES: '3',
    },
  });
  // The callback comes back to this host: the public base URL is its own, as under npm start.
  process.env.CONSOLE_BASE_URL = t.system.host.url;
  resetServices();
  for (const key of ['ITSM-801', 'ITSM-802']) t.jira.addIssue(key);
});
afterAll(async () => {
  await t?.stop();
  await vid?.stop();
});

const idOf = (upn: string) => t.system.graph.tenant.findUser(upn)!.id;
const writesFor = (upn: string) => t.system.graph.requestLog.filter((entry) => entry.write && entry.url.includes(idOf(upn))).length;
const presentationsFor = (upn: string) =>
  vid.requestLog.filter((entry) => entry.method === 'POST' && entry.status === 201 && JSON.stringify(entry.body).includes(upn));
const latestPresentation = (upn: string) => {
  const all = [...vid.presentations.values()].filter((p) => JSON.stringify(p.body.requestedCredentials).includes(upn));
  return all[all.length - 1]!;
};
type Status = Awaited<ReturnType<TicketSystem['system']['status']>> & { verification?: Record<string, any>; statusReason?: string };
const status = (id: string) => t.system.status(id) as Promise<Status>;

async function waiting(upn: string, ticket: string, extra: Record<string, unknown> = {}) {
  const answer = await t.system.post('generic', canonicalRequest({ ticket: { system: 'manual', id: ticket }, target: { userPrincipalName: upn }, approvedBy: 'lead@contoso.com', ...extra }));
  expect(answer.status).toBe(202);
  const view = (await t.system.waitFor(answer.body.id, ['awaiting_verification', 'completed', 'partial', 'failed', 'rejected'])) as Status;
  expect(view.status).toBe('awaiting_verification');
  return { id: answer.body.id, view };
}

async function callback(body: Record<string, unknown>, headers: Record<string, string>) {
  const response = await fetch(`${t.system.host.url}/api/verification/callback`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('Verified ID with Face Check before the first write', () => {
  it('waits with zero Graph writes and sends exactly one presentation request, shaped as documented', async () => {
    const { id, view } = await waiting('adele.vance@contoso.com', 'VER-1');
    expect(writesFor('adele.vance@contoso.com')).toBe(0);
    const sent = presentationsFor('adele.vance@contoso.com');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.authorization).toBe(false); // a loopback endpoint gets no token
    const body = latestPresentation('adele.vance@contoso.com').body as any;
    expect(body.authority).toBe('did:web:verifier.contoso.com');
    expect(body.includeQRCode).toBe(true);
    expect(body.includeReceipt ?? false).toBe(false);
    expect(body.registration.clientName).toBeTruthy();
    expect(body.callback.url).toBe(`${t.system.host.url}/api/verification/callback`);
    expect(Object.keys(body.callback.headers)).toEqual(['api-key']);
    const credential = body.requestedCredentials[0];
    expect(credential.type).toBe('VerifiedEmployee');
    expect(credential.purpose).toMatch(/VER-1/);
    expect(credential.purpose).toMatch(/Only continue if you asked for this/);
    expect(credential.acceptedIssuers).toEqual([ISSUER]);
    expect(credential.configuration.validation).toEqual({ allowRevoked: false, validateLinkedDomain: true, faceCheck: { sourcePhotoClaimName: 'photo', matchConfidenceThreshold: 80 } });
    expect(credential.constraints).toEqual([{ claimName: 'revocationId', values: ['adele.vance@contoso.com'] }]);

    // The status answer shows the method, its state, the expiry and the link for the person, never a key.
    expect(view.verification?.methods).toEqual(['verified-id']);
    expect(view.verification?.status).toBe('pending');
    expect(Date.parse(view.verification?.expiresAt)).toBeGreaterThan(Date.now() + 25 * 60_000);
    expect(view.verification?.link).toMatch(new RegExp(`^${t.system.host.url}/api/verify/${id}/[A-Za-z0-9_-]{43}$`));
    expect(view.verification?.linkQrCode).toMatch(/^data:image\/png;base64,/);
    const text = JSON.stringify(view);
    expect(text).not.toContain(body.callback.headers['api-key']);
    expect(text).not.toContain(body.callback.state);

    // A stray wake-up while waiting changes nothing and sends nothing.
    const { requestStores } = await import('../../shared/request-stores');
    const { getServices } = await import('../../shared/services');
    await requestStores(getServices()).queue.send(id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(presentationsFor('adele.vance@contoso.com')).toHaveLength(1);
  });

  it('refuses callbacks without the api-key or with a forged state, and leaves the request waiting', async () => {
    const { id } = await waiting('megan.bowen@contoso.com', 'VER-2');
    const p = latestPresentation('megan.bowen@contoso.com');
    const good = { requestId: p.requestId, requestStatus: 'request_retrieved', state: p.body.callback.state };
    expect((await callback(good, {})).status).toBe(401);
    expect((await callback(good, { 'api-key': 'wrong-key-wrong-key-wrong-key-wrong-key-wro' })).status).toBe(401);
    const forgedState = `${id}.1.${'A'.repeat(43)}`;
    expect((await callback({ ...good, state: forgedState }, { 'api-key': p.body.callback.headers!['api-key']! })).status).toBe(401);
    // Another attempt's key does not open this one.
    expect((await callback({ ...good, state: `${id}.2.${'B'.repeat(43)}` }, { 'api-key': p.body.callback.headers!['api-key']! })).status).toBe(401);
    const view = await status(id);
    expect(view.status).toBe('awaiting_verification');
    expect(view.verification?.failures).toBe(0);
    expect(writesFor('megan.bowen@contoso.com')).toBe(0);
  });

  it('counts another person, a revoked credential, a low score and an issuer not accepted as failures; the third ends the request rejected with zero writes', async () => {
    const { id } = await waiting('lee.gu@contoso.com', 'VER-3');
    // 1: a valid credential of someone else, sent as if the service had let it through.
    let p = latestPresentation('lee.gu@contoso.com');
    const someoneElse = {
      requestId: p.requestId,
      requestStatus: 'presentation_verified',
      state: p.body.callback.state,
      subject: 'did:web:someone',
      verifiedCredentialsData: [{ issuer: ISSUER, type: ['VerifiableCredential', 'VerifiedEmployee'], claims: { revocationId: 'megan.bowen@contoso.com', displayName: 'Megan Bowen' }, credentialState: { revocationStatus: 'VALID' }, faceCheck: { matchConfidenceScore: 95, sourcePhotoQuality: 'HIGH' } }],
    };
    expect((await callback(someoneElse, { 'api-key': p.body.callback.headers!['api-key']! })).body.outcome).toBe('failed');
    await eventually(async () => ((await status(id)).verification?.presentation?.n === 2 ? true : undefined), 20_000);
    expect((await status(id)).verification?.failureReasons?.[0]).toMatch(/belongs to megan\.bowen@contoso\.com, not lee\.gu@contoso\.com/);

    // 2: a revoked credential (the service would fail it; a raw callback checks our own check too).
    p = latestPresentation('lee.gu@contoso.com');
    const revoked = { ...someoneElse, requestId: p.requestId, state: p.body.callback.state, verifiedCredentialsData: [{ ...someoneElse.verifiedCredentialsData[0], claims: { revocationId: 'lee.gu@contoso.com' }, credentialState: { revocationStatus: 'REVOKED' } }] };
    expect((await callback(revoked, { 'api-key': p.body.callback.headers!['api-key']! })).body.outcome).toBe('failed');
    await eventually(async () => ((await status(id)).verification?.presentation?.n === 3 ? true : undefined), 20_000);

    // 3: Face Check under the threshold, as the service reports it (presentation_error, no score).
    p = latestPresentation('lee.gu@contoso.com');
    await vid.present(p.requestId, { kind: 'low-score' });
    const ended = await t.system.waitFor(id, ['rejected', 'completed', 'partial', 'failed']);
    expect(ended.status).toBe('rejected');
    expect(ended.statusReason).toMatch(/could not be verified: 3 failed presentation/);
    expect(writesFor('lee.gu@contoso.com')).toBe(0);
    expect(presentationsFor('lee.gu@contoso.com')).toHaveLength(3);
  });

  it('three presentation_errors (the person declined, or Face Check failed) end the request rejected with zero writes and a new code each time', async () => {
    const { id } = await waiting('megan.bowen@contoso.com', 'VER-5');
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const p = await eventually(async () => {
        const latest = latestPresentation('megan.bowen@contoso.com');
        return latest && latest.status !== 'error' && latest.status !== 'verified' && JSON.stringify(latest.body).includes('VER-5') ? latest : undefined;
      }, 45_000);
      const sent = await vid.present(p.requestId, { kind: 'error', code: 'userCanceled', message: 'The user declined.' });
      expect(sent.statuses).toEqual([200, 200]);
    }
    const ended = await t.system.waitFor(id, ['rejected', 'completed', 'partial', 'failed'], 45_000);
    expect(ended.status).toBe('rejected');
    expect(ended.statusReason).toMatch(/3 failed presentation/);
    expect(writesFor('megan.bowen@contoso.com')).toBe(0);
  }, 180_000);

  it('an issuer not accepted and a credential presented after the verification expired both fail', async () => {
    const { id } = await waiting('diego.siciliani@contoso.com', 'VER-4');
    const p = latestPresentation('diego.siciliani@contoso.com');
    const other = {
      requestId: p.requestId,
      requestStatus: 'presentation_verified',
      state: p.body.callback.state,
      verifiedCredentialsData: [{ issuer: 'did:web:evil.example', type: ['VerifiableCredential', 'VerifiedEmployee'], claims: { revocationId: 'diego.siciliani@contoso.com' }, credentialState: { revocationStatus: 'VALID' }, faceCheck: { matchConfidenceScore: 99 } }],
    };
    expect((await callback(other, { 'api-key': p.body.callback.headers!['api-key']! })).body.outcome).toBe('failed');
    const view = await eventually(async () => {
      const current = await status(id);
      return current.verification?.failures === 1 ? current : undefined;
    }, 20_000);
    expect(view.verification?.failureReasons[0]).toMatch(/issuer did:web:evil\.example is not one of VERIFIED_ID_ACCEPTED_ISSUERS/);
    expect(writesFor('diego.siciliani@contoso.com')).toBe(0);
  });

  it('one valid callback completes the reset, with the evidence in the status, the audit and the ticket note; a replay changes nothing', async () => {
    const answer = await t.system.post('jira', jiraWebhook({ key: 'ITSM-801', target: 'joni.sherman@contoso.com' }));
    expect(answer.status).toBe(202);
    await t.system.waitFor(answer.body.id, ['awaiting_verification']);
    expect(writesFor('joni.sherman@contoso.com')).toBe(0);
    // The ticket hears that the user must verify first.
    await eventually(() => (t.jira.comments('ITSM-801').some((c) => JSON.stringify(c).includes('waiting for the user to verify')) ? true : undefined), 20_000);

    const p = latestPresentation('joni.sherman@contoso.com');
    const outcome = await vid.present(p.requestId, { kind: 'self', score: 91.4 });
    expect(outcome.statuses.every((code) => code === 200)).toBe(true);
    const done = (await t.system.waitFor(answer.body.id, ['completed', 'partial', 'failed', 'rejected'])) as Status;
    expect(done.status).toBe('completed');
    expect(done.verification?.status).toBe('passed');
    expect(done.verification?.evidence).toMatchObject({ method: 'verified-id', issuer: ISSUER, credentialType: 'VerifiedEmployee', score: 91.4, who: 'joni.sherman@contoso.com' });
    const actions = done.audit!.entries.map((entry) => `${entry.action}:${entry.outcome}`);
    expect(actions).toContain('verification:requested');
    expect(actions).toContain('verification:passed');
    expect(actions.indexOf('verification:passed')).toBeLessThan(actions.findIndex((a) => a.startsWith('delete')));
    expect(done.audit!.verified).toBe(true);
    await eventually(() => (t.jira.comments('ITSM-801').some((c) => /the user was verified/.test(JSON.stringify(c)) && /91\.4/.test(JSON.stringify(c))) ? true : undefined), 20_000);

    // The same callback again: 200, nothing changes, nothing more is written.
    const writes = writesFor('joni.sherman@contoso.com');
    const replay = await vid.sendCallback(p.requestId, {
      requestId: p.requestId,
      requestStatus: 'presentation_verified',
      state: p.body.callback.state,
      verifiedCredentialsData: [{ issuer: ISSUER, type: ['VerifiableCredential', 'VerifiedEmployee'], claims: { revocationId: 'joni.sherman@contoso.com' }, credentialState: { revocationStatus: 'VALID' }, faceCheck: { matchConfidenceScore: 99 } }],
    });
    expect(replay).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(writesFor('joni.sherman@contoso.com')).toBe(writes);
    expect((await status(answer.body.id)).audit!.entries.filter((e) => e.action === 'verification' && e.outcome === 'passed')).toHaveLength(1);
  });

  it('the pass goes to the browser that opened the link and verified, once; never to the agent; nothing secret in tables or logs', async () => {
    const { id, view } = await waiting('nestor.wilke@contoso.com', 'VER-6', { temporaryAccessPass: { lifetimeInMinutes: 60 } });
    const link = new URL(view.verification!.link);
    const page = (action: string, secret: string) =>
      fetch(`${link.href}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const mine = Buffer.alloc(32, 7).toString('base64url');
    const theirs = Buffer.alloc(32, 9).toString('base64url');
    // The page shell is served with a strict CSP; the first browser binds the link.
    const shell = await fetch(link);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const opened = await page('open', mine);
    expect(opened.status).toBe(200);
    expect(opened.body.verification.presentation.qrCode).toMatch(/^data:image\/png;base64,/);
    expect(opened.body.pass.state).toBe('not-yet');
    // Another browser with the same link sees nothing; a wrong token is the same 404 as no request.
    expect((await page('open', theirs)).status).toBe(409);
    expect((await fetch(`${t.system.host.url}/api/verify/${id}/${'x'.repeat(43)}/open`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: mine }) })).status).toBe(404);

    const p = latestPresentation('nestor.wilke@contoso.com');
    await vid.present(p.requestId, { kind: 'self' });
    const done = (await t.system.waitFor(id, ['completed', 'partial', 'failed', 'rejected'])) as Status;
    expect(done.status).toBe('completed');

    // The agent, even as a collector, is refused; so is the other browser; the verified browser sees it once.
    const stores = (await import('../../shared/request-stores')).requestStores((await import('../../shared/services')).getServices());
    const agent = await (await import('../../shared/console/reveal-pass')).revealPass(id, { objectId: idOf('adele.vance@contoso.com'), userPrincipalName: 'adele.vance@contoso.com', groups: [], roles: ['collector'] }, { ...stores, settings: { VERIFICATION_REQUIRED: 'verified-id' } });
    expect(agent.status).toBe(403);
    expect((agent.jsonBody as any).error.code).toBe('pass_goes_to_verified_person');
    expect((await page('pass', theirs)).status).toBe(409);
    const shown = await page('pass', mine);
    expect(shown.status).toBe(200);
    const pass = shown.body.temporaryAccessPass as string;
    expect(pass).toMatch(/.{8,}/);
    expect((await page('pass', mine)).status).toBe(410);
    const after = (await status(id)) as Status;
    expect(after.verification?.passShownTo).toMatch(/verified person/);
    expect(JSON.stringify(after)).not.toContain(pass);

    // No pass, api-key, state or page secret in any table but the sealed hand-over, in a log or a note.
    const secrets = [pass, p.body.callback.headers!['api-key']!, p.body.callback.state, mine];
    for (const table of [TABLES.requests, TABLES.audit, TABLES.intakeIndex]) {
      const client = TableClient.fromConnectionString(t.system.azurite.connectionString, table, { allowInsecureConnection: true });
      const rows: unknown[] = [];
      for await (const row of client.listEntities()) rows.push(row);
      const text = JSON.stringify(rows);
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    const logs = t.system.log.lines.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    const notes = JSON.stringify(t.jira.allComments());
    for (const secret of secrets) expect(notes).not.toContain(secret);
  });
});
