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
  {
    grant: 'UserAuthenticationMethod.ReadWrite.All',
    for: 'removing authentication methods and issuing passes',
    // --methods portal|all grants per-method roles instead of the broad one.
    satisfiedBy: (role) => role === 'UserAuthenticationMethod.ReadWrite.All' || /^UserAuthMethod-[A-Za-z]+\.ReadWrite\.All$/.test(role),
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
    satisfiedBy: oneOf('Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod'),
  },
];

export const MAIL_SEND_NEED: PermissionNeed = { grant: 'Mail.Send', for: 'mails to the user and manager (NOTIFY_SENDER_UPN)', satisfiedBy: oneOf('Mail.Send') };

/** The needs no role in the token satisfies, each named once. */
export function missingFromRoles(roles: readonly string[], needs: readonly PermissionNeed[]): { grant: string; for: string }[] {
  const missing = needs.filter((need) => !roles.some((role) => need.satisfiedBy(role)));
  const named = new Map<string, string[]>();
  for (const need of missing) named.set(need.grant, [...(named.get(need.grant) ?? []), need.for]);
  return [...named].map(([grant, uses]) => ({ grant, for: uses.join(', ') }));
}
