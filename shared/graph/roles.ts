/**
 * Which directory roles a holder may have and still be reset by this service.
 *
 * Microsoft's table "Who can perform sensitive actions" (entra-docs, privileged-roles-permissions)
 * lists the roles whose holders an Authentication Administrator may act on; every other role, built-in
 * or custom, and every member or owner of a role-assignable group, is reserved to a Privileged
 * Authentication Administrator. With app-only UserAuthenticationMethod.ReadWrite.All Graph enforces
 * none of that, so this list is the limit.
 *
 * The allow-list is a subset of Microsoft's: the read-only roles only. Authentication Administrator
 * and Password Administrator are on Microsoft's list too, but their holders can reset other people's
 * credentials; a ticket is not enough to take over such an account, so they are refused here.
 * Built-in role definition ids equal their template ids, the same in every tenant. A custom role never
 * matches (its id is the tenant's own), so every custom role counts as privileged.
 */
export const ALLOWED_ROLE_TEMPLATES: Readonly<Record<string, string>> = {
  '88d8e3e3-8f55-4a1e-953a-9b9898b8876b': 'Directory Readers',
  '95e79109-95c0-4d8e-aee3-d01accf2d47b': 'Guest Inviter',
  '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b': 'Message Center Reader',
  '4a5d8f65-41da-4de4-8968-e035b65339cf': 'Reports Reader',
  '75934031-6c7e-415a-99d7-48dbd49e875e': 'Usage Summary Reports Reader',
  '27460883-1df1-4691-b032-3b79643e5e63': 'User Experience Success Manager',
};

/** Names of well-known privileged roles, for refusals that name what was found when Graph gives no name. */
export const PRIVILEGED_ROLE_TEMPLATES: Readonly<Record<string, string>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13': 'Privileged Authentication Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  'c4e39bd9-1100-46d3-8c65-fb160da0071f': 'Authentication Administrator',
  '194ae4cb-b126-40b2-bd5b-6091b380977d': 'Security Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  '729827e3-9c14-49f7-bb1b-9608f156bbb8': 'Helpdesk Administrator',
  '966707d0-3269-4727-9be2-8c3a10f19b9d': 'Password Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9': 'Conditional Access Administrator',
  '29232cdf-9323-42fd-ade2-1d097af3e4de': 'Exchange Administrator',
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c': 'SharePoint Administrator',
  '3a2c62db-5318-420d-8d74-23affee5d9d5': 'Intune Administrator',
  '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2': 'Hybrid Identity Administrator',
  'fdd7a751-b60b-444a-984c-02652fe8fa1c': 'Groups Administrator',
  'f2ef992c-3afb-46b9-b7cf-a126ee74c451': 'Global Reader',
  '9360feb5-f418-4baa-8175-e2a00bac4301': 'Directory Writers',
  'e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8': 'Partner Tier2 Support',
  '4ba39ca4-527c-499a-b93d-d9b492c50246': 'Partner Tier1 Support',
};

export function isAllowedRole(roleDefinitionId: string, isBuiltIn: boolean | undefined): boolean {
  // A definition Graph says is custom never passes, whatever its id looks like.
  return isBuiltIn !== false && Object.prototype.hasOwnProperty.call(ALLOWED_ROLE_TEMPLATES, roleDefinitionId.toLowerCase());
}

export function knownRoleName(roleDefinitionId: string): string | undefined {
  const id = roleDefinitionId.toLowerCase();
  const own = (table: Readonly<Record<string, string>>) => (Object.prototype.hasOwnProperty.call(table, id) ? table[id] : undefined);
  return own(PRIVILEGED_ROLE_TEMPLATES) ?? own(ALLOWED_ROLE_TEMPLATES);
}
