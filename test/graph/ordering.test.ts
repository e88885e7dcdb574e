import { describe, expect, it } from 'vitest';
import { PHONE_IDS } from '../../shared/graph';
import { reset, useSimulator } from './helpers';

/** A user with one of each default-capable method, and the given default. */
const withDefault = (name: string, defaultMethod: 'push' | 'oath' | 'sms' | 'voiceMobile' | 'voiceAlternateMobile' | 'voiceOffice', hardware = false) => ({
  userPrincipalName: name,
  defaultMethod,
  methods: [
    { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: '+1 4255550120' },
    { type: 'phone' as const, phoneType: 'alternateMobile' as const, phoneNumber: '+1 4255550121' },
    { type: 'phone' as const, phoneType: 'office' as const, phoneNumber: '+1 4255550122' },
    { type: 'microsoftAuthenticator' as const, displayName: 'Pixel' },
    hardware ? { type: 'hardwareOath' as const, serialNumber: 'HW-9' } : { type: 'softwareOath' as const },
  ],
});

const cases = [
  { name: 'push', default: 'push', kind: 'microsoftAuthenticator' },
  { name: 'oath (software)', default: 'oath', kind: 'softwareOath' },
  { name: 'oath (hardware)', default: 'oath', kind: 'hardwareOath', hardware: true },
  { name: 'sms', default: 'sms', kind: 'phone', phone: PHONE_IDS.mobile },
  { name: 'voiceMobile', default: 'voiceMobile', kind: 'phone', phone: PHONE_IDS.mobile },
  { name: 'voiceAlternateMobile', default: 'voiceAlternateMobile', kind: 'phone', phone: PHONE_IDS.alternateMobile },
  { name: 'voiceOffice', default: 'voiceOffice', kind: 'phone', phone: PHONE_IDS.office },
] as const;

const users = (suffix: string) =>
  cases.map((c) => withDefault(`default.${c.name.replace(/\W+/g, '-')}.${suffix}@contoso.com`, c.default, 'hardware' in c && c.hardware));

const known = useSimulator({ tenant: { domains: ['contoso.com'], users: [...users('known'), ...users('batch')] } });
// Without the beta signInPreferences permission the engine learns the default from Graph's refusal.
const unknown = useSimulator({ tenant: { domains: ['contoso.com'], signInPreferences: false, users: users('unknown') } });

describe('the default method is deleted last, whatever its kind', () => {
  for (const [label, harness, suffix, useBatch] of [
    ['signInPreferences read', known, 'known', false],
    ['signInPreferences read, $batch', known, 'batch', true],
    ['signInPreferences refused', unknown, 'unknown', false],
  ] as const) {
    for (const c of cases) {
      it(`${label}: default ${c.name}`, async () => {
        const sim = harness.sim;
        const upn = `default.${c.name.replace(/\W+/g, '-')}.${suffix}@contoso.com`;
        const user = sim.tenant.findUser(upn)!;
        const defaultId = user.methods.find((m) => m.kind === c.kind && (!('phone' in c) || m.id === c.phone))!.id;

        const result = await reset(sim, { target: { userPrincipalName: upn }, profile: 'portal' }, { useBatch, concurrency: 4 });

        if (suffix === 'unknown' && c.default === 'voiceAlternateMobile') {
          // Graph's catch-22: the alternate (the default) cannot go while the mobile exists, the mobile
          // cannot go while the alternate exists, and without signInPreferences the default cannot be
          // moved. The honest answer names both.
          expect(result.status).toBe('partial');
          expect(result.status === 'partial' && result.reason).toMatch(/alternateMobile[\s\S]*mobile|mobile[\s\S]*alternateMobile/);
          return;
        }
        expect(result.status).toBe('completed');
        // Hardware tokens are deactivated, not unassigned: the token stays with the user, unusable.
        const hardware = sim.tenant.methodsOf(upn).find((m) => m.kind === 'hardwareOath');
        expect(sim.tenant.methodsOf(upn).map((m) => m.kind)).toEqual(c.kind === 'hardwareOath' ? ['password', 'hardwareOath'] : ['password']);
        if (hardware) expect(hardware.device?.status).toBe('assigned');
        const removed = [
          ...sim.tenant.removals.filter((r) => r.userId === user.id).map((r) => ({ id: r.methodId, at: r.at, seq: sim.tenant.removals.indexOf(r) })),
        ].map((r) => r.id);
        expect(removed).toHaveLength(c.kind === 'hardwareOath' ? 4 : 5);
        if (c.kind === 'hardwareOath') {
          // The deactivated token counts as gone: the rest follow, and the token's default needed no move.
          expect(sim.tenant.deactivations.filter((d) => d.userId === user.id).map((d) => d.methodId)).toEqual([defaultId]);
        } else if (c.default === 'voiceAlternateMobile' && suffix !== 'unknown') {
          // The two rules meet: the default moves to the mobile first (PATCH signInPreferences), so the
          // alternate may go before it, and the mobile goes last.
          expect(sim.tenant.preferenceChanges.filter((p) => p.userId === user.id).map((p) => p.to)).toEqual(['voiceMobile']);
          expect(removed.at(-1)).toBe(PHONE_IDS.mobile);
        } else {
          expect(removed.at(-1)).toBe(defaultId);
        }
        // Phone order: the alternate mobile before the mobile, always.
        expect(removed.indexOf(PHONE_IDS.alternateMobile)).toBeLessThan(removed.indexOf(PHONE_IDS.mobile));
        const outcome = result.methods.find((m) => m.id === defaultId);
        expect(outcome?.outcome).toBe(c.kind === 'hardwareOath' ? 'deactivated' : 'deleted');

        const refusals = sim.requestLog.filter((e) => e.url.includes(user.id) && e.method === 'DELETE' && e.status === 400);
        if (suffix === 'unknown') {
          expect(result.warnings.join(' ')).toMatch(/signInPreferences answered 403/);
          // Not knowing the default, Authenticator goes in the first wave, is refused, and is retried last.
          if (c.default === 'push') expect(refusals.length).toBeGreaterThan(0);
        } else {
          // Knowing the default, the plan never asks Graph for something it refuses.
          expect(refusals).toHaveLength(0);
          const lastPlanned = result.plan!.deletions.at(-1);
          expect(lastPlanned?.id).toBe(c.default === 'voiceAlternateMobile' ? PHONE_IDS.mobile : defaultId);
          expect(lastPlanned?.isDefault).toBe(true);
        }
      });
    }
  }
});
