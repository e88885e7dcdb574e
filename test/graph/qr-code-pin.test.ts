import { describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { METHOD_TYPES } from '../../shared/graph';
import { reset, useSimulator, writesTo } from './helpers';

/**
 * QR code + PIN (qrCodePinAuthenticationMethod, v1.0 since January 2026): a singleton, deleted at
 * DELETE /users/{id}/authentication/qrCodePinMethod (no id), global cloud only. Removed under profile
 * `all` and an explicit method list; kept under `portal`, with the reason (the admin center's button does
 * not remove it); and, staying, it keeps the default like any other method.
 */

const qr = { type: 'qrCodePin' as const };
const users: TenantFile['users'] = [
  { userPrincipalName: 'qr.portal@contoso.com', methods: [qr] },
  { userPrincipalName: 'qr.all@contoso.com', methods: [qr] },
  { userPrincipalName: 'qr.explicit@contoso.com', defaultMethod: 'push', methods: [qr, { type: 'microsoftAuthenticator', displayName: 'Pixel 8' }] },
  { userPrincipalName: 'qr.blocks@contoso.com', defaultMethod: 'push', methods: [qr, { type: 'microsoftAuthenticator', displayName: 'Pixel 9' }] },
  { userPrincipalName: 'qr.batch@contoso.com', defaultMethod: 'push', methods: [qr, { type: 'microsoftAuthenticator', displayName: 'iPhone' }, { type: 'fido2', displayName: 'Key' }, { type: 'email', emailAddress: 'q@example.net' }] },
  { userPrincipalName: 'qr.sim@contoso.com', methods: [qr] },
];
const h = useSimulator({ tenant: { domains: ['contoso.com'], users } });
const national = useSimulator({ tenant: { domains: ['contoso.com'], cloud: 'national', users } });

const kinds = (sim: typeof h.sim, upn: string) => sim.tenant.methodsOf(upn).map((m) => m.kind).sort();

async function call(url: string, method: string, path: string) {
  const response = await fetch(`${url}${path}`, { method });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('QR code + PIN in the catalogue and the plan', () => {
  it('is a known, v1.0, singleton method type that can never be the default and the portal profile keeps', () => {
    expect(METHOD_TYPES.qrCodePin).toMatchObject({
      odataType: '#microsoft.graph.qrCodePinAuthenticationMethod',
      collection: 'qrCodePinMethod',
      deleteVersion: 'v1.0',
      singleton: true,
      portal: false,
      canBeDefault: false,
    });
  });

  it('portal: kept, with the reason, and nothing written', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'qr.portal@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('completed');
    const method = result.methods.find((m) => m.kind === 'qrCodePin');
    expect(method).toMatchObject({ outcome: 'kept', detail: expect.stringMatching(/^QR code \+ PIN/) });
    expect(method?.reason).toMatch(/"Require re-register multifactor authentication" does not remove QR code \+ PIN.*profile "all" or methods \["qrCodePin"\]/);
    expect(result.plan?.unknownTypes).toEqual([]);
    expect(writesTo(sim, sim.tenant.findUser('qr.portal@contoso.com')!.id)).toEqual([]);
    expect(kinds(sim, 'qr.portal@contoso.com')).toEqual(['password', 'qrCodePin']);
  });

  it('all: one DELETE v1.0 /users/{id}/authentication/qrCodePinMethod, without an id, and it is gone', async () => {
    const sim = h.sim;
    const user = sim.tenant.findUser('qr.all@contoso.com')!;
    const result = await reset(sim, { target: { userPrincipalName: 'qr.all@contoso.com' }, profile: 'all' });
    expect(result.status).toBe('completed');
    const writes = writesTo(sim, user.id);
    expect(writes.map((e) => `${e.method} ${e.version} ${e.url} ${e.status}`)).toEqual([`DELETE v1.0 /users/${user.id}/authentication/qrCodePinMethod 204`]);
    expect(result.methods.find((m) => m.kind === 'qrCodePin')).toMatchObject({ outcome: 'deleted', requestIds: [writes[0]!.requestId] });
    expect(kinds(sim, 'qr.all@contoso.com')).toEqual(['password']);
  });

  it('an explicit method list naming qrCodePin removes it and keeps the rest', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'qr.explicit@contoso.com' }, profile: 'portal', methods: ['qrCodePin'] });
    expect(result.status).toBe('completed');
    expect(kinds(sim, 'qr.explicit@contoso.com')).toEqual(['microsoftAuthenticator', 'password']);
  });

  it('a QR method that stays under portal keeps the default Authenticator: partial, naming it, and the one request that finishes', async () => {
    const sim = h.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'qr.blocks@contoso.com' }, profile: 'portal' });
    expect(result.status).toBe('partial');
    const reason = result.status === 'partial' ? result.reason : '';
    expect(reason).toMatch(/Pixel 9[^(]*\(microsoftAuthenticator, the user's default method/);
    expect(reason).toMatch(/while QR code \+ PIN, created \d{4}-\d\d-\d\d stay\. To finish: use "Finish: also remove QR code \+ PIN" on this request's page in the operator console \(an operator asks, a second person approves\); it runs a linked request on the same ticket with methods \["phone","microsoftAuthenticator","softwareOath","hardwareOath","qrCodePin"\]\.$/);
    expect(result.plan?.defaultBlocked?.staying).toEqual([expect.stringMatching(/^QR code \+ PIN/)]);
    // The request the advice names finishes it.
    const again = await reset(sim, { target: { userPrincipalName: 'qr.blocks@contoso.com' }, profile: 'portal', methods: ['phone', 'microsoftAuthenticator', 'softwareOath', 'hardwareOath', 'qrCodePin'] });
    expect(again.status).toBe('completed');
    expect(kinds(sim, 'qr.blocks@contoso.com')).toEqual(['password']);
  });

  it('inside a $batch the singleton path is sent as it is, and the default still goes last', async () => {
    const sim = h.sim;
    const user = sim.tenant.findUser('qr.batch@contoso.com')!;
    const result = await reset(sim, { target: { userPrincipalName: 'qr.batch@contoso.com' }, profile: 'all' }, { useBatch: true });
    expect(result.status).toBe('completed');
    const qrDelete = writesTo(sim, user.id).find((e) => e.url.endsWith('/qrCodePinMethod'));
    expect(qrDelete).toMatchObject({ method: 'DELETE', status: 204, batch: expect.any(String) });
    expect(kinds(sim, 'qr.batch@contoso.com')).toEqual(['password']);
  });
});

describe('the simulator serves QR code + PIN as Graph documents it', () => {
  it('GET and DELETE on the singleton; a second DELETE is 404; v1.0 lists it', async () => {
    const sim = h.sim;
    const user = sim.tenant.findUser('qr.sim@contoso.com')!;
    const listed = await call(sim.url, 'GET', `/v1.0/users/${user.id}/authentication/methods`);
    expect(listed.body?.value.map((m: { '@odata.type': string }) => m['@odata.type'])).toContain('#microsoft.graph.qrCodePinAuthenticationMethod');
    const got = await call(sim.url, 'GET', `/v1.0/users/${user.id}/authentication/qrCodePinMethod`);
    expect(got).toMatchObject({ status: 200, body: { '@odata.type': '#microsoft.graph.qrCodePinAuthenticationMethod', createdDateTime: expect.any(String) } });
    expect((await call(sim.url, 'DELETE', `/v1.0/users/${user.id}/authentication/qrCodePinMethod`)).status).toBe(204);
    const again = await call(sim.url, 'DELETE', `/v1.0/users/${user.id}/authentication/qrCodePinMethod`);
    expect(again.status).toBe(404);
    expect(again.body?.error.code).toBe('itemNotFound');
  });

  it('outside the global cloud there is no QR code + PIN: not listed, and the path is unknown', async () => {
    const sim = national.sim;
    const user = sim.tenant.findUser('qr.sim@contoso.com')!;
    const listed = await call(sim.url, 'GET', `/v1.0/users/${user.id}/authentication/methods`);
    expect(listed.body?.value.map((m: { '@odata.type': string }) => m['@odata.type'])).not.toContain('#microsoft.graph.qrCodePinAuthenticationMethod');
    expect((await call(sim.url, 'DELETE', `/v1.0/users/${user.id}/authentication/qrCodePinMethod`)).status).toBe(400);
    expect(kinds(sim, 'qr.sim@contoso.com')).toEqual(['password', 'qrCodePin']);
  });
});
