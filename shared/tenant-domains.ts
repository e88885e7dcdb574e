/**
 * The one tenant-domain rule, used by the intake, bulk submission and the worker's guard alike: a
 * UPN's domain must equal one of TENANT_DOMAINS (case-insensitive). A subdomain counts only when it is
 * listed itself: `evil.contoso.com` is not inside `contoso.com`.
 */
export function inTenantDomains(domain: string, tenantDomains: readonly string[]): boolean {
  const lower = domain.toLowerCase().replace(/\.$/, '');
  return tenantDomains.some((entry) => lower === entry.toLowerCase().replace(/^@/, '').replace(/\.$/, ''));
}
