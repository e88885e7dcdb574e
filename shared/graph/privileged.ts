import type { GroupEligibility, Membership, RoleAssignableGroup, RoleGrant } from './privileged-reads';
import { isAllowedRole, knownRoleName } from './roles';

/**
 * Decides from the guard's reads whether a user is privileged as Microsoft means it: any directory role
 * outside the allow-list (shared/graph/roles.ts), active or PIM-eligible, tenant-wide or scoped to an
 * administrative unit, built-in or custom, held directly or through a group; or membership or
 * ownership of a role-assignable group, which Microsoft reserves to a Privileged Authentication
 * Administrator even when the group holds no role. Pure: the reads happen elsewhere.
 */
export interface PrivilegeEvidence {
  userId: string;
  memberships: readonly Membership[];
  assignments: readonly RoleGrant[];
  eligibilities: readonly RoleGrant[];
  roleAssignableGroups: readonly RoleAssignableGroup[];
  /** PIM for Groups: memberships and ownerships the user may activate. */
  groupEligibilities?: readonly GroupEligibility[];
}

/** What makes the user privileged, one line each, in a stable order; empty when nothing does. */
export function privilegedFindings(evidence: PrivilegeEvidence): string[] {
  const findings = new Set<string>();
  for (const grant of [...evidence.assignments, ...evidence.eligibilities]) {
    if (isAllowedRole(grant.roleDefinitionId, grant.isBuiltIn) && grant.directoryScopeId === '/') continue;
    // An allowed role scoped to an administrative unit still counts: Microsoft reserves users with a
    // role scoped to a restricted management unit to a Privileged Authentication Administrator.
    findings.add(describeGrant(grant));
  }
  for (const membership of evidence.memberships) {
    if (membership.type !== 'directoryRole') continue;
    if (membership.roleTemplateId && isAllowedRole(membership.roleTemplateId, true)) continue;
    const name = membership.displayName ?? (membership.roleTemplateId ? knownRoleName(membership.roleTemplateId) : undefined) ?? membership.id;
    findings.add(`${name} (active directory role)`);
  }
  const memberOf = new Set(evidence.memberships.filter((m) => m.type === 'group').map((m) => m.id.toLowerCase()));
  const userId = evidence.userId.toLowerCase();
  for (const group of evidence.roleAssignableGroups) {
    const label = `role-assignable group ${group.displayName ? `${group.displayName} (${group.id})` : group.id}`;
    if (memberOf.has(group.id.toLowerCase())) findings.add(`member of ${label}`);
    if (group.ownerIds.some((owner) => owner.toLowerCase() === userId)) findings.add(`owner of ${label}`);
    // Eligible, not yet active: after signing in with a pass the user activates it, and holds the group's roles.
    for (const eligibility of evidence.groupEligibilities ?? []) {
      if (eligibility.groupId.toLowerCase() !== group.id.toLowerCase()) continue;
      findings.add(`PIM-eligible ${eligibility.accessId} of ${label}`);
    }
  }
  return [...findings];
}

function describeGrant(grant: RoleGrant): string {
  const known = knownRoleName(grant.roleDefinitionId);
  const custom = grant.isBuiltIn === false;
  const name = custom
    ? `custom role ${grant.displayName ?? grant.roleDefinitionId}`
    : (grant.displayName ?? known ?? `role ${grant.roleDefinitionId} (not on the allow-list)`);
  const how = grant.kind === 'eligible' ? 'PIM-eligible' : 'active';
  return `${name} (${how}, ${scopeText(grant.directoryScopeId)})`;
}

function scopeText(scope: string): string {
  if (scope === '/' || scope === '') return 'tenant-wide';
  const unit = /^\/administrativeUnits\/(.+)$/i.exec(scope);
  return unit ? `scoped to administrative unit ${unit[1]}` : `scoped to ${scope}`;
}
