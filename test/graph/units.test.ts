import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createGraphClient, maskEmail, maskPhone, METHOD_TYPES, userPath, planReset, classify } from '../../shared/graph';
import { loadSettings } from '../../shared/config';
import { GRAPH_CALL_TIMEOUT_MS } from '../../shared/graph/client';
import { isDefaultRefusal } from '../../shared/graph/execute';
import { GraphNetworkError, parseRetryAfter } from '../../shared/graph/http';
import { startGraphSimulator } from '../../dev/graph-sim';
import { METHOD_KINDS } from '../../shared/method-names';
import type { Snapshot } from '../../shared/graph';

describe('client', () => {
  it('accepts GRAPH_AUTH=none only for loopback origins', () => {
    expect(() => createGraphClient({ GRAPH_BASE_URL: 'https://graph.microsoft.com', GRAPH_AUTH: 'none' })).toThrow(/loopback/);
    expect(() => createGraphClient({ GRAPH_BASE_URL: 'http://127.0.0.1:1', GRAPH_AUTH: 'none' })).not.toThrow();
    expect(() => createGraphClient({ GRAPH_BASE_URL: 'http://localhost:1', GRAPH_AUTH: 'none' })).not.toThrow();
  });

  it("waits past Graph's 60 s for an authentication-method call, and a call slower than its limit counts as unanswered", async () => {
    expect(GRAPH_CALL_TIMEOUT_MS).toBeGreaterThan(60_000);
    const sim = await startGraphSimulator({ faults: { latencyMs: 400 } });
    try {
      const graph = createGraphClient({ GRAPH_BASE_URL: sim.url, GRAPH_AUTH: 'none' }, { timeoutMs: 100 });
      await expect(graph.send({ method: 'GET', version: 'v1.0', path: '/users?$top=1' })).rejects.toBeInstanceOf(GraphNetworkError);
    } finally {
      await sim.stop();
    }
  });

  it("the default write budget, 15/s, leaves headroom under Graph's identity write limit of 3,000 per 150 s (20/s)", () => {
    const key = Buffer.from('e1c3a5b7d9f0e2c4a6b8d1f3e5c7a9b0d2f4e6c8a1b3d5f7e9c0a2b4d6f8e1c3', 'hex').toString('base64');
    const budget = loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', INTAKE_MAC_KEY: key }).GRAPH_WRITE_BUDGET_PER_SECOND;
    expect(budget).toBe(15);
    expect(budget).toBeLessThan(3000 / 150);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThan(28);
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("Graph's default-method refusal", () => {
  // Both wordings are Graph's own answers in the field (microsoft-graph-docs issues 14470 and 18091).
  const refusal = (message: string) => ({ error: { code: 'badRequest', message, innerError: { message, date: '2021-10-04T09:56:43', 'request-id': 'r', 'client-request-id': 'c' } } });
  it('is recognised in either wording Graph has used, and only as a 400', () => {
    const older = refusal('Cannot delete default method with other methods configured. Please change default method before deletion.');
    const newer = refusal("The requested authentication method id of [3179e48a-750b-4051-897c-87b9720928f7] matches the user's current default authentication method, and cannot be deleted until the default authentication method is changed");
    expect(isDefaultRefusal(400, older)).toBe(true);
    expect(isDefaultRefusal(400, newer)).toBe(true);
    expect(isDefaultRefusal(403, older)).toBe(false);
    expect(isDefaultRefusal(400, refusal('Request Authorization failed'))).toBe(false);
  });
});

describe('paths', () => {
  it('encodes UPNs fully and keeps object ids', () => {
    expect(userPath('alex_fabrikam.com#EXT#@contoso.com')).toBe('/users/alex_fabrikam.com%23EXT%23%40contoso.com');
    expect(userPath("o'neil@contoso.com")).toBe('/users/o%27neil%40contoso.com');
    expect(userPath('$svc@contoso.com')).toBe("/users('%24svc%40contoso.com')");
    expect(userPath('AE5345DA-6EF4-4048-8C7A-C19A849DFF7B')).toBe('/users/ae5345da-6ef4-4048-8c7a-c19a849dff7b');
  });

  it('every encoded UPN is one path segment that decodes back', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.domain(), (local, domain) => {
        const upn = `${local}@${domain}`;
        if (upn.startsWith('$')) return;
        const segment = userPath(upn).slice('/users/'.length);
        expect(segment).not.toMatch(/[/?#']/);
        expect(decodeURIComponent(segment)).toBe(upn);
      }),
    );
  });
});

describe('masking', () => {
  it('hides all but the country code, area and last two digits', () => {
    expect(maskPhone('+1 4255550101')).toBe('+1 425*****01');
    expect(maskPhone('+44 7700900123')).toBe('+44 77******23');
    expect(maskEmail('adele.personal@example.net')).toBe('a***@example.net');
  });

  it('never shows more than six digits of any number', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+[0-9]{1,3} [0-9]{6,12}$/), (phone) => {
        expect(maskPhone(phone).replace(/\D/g, '').length).toBeLessThanOrEqual(6);
      }),
    );
  });
});

describe('catalogue and plan', () => {
  it('covers every method kind a request can name, with a unique typed collection', () => {
    expect(Object.keys(METHOD_TYPES).sort()).toEqual([...METHOD_KINDS].sort());
    const collections = Object.values(METHOD_TYPES).map((t) => t.collection);
    expect(new Set(collections).size).toBe(collections.length);
    for (const type of Object.values(METHOD_TYPES)) expect(classify(type.odataType)).toMatchObject({ kind: type.kind });
    expect(classify('#microsoft.graph.passwordAuthenticationMethod')).toEqual({ kind: 'password' });
    expect(classify('#microsoft.graph.somethingNew')).toEqual({ kind: 'unknown', odataType: '#microsoft.graph.somethingNew' });
  });

  it('orders any snapshot: alternate mobile before mobile, defaults after every other deletion but the dependent mobile', () => {
    const kinds = ['phone:mobile', 'phone:alternateMobile', 'phone:office', 'microsoftAuthenticator', 'softwareOath', 'hardwareOath', 'fido2', 'email'] as const;
    const prefs = ['push', 'oath', 'sms', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'none'];
    fc.assert(
      fc.property(fc.subarray([...kinds], { minLength: 1 }), fc.constantFrom(...prefs), fc.constantFrom('portal', 'all'), (present, preference, profile) => {
        const snapshot: Snapshot = {
          takenAt: '2024-01-01T00:00:00Z',
          defaultMethod: { source: 'signInPreferences', preference },
          hardwareOath: { source: 'listed' },
          methods: present.map((entry, index) => {
            const [kind, phoneType] = entry.split(':') as [string, 'mobile' | 'alternateMobile' | 'office' | undefined];
            return { id: phoneType ?? `m${index}`, kind: kind as 'phone', odataType: 'x', detail: entry, ...(phoneType ? { phoneType } : {}) };
          }),
        };
        const plan = planReset(snapshot, { profile: profile as 'portal' | 'all' });
        const order = plan.deletions.map((d) => d.id);
        if (order.includes('alternateMobile') && order.includes('mobile')) {
          const alt = plan.deletions.find((d) => d.id === 'alternateMobile')!;
          const mob = plan.deletions.find((d) => d.id === 'mobile')!;
          expect(alt.wave).toBeLessThan(mob.wave);
        }
        for (const def of plan.deletions.filter((d) => d.isDefault)) {
          for (const other of plan.deletions.filter((d) => !d.isDefault && !(d.id === 'mobile' && def.id === 'alternateMobile'))) {
            expect(other.wave).toBeLessThan(def.wave);
          }
        }
        expect(plan.deletions.length + plan.kept.length).toBe(present.length);
      }),
    );
  });
});
