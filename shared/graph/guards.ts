import { checkMemberGroupsSchema, directoryRoleSchema } from './schemas';
import { expectBody, type StepContext } from './context';
import { readAllPages } from './paging';
import { NON_PRIVILEGED_ROLE_TEMPLATES, PRIVILEGED_ROLE_TEMPLATES } from './roles';
import type { ResolvedTarget } from './state';

export interface GuardSettings {
  /** Group object ids whose (transitive) members are never reset. */
  protectedGroupIds: readonly string[];
  /** Emergency-access accounts that are never reset. */
  breakGlassUpns: readonly string[];
  /** When non-empty, targets outside these domains are refused. */
  tenantDomains: readonly string[];
}

export type GuardOutcome = { ok: true } | { ok: false; code: string; reason: string };

/**
 * Refusals that need the directory. Cheap, offline checks first, so a break-glass account is refused
 * without a single Graph read about it.
 */
export async function checkGuards(ctx: StepContext, target: ResolvedTarget, settings: GuardSettings): Promise<GuardOutcome> {
  const upn = target.userPrincipalName.toLowerCase();

  if ((target.userType ?? 'Member').toLowerCase() === 'guest' || upn.includes('#ext#')) {
    return {
      ok: false,
      code: 'guest',
      reason: `${target.userPrincipalName} is a guest. Guests register MFA in their home tenant: ask them to reset it there, or reset the guest's MFA state under External Identities in this tenant.`,
    };
  }

  if (settings.breakGlassUpns.some((entry) => entry.toLowerCase() === upn)) {
    return {
      ok: false,
      code: 'break-glass',
      reason: `${target.userPrincipalName} is an emergency-access (break-glass) account (BREAK_GLASS_UPNS). Its credentials are managed by the documented break-glass procedure, never by a ticket.`,
    };
  }

  if (settings.tenantDomains.length > 0) {
    const domain = upn.slice(upn.lastIndexOf('@') + 1);
    if (!settings.tenantDomains.some((allowed) => allowed.toLowerCase() === domain)) {
      return {
        ok: false,
        code: 'domain-outside-tenant',
        reason: `${target.userPrincipalName} is outside the configured tenant domains (${settings.tenantDomains.join(', ')}). Check the UPN, or add the domain to TENANT_DOMAINS.`,
      };
    }
  }

  // The role read and the protected-group checks are independent: one round trip for all of them.
  const groupBatches: string[][] = [];
  // checkMemberGroups is transitive and takes at most 20 group ids per call.
  for (let index = 0; index < settings.protectedGroupIds.length; index += 20) groupBatches.push(settings.protectedGroupIds.slice(index, index + 20));
  const [roles, ...groupHits] = await Promise.all([
    readAllPages(
      ctx,
      {
        version: 'v1.0',
        path: `/users/${target.objectId}/transitiveMemberOf/microsoft.graph.directoryRole?$count=true&$select=id,displayName,roleTemplateId`,
        headers: { ConsistencyLevel: 'eventual' },
      },
      directoryRoleSchema,
      'Reading the directory roles of the user',
    ),
    ...groupBatches.map(async (groupIds) => {
      const response = await ctx.call({ method: 'POST', version: 'v1.0', path: `/users/${target.objectId}/checkMemberGroups`, body: { groupIds } });
      return expectBody(response, checkMemberGroupsSchema, 'Checking protected group membership').value;
    }),
  ]);
  const refusedRoles = roles.filter((role) => !role.roleTemplateId || !(role.roleTemplateId.toLowerCase() in NON_PRIVILEGED_ROLE_TEMPLATES));
  if (refusedRoles.length > 0) {
    const names = refusedRoles.map(
      (role) => PRIVILEGED_ROLE_TEMPLATES[(role.roleTemplateId ?? '').toLowerCase()] ?? role.displayName ?? role.roleTemplateId ?? role.id,
    );
    return {
      ok: false,
      code: 'privileged-role',
      reason: `${target.userPrincipalName} holds the directory role ${names.join(', ')}. Resetting an administrator's MFA needs a Privileged Authentication Administrator: raise it with the identity team, who can do it in the Entra admin center.`,
    };
  }
  const hits = groupHits.flat();
  if (hits.length > 0) {
    return {
      ok: false,
      code: 'protected-group',
      reason: `${target.userPrincipalName} is a member of protected group ${hits.join(', ')} (PROTECTED_GROUP_IDS). Members of that group are reset only by the identity team, by hand.`,
    };
  }
  return { ok: true };
}
