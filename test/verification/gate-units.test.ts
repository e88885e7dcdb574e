import { describe, expect, it } from 'vitest';
import type { ResetState } from '../../shared/graph';
import { newRow } from '../../shared/intake/intake-service';
import { VerificationGate, type GateDependencies } from '../../shared/verification/gate';
import { effectivePolicy } from '../../shared/verification/policy';
import { checkPresentation } from '../../shared/verification/presentation-check';
import { VerificationSecrets } from '../../shared/verification/verification-secrets';
import type { Verification } from '../../shared/verification/verification-state';
import { testIntegrity } from '../support/signing';

/** The gate's decisions and the presentation checks, with the clock in the test's hands. */

const secrets = new VerificationSecrets(testIntegrity());
const settings: GateDependencies['settings'] = {
  VERIFICATION_REQUIRED: 'verified-id',
  VERIFICATION_TTL_MINUTES: 30,
  VERIFICATION_MAX_FAILURES: 3,
  VERIFIED_ID_AUTHORITY: 'did:web:verifier.contoso.com',
  VERIFIED_ID_ACCEPTED_ISSUERS: ['did:web:issuer.contoso.com'],
  VERIFIED_ID_FACECHECK_THRESHOLD: 80,
  VERIFIED_ID_CLIENT_NAME: 'Service desk',
  CONSOLE_BASE_URL: 'https://app.contoso.com',
  NOTIFY_SENDER_UPN: undefined,
};
const row = newRow('0a1b2c3d-0000-8000-8000-000000000001', {
  source: 'generic',
  idempotencyKey: 'generic|delivery|unit',
  request: { ticket: { system: 'manual', id: 'U-1' }, target: { userPrincipalName: 'adele.vance@contoso.com' }, requestedBy: { name: 'agent@contoso.com' }, profile: 'portal', revokeSessions: true, dryRun: false },
}, new Date('2026-12-01T10:00:00Z'));
const state: ResetState = { version: 1, startedAt: '', updatedAt: '', target: { objectId: 'aaaaaaaa-0000-4000-8000-000000000001', userPrincipalName: 'adele.vance@contoso.com' }, guards: { outcome: 'passed' }, deletions: {}, passes: 0, events: [] };
const pending = (over: Partial<Verification> = {}): Verification => ({
  version: 1, policy: 'verified-id', status: 'pending', targetObjectId: state.target!.objectId, targetUpn: 'adele.vance@contoso.com',
  startedAt: '2026-12-01T10:00:00.000Z', expiresAt: '2026-12-01T10:30:00.000Z', failures: 0, failureReasons: [], attempts: [], ...over,
});
const deps = (now: string, calls: unknown[] = []): GateDependencies => ({
  settings,
  graph: { origin: 'http://graph', send: async () => ({ status: 500, requestId: undefined, retryAfterSeconds: undefined, body: undefined }) },
  requestService: { createPresentationRequest: async (body) => { calls.push(body); return { requestId: `svc-${calls.length}`, url: 'openid-vc://?request_uri=x', expiry: Date.parse(now) / 1000 + 300 }; } },
  secrets,
  now: () => new Date(now),
});

describe('the verification gate', () => {
  it('starts with exactly one presentation request and waits', async () => {
    const calls: unknown[] = [];
    const gate = new VerificationGate(row, deps('2026-12-01T10:00:00Z', calls));
    expect((await gate.decide(state)).kind).toBe('wait');
    expect(calls).toHaveLength(1);
    expect(gate.current?.expiresAt).toBe('2026-12-01T10:30:00.000Z');
  });

  it('refuses once the verification has expired, and sends nothing', async () => {
    const calls: unknown[] = [];
    const gate = new VerificationGate({ ...row, verification: JSON.stringify(pending()) }, deps('2026-12-01T10:31:00Z', calls));
    const decision = await gate.decide(state);
    expect(decision).toMatchObject({ kind: 'refuse', code: 'verification_expired' });
    expect(gate.current?.status).toBe('expired');
    expect(calls).toHaveLength(0);
  });

  it('refuses after the allowed failures; proceeds only on evidence of a method the policy accepts, for the same user', async () => {
    const failed = new VerificationGate({ ...row, verification: JSON.stringify(pending({ failures: 3 })) }, deps('2026-12-01T10:05:00Z'));
    expect(await failed.decide(state)).toMatchObject({ kind: 'refuse', code: 'verification_failed' });
    const evidence = { method: 'manager' as const, at: '2026-12-01T10:04:00.000Z', who: 'nestor.wilke@contoso.com' };
    const byManager = new VerificationGate({ ...row, verification: JSON.stringify(pending({ status: 'passed', evidence })) }, deps('2026-12-01T10:05:00Z'));
    expect(await byManager.decide(state)).toMatchObject({ kind: 'refuse', code: 'verification_insufficient' });
    const other = new VerificationGate({ ...row, verification: JSON.stringify(pending({ status: 'passed', evidence: { ...evidence, method: 'verified-id' }, targetObjectId: 'bbbbbbbb-0000-4000-8000-000000000002' })) }, deps('2026-12-01T10:05:00Z'));
    expect(await other.decide(state)).toMatchObject({ kind: 'refuse', code: 'verification_target_mismatch' });
    const ok = new VerificationGate({ ...row, verification: JSON.stringify(pending({ status: 'passed', evidence: { ...evidence, method: 'verified-id' } })) }, deps('2026-12-01T10:05:00Z'));
    expect(await ok.decide(state)).toEqual({ kind: 'proceed' });
  });

  it('policy: stricter asks win, looser asks do not; strict groups demand Verified ID; batches only when asked; dry runs never', () => {
    const base = { setting: 'verified-id-or-manager' as const, batch: false, strictMember: false, dryRun: false };
    expect(effectivePolicy(base)).toBe('verified-id-or-manager');
    expect(effectivePolicy({ ...base, asked: 'none' })).toBe('verified-id-or-manager');
    expect(effectivePolicy({ ...base, asked: 'verified-id' })).toBe('verified-id');
    expect(effectivePolicy({ ...base, setting: 'none', strictMember: true })).toBe('verified-id');
    expect(effectivePolicy({ ...base, batch: true })).toBe('none');
    expect(effectivePolicy({ ...base, batch: true, asked: 'manager' })).toBe('manager');
    expect(effectivePolicy({ ...base, dryRun: true, asked: 'verified-id' })).toBe('none');
  });
});

describe('a presentation checked on arrival', () => {
  const expect_ = { acceptedIssuers: ['did:web:issuer.contoso.com'], threshold: 80, targetUpn: 'Adele.Vance@contoso.com', expiresAt: '2026-12-01T10:30:00Z' };
  const credential = { issuer: 'did:web:issuer.contoso.com', type: ['VerifiableCredential', 'VerifiedEmployee'], claims: { revocationId: 'adele.vance@contoso.com' }, credentialState: { revocationStatus: 'VALID' }, faceCheck: { matchConfidenceScore: 85.2 } };
  const body = (c: Record<string, unknown>) => ({ requestId: 'r', requestStatus: 'presentation_verified', state: 's', verifiedCredentialsData: [{ ...credential, ...c }] });

  it('passes the right person (case-blind), and fails each wrong claim with a reason', () => {
    const now = new Date('2026-12-01T10:10:00Z');
    expect(checkPresentation(body({}), expect_, now)).toMatchObject({ ok: true, evidence: { score: 85.2, who: 'adele.vance@contoso.com' } });
    expect(checkPresentation(body({ issuer: 'did:web:evil' }), expect_, now)).toMatchObject({ ok: false });
    expect(checkPresentation(body({ type: ['VerifiableCredential', 'OtherCard'] }), expect_, now)).toMatchObject({ ok: false });
    expect(checkPresentation(body({ claims: { revocationId: 'megan.bowen@contoso.com' } }), expect_, now)).toMatchObject({ ok: false });
    expect(checkPresentation(body({ credentialState: { revocationStatus: 'REVOKED' } }), expect_, now)).toMatchObject({ ok: false });
    expect(checkPresentation(body({ faceCheck: { matchConfidenceScore: 79.9 } }), expect_, now)).toMatchObject({ ok: false });
    expect(checkPresentation(body({ faceCheck: undefined }), expect_, now)).toMatchObject({ ok: false });
    expect(checkPresentation(body({ expirationDate: '2026-11-30T00:00:00Z' }), expect_, now)).toMatchObject({ ok: false });
    expect(checkPresentation(body({}), expect_, new Date('2026-12-01T10:31:00Z'))).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
  });
});

describe('batch jobs verify only when they ask', () => {
  it('a bulk job asking for Verified ID carries it, MAC-covered, to every request it makes; one that does not ask carries nothing', async () => {
    const { parseBulkJson } = await import('../../shared/bulk/bulk-request');
    const { buildBulkJob } = await import('../../shared/bulk/bulk-submit');
    const { requestRowFor } = await import('../../shared/bulk/bulk-items');
    const { jobIsAuthentic } = await import('../../shared/bulk/bulk-integrity');
    const { loadSettings } = await import('../../shared/config');
    const integrity = testIntegrity();
    const settings = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', INTAKE_MAC_KEY: (await import('../support/signing')).TEST_SECRETS.intakeMacKey, REQUIRE_APPROVAL: 'false' });
    const now = new Date('2026-12-01T10:00:00Z');
    const asked = buildBulkJob('job-1', parseBulkJson({ ticket: 'CHG-1', requestedBy: 'soc@contoso.com', users: ['adele.vance@contoso.com'], verification: 'verified-id' }), settings, integrity, now);
    expect(asked.job.verification).toBe('verified-id');
    expect(requestRowFor(asked.job, asked.items[0]!, now, integrity).verificationAsked).toBe('verified-id');
    // Dropping the ask in storage breaks the job's MAC.
    expect(jobIsAuthentic(asked.job, integrity)).toBe(true);
    expect(jobIsAuthentic({ ...asked.job, verification: undefined }, integrity)).toBe(false);
    const plain = buildBulkJob('job-2', parseBulkJson({ ticket: 'CHG-2', requestedBy: 'soc@contoso.com', users: ['adele.vance@contoso.com'] }), settings, integrity, now);
    expect(requestRowFor(plain.job, plain.items[0]!, now, integrity).verificationAsked).toBeUndefined();
  });
});
