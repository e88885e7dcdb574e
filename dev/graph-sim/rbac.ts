import { builtInTemplateId, roleName } from './roles';
import { stableId, type ParsedTenantFile, type RoleRef } from './tenant-file';

/**
 * The simulated tenant's role-based access control, as the unified RBAC API shows it
 * (roleManagement/directory): role definitions (built-in and custom), active role assignments and
 * PIM-eligible ones, each scoped to the tenant (`/`) or an administrative unit
 * (`/administrativeUnits/{id}`), held by a user or a role-assignable group.
 *
 * Graph answers the unified RBAC API and an uncast `transitiveMemberOf` from current state, but the
 * cast `transitiveMemberOf/microsoft.graph.directoryRole` advanced query reads an index that "might
 * not be up-to-date with recent changes": a grant made through `grant()` stays out of that index until
 * `refreshIndex()`, so a guard that trusts the index misses it, as it would against Graph.
 */

export interface SimRoleDefinition {
  id: string;
  templateId: string;
  displayName: string;
  isBuiltIn: boolean;
  permissions: string[];
}

export interface SimRoleGrant {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  /** `/` or `/administrativeUnits/{id}`. */
  directoryScopeId: string;
  kind: 'active' | 'eligible';
  /** Visible to the cast (advanced query) index yet. */
  indexed: boolean;
  startDateTime: string;
}

/** PIM for Groups: a principal eligible for membership or ownership of a group (not yet active). */
export interface SimGroupEligibility {
  id: string;
  principalId: string;
  groupId: string;
  accessId: 'member' | 'owner';
  startDateTime: string;
}

export interface SimAdministrativeUnit {
  id: string;
  displayName: string;
  /** A restricted management unit: Graph lets no application change its member objects. */
  isMemberManagementRestricted: boolean;
  /** Direct members, resolved by the directory once users and groups exist. */
  memberUserIds: string[];
  memberGroupIds: string[];
}

export class SimRbac {
  readonly definitions: SimRoleDefinition[] = [];
  readonly grants: SimRoleGrant[] = [];
  readonly groupEligibilities: SimGroupEligibility[] = [];
  readonly administrativeUnits: SimAdministrativeUnit[];

  constructor(file: Pick<ParsedTenantFile, 'customRoles' | 'administrativeUnits'>) {
    this.administrativeUnits = file.administrativeUnits.map((unit) => ({
      id: (unit.id ?? stableId('administrativeUnit', unit.displayName)).toLowerCase(),
      displayName: unit.displayName,
      isMemberManagementRestricted: unit.isMemberManagementRestricted,
      memberUserIds: [],
      memberGroupIds: [],
    }));
    for (const role of file.customRoles) {
      const id = (role.id ?? stableId('roleDefinition', role.displayName)).toLowerCase();
      this.definitions.push({ id, templateId: id, displayName: role.displayName, isBuiltIn: false, permissions: role.permissions });
    }
  }

  /** A role definition by custom name, built-in name or id; built-in definitions are made on first use. */
  definition(nameOrId: string): SimRoleDefinition {
    const lower = nameOrId.toLowerCase();
    const known = this.definitions.find((d) => d.id === lower || d.displayName.toLowerCase() === lower);
    if (known) return known;
    const templateId = builtInTemplateId(nameOrId);
    if (!templateId) throw new Error(`Graph simulator tenant: unknown directory role "${nameOrId}" (not built in, not in customRoles)`);
    const created: SimRoleDefinition = { id: templateId, templateId, displayName: roleName(templateId), isBuiltIn: true, permissions: [] };
    this.definitions.push(created);
    return created;
  }

  scopeOf(ref: RoleRef): string {
    if (typeof ref === 'string' || ref.administrativeUnit === undefined) return '/';
    const wanted = ref.administrativeUnit.toLowerCase();
    const unit = this.administrativeUnits.find((u) => u.id === wanted || u.displayName.toLowerCase() === wanted);
    if (!unit) throw new Error(`Graph simulator tenant: unknown administrative unit "${ref.administrativeUnit}"`);
    return `/administrativeUnits/${unit.id}`;
  }

  /** Adds an assignment or eligibility. Grants made after start are not in the advanced-query index yet. */
  grant(principalId: string, ref: RoleRef, options: { kind?: 'active' | 'eligible'; indexed?: boolean } = {}): SimRoleGrant {
    const definition = this.definition(typeof ref === 'string' ? ref : ref.role);
    const directoryScopeId = this.scopeOf(ref);
    const kind = options.kind ?? 'active';
    const grant: SimRoleGrant = {
      id: stableId('roleGrant', kind, principalId, definition.id, directoryScopeId),
      principalId: principalId.toLowerCase(),
      roleDefinitionId: definition.id,
      directoryScopeId,
      kind,
      indexed: options.indexed ?? false,
      startDateTime: new Date().toISOString(),
    };
    this.grants.push(grant);
    return grant;
  }

  /** PIM for Groups eligibility; the user is not a member (or owner) until they activate it. */
  grantGroupEligibility(principalId: string, groupId: string, accessId: 'member' | 'owner'): SimGroupEligibility {
    const eligibility: SimGroupEligibility = {
      id: stableId('groupEligibility', principalId, groupId, accessId),
      principalId: principalId.toLowerCase(),
      groupId: groupId.toLowerCase(),
      accessId,
      startDateTime: new Date().toISOString(),
    };
    this.groupEligibilities.push(eligibility);
    return eligibility;
  }

  /** privilegedAccessGroupEligibilityScheduleInstance, as v1.0 shows it. */
  groupEligibilityJson(e: SimGroupEligibility): Record<string, unknown> {
    return {
      id: e.id,
      principalId: e.principalId,
      groupId: e.groupId,
      accessId: e.accessId,
      memberType: 'direct',
      startDateTime: e.startDateTime,
      endDateTime: null,
      eligibilityScheduleId: stableId('groupEligibilitySchedule', e.id),
    };
  }

  /** The advanced-query index catches up with every grant made so far. */
  refreshIndex(): void {
    for (const grant of this.grants) grant.indexed = true;
  }

  grantsOf(principalIds: readonly string[], kind: 'active' | 'eligible'): SimRoleGrant[] {
    const ids = new Set(principalIds.map((id) => id.toLowerCase()));
    return this.grants.filter((g) => g.kind === kind && ids.has(g.principalId));
  }

  /**
   * What the legacy directoryRole objects show: active, tenant-wide, built-in roles only (custom and
   * administrative-unit-scoped roles have no directoryRole; eligible ones have none until activated).
   */
  directoryRolesOf(principalIds: readonly string[], options: { indexedOnly: boolean }): { id: string; displayName: string; roleTemplateId: string }[] {
    const templates = new Set<string>();
    for (const grant of this.grantsOf(principalIds, 'active')) {
      const definition = this.definitions.find((d) => d.id === grant.roleDefinitionId);
      if (!definition?.isBuiltIn || grant.directoryScopeId !== '/') continue;
      if (options.indexedOnly && !grant.indexed) continue;
      templates.add(definition.templateId);
    }
    return [...templates].map((templateId) => ({ id: stableId('role', templateId), displayName: roleName(templateId), roleTemplateId: templateId }));
  }

  definitionJson(id: string): Record<string, unknown> | undefined {
    const d = this.definitions.find((definition) => definition.id === id);
    if (!d) return undefined;
    return {
      id: d.id,
      displayName: d.displayName,
      description: d.isBuiltIn ? `Built-in role ${d.displayName}.` : `Custom role ${d.displayName}.`,
      isBuiltIn: d.isBuiltIn,
      isEnabled: true,
      templateId: d.templateId,
      version: '1',
      rolePermissions: [{ allowedResourceActions: d.permissions, condition: null }],
    };
  }

  assignmentJson(grant: SimRoleGrant): Record<string, unknown> {
    return {
      '@odata.type': '#microsoft.graph.unifiedRoleAssignment',
      id: grant.id,
      principalId: grant.principalId,
      roleDefinitionId: grant.roleDefinitionId,
      directoryScopeId: grant.directoryScopeId,
      appScopeId: null,
    };
  }

  eligibilityJson(grant: SimRoleGrant): Record<string, unknown> {
    return {
      id: grant.id,
      principalId: grant.principalId,
      roleDefinitionId: grant.roleDefinitionId,
      directoryScopeId: grant.directoryScopeId,
      appScopeId: null,
      startDateTime: grant.startDateTime,
      endDateTime: null,
      memberType: 'Direct',
      roleEligibilityScheduleId: stableId('roleEligibilitySchedule', grant.id),
    };
  }
}
