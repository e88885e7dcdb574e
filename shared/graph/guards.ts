import { approvalNamesTarget } from '../approvals/identity';
import { inTenantDomains } from '../tenant-domains';
import { breakGlassIds } from './break-glass';
import { GraphCallError, type StepContext } from './context';
import { privilegedOwnership } from './owned-apps';
import { privilegedFindings } from './privileged';
import { readGroupEligibilities, readRoleAssignableGroups, readRoleAssignments, readRoleEligibilities, readTransitiveMemberships } from './privileged-reads';
import { restrictedUnitsOf, type RestrictedUnit } from './restricted-units';
import type { ResolvedTarget } from './state';

export interface GuardSettings {
  /** Group object ids whose (transitive) members are never reset. */
  protectedGroupIds: readonly string[];
  /** Emergency-access accounts that are never reset: UPNs (resolved to object ids once) or object ids. */
  breakGlassUpns: readonly string[];
  /** Emergency-access accounts by object id (BREAK_GLASS_IDS). */
  breakGlassIds?: readonly string[];
  /** When non-empty, targets outside these domains are refused. */
  tenantDomains: readonly string[];
  /** Who approved, as the intake recorded it: refused when it names the resolved target. */
  approvedBy?: string;
  /** VERIFICATION_STRICT_GROUP_IDS: their (transitive) members must present a Verified ID. */
  strictVerificationGroupIds?: readonly string[];
}

/**
 * `strictVerification`: the user is in a VERIFICATION_STRICT_GROUP_IDS group (read with the other
 * memberships). `groups`: the user's groups (transitive), for checks after the guards that need them
 * (the pass policy's targets).
 */
export type GuardOutcome = { ok: true; strictVerification?: boolean; groups?: { id: string; displayName?: string }[] } | { ok: false; code: string; reason: string };

const PAA_ADVICE =
  "Resetting an administrator's MFA needs a Privileged Authentication Administrator: raise it with the identity team, who can do it in the Entra admin center.";

/**
 * Refusals that need the directory. Cheap, offline checks first, so a break-glass account is refused
 * without a single Graph read about it. Every read a guard needs either answers or ends the request:
 * Graph refusing one (403, 400) is a `rejected` naming the read, Graph failing (5xx, network,
 * throttling) propagates so the request ends `failed` and is retried. Never a pass on a missing answer.
 */
export async function checkGuards(ctx: StepContext, target: ResolvedTarget, settings: GuardSettings): Promise<GuardOutcome> {
  const upn = target.userPrincipalName.toLowerCase();
  const objectId = target.objectId.toLowerCase();

  if ((target.userType ?? 'Member').toLowerCase() === 'guest' || upn.includes('#ext#')) {
    return {
      ok: false,
      code: 'guest',
      // A guest's methods for this tenant are registered in this tenant (when it requires MFA and does
      // not trust the home tenant's), so an admin here could reset them; refusing guests is our policy.
      reason: `${target.userPrincipalName} is a guest, and this service does not reset guests. If the guest's MFA for this tenant needs a reset, an administrator can use "Require re-register multifactor authentication" on the guest's user in the Entra admin center; if the guest signs in with MFA from their home organisation, they reset it there.`,
    };
  }

  // The intake compared the approver with the target as the ticket named them; a ticket naming the
  // target by object id, or Jira hiding e-mail addresses, leaves this comparison to the directory's answer.
  if (settings.approvedBy && approvalNamesTarget(settings.approvedBy, target)) {
    return {
      ok: false,
      code: 'approval-by-target',
      reason: `The approval of this reset (${settings.approvedBy}) comes from ${target.userPrincipalName} themselves; an approval must come from someone other than the user being reset.`,
    };
  }

  const breakGlass = {
    ok: false as const,
    code: 'break-glass',
    reason: `${target.userPrincipalName} is an emergency-access (break-glass) account (BREAK_GLASS_UPNS / BREAK_GLASS_IDS). Its credentials are managed by the documented break-glass procedure, never by a ticket.`,
  };
  if (settings.breakGlassUpns.some((entry) => entry.toLowerCase() === upn || entry.toLowerCase() === objectId)) return breakGlass;
  if ((settings.breakGlassIds ?? []).some((id) => id.toLowerCase() === objectId)) return breakGlass;

  if (settings.tenantDomains.length > 0) {
    const domain = upn.slice(upn.lastIndexOf('@') + 1);
    if (!inTenantDomains(domain, settings.tenantDomains)) {
      return {
        ok: false,
        code: 'domain-outside-tenant',
        reason: `${target.userPrincipalName} is outside the configured tenant domains (${settings.tenantDomains.join(', ')}). Check the UPN, or add the domain to TENANT_DOMAINS.`,
      };
    }
  }

  let evidence;
  let restrictedUnits: RestrictedUnit[];
  try {
    // Independent reads, sent together: one round trip of the slowest. What the user owns takes more
    // reads only for users who own an application or a service principal.
    const [glass, memberships, assignments, eligibilities, roleAssignableGroups, groupEligibilities, ownership] = await Promise.all([
      breakGlassIds(ctx, settings.breakGlassUpns, settings.breakGlassIds ?? []),
      readTransitiveMemberships(ctx, objectId),
      readRoleAssignments(ctx, objectId),
      readRoleEligibilities(ctx, objectId),
      readRoleAssignableGroups(ctx),
      readGroupEligibilities(ctx, objectId),
      privilegedOwnership(ctx, objectId),
    ]);
    evidence = { glass, memberships, assignments, eligibilities, roleAssignableGroups, groupEligibilities, ownership };
    // A unit whose listing did not say whether it restricts management is read on its own.
    restrictedUnits = await restrictedUnitsOf(ctx, memberships);
  } catch (error) {
    if (error instanceof GraphCallError && isRefusal(error.status)) {
      return {
        ok: false,
        code: 'guard-unverifiable',
        reason: `Could not check whether ${target.userPrincipalName} may be reset, so nothing was changed: ${error.message}. Grant the app the Graph permissions docs/deploy.md lists in step 2 (RoleManagement.Read.Directory, GroupMember.Read.All, PrivilegedEligibilitySchedule.Read.AzureADGroup, User.Read.All, Application.Read.All, AdministrativeUnit.Read.All) and send the request again.`,
      };
    }
    throw error;
  }

  if (!evidence.glass.ok) {
    return {
      ok: false,
      code: 'break-glass-unresolved',
      reason: `BREAK_GLASS_UPNS names ${evidence.glass.unresolved.join(', ')}, which is no user in this tenant: the break-glass list cannot be trusted, so no one is reset until it is fixed (put the accounts' object ids in BREAK_GLASS_IDS).`,
    };
  }
  if (evidence.glass.ids.has(objectId)) return breakGlass;

  const findings = [...privilegedFindings({ userId: objectId, ...evidence }), ...evidence.ownership];
  if (findings.length > 0) {
    return { ok: false, code: 'privileged-target', reason: `${target.userPrincipalName} is privileged: ${findings.join('; ')}. ${PAA_ADVICE}` };
  }

  if (restrictedUnits.length > 0) {
    const names = restrictedUnits.map((unit) => (unit.displayName ? `${unit.displayName} (${unit.id})` : unit.id)).join(', ');
    return {
      ok: false,
      code: 'restricted-administrative-unit',
      // Graph's answer to every write would be 403: application permissions do not apply to these members.
      reason: `${target.userPrincipalName} is a member of restricted management administrative unit ${names}, whose members no application may change, so nothing was changed. An administrator scoped to that unit (for example an Authentication Administrator assigned at its scope) must reset this user's MFA in the Entra admin center.`,
    };
  }

  const protectedIds = new Set(settings.protectedGroupIds.map((id) => id.toLowerCase()));
  const hits = evidence.memberships.filter((m) => m.type === 'group' && protectedIds.has(m.id)).map((m) => m.id);
  if (hits.length > 0) {
    return {
      ok: false,
      code: 'protected-group',
      reason: `${target.userPrincipalName} is a member of protected group ${hits.join(', ')} (PROTECTED_GROUP_IDS). Members of that group are reset only by the identity team, by hand.`,
    };
  }
  // A user PIM may make a member (or owner) of a protected group at any moment counts as one.
  const eligibleHits = [...new Set(evidence.groupEligibilities.filter((e) => protectedIds.has(e.groupId)).map((e) => e.groupId))];
  if (eligibleHits.length > 0) {
    return {
      ok: false,
      code: 'protected-group',
      reason: `${target.userPrincipalName} is PIM-eligible for protected group ${eligibleHits.join(', ')} (PROTECTED_GROUP_IDS) and can activate that membership at any time. Members of that group are reset only by the identity team, by hand.`,
    };
  }
  const strictIds = new Set((settings.strictVerificationGroupIds ?? []).map((id) => id.toLowerCase()));
  const strictVerification = evidence.memberships.some((m) => m.type === 'group' && strictIds.has(m.id));
  const groups = evidence.memberships.filter((m) => m.type === 'group').map((m) => ({ id: m.id, ...(m.displayName ? { displayName: m.displayName } : {}) }));
  return strictVerification ? { ok: true, strictVerification, groups } : { ok: true, groups };
}

/** Graph answered and said no (permission, bad request): retrying will not help. */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
