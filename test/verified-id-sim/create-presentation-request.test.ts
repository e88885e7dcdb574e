import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { startVerifiedIdSimulator } from '../../dev/verified-id-sim';
import { API_KEY, appRequest, createRequest, useStandIn } from './helpers';

/** createPresentationRequest as learn.microsoft.com/entra/verified-id/presentation-request-api and error-codes specify it. */

const h = useStandIn();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The documented error object: outer code and message fixed by the status, innererror naming the cause. */
function expectServiceError(json: Record<string, unknown>, outer: { code: string; message: string }, inner: { code: string; target?: string }) {
  expect(Object.keys(json).sort()).toEqual(['date', 'error', 'mscv', 'requestId']);
  expect(json.requestId).toMatch(UUID);
  expect(json.date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  expect(typeof json.mscv).toBe('string');
  const error = json.error as { code: string; message: string; innererror: { code: string; message: string; target?: string } };
  expect(error.code).toBe(outer.code);
  expect(error.message).toBe(outer.message);
  expect(error.innererror.code).toBe(inner.code);
  expect(error.innererror.message.length).toBeGreaterThan(0);
  if (inner.target !== undefined) {
    expect(error.innererror.target).toBe(inner.target);
    expect(error.innererror.message).toContain(`\`${inner.target}\``);
  }
}

type Body = ReturnType<typeof appRequest> & Record<string, any>;
const credential = (body: Body) => (body.requestedCredentials as Record<string, any>[])[0]!;

describe('createPresentationRequest: a valid request', () => {
  it('answers 201 with requestId, the documented deep link, expiry and a QR code of that link', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, json } = await createRequest(h.sim, appRequest(h.receiver.url));
    expect(status).toBe(201);
    expect(Object.keys(json).sort()).toEqual(['expiry', 'qrCode', 'requestId', 'url']);
    expect(json.requestId).toMatch(UUID);
    expect(json.url).toBe(`openid-vc://?request_uri=${h.sim.url}/v1.0/tenant/verifiableCredentials/presentationRequests/${json.requestId as string}`);
    expect(Number.isInteger(json.expiry)).toBe(true);
    expect(json.expiry).toBeGreaterThanOrEqual(before + 300);
    expect(json.expiry).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 300);

    const qr = json.qrCode as string;
    expect(qr.startsWith('data:image/png;base64,')).toBe(true);
    const png = Buffer.from(qr.slice('data:image/png;base64,'.length), 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // The same QR code the library makes of the deep link: the image encodes `url`, nothing else.
    expect(qr).toBe(await QRCode.toDataURL(json.url as string));
  });

  it('gives no qrCode unless includeQRCode is true', async () => {
    const body = appRequest(h.receiver.url);
    delete body.includeQRCode;
    const { status, json } = await createRequest(h.sim, body);
    expect(status).toBe(201);
    expect(json).not.toHaveProperty('qrCode');
  });

  it('keeps the request as received (callback url, state, headers) and logs it without the api-key', async () => {
    const { json } = await createRequest(h.sim, appRequest(h.receiver.url));
    const kept = h.sim.presentations.get(json.requestId as string)!;
    expect(kept.status).toBe('created');
    expect(kept.body.callback).toEqual({ url: h.receiver.url, state: 'state-5b0e1d7a', headers: { 'api-key': API_KEY } });
    expect(Date.parse(kept.expiresAt) - Date.parse(kept.createdAt)).toBe(300_000);

    expect(h.sim.requestLog).toHaveLength(1);
    const entry = h.sim.requestLog[0]!;
    expect(entry).toMatchObject({ method: 'POST', path: '/v1.0/verifiableCredentials/createPresentationRequest', status: 201, authorization: false });
    expect((entry.body as Body).callback.headers).toEqual({ 'api-key': '[redacted]' });
    expect((entry.body as Body).callback.state).toBe('state-5b0e1d7a');
    expect(JSON.stringify(h.sim.requestLog)).not.toContain(API_KEY);
  });

  it("takes the documented example payload as it is (a receipt without Face Check, another credential type)", async () => {
    const example = {
      authority: 'did:web:verifiedid.contoso.com',
      includeReceipt: true,
      registration: { clientName: 'Veritable Credential Expert Verifier' },
      callback: { url: 'https://contoso.com/api/verifier/presentationCallback', state: '92d076dd-450a-4247-aa5b-d2e75a1a5d58', headers: { 'api-key': 'OPTIONAL API-KEY for CALLBACK EVENTS' } },
      requestedCredentials: [
        {
          type: 'VerifiedCredentialExpert',
          purpose: 'So we can see that you a veritable credentials expert',
          acceptedIssuers: ['did:web:verifiedid.contoso.com'],
          configuration: { validation: { allowRevoked: false, validateLinkedDomain: false } },
        },
      ],
    };
    expect((await createRequest(h.sim, example)).status).toBe(201);
  });

  it('takes an Authorization callback header and constraints with contains or startsWith', async () => {
    const body = appRequest(h.receiver.url) as Body;
    body.callback.headers = { Authorization: 'Bearer callback-token' };
    credential(body).constraints = [{ claimName: 'mail', contains: 'contoso' }, { claimName: 'revocationId', startsWith: 'megan' }];
    expect((await createRequest(h.sim, body)).status).toBe(201);
  });
});

describe('createPresentationRequest: what the service refuses (400, badOrMissingField, the field named)', () => {
  const cases: [string, (body: Body) => void, string][] = [
    ['authority missing', (b) => delete b.authority, 'authority'],
    ['authority not a DID', (b) => (b.authority = 'https://verifier.contoso.com'), 'authority'],
    ['registration missing', (b) => delete b.registration, 'registration'],
    ['registration.clientName missing', (b) => (b.registration = {}), 'registration.clientName'],
    ['registration.clientName empty', (b) => (b.registration = { clientName: '' }), 'registration.clientName'],
    ['callback missing', (b) => delete b.callback, 'callback'],
    ['callback.url missing', (b) => delete b.callback.url, 'callback.url'],
    ['callback.url not a URL', (b) => (b.callback.url = '/api/verification/callback'), 'callback.url'],
    ['callback.url not http(s)', (b) => (b.callback.url = 'ftp://app.contoso.com/callback'), 'callback.url'],
    ['callback.url plain http to a non-loopback host', (b) => (b.callback.url = 'http://app.contoso.com/callback'), 'callback.url'],
    ['callback.state missing', (b) => delete b.callback.state, 'callback.state'],
    ['callback.state empty', (b) => (b.callback.state = ''), 'callback.state'],
    ['a callback header other than api-key or Authorization', (b) => (b.callback.headers = { 'api-key': API_KEY, 'x-functions-key': 'abc' }), 'callback.headers.x-functions-key'],
    ['api-key given twice in different case', (b) => (b.callback.headers = { 'api-key': API_KEY, 'API-Key': 'other' }), 'callback.headers.API-Key'],
    ['a callback header that is not a string', (b) => (b.callback.headers = { 'api-key': 42 }), 'callback.headers.api-key'],
    ['requestedCredentials missing', (b) => delete b.requestedCredentials, 'requestedCredentials'],
    ['requestedCredentials empty', (b) => (b.requestedCredentials = []), 'requestedCredentials'],
    ['a requested credential without type', (b) => delete credential(b).type, 'requestedCredentials[0].type'],
    ['acceptedIssuers not an array', (b) => (credential(b).acceptedIssuers = 'did:web:verifiedid.contoso.com'), 'requestedCredentials[0].acceptedIssuers'],
    ['acceptedIssuers holding a non-string', (b) => (credential(b).acceptedIssuers = ['did:web:verifiedid.contoso.com', 7]), 'requestedCredentials[0].acceptedIssuers[1]'],
    ['acceptedIssuers holding a non-DID', (b) => (credential(b).acceptedIssuers = ['contoso.com']), 'requestedCredentials[0].acceptedIssuers[0]'],
    ['faceCheck without sourcePhotoClaimName', (b) => (credential(b).configuration.validation.faceCheck = { matchConfidenceThreshold: 80 }), 'requestedCredentials[0].configuration.validation.faceCheck.sourcePhotoClaimName'],
    ['matchConfidenceThreshold under 50', (b) => (credential(b).configuration.validation.faceCheck.matchConfidenceThreshold = 49), 'requestedCredentials[0].configuration.validation.faceCheck.matchConfidenceThreshold'],
    ['matchConfidenceThreshold over 100', (b) => (credential(b).configuration.validation.faceCheck.matchConfidenceThreshold = 101), 'requestedCredentials[0].configuration.validation.faceCheck.matchConfidenceThreshold'],
    ['matchConfidenceThreshold not an integer', (b) => (credential(b).configuration.validation.faceCheck.matchConfidenceThreshold = 80.5), 'requestedCredentials[0].configuration.validation.faceCheck.matchConfidenceThreshold'],
    ['matchConfidenceThreshold as a string', (b) => (credential(b).configuration.validation.faceCheck.matchConfidenceThreshold = '80'), 'requestedCredentials[0].configuration.validation.faceCheck.matchConfidenceThreshold'],
    ['a misspelt threshold (it would silently mean 70)', (b) => (credential(b).configuration.validation.faceCheck = { sourcePhotoClaimName: 'photo', matchConfidenceTreshold: 90 }), 'requestedCredentials[0].configuration.validation.faceCheck.matchConfidenceTreshold'],
    ['includeReceipt with Face Check', (b) => (b.includeReceipt = true), 'includeReceipt'],
    ['a constraint without claimName', (b) => (credential(b).constraints = [{ values: ['megan.bowen@contoso.com'] }]), 'requestedCredentials[0].constraints[0].claimName'],
    ['a constraint with no operand', (b) => (credential(b).constraints = [{ claimName: 'revocationId' }]), 'requestedCredentials[0].constraints[0]'],
    ['a constraint with two operands', (b) => (credential(b).constraints = [{ claimName: 'revocationId', values: ['megan.bowen@contoso.com'], startsWith: 'megan' }]), 'requestedCredentials[0].constraints[0]'],
    ['a constraint with empty values', (b) => (credential(b).constraints = [{ claimName: 'revocationId', values: [] }]), 'requestedCredentials[0].constraints[0].values'],
    ['an unknown top-level property', (b) => (b.presentation = { requestedCredentials: [] }), 'presentation'],
    ['includeQRCode not boolean', (b) => (b.includeQRCode = 'yes'), 'includeQRCode'],
    ['allowRevoked not boolean', (b) => (credential(b).configuration.validation.allowRevoked = 'false'), 'requestedCredentials[0].configuration.validation.allowRevoked'],
  ];

  it.each(cases)('%s', async (_name, mutate, target) => {
    const body = structuredClone(appRequest(h.receiver.url)) as Body;
    mutate(body);
    const before = h.sim.presentations.size;
    const { status, json } = await createRequest(h.sim, body);
    expect(status).toBe(400);
    expectServiceError(json, { code: 'badRequest', message: 'The request is invalid.' }, { code: 'badOrMissingField', target });
    expect(h.sim.presentations.size).toBe(before);
    expect(h.sim.requestLog.at(-1)).toMatchObject({ status: 400, path: '/v1.0/verifiableCredentials/createPresentationRequest' });
    expect(JSON.stringify(h.sim.requestLog)).not.toContain(API_KEY);
  });

  it('names what is wrong in words: "The request contains `includeQRCode`, but it is not boolean."', async () => {
    const body = appRequest(h.receiver.url);
    body.includeQRCode = 'yes';
    const { json } = await createRequest(h.sim, body);
    expect((json.error as { innererror: { message: string } }).innererror.message).toBe('The request contains `includeQRCode`, but it is not boolean.');
  });

  it('refuses a body that is not JSON, or not an object', async () => {
    for (const text of ['{"authority":', '[1,2]', 'null']) {
      const { status, json } = await createRequest(h.sim, text);
      expect(status).toBe(400);
      expectServiceError(json, { code: 'badRequest', message: 'The request is invalid.' }, { code: 'badOrMissingField', target: 'body' });
    }
  });

  it('refuses a body not sent as JSON with 415', async () => {
    const before = h.sim.presentations.size;
    const response = await fetch(`${h.sim.endpoint}/verifiableCredentials/createPresentationRequest`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(appRequest(h.receiver.url)) });
    expect(response.status).toBe(415);
    expectServiceError((await response.json()) as Record<string, unknown>, { code: 'unsupportedMediaType', message: 'The specified media type is unsupported.' }, { code: 'badOrMissingField' });
    expect(h.sim.presentations.size).toBe(before);
  });
});

describe('createPresentationRequest: other paths and methods', () => {
  it('answers 405 with Allow: POST for another method on the endpoint', async () => {
    const response = await fetch(`${h.sim.endpoint}/verifiableCredentials/createPresentationRequest`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
    expectServiceError((await response.json()) as Record<string, unknown>, { code: 'methodNotAllowed', message: "The requested method isn't allowed on the requested resource." }, { code: 'badOrMissingField' });
  });

  it('answers 404 for any other path, issuance included', async () => {
    const before = h.sim.presentations.size;
    for (const path of ['/v1.0/verifiableCredentials/createIssuanceRequest', '/v1.0/verifiableCredentials/createpresentationrequest', '/beta/verifiableCredentials/createPresentationRequest', '/']) {
      const response = await fetch(`${h.sim.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(appRequest(h.receiver.url)) });
      expect(response.status).toBe(404);
      expectServiceError((await response.json()) as Record<string, unknown>, { code: 'notFound', message: "The requested resource doesn't exist." }, { code: 'notFound' });
    }
    expect(h.sim.requestLog.map((e) => e.status)).toEqual([404, 404, 404, 404]);
    expect(JSON.stringify(h.sim.requestLog)).not.toContain(API_KEY);
    expect(h.sim.presentations.size).toBe(before);
  });

  it('answers 413 for a body over 1 MB', async () => {
    const body = appRequest(h.receiver.url);
    (body.registration as Record<string, unknown>).purpose = 'x'.repeat(1024 * 1024);
    const { status, json } = await createRequest(h.sim, body);
    expect(status).toBe(413);
    expectServiceError(json, { code: 'payloadTooLarge', message: 'The payload is too large.' }, { code: 'badOrMissingField', target: 'body' });
  });
});

describe('createPresentationRequest with requireToken', () => {
  it('answers 401 without a bearer token, 201 with one, and logs only whether one came', async () => {
    const sim = await startVerifiedIdSimulator({ requireToken: true });
    try {
      const body = appRequest('https://app.contoso.com/api/verification/callback');
      for (const headers of [{}, { Authorization: 'Bearer ' }, { Authorization: 'Basic dXNlcjpwYXNz' }] as Record<string, string>[]) {
        const { status, json } = await createRequest(sim, body, headers);
        expect(status).toBe(401);
        expectServiceError(json, { code: 'unauthorized', message: 'The requested resource requires authentication' }, { code: 'tokenError' });
      }
      expect(sim.presentations.size).toBe(0);
      const ok = await createRequest(sim, body, { Authorization: 'Bearer eyJ0eXAiOiJKV1QifQ.e30.sig' });
      expect(ok.status).toBe(201);
      expect(sim.requestLog.map((e) => [e.status, e.authorization])).toEqual([
        [401, false],
        [401, true],
        [401, true],
        [201, true],
      ]);
      expect(JSON.stringify(sim.requestLog)).not.toContain('eyJ0eXAiOiJKV1QifQ');
    } finally {
      await sim.stop();
    }
  });

  it('takes a request without a token when requireToken is off (loopback endpoints get none)', async () => {
    expect((await createRequest(h.sim, appRequest(h.receiver.url))).status).toBe(201);
  });
});
