import { describe, expect, it, vi } from 'vitest';
import { API_KEY, appRequest, createRequest, useStandIn } from './helpers';

/** The wallet page: what a person running npm start presses instead of scanning a QR code with Authenticator. */

const h = useStandIn();

type Body = ReturnType<typeof appRequest> & Record<string, any>;

async function open(change: (body: Body) => void = () => undefined): Promise<string> {
  const body = structuredClone(appRequest(h.receiver.url)) as Body;
  change(body);
  const { status, json } = await createRequest(h.sim, body);
  expect(status).toBe(201);
  return json.requestId as string;
}

async function page(): Promise<{ response: Response; html: string }> {
  const response = await fetch(h.sim.walletUrl);
  return { response, html: await response.text() };
}

async function token(): Promise<string> {
  const match = /name="token" value="([^"]+)"/.exec((await page()).html);
  expect(match).not.toBeNull();
  return match![1]!;
}

function press(requestId: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${h.sim.walletUrl}/${encodeURIComponent(requestId)}/present`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

const outcome = () => h.receiver.received.at(-1)!.body as Record<string, any>;

describe('wallet page', () => {
  it('lists an open request: id, verifier, purpose, the person named, time left, and a button per scenario', async () => {
    const requestId = await open();
    const { response, html } = await page();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain(requestId);
    expect(html).toContain('Contoso MFA reset');
    expect(html).toContain('Ticket INC0012345: MFA reset. Only continue if you asked for this.');
    expect(html).toContain('megan.bowen@contoso.com');
    expect(html).toMatch(/<dd>(29\d|300) s<\/dd>/);
    for (const label of ['Present as myself', 'Present as someone else', 'Revoked credential', 'Low Face Check score', 'Decline']) expect(html).toContain(`>${label}</button>`);
    // No external assets, no scripts.
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!127\.0\.0\.1)/i);
  });

  it('escapes every value an app sent, and shows neither the api-key nor the state', async () => {
    const requestId = await open((b) => {
      b.registration.clientName = '<script>alert("name")</script>';
      b.requestedCredentials[0].purpose = '"><img src=x onerror=alert(1)>';
      b.requestedCredentials[0].constraints = [{ claimName: 'revocationId', values: ["o'<b>brien</b>@contoso.com"] }];
    });
    const { html } = await page();
    expect(html).toContain(requestId);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>brien');
    expect(html).toContain('&#60;script&#62;alert(&#34;name&#34;)&#60;/script&#62;');
    expect(html).toContain('&#34;&#62;&#60;img src=x onerror=alert(1)&#62;');
    expect(html).toContain('o&#39;&#60;b&#62;brien&#60;/b&#62;@contoso.com');
    expect(html).not.toContain(API_KEY);
    expect(html).not.toContain('state-5b0e1d7a');
  });

  it('leaves expired and finished requests off the list', async () => {
    const finished = await open();
    await h.sim.present(finished, { kind: 'self' });
    const expired = await open();
    const fresh = await open();
    // Age only the one request: the page compares each expiry with the time it renders.
    h.sim.presentations.get(expired)!.expiresAt = new Date(Date.now() - 1000).toISOString();
    const { html } = await page();
    expect(html).toContain(fresh);
    expect(html).not.toContain(finished);
    expect(html).not.toContain(expired);
  });

  it('is not part of the API request log', async () => {
    await open();
    h.sim.resetLog();
    await page();
    expect(h.sim.requestLog).toEqual([]);
  });
});

describe('wallet buttons', () => {
  it('"Present as myself" presents, redirects back, and the page shows the outcome', async () => {
    const requestId = await open();
    const response = await press(requestId, { token: await token(), scenario: 'self', upn: '' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/wallet');
    expect(h.receiver.received.map((r) => r.body.requestStatus)).toEqual(['request_retrieved', 'presentation_verified']);
    expect(outcome().verifiedCredentialsData[0].claims.revocationId).toBe('megan.bowen@contoso.com');
    expect(h.sim.presentations.get(requestId)!.status).toBe('verified');
    const { html } = await page();
    expect(html).toContain('presentation_verified sent; the app answered 200 and 200');
    expect(html).not.toContain(`/wallet/${requestId}/present`);
  });

  it('"Present as someone else" uses the typed UPN, or another person at the same domain; the service refuses both', async () => {
    const typed = await open();
    await press(typed, { token: await token(), scenario: 'someone-else', upn: 'adele.vance@contoso.com' });
    expect(outcome()).toMatchObject({ requestId: typed, requestStatus: 'presentation_error', error: { code: 'claimValidationError' } });
    const blank = await open((b) => delete b.requestedCredentials[0].constraints);
    await press(blank, { token: await token(), scenario: 'someone-else', upn: '' });
    // With no constraint the service lets anyone through: the default other person is who presented.
    expect(outcome().verifiedCredentialsData[0].claims.revocationId).toBe('someone.else@contoso.com');
  });

  it.each([
    ['revoked', 'credentialRevoked'],
    ['low-score', 'claimValidationError'],
    ['decline', 'userCanceled'],
  ])('"%s" ends in presentation_error %s', async (scenario, code) => {
    const requestId = await open();
    const response = await press(requestId, { token: await token(), scenario });
    expect(response.status).toBe(303);
    expect(outcome()).toMatchObject({ requestId, requestStatus: 'presentation_error', error: { code } });
    expect(h.sim.presentations.get(requestId)!.status).toBe('error');
  });

  it('a request that can no longer be presented is reported on the page, with nothing sent', async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'self' });
    h.receiver.received.length = 0;
    const response = await press(requestId, { token: await token(), scenario: 'self' });
    expect(response.status).toBe(303);
    expect(h.receiver.received).toEqual([]);
    expect((await page()).html).toContain('not presented: verified-id-sim: presentation request');
  });

  it('refuses a form without the page’s token (another site posting to the loopback port), sending nothing', async () => {
    const requestId = await open();
    for (const form of [{ scenario: 'self' }, { token: 'guess', scenario: 'self' }] as Record<string, string>[]) {
      const response = await press(requestId, form);
      expect(response.status).toBe(403);
    }
    expect(h.receiver.received).toEqual([]);
    expect(h.sim.presentations.get(requestId)!.status).toBe('created');
  });

  it('refuses an unknown scenario, an unknown request and other methods', async () => {
    const requestId = await open();
    expect((await press(requestId, { token: await token(), scenario: 'admin' })).status).toBe(400);
    expect((await press('00000000-0000-0000-0000-000000000000', { token: await token(), scenario: 'self' })).status).toBe(404);
    expect((await press('%E0%A4%A', { token: await token(), scenario: 'self' })).status).toBe(404);
    expect((await fetch(`${h.sim.walletUrl}/${requestId}/present`)).status).toBe(405);
    expect((await fetch(h.sim.walletUrl, { method: 'POST' })).status).toBe(405);
    expect(h.receiver.received).toEqual([]);
  });

  it('an expired request is reported as expired', async () => {
    const requestId = await open();
    const form = { token: await token(), scenario: 'self' };
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.parse(h.sim.presentations.get(requestId)!.expiresAt) + 1);
      expect((await press(requestId, form)).status).toBe(303);
    } finally {
      vi.useRealTimers();
    }
    expect(h.receiver.received).toEqual([]);
    expect((await page()).html).toMatch(/not presented: verified-id-sim: presentation request [0-9a-f-]+ expired/);
  });
});
