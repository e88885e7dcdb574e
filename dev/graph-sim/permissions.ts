import { graphError, type Outcome } from './directory';

/**
 * The application permissions (Graph app roles) the simulator can withhold, so a test can show what the
 * app does in a tenant where an admin granted less than infra/scripts/grant-graph-permissions.sh asks
 * for. Graph checks authorization before it looks the resource up, so a withheld permission answers 403
 * even for a user that does not exist. Permissions that imply these (Directory.Read.All, the per-method
 * UserAuthMethod-*.ReadWrite.All roles) are not modelled: the simulator's app holds exactly this list
 * minus what the tenant file withholds.
 */
export const APP_PERMISSIONS = [
  'User.Read.All',
  'UserAuthenticationMethod.Read.All',
  'UserAuthenticationMethod.ReadWrite.All',
  'User.RevokeSessions.All',
  'GroupMember.Read.All',
  'GroupMember.ReadWrite.All',
  'RoleManagement.Read.Directory',
  'PrivilegedEligibilitySchedule.Read.AzureADGroup',
  'Policy.Read.AuthenticationMethod',
  'Mail.Send',
  'IdentityRiskyUser.Read.All',
  'Application.Read.All',
  'AdministrativeUnit.Read.All',
] as const;
export type AppPermission = (typeof APP_PERMISSIONS)[number];

type Family = 'directory' | 'authenticationMethods' | 'policy' | 'mail' | 'identityProtection';

interface Requirement {
  /** Any one of these is enough. */
  anyOf: readonly AppPermission[];
  family: Family;
}

const METHODS_READ: Requirement = { anyOf: ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'], family: 'authenticationMethods' };
const METHODS_WRITE: Requirement = { anyOf: ['UserAuthenticationMethod.ReadWrite.All'], family: 'authenticationMethods' };
const MEMBERS_READ: Requirement = { anyOf: ['GroupMember.Read.All', 'GroupMember.ReadWrite.All'], family: 'directory' };

/** What a request needs, from its decoded path segments (below the version); undefined: not checked. */
export function requirementOf(method: string, segments: string[]): Requirement | undefined {
  const [first, , third] = segments;
  const read = method === 'GET';
  if (first === 'users') {
    if (segments.length <= 2 || third === 'manager') return read ? { anyOf: ['User.Read.All'], family: 'directory' } : undefined;
    if (third === 'authentication') return read ? METHODS_READ : METHODS_WRITE;
    if (third === 'revokeSignInSessions') return { anyOf: ['User.RevokeSessions.All'], family: 'directory' };
    if (third === 'transitiveMemberOf' || third === 'checkMemberGroups') return MEMBERS_READ;
    // Older versions of user-list-ownedobjects list User.Read.All for applications (see tenant-file.ts).
    if (third === 'ownedObjects') return read ? { anyOf: ['User.Read.All'], family: 'directory' } : undefined;
    if (third === 'sendMail') return { anyOf: ['Mail.Send'], family: 'mail' };
    return undefined;
  }
  if (first === 'groups') return read ? MEMBERS_READ : { anyOf: ['GroupMember.ReadWrite.All'], family: 'directory' };
  if (first === 'servicePrincipals' || first === 'applications') return read ? { anyOf: ['Application.Read.All'], family: 'directory' } : undefined;
  if (first === 'directory' && segments[1] === 'administrativeUnits') return read ? { anyOf: ['AdministrativeUnit.Read.All'], family: 'directory' } : undefined;
  if (first === 'roleManagement') return { anyOf: ['RoleManagement.Read.Directory'], family: 'directory' };
  if (first === 'identityGovernance' && segments[1] === 'privilegedAccess' && segments[2] === 'group') {
    return { anyOf: ['PrivilegedEligibilitySchedule.Read.AzureADGroup'], family: 'directory' };
  }
  if (first === 'policies') return { anyOf: ['Policy.Read.AuthenticationMethod'], family: 'policy' };
  if (first === 'identityProtection') return { anyOf: ['IdentityRiskyUser.Read.All'], family: 'identityProtection' };
  return undefined;
}

/**
 * Graph's 403 for a missing permission. Graph never names the permission it wanted, so neither does
 * the simulator: whoever reports it (the health probe) must know it from the route.
 */
export function permissionRefusal(method: string, segments: string[], withheld: ReadonlySet<AppPermission>): Outcome | undefined {
  if (withheld.size === 0) return undefined;
  const requirement = requirementOf(method, segments);
  if (!requirement || requirement.anyOf.some((permission) => !withheld.has(permission))) return undefined;
  switch (requirement.family) {
    case 'directory':
      // Entra's directory answer for an app without the role, as seen in the field.
      return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    case 'authenticationMethods':
      // The authentication methods API's answer, as seen in the field (msgraph-sdk-go issue 441).
      return graphError(403, 'accessDenied', 'Request Authorization failed');
    case 'mail':
      // Exchange's answer to an app without Mail.Send (as seen in the field).
      return graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    case 'policy':
    case 'identityProtection':
      // A guess: Graph documents the permission, not the wording of the refusal; the code is the documented accessDenied.
      return graphError(403, 'accessDenied', 'Request Authorization failed');
  }
}
