import { METHOD_KINDS, type MethodKind, type ResetProfile } from '../method-names';
import { inScope } from './catalogue';

/**
 * The Graph application permissions the app needs, each with the app roles that satisfy it (the
 * least-privileged one the grant script asks for first, then the broader ones Graph's API reference
 * lists as enough). The health probe compares them with the `roles` claim of the app's own token, which
 * is the only way to prove a write permission without writing.
 */
export interface PermissionNeed {
  /** What to grant, as the grant script (infra/scripts/grant-graph-permissions.sh) names it. */
  grant: string;
  /** What it is for, in words for the health answer. */
  for: string;
  satisfiedBy: (role: string) => boolean;
}

const oneOf = (...roles: string[]) => (role: string) => roles.includes(role);

export const PERMISSION_NEEDS: readonly PermissionNeed[] = [
  { grant: 'User.Read.All', for: 'resolving users', satisfiedBy: oneOf('User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All') },
  {
    grant: 'UserAuthenticationMethod.ReadWrite.All',
    for: 'reading authentication methods',
    satisfiedBy: oneOf('UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'),
  },
  { grant: 'User.RevokeSessions.All', for: 'revoking sign-in sessions', satisfiedBy: oneOf('User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All') },
  {
    grant: 'GroupMember.Read.All',
    for: 'protected groups and group jobs',
    satisfiedBy: oneOf('GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'),
  },
  {
    grant: 'RoleManagement.Read.Directory',
    for: 'privileged role holders',
    satisfiedBy: oneOf('RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'),
  },
  {
    grant: 'PrivilegedEligibilitySchedule.Read.AzureADGroup',
    for: 'PIM for Groups eligible members and owners',
    satisfiedBy: oneOf('PrivilegedEligibilitySchedule.Read.AzureADGroup', 'PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup'),
  },
  {
    grant: 'Policy.Read.AuthenticationMethod',
    for: "the tenant's Temporary Access Pass policy",
    satisfiedBy: oneOf('Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod', 'Policy.Read.All'),
  },
  {
    grant: 'Application.Read.All',
    for: 'owners of privileged applications and service principals',
    satisfiedBy: oneOf('Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'),
  },
  {
    grant: 'AdministrativeUnit.Read.All',
    for: 'restricted management administrative units',
    satisfiedBy: oneOf('AdministrativeUnit.Read.All', 'AdministrativeUnit.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'),
  },
];

/**
 * The per-method application role that lets the app delete one method kind, as the grant script
 * (`--methods portal|all`) names them. UserAuthenticationMethod.ReadWrite.All covers every kind.
 */
export const PER_METHOD_ROLES: Readonly<Record<MethodKind, string>> = {
  phone: 'UserAuthMethod-Phone.ReadWrite.All',
  microsoftAuthenticator: 'UserAuthMethod-MicrosoftAuthApp.ReadWrite.All',
  softwareOath: 'UserAuthMethod-SoftwareOATH.ReadWrite.All',
  hardwareOath: 'UserAuthMethod-HardwareOATH.ReadWrite.All',
  fido2: 'UserAuthMethod-Passkey.ReadWrite.All',
  windowsHelloForBusiness: 'UserAuthMethod-WindowsHello.ReadWrite.All',
  email: 'UserAuthMethod-Email.ReadWrite.All',
  temporaryAccessPass: 'UserAuthMethod-TAP.ReadWrite.All',
  platformCredential: 'UserAuthMethod-PlatformCred.ReadWrite.All',
  externalAuthentication: 'UserAuthMethod-External.ReadWrite.All',
  qrCodePin: 'UserAuthMethod-QR.ReadWrite.All',
};

/**
 * What removing a profile's methods (and issuing passes, which needs the pass role whatever the profile)
 * takes: the broad role, or every per-method role of the profile. Any one per-method role is not enough:
 * a reset touches every kind in its scope.
 */
export function deletionNeed(profile: ResetProfile): PermissionNeed & { missingFrom(roles: readonly string[]): string[] } {
  const kinds = METHOD_KINDS.filter((kind) => inScope(kind, profile, undefined) || kind === 'temporaryAccessPass');
  const perMethod = kinds.map((kind) => PER_METHOD_ROLES[kind]);
  const missingFrom = (roles: readonly string[]) => (roles.includes('UserAuthenticationMethod.ReadWrite.All') ? [] : perMethod.filter((role) => !roles.includes(role)));
  return {
    grant: 'UserAuthenticationMethod.ReadWrite.All',
    for: `removing the ${profile} profile's methods and issuing passes (or every per-method role it needs: ${perMethod.join(', ')})`,
    // Checked as a whole: see missingFrom.
    satisfiedBy: () => false,
    missingFrom,
  };
}

/**
 * What the token's roles lack for the `portal` profile (every request's default) and the needs above,
 * and, said but not counted as missing, what profile `all` would lack and how Mail.Send stands.
 * Mail.Send: the docs tell admins to grant it through Exchange RBAC for Applications, scoped to the
 * sender's mailbox, which never puts it in the token's roles; so its absence is not a fault, and its
 * presence means a tenant-wide Entra grant the docs advise against. Neither is checkable from here.
 */
export function assessRoles(roles: readonly string[], options: { notifySender?: string }): { missing: { grant: string; for: string }[]; notes: string[] } {
  const missing = missingFromRoles(roles, PERMISSION_NEEDS);
  const portal = deletionNeed('portal');
  const portalGaps = portal.missingFrom(roles);
  if (portalGaps.length > 0) missing.push({ grant: portal.grant, for: `${portal.for}; missing ${portalGaps.join(', ')}` });
  const notes: string[] = [];
  const allGaps = portalGaps.length > 0 ? [] : deletionNeed('all').missingFrom(roles);
  if (allGaps.length > 0) {
    notes.push(`requests with profile "all" (or those method kinds) would end partial: the token lacks ${allGaps.join(', ')} (infra/scripts/grant-graph-permissions.sh --methods all)`);
  }
  if (options.notifySender) {
    notes.push(
      roles.includes('Mail.Send')
        ? `Mail.Send is granted in Entra ID, which lets the app send as any mailbox: restrict it to ${options.notifySender} with Exchange Online RBAC for Applications and remove the Entra grant (docs/notes-on-the-ticket.md)`
        : `Mail.Send is not checkable from the token (Exchange Online RBAC for Applications never puts it there): verify it with Test-ServicePrincipalAuthorization -Identity <the app's service principal> -Resource ${options.notifySender} in Exchange Online PowerShell (docs/notes-on-the-ticket.md)`,
    );
  }
  return { missing, notes };
}

/** The needs no role in the token satisfies, each named once. */
export function missingFromRoles(roles: readonly string[], needs: readonly PermissionNeed[]): { grant: string; for: string }[] {
  const missing = needs.filter((need) => !roles.some((role) => need.satisfiedBy(role)));
  const named = new Map<string, string[]>();
  for (const need of missing) named.set(need.grant, [...(named.get(need.grant) ?? []), need.for]);
  return [...named].map(([grant, uses]) => ({ grant, for: uses.join(', ') }));
}
