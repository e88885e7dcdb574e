import { describe, expect, it } from 'vitest';
import type { TenantFile } from '../../dev/graph-sim';
import { reset, useSimulator, writesTo } from './helpers';

/**
 * External authentication methods: the v1.0 page documents DELETE …/externalAuthenticationMethods/{id}/$ref
 * (authentication-delete-externalauthenticationmethods). What Graph really takes is unverified, so the
 * engine sends that form, and only when Graph answers it as a path it does not know (400/404/405) tries the
 * item path once; the audit (the state's events) says which form worked.
 */

const external = { type: 'externalAuthentication' as const, displayName: 'Contoso RSA bridge' };
const tenant = (externalMethodDelete: 'ref' | 'item' | 'both'): TenantFile => ({
  domains: ['contoso.com'],
  rules: { externalMethodDelete },
  users: [
    { userPrincipalName: 'ext@contoso.com', methods: [external] },
    { userPrincipalName: 'ext.batch@contoso.com', defaultMethod: 'sms', methods: [external, { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550181' }, { type: 'email', emailAddress: 'b@example.net' }, { type: 'fido2', displayName: 'YubiKey' }] },
    { userPrincipalName: 'ext.gone@contoso.com', methods: [external] },
  ],
});

const refOnly = useSimulator({ tenant: tenant('ref') });
const itemOnly = useSimulator({ tenant: tenant('item') });

const deletes = (sim: typeof refOnly.sim, upn: string) =>
  writesTo(sim, sim.tenant.findUser(upn)!.id)
    .filter((e) => e.method === 'DELETE')
    .map((e) => ({ url: e.url.replace(/\/users\/[^/]+/, '/users/{id}').replace(/externalAuthenticationMethods\/[^/]+/, 'externalAuthenticationMethods/{m}'), status: e.status, batch: e.batch !== undefined }));

describe('external authentication methods are deleted at the documented $ref first', () => {
  it('Graph taking the $ref form: one DELETE …/{id}/$ref, deleted, and the audit says so', async () => {
    const sim = refOnly.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'ext@contoso.com' }, profile: 'all' });
    expect(result.status).toBe('completed');
    expect(deletes(sim, 'ext@contoso.com')).toEqual([{ url: '/users/{id}/authentication/externalAuthenticationMethods/{m}/$ref', status: 204, batch: false }]);
    expect(sim.tenant.methodsOf('ext@contoso.com').map((m) => m.kind)).toEqual(['password']);
    const event = result.state.events.find((e) => e.step === 'delete' && e.outcome === 'deleted');
    expect(event?.detail).toMatch(/Contoso RSA bridge \(DELETE on its \$ref \(the documented form\)\)/);
  });

  it('Graph answering the $ref form as an unknown path: the item path once, deleted, both recorded', async () => {
    const sim = itemOnly.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'ext@contoso.com' }, profile: 'all' });
    expect(result.status).toBe('completed');
    expect(deletes(sim, 'ext@contoso.com')).toEqual([
      { url: '/users/{id}/authentication/externalAuthenticationMethods/{m}/$ref', status: 400, batch: false },
      { url: '/users/{id}/authentication/externalAuthenticationMethods/{m}', status: 204, batch: false },
    ]);
    const steps = result.state.events.filter((e) => e.step === 'delete').map((e) => [e.outcome, e.detail]);
    expect(steps).toEqual([
      ['retrying', expect.stringMatching(/\$ref \(the documented form\) answered BadRequest: Resource not found for the segment '\$ref'.*trying the item path/)],
      ['deleted', expect.stringMatching(/\(DELETE on the item path \(the \$ref form was not taken\)\)/)],
    ]);
    // Both answers' request ids are kept for the method.
    expect(result.methods.find((m) => m.kind === 'externalAuthentication')?.requestIds).toHaveLength(2);
  });

  it('with $batch on, the external method goes on its own (its answer read first), the others in the batch', async () => {
    const sim = itemOnly.sim;
    const result = await reset(sim, { target: { userPrincipalName: 'ext.batch@contoso.com' }, profile: 'all' }, { useBatch: true });
    expect(result.status).toBe('completed');
    const sent = deletes(sim, 'ext.batch@contoso.com');
    expect(sent.filter((d) => d.url.includes('externalAuthenticationMethods')).every((d) => !d.batch)).toBe(true);
    expect(sent.some((d) => d.batch)).toBe(true);
    expect(sim.tenant.methodsOf('ext.batch@contoso.com').map((m) => m.kind)).toEqual(['password']);
  });

  it('a method gone already: 404 on the $ref form, the item path not taken: already gone, not failed', async () => {
    const sim = refOnly.sim;
    const plan = await reset(sim, { target: { userPrincipalName: 'ext.gone@contoso.com' }, profile: 'all', dryRun: true });
    const user = sim.tenant.findUser('ext.gone@contoso.com')!;
    user.methods = user.methods.filter((m) => m.kind !== 'externalAuthentication');
    const result = await reset(sim, { target: { userPrincipalName: 'ext.gone@contoso.com' }, profile: 'all' }, { state: { ...plan.state } });
    expect(result.status).toBe('completed');
    expect(result.methods.find((m) => m.kind === 'externalAuthentication')?.outcome).toBe('already-gone');
    expect(deletes(sim, 'ext.gone@contoso.com').map((d) => d.status)).toEqual([404, 405]);
  });
});
