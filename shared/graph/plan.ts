import type { MethodKind, ResetProfile } from '../method-names';
import { inScope, METHOD_TYPES } from './catalogue';
import type { Plan, PlannedDeletion, Snapshot, SnapshotMethod } from './state';

export interface PlanInput {
  profile: ResetProfile;
  methods?: readonly MethodKind[];
  /**
   * A new pass is being issued. Graph replaces an existing pass itself, but the old one is deleted
   * first anyway: left in place it would count as a method that stays, and keep the default method.
   */
  replaceTemporaryAccessPass?: boolean;
  /** Hardware OATH tokens are deactivated (they stay assigned) unless the request asks to unassign them. */
  hardwareOathAction?: 'deactivate' | 'unassign';
}

/** The signInPreferences value that makes a method the default, for the kinds that can be one. */
export function preferenceFor(method: Pick<SnapshotMethod, 'kind' | 'phoneType'>): string | undefined {
  switch (method.kind) {
    case 'microsoftAuthenticator':
      return 'push';
    case 'softwareOath':
    case 'hardwareOath':
      return 'oath';
    case 'phone':
      return method.phoneType === 'mobile' ? 'voiceMobile' : method.phoneType === 'alternateMobile' ? 'voiceAlternateMobile' : method.phoneType === 'office' ? 'voiceOffice' : undefined;
    default:
      return undefined;
  }
}

/** Which listed methods a `userPreferredMethodForSecondaryAuthentication` value points at. */
export function matchesDefault(method: Pick<SnapshotMethod, 'kind' | 'phoneType'>, preference: string | undefined): boolean {
  switch (preference) {
    case 'push':
      return method.kind === 'microsoftAuthenticator';
    case 'oath':
      return method.kind === 'softwareOath' || method.kind === 'hardwareOath';
    case 'voiceMobile':
    case 'sms':
      return method.kind === 'phone' && method.phoneType === 'mobile';
    case 'voiceAlternateMobile':
      return method.kind === 'phone' && method.phoneType === 'alternateMobile';
    case 'voiceOffice':
      return method.kind === 'phone' && method.phoneType === 'office';
    default:
      return false;
  }
}

/**
 * Decides what goes and in which order. Graph's rules: the default method cannot be deleted while
 * other methods remain, so it goes last; an alternate mobile phone depends on the mobile phone, so it
 * goes first. Deletions in one wave are independent and may run at once.
 */
export function planReset(snapshot: Snapshot, input: PlanInput): Plan {
  const deletions: PlannedDeletion[] = [];
  const kept: Plan['kept'] = [];
  const unknownTypes = new Set<string>();
  const explicit = input.methods && input.methods.length > 0 ? input.methods : undefined;
  const scopeName = explicit ? `the requested types (${explicit.join(', ')})` : `the ${input.profile} profile`;

  for (const method of snapshot.methods) {
    if (method.kind === 'password') {
      kept.push({ id: method.id, kind: method.kind, detail: method.detail, why: 'passwords are never removed by a reset' });
      continue;
    }
    if (method.kind === 'unknown') {
      unknownTypes.add(method.odataType);
      kept.push({
        id: method.id,
        kind: method.kind,
        detail: method.detail,
        why: `${method.odataType} is a method type this service does not know yet; review it in the admin center`,
      });
      continue;
    }
    const type = METHOD_TYPES[method.kind];
    const replacing = method.kind === 'temporaryAccessPass' && input.replaceTemporaryAccessPass === true;
    if (!inScope(method.kind, input.profile, explicit) && !replacing) {
      const why = !explicit && input.profile === 'portal' && type.portalNote ? type.portalNote : `${type.label} is outside ${scopeName}`;
      kept.push({ id: method.id, kind: method.kind, detail: method.detail, why });
      continue;
    }
    const deactivate = method.kind === 'hardwareOath' && input.hardwareOathAction !== 'unassign';
    if (deactivate && method.deviceStatus !== undefined && method.deviceStatus !== 'activated') {
      kept.push({ id: method.id, kind: method.kind, detail: method.detail, why: `already not active (${method.deviceStatus}): nothing to deactivate` });
      continue;
    }
    const isDefault = snapshot.defaultMethod.source === 'signInPreferences' && matchesDefault(method, snapshot.defaultMethod.preference);
    deletions.push({
      id: method.id,
      kind: method.kind,
      collection: type.collection,
      version: type.deleteVersion,
      action: deactivate ? 'deactivate' : 'delete',
      detail: method.detail,
      wave: baseWave(method, isDefault),
      isDefault,
      why: replacing && !inScope(method.kind, input.profile, explicit) ? 'replaced by the new Temporary Access Pass' : `in ${scopeName}`,
    });
  }

  // The alternate mobile must go before the mobile even when the alternate is the default.
  const alternate = deletions.find((d) => d.kind === 'phone' && phoneOf(snapshot, d.id) === 'alternateMobile');
  const mobile = deletions.find((d) => d.kind === 'phone' && phoneOf(snapshot, d.id) === 'mobile');
  if (alternate && mobile && mobile.wave <= alternate.wave) mobile.wave = alternate.wave + 1;

  const strategy = defaultStrategy(snapshot, deletions, kept, alternate, mobile);

  const waves = [...new Set(deletions.map((d) => d.wave))].sort((a, b) => a - b);
  for (const deletion of deletions) deletion.wave = waves.indexOf(deletion.wave);
  deletions.sort((a, b) => a.wave - b.wave);

  return {
    profile: input.profile,
    ...(explicit ? { methods: [...explicit] } : {}),
    deletions,
    kept,
    unknownTypes: [...unknownTypes],
    ...strategy,
  };
}

/**
 * Graph deletes the default method only when it is the user's last method (Microsoft's reset script:
 * it "can only be deleted when it is the only (last) auth method"). Whatever stays after the reset
 * (kept methods, deactivated hardware tokens, unknown types) therefore keeps the default in place,
 * unless the default is first moved to a method that stays and can be a default. signInPreferences
 * has values for Authenticator, OATH and phones only, so FIDO2, Windows Hello, email or a pass can
 * never take the default over: with only those staying, the default cannot go, and the plan says so.
 */
function defaultStrategy(
  snapshot: Snapshot,
  deletions: PlannedDeletion[],
  kept: Plan['kept'],
  alternate: PlannedDeletion | undefined,
  mobile: PlannedDeletion | undefined,
): Pick<Plan, 'defaultChange' | 'defaultBlocked'> {
  const defaults = deletions.filter((d) => d.isDefault);
  const from = snapshot.defaultMethod.preference;
  if (defaults.length === 0 || from === undefined) return {};
  // A deactivated hardware token stays assigned but cannot sign in: counted as gone (see the simulator's
  // reading of the rule). Were Graph to count it, the delete is refused and the result says so.
  const staying = kept.filter((k) => k.kind !== 'password');
  const byId = new Map(snapshot.methods.map((m) => [m.id, m]));
  const candidate = kept
    .map((k) => byId.get(k.id))
    .find((m): m is SnapshotMethod => m !== undefined && preferenceFor(m) !== undefined && (m.kind !== 'hardwareOath' || m.deviceStatus === 'activated'));
  if (staying.length > 0 && candidate) {
    for (const d of defaults) d.isDefault = false;
    return {
      defaultChange: {
        from,
        to: preferenceFor(candidate)!,
        methodId: candidate.id,
        detail: candidate.detail,
        why: `the default (${from}) can only be deleted as the user's last method, and ${candidate.detail} stays`,
      },
    };
  }
  let blockedDefaults = defaults;
  let change: Plan['defaultChange'];
  // The alternate mobile is the default but must go before the mobile, which cannot go while the
  // alternate exists: move the default to the mobile first, which then goes last.
  if (alternate && mobile && alternate.isDefault) {
    alternate.isDefault = false;
    alternate.wave = Math.min(alternate.wave, mobile.wave - 1);
    mobile.isDefault = true;
    mobile.wave = Math.max(mobile.wave, ...deletions.map((d) => d.wave)) + 1;
    change = { from, to: 'voiceMobile', methodId: mobile.id, detail: mobile.detail, why: 'the alternate mobile phone is the default and must go before the mobile phone' };
    blockedDefaults = [mobile];
  }
  if (staying.length === 0) return change ? { defaultChange: change } : {};
  return {
    ...(change ? { defaultChange: change } : {}),
    defaultBlocked: {
      methodIds: blockedDefaults.map((d) => d.id),
      detail: blockedDefaults.map((d) => d.detail).join(', '),
      staying: staying.map((s) => s.detail),
    },
  };
}

function baseWave(method: SnapshotMethod, isDefault: boolean): number {
  const phoneStep = method.kind !== 'phone' ? 0 : method.phoneType === 'mobile' ? 2 : 1;
  return (isDefault ? 10 : 0) + phoneStep;
}

function phoneOf(snapshot: Snapshot, id: string): string | undefined {
  return snapshot.methods.find((m) => m.id === id)?.phoneType;
}
