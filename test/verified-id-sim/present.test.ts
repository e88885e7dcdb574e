import { afterEach, describe, expect, it, vi } from 'vitest';
import { startVerifiedIdSimulator } from '../../dev/verified-id-sim';
import { API_KEY, ISSUER, TARGET_UPN, appRequest, createRequest, customHeaders, startReceiver, useStandIn } from './helpers';

/**
 * present(): the person with Microsoft Authenticator, and the callbacks the service then sends, shaped as
 * presentation-request-api and using-facecheck document them.
 */

const h = useStandIn();

type Body = ReturnType<typeof appRequest> & Record<string, any>;
const credential = (body: Body) => (body.requestedCredentials as Record<string, any>[])[0]!;

async function open(body: Record<string, unknown> = appRequest(h.receiver.url)): Promise<string> {
  const { status, json } = await createRequest(h.sim, body);
  expect(status).toBe(201);
  return json.requestId as string;
}

function withRequest(change: (body: Body) => void): Body {
  const body = structuredClone(appRequest(h.receiver.url)) as Body;
  change(body);
  return body;
}

const received = () => h.receiver.received.map((r) => r.body);
const outcome = () => h.receiver.received.at(-1)!.body as Record<string, any>;

function expectPresentationError(requestId: string, code: string) {
  expect(received()).toHaveLength(2);
  expect(outcome()).toEqual({ requestId, requestStatus: 'presentation_error', state: 'state-5b0e1d7a', error: { code, message: expect.any(String) } });
  expect(h.sim.presentations.get(requestId)!.status).toBe('error');
}

describe('present: the person presents their own credential', () => {
  it('sends request_retrieved, then presentation_verified as documented, with exactly the request’s headers', async () => {
    const requestId = await open();
    const { statuses } = await h.sim.present(requestId, { kind: 'self' });
    expect(statuses).toEqual([200, 200]);

    expect(received()[0]).toEqual({ requestId, requestStatus: 'request_retrieved', state: 'state-5b0e1d7a' });
    const verified = outcome();
    expect(Object.keys(verified).sort()).toEqual(['requestId', 'requestStatus', 'state', 'subject', 'verifiedCredentialsData']);
    expect(verified).toMatchObject({ requestId, requestStatus: 'presentation_verified', state: 'state-5b0e1d7a' });
    expect(verified.subject).toMatch(/^did:web:/);
    expect(verified.verifiedCredentialsData).toHaveLength(1);
    const vc = verified.verifiedCredentialsData[0];
    expect(vc).toEqual({
      issuer: ISSUER,
      type: ['VerifiableCredential', 'VerifiedEmployee'],
      claims: { displayName: 'Megan Bowen', givenName: 'Megan', surname: 'Bowen', jobTitle: 'Employee', preferredLanguage: 'en-US', mail: 'megan.bowen@contoso.com', revocationId: TARGET_UPN },
      credentialState: { revocationStatus: 'VALID' },
      domainValidation: { url: 'https://contoso.com/' },
      issuanceDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      expirationDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      faceCheck: { matchConfidenceScore: 92.5, sourcePhotoQuality: 'HIGH' },
    });
    expect(Date.parse(vc.issuanceDate)).toBeLessThan(Date.now());
    expect(Date.parse(vc.expirationDate)).toBeGreaterThan(Date.now());
    // Never the photo: Face Check gives the app a score, not the picture.
    expect(JSON.stringify(received())).not.toMatch(/"photo"/i);
    expect(vc.claims).not.toHaveProperty('photo');

    for (const callback of h.receiver.received) {
      expect(callback.path).toBe('/api/verification/callback');
      expect(callback.headers['content-type']).toBe('application/json');
      expect(customHeaders(callback.headers)).toEqual({ 'api-key': API_KEY });
    }
    expect(h.sim.presentations.get(requestId)!.status).toBe('verified');
  });

  it('reports the score it is given', async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'self', score: 86.314159 });
    expect(outcome().verifiedCredentialsData[0].faceCheck).toEqual({ matchConfidenceScore: 86.314159, sourcePhotoQuality: 'HIGH' });
  });

  it('sends an Authorization callback header, or none, exactly as the request named them', async () => {
    const withAuth = await open(withRequest((b) => (b.callback.headers = { Authorization: 'Bearer callback-token' })));
    await h.sim.present(withAuth, { kind: 'self' });
    const noHeaders = await open(withRequest((b) => delete b.callback.headers));
    await h.sim.present(noHeaders, { kind: 'self' });
    const [a1, a2, n1, n2] = h.receiver.received;
    expect(customHeaders(a1!.headers)).toEqual({ authorization: 'Bearer callback-token' });
    expect(customHeaders(a2!.headers)).toEqual({ authorization: 'Bearer callback-token' });
    expect(customHeaders(n1!.headers)).toEqual({});
    expect(customHeaders(n2!.headers)).toEqual({});
  });

  it('leaves faceCheck out when the request asked for none', async () => {
    const requestId = await open(withRequest((b) => delete credential(b).configuration.validation.faceCheck));
    await h.sim.present(requestId, { kind: 'self' });
    expect(outcome().requestStatus).toBe('presentation_verified');
    expect(outcome().verifiedCredentialsData[0]).not.toHaveProperty('faceCheck');
  });
});

describe('present: what the service refuses is a presentation_error', () => {
  it("someone else's credential against a revocationId constraint", async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'someone-else', upn: 'adele.vance@contoso.com' });
    expectPresentationError(requestId, 'claimValidationError');
    expect(JSON.stringify(outcome())).not.toContain('adele');
  });

  it('a constraint compares case-blind, so the right person in other case passes', async () => {
    const requestId = await open(withRequest((b) => (credential(b).constraints = [{ claimName: 'revocationId', values: ['MEGAN.BOWEN@CONTOSO.COM'] }])));
    await h.sim.present(requestId, { kind: 'someone-else', upn: 'megan.bowen@contoso.com' });
    expect(outcome().requestStatus).toBe('presentation_verified');
  });

  it('a revoked credential when allowRevoked is false (or left out)', async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'revoked' });
    expectPresentationError(requestId, 'credentialRevoked');
    const defaulted = await open(withRequest((b) => delete credential(b).configuration.validation.allowRevoked));
    h.receiver.received.length = 0;
    await h.sim.present(defaulted, { kind: 'revoked' });
    expectPresentationError(defaulted, 'credentialRevoked');
  });

  it('a Face Check under the threshold: claimValidationError with the documented message and no score', async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'low-score' });
    expectPresentationError(requestId, 'claimValidationError');
    expect(outcome().error.message).toBe('Match confidence score failing to meet the threshold.');
    expect(JSON.stringify(outcome())).not.toMatch(/matchConfidenceScore|verifiedCredentialsData/);
  });

  it('the threshold is the request’s (80 here): 79.99 fails, 80 passes', async () => {
    const low = await open();
    await h.sim.present(low, { kind: 'self', score: 79.99 });
    expectPresentationError(low, 'claimValidationError');
    const equal = await open();
    await h.sim.present(equal, { kind: 'self', score: 80 });
    expect(outcome().verifiedCredentialsData[0].faceCheck.matchConfidenceScore).toBe(80);
  });

  it('without matchConfidenceThreshold the documented default of 70 applies', async () => {
    const body = withRequest((b) => delete credential(b).configuration.validation.faceCheck.matchConfidenceThreshold);
    const low = await open(body);
    await h.sim.present(low, { kind: 'low-score', score: 69.9 });
    expectPresentationError(low, 'claimValidationError');
    const pass = await open(body);
    await h.sim.present(pass, { kind: 'low-score', score: 70 });
    expect(outcome().requestStatus).toBe('presentation_verified');
  });

  it('a credential from an issuer outside acceptedIssuers', async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'other-issuer', issuer: 'did:web:verifiedid.fabrikam.com' });
    expectPresentationError(requestId, 'issuerNotAccepted');
  });

  it('the person declining, or any error the caller names', async () => {
    const declined = await open();
    await h.sim.present(declined, { kind: 'error' });
    expectPresentationError(declined, 'userCanceled');
    const named = await open();
    await h.sim.present(named, { kind: 'error', code: 'walletError', message: 'Something broke.' });
    expect(outcome().error).toEqual({ code: 'walletError', message: 'Something broke.' });
  });
});

describe('present: what the service lets through, so the app must stop it', () => {
  it('another issuer when acceptedIssuers is empty (any issuer)', async () => {
    const requestId = await open(withRequest((b) => (credential(b).acceptedIssuers = [])));
    await h.sim.present(requestId, { kind: 'other-issuer', issuer: 'did:web:verifiedid.fabrikam.com' });
    expect(outcome().requestStatus).toBe('presentation_verified');
    expect(outcome().verifiedCredentialsData[0]).toMatchObject({ issuer: 'did:web:verifiedid.fabrikam.com', domainValidation: { url: 'https://fabrikam.com/' } });
  });

  it('a revoked credential when allowRevoked is true: revocationStatus REVOKED', async () => {
    const requestId = await open(withRequest((b) => (credential(b).configuration.validation.allowRevoked = true)));
    await h.sim.present(requestId, { kind: 'revoked' });
    expect(outcome().verifiedCredentialsData[0].credentialState).toEqual({ revocationStatus: 'REVOKED' });
  });

  it('someone else when the request pinned nobody', async () => {
    const requestId = await open(withRequest((b) => delete credential(b).constraints));
    await h.sim.present(requestId, { kind: 'someone-else', upn: 'adele.vance@contoso.com' });
    expect(outcome().verifiedCredentialsData[0].claims).toMatchObject({ revocationId: 'adele.vance@contoso.com', displayName: 'Adele Vance' });
  });

  it('a low score when the request asked for no Face Check (no score at all)', async () => {
    const requestId = await open(withRequest((b) => delete credential(b).configuration.validation.faceCheck));
    await h.sim.present(requestId, { kind: 'low-score', score: 10 });
    expect(outcome().requestStatus).toBe('presentation_verified');
    expect(JSON.stringify(outcome())).not.toContain('matchConfidenceScore');
  });
});

describe('present: raw callbacks', () => {
  it('sends request_retrieved, then exactly the given body with the request’s headers', async () => {
    const requestId = await open();
    const body = { requestId, requestStatus: 'presentation_verified', state: 'state-5b0e1d7a', subject: 'did:web:x', verifiedCredentialsData: [{ issuer: ISSUER, type: ['VerifiableCredential', 'VerifiedEmployee'], claims: {} }] };
    await h.sim.present(requestId, { kind: 'raw', body });
    expect(received()).toEqual([{ requestId, requestStatus: 'request_retrieved', state: 'state-5b0e1d7a' }, body]);
    expect(customHeaders(h.receiver.received[1]!.headers)).toEqual({ 'api-key': API_KEY });
    expect(h.sim.presentations.get(requestId)!.status).toBe('verified');
  });

  it('with another api-key: the forged callback carries it, and the request stays open for the real one', async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'raw', body: { requestId, requestStatus: 'presentation_verified', state: 'state-5b0e1d7a' }, apiKey: 'guessed-key' });
    expect(customHeaders(h.receiver.received[0]!.headers)).toEqual({ 'api-key': API_KEY });
    expect(customHeaders(h.receiver.received[1]!.headers)).toEqual({ 'api-key': 'guessed-key' });
    expect(h.sim.presentations.get(requestId)!.status).toBe('retrieved');
    await h.sim.present(requestId, { kind: 'self' });
    expect(h.sim.presentations.get(requestId)!.status).toBe('verified');
  });
});

describe('present: requests that cannot be presented', () => {
  it('a finished request rejects and sends nothing, whether it was verified or failed', async () => {
    const verified = await open();
    await h.sim.present(verified, { kind: 'self' });
    const failed = await open();
    await h.sim.present(failed, { kind: 'low-score' });
    h.receiver.received.length = 0;
    await expect(h.sim.present(verified, { kind: 'self' })).rejects.toThrow(/finished/);
    await expect(h.sim.present(failed, { kind: 'self' })).rejects.toThrow(/finished/);
    expect(h.receiver.received).toEqual([]);
  });

  it('an expired request rejects and sends nothing', async () => {
    const requestId = await open();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.parse(h.sim.presentations.get(requestId)!.expiresAt) + 1);
      await expect(h.sim.present(requestId, { kind: 'self' })).rejects.toThrow(/expired/);
    } finally {
      vi.useRealTimers();
    }
    expect(h.receiver.received).toEqual([]);
    expect(h.sim.presentations.get(requestId)!.status).toBe('created');
  });

  it('expires after requestLifetimeSeconds', async () => {
    const sim = await startVerifiedIdSimulator({ requestLifetimeSeconds: 1 });
    try {
      const { json } = await createRequest(sim, appRequest(h.receiver.url));
      const kept = sim.presentations.get(json.requestId as string)!;
      expect(Date.parse(kept.expiresAt) - Date.parse(kept.createdAt)).toBe(1000);
      expect(json.expiry).toBe(Math.floor(Date.parse(kept.expiresAt) / 1000));
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expect(sim.present(json.requestId as string, { kind: 'self' })).rejects.toThrow(/expired/);
    } finally {
      await sim.stop();
    }
  });

  it('an unknown request rejects', async () => {
    await expect(h.sim.present('00000000-0000-0000-0000-000000000000', { kind: 'self' })).rejects.toThrow(/no presentation request/);
  });

  it('"the right person" needs a revocationId constraint with values; a request for other types cannot be presented', async () => {
    const nobody = await open(withRequest((b) => (credential(b).constraints = [{ claimName: 'revocationId', startsWith: 'megan' }])));
    await expect(h.sim.present(nobody, { kind: 'self' })).rejects.toThrow(/names nobody/);
    const otherType = await open(withRequest((b) => (credential(b).type = 'VerifiedCredentialExpert')));
    await expect(h.sim.present(otherType, { kind: 'someone-else', upn: 'adele.vance@contoso.com' })).rejects.toThrow(/only VerifiedEmployee/);
    expect(h.receiver.received).toEqual([]);
    expect(h.sim.presentations.get(nobody)!.status).toBe('created');
  });

  it('two presentations of one request at once: one goes through, the other rejects', async () => {
    const requestId = await open();
    const results = await Promise.allSettled([h.sim.present(requestId, { kind: 'self' }), h.sim.present(requestId, { kind: 'self' })]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(received().filter((b) => b.requestStatus === 'presentation_verified')).toHaveLength(1);
  });

  it('rejections never carry the api-key', async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'self' });
    const error = await h.sim.present(requestId, { kind: 'self' }).catch((e: unknown) => e as Error);
    expect(String((error as Error).message)).not.toContain(API_KEY);
  });
});

describe('present: what the app answers is reported, not judged', () => {
  afterEach(() => {
    h.receiver.status = 200;
  });

  it('resolves with the statuses the callback URL answered', async () => {
    h.receiver.status = 401;
    const requestId = await open();
    expect((await h.sim.present(requestId, { kind: 'self' })).statuses).toEqual([401, 401]);
  });

  it('an unreachable callback URL gives 0s', async () => {
    const gone = await startReceiver();
    await gone.stop();
    const requestId = await open(appRequest(gone.url));
    expect((await h.sim.present(requestId, { kind: 'self' })).statuses).toEqual([0, 0]);
  });
});

describe('sendCallback', () => {
  it("sends the caller's body with the request's own headers by default, or the caller's, and changes nothing", async () => {
    const requestId = await open();
    await h.sim.present(requestId, { kind: 'self' });
    const replay = h.receiver.received[1]!.body;
    h.receiver.received.length = 0;
    expect(await h.sim.sendCallback(requestId, replay)).toBe(200);
    expect(await h.sim.sendCallback(requestId, replay, { 'api-key': 'wrong' })).toBe(200);
    expect(await h.sim.sendCallback(requestId, replay, {})).toBe(200);
    expect(received()).toEqual([replay, replay, replay]);
    expect(h.receiver.received.map((r) => customHeaders(r.headers))).toEqual([{ 'api-key': API_KEY }, { 'api-key': 'wrong' }, {}]);
    expect(h.sim.presentations.get(requestId)!.status).toBe('verified');
  });

  it('rejects for an unknown request', async () => {
    await expect(h.sim.sendCallback('nope', {})).rejects.toThrow(/no presentation request/);
  });
});
