import type { MethodKind, ResetProfile } from '../method-names';
import { inScope, METHOD_TYPES } from './catalogue';
import type { Plan, PlannedDeletion, Snapshot, SnapshotMethod } from './state';

export interface PlanInput {
  profile: ResetProfile;
  methods?: readonly MethodKind[];
  /** A new pass is being issued: a user holds one Temporary Access Pass at a time, so the old one goes. */
  replaceTemporaryAccessPass?: boolean;
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
      kept.push({ id: method.id, kind: method.kind, detail: method.detail, why: `${type.label} is outside ${scopeName}` });
      continue;
    }
    const isDefault = snapshot.defaultMethod.source === 'signInPreferences' && matchesDefault(method, snapshot.defaultMethod.preference);
    deletions.push({
      id: method.id,
      kind: method.kind,
      collection: type.collection,
      version: type.deleteVersion,
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

  const waves = [...new Set(deletions.map((d) => d.wave))].sort((a, b) => a - b);
  for (const deletion of deletions) deletion.wave = waves.indexOf(deletion.wave);
  deletions.sort((a, b) => a.wave - b.wave);

  return {
    profile: input.profile,
    ...(explicit ? { methods: [...explicit] } : {}),
    deletions,
    kept,
    unknownTypes: [...unknownTypes],
  };
}

function baseWave(method: SnapshotMethod, isDefault: boolean): number {
  const phoneStep = method.kind !== 'phone' ? 0 : method.phoneType === 'mobile' ? 2 : 1;
  return (isDefault ? 10 : 0) + phoneStep;
}

function phoneOf(snapshot: Snapshot, id: string): string | undefined {
  return snapshot.methods.find((m) => m.id === id)?.phoneType;
}
