import type { StepContext } from './context';
import { readAdministrativeUnit, type Membership } from './privileged-reads';

export interface RestrictedUnit {
  id: string;
  displayName?: string;
}

/**
 * The restricted management administrative units among the user's memberships. Microsoft: "Applications
 * can't modify objects in restricted management administrative units by default … If you assign Microsoft
 * Graph application permissions to the application, those permissions won't apply"
 * (admin-units-restricted-management, "Programmability"). Such a user's reset would fail part-way with
 * 403s, so the guard refuses it before any write. A unit whose listing did not say (limited information,
 * or the property missing) is read on its own; a read that fails throws, and the guard fails closed.
 *
 * transitiveMemberOf may list a unit the user is in only through a group; Microsoft protects direct
 * members only, so Graph might let such a reset through. The guard refuses it all the same: the tenant
 * chose to protect that group's unit, and the identity team decides.
 */
export async function restrictedUnitsOf(ctx: Pick<StepContext, 'call' | 'graph'>, memberships: readonly Membership[]): Promise<RestrictedUnit[]> {
  const units = memberships.filter((m) => m.type === 'administrativeUnit');
  const resolved = await Promise.all(
    units.map(async (unit) => (unit.isMemberManagementRestricted === undefined ? readAdministrativeUnit(ctx, unit.id) : { ...unit, isMemberManagementRestricted: unit.isMemberManagementRestricted })),
  );
  return resolved.filter((unit) => unit.isMemberManagementRestricted).map((unit) => ({ id: unit.id, ...(unit.displayName ? { displayName: unit.displayName } : {}) }));
}
