import { z } from 'zod';
import type { StepContext } from './context';
import { expectBody } from './context';
import type { GraphVersion } from './http';
import { readAllPages, splitNextLink } from './paging';
import { strictEncode } from './paths';
import { collectionSchema, graphErrorSchema } from './schemas';

/**
 * The directory reads the privileged-target guard needs. Each is an independent function of the user's
 * object id (or of nothing), so a caller may send them side by side; none depends on another's answer.
 * Each reads current state (no `ConsistencyLevel: eventual`, no OData cast: the advanced-query index
 * "might not be up-to-date with recent changes"), follows every page, and throws GraphCallError when
 * Graph refuses or does not answer, which the guard turns into a refusal or a retry, never a pass.
 *
 * Permissions (application): RoleManagement.Read.Directory covers roleAssignments,
 * roleEligibilityScheduleInstances and roleDefinitions; GroupMember.Read.All covers transitiveMemberOf
 * with group properties, the role-assignable group list and its owners;
 * PrivilegedEligibilitySchedule.Read.AzureADGroup covers PIM for Groups eligibility.
 */

type Reader = Pick<StepContext, 'call' | 'graph'>;

const roleDefinitionSchema = z
  .object({ id: z.string().min(1), displayName: z.string().nullish(), isBuiltIn: z.boolean().nullish(), templateId: z.string().nullish() })
  .passthrough();

const roleGrantSchema = z
  .object({
    id: z.string().min(1),
    principalId: z.string().min(1),
    roleDefinitionId: z.string().min(1),
    directoryScopeId: z.string().nullish(),
    roleDefinition: roleDefinitionSchema.nullish(),
  })
  .passthrough();

const membershipSchema = z
  .object({
    id: z.string().min(1),
    '@odata.type': z.string().min(1),
    displayName: z.string().nullish(),
    roleTemplateId: z.string().nullish(),
    // administrativeUnit only; null when not set ("the default behavior is false") or when the app may
    // not read units (limited information: then displayName is null too).
    isMemberManagementRestricted: z.boolean().nullish(),
  })
  .passthrough();

const ownerRefSchema = z.object({ id: z.string().min(1) }).passthrough();

const groupEligibilitySchema = z
  .object({ id: z.string().min(1), principalId: z.string().min(1), groupId: z.string().min(1), accessId: z.string().min(1) })
  .passthrough();

const roleAssignableGroupSchema = z
  .object({ id: z.string().min(1), displayName: z.string().nullish(), owners: z.array(ownerRefSchema).nullish() })
  .passthrough();

export interface RoleGrant {
  kind: 'active' | 'eligible';
  principalId: string;
  roleDefinitionId: string;
  /** `/` for the whole tenant, `/administrativeUnits/{id}` for an administrative unit, or another object. */
  directoryScopeId: string;
  displayName?: string;
  /** As Graph says; undefined when the definition was not expanded. */
  isBuiltIn?: boolean;
}

export interface Membership {
  id: string;
  type: 'group' | 'directoryRole' | 'administrativeUnit' | 'other';
  displayName?: string;
  roleTemplateId?: string;
  /**
   * Administrative units: true for a restricted management unit, false when Graph said it is not (or
   * left it null on a unit it showed in full); undefined when the answer did not tell (the property
   * missing, or limited information), so the unit must be read on its own.
   */
  isMemberManagementRestricted?: boolean;
}

export interface RoleAssignableGroup {
  id: string;
  displayName?: string;
  ownerIds: string[];
}

/** PIM for Groups: a user eligible to become a member or an owner of a group, which they are not yet. */
export interface GroupEligibility {
  groupId: string;
  /** `member` or `owner`; anything else Graph may add is kept as given and counts like ownership. */
  accessId: string;
}

/** Graph's `$expand` on directory-object relationships returns a bounded number of related objects. */
export const EXPANDED_OWNERS_LIMIT = 20;

/** Active role assignments held by the user directly (tenant-wide or scoped), built-in or custom. */
export function readRoleAssignments(ctx: Reader, userId: string): Promise<RoleGrant[]> {
  return readGrants(ctx, userId, 'roleAssignments', 'active', 'Reading the role assignments of the user');
}

/** PIM-eligible roles of the user: an eligible administrator can activate the role after signing in with a pass. */
export function readRoleEligibilities(ctx: Reader, userId: string): Promise<RoleGrant[]> {
  return readGrants(ctx, userId, 'roleEligibilityScheduleInstances', 'eligible', 'Reading the PIM-eligible roles of the user');
}

/**
 * PIM for Groups: the groups the user is eligible to join or own (eligibility schedule instances, the
 * ones in force now). Such a user is no member yet, so transitiveMemberOf does not show it, but after
 * signing in with a pass they can activate the membership of a role-assignable group and with it its
 * roles. Graph requires the `$filter` on principalId (…/privilegedaccessgroup-list-eligibilityscheduleinstances).
 */
export async function readGroupEligibilities(ctx: Reader, userId: string): Promise<GroupEligibility[]> {
  const filter = strictEncode(`principalId eq '${userId.replace(/'/g, "''")}'`);
  const rows = await readEligibilityPages(
    ctx,
    { version: 'v1.0', path: `/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=${filter}` },
    groupEligibilitySchema,
    'Reading the PIM for Groups eligibilities of the user',
  );
  // Every row Graph returns for the filter counts: none is dropped for not looking like the user's.
  return rows.map((row) => ({ groupId: row.groupId.toLowerCase(), accessId: row.accessId.toLowerCase() }));
}

async function readGrants(ctx: Reader, userId: string, collection: string, kind: RoleGrant['kind'], what: string): Promise<RoleGrant[]> {
  const filter = strictEncode(`principalId eq '${userId.replace(/'/g, "''")}'`);
  const expand = strictEncode('roleDefinition($select=id,displayName,isBuiltIn,templateId)');
  const first = { version: 'v1.0' as const, path: `/roleManagement/directory/${collection}?$filter=${filter}&$expand=${expand}` };
  const rows = kind === 'eligible' ? await readEligibilityPages(ctx, first, roleGrantSchema, what) : await readAllPages(ctx, first, roleGrantSchema, what);
  return rows.map((row) => ({
    kind,
    principalId: row.principalId,
    roleDefinitionId: row.roleDefinitionId,
    directoryScopeId: row.directoryScopeId ?? '/',
    displayName: row.roleDefinition?.displayName ?? undefined,
    isBuiltIn: row.roleDefinition?.isBuiltIn ?? undefined,
  }));
}

/**
 * Everything the user is a member of, nested groups followed: groups, directoryRole objects (active
 * tenant-wide built-in roles, also through groups) and administrative units. Uncast, so it reads
 * current state rather than the advanced-query index.
 */
export async function readTransitiveMemberships(ctx: Reader, userId: string): Promise<Membership[]> {
  const rows = await readAllPages(
    ctx,
    { version: 'v1.0', path: `/users/${strictEncode(userId)}/transitiveMemberOf?$top=999` },
    membershipSchema,
    'Reading the groups and roles the user is a member of',
  );
  return rows.map((row) => {
    const type = membershipType(row['@odata.type']);
    // null on a unit shown in full is "not set", which Graph documents as false; null on a unit shown
    // with limited information (no displayName either) says nothing.
    const restricted =
      typeof row.isMemberManagementRestricted === 'boolean' ? row.isMemberManagementRestricted : row.isMemberManagementRestricted === null && row.displayName ? false : undefined;
    return {
      id: row.id.toLowerCase(),
      type,
      displayName: row.displayName ?? undefined,
      roleTemplateId: row.roleTemplateId ?? undefined,
      ...(type === 'administrativeUnit' && restricted !== undefined ? { isMemberManagementRestricted: restricted } : {}),
    };
  });
}

const administrativeUnitSchema = z
  .object({ id: z.string().min(1), displayName: z.string().nullish(), isMemberManagementRestricted: z.boolean().nullish() })
  .passthrough();

/**
 * One administrative unit, for a membership whose listing did not say whether it restricts management
 * (v1.0 GET /directory/administrativeUnits/{id}; AdministrativeUnit.Read.All). Null means not set: false.
 */
export async function readAdministrativeUnit(ctx: Reader, id: string): Promise<{ id: string; displayName?: string; isMemberManagementRestricted: boolean }> {
  const response = await ctx.call({
    method: 'GET',
    version: 'v1.0',
    path: `/directory/administrativeUnits/${strictEncode(id)}?$select=id,displayName,isMemberManagementRestricted`,
  });
  const unit = expectBody(response, administrativeUnitSchema, `Reading administrative unit ${id}`);
  return { id: unit.id.toLowerCase(), ...(unit.displayName ? { displayName: unit.displayName } : {}), isMemberManagementRestricted: unit.isMemberManagementRestricted === true };
}

function membershipType(odataType: string): Membership['type'] {
  switch (odataType.replace(/^#/, '').toLowerCase()) {
    case 'microsoft.graph.group':
      return 'group';
    case 'microsoft.graph.directoryrole':
      return 'directoryRole';
    case 'microsoft.graph.administrativeunit':
      return 'administrativeUnit';
    default:
      return 'other';
  }
}

/**
 * Every role-assignable group of the tenant with its owners. Owners come expanded with the list; a
 * group showing as many as `$expand` returns may have more, so its owners are read in full. (A user's
 * own `ownedObjects` would be one call, but Graph does not support it with application permissions.)
 */
export async function readRoleAssignableGroups(ctx: Reader): Promise<RoleAssignableGroup[]> {
  const groups = await readAllPages(
    ctx,
    {
      version: 'v1.0',
      path: `/groups?$filter=${strictEncode('isAssignableToRole eq true')}&$select=id,displayName&$expand=${strictEncode('owners($select=id)')}`,
    },
    roleAssignableGroupSchema,
    'Listing the role-assignable groups and their owners',
  );
  return Promise.all(
    groups.map(async (group) => {
      // Without an owners array Graph did not expand it: read the owners rather than assume none.
      let owners = group.owners ?? undefined;
      if (owners === undefined || owners.length >= EXPANDED_OWNERS_LIMIT) {
        owners = await readAllPages(
          ctx,
          { version: 'v1.0', path: `/groups/${strictEncode(group.id)}/owners?$select=id&$top=999` },
          ownerRefSchema,
          `Reading the owners of role-assignable group ${group.displayName ?? group.id}`,
        );
      }
      return { id: group.id.toLowerCase(), displayName: group.displayName ?? undefined, ownerIds: owners.map((owner) => owner.id.toLowerCase()) };
    }),
  );
}

/** Graph's answer to a PIM read in a tenant without the licence PIM needs. */
const UNLICENSED_PIM = 'AadPremiumLicenseRequired';

/**
 * Every page of a PIM eligibility collection. A tenant without Microsoft Entra ID P2 (or ID Governance)
 * has no PIM, and Graph answers these reads 400 `AadPremiumLicenseRequired` ("The tenant needs to have
 * Microsoft Entra ID P2 or Microsoft Entra ID Governance license", seen in the field: maester365/maester
 * issue 1421): nobody there can be eligible for anything, so that one answer, on the first page only,
 * means none. Every other refusal still throws, and the guard refuses the reset.
 */
async function readEligibilityPages<T extends z.ZodTypeAny>(ctx: Reader, first: { version: GraphVersion; path: string }, item: T, what: string): Promise<z.output<T>[]> {
  const schema = collectionSchema(item);
  const items: z.output<T>[] = [];
  let next: { version: GraphVersion; path: string } | undefined = first;
  for (let page = 0; next; page += 1) {
    const response = await ctx.call({ method: 'GET', version: next.version, path: next.path });
    if (page === 0 && response.status === 400 && graphErrorSchema.safeParse(response.body).data?.error.code === UNLICENSED_PIM) return [];
    const body = expectBody(response, schema, what);
    items.push(...(body.value as z.output<T>[]));
    next = body['@odata.nextLink'] ? splitNextLink(ctx.graph.origin, body['@odata.nextLink'], response.requestId) : undefined;
  }
  return items;
}
