import type { NormalizedRequest } from '../requests/canonical-request';
import { inTenantDomains } from '../tenant-domains';
import { IntakeRefusal, refused } from '../http/answer';

/**
 * What the intake can decide about a target without asking the directory: a well-formed UPN, not a
 * personal Microsoft account, and inside TENANT_DOMAINS when that is set. The worker checks the rest.
 */

/** Characters Entra ID allows in the user name part of a UPN, plus `#` for guests' `#EXT#` names. */
const LOCAL_PART = /^[A-Za-z0-9'._!#^~-]{1,64}$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Consumer brands whose domains (any country variant) hold personal Microsoft accounts. */
const PERSONAL_BRANDS = ['outlook', 'hotmail', 'live', 'msn', 'passport', 'windowslive'];
/** Country and generic suffixes they are registered under: com, de, co.uk, com.au, ... */
const PUBLIC_SUFFIX = /^(?:[a-z]{2,3}|(?:co|com|net|org|ne|or|ac|gr)\.[a-z]{2})$/;

export const ACCOUNT_RECOVERY_URL = 'https://account.live.com/acsr';

export function upnDomain(upn: string): string {
  return upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
}

export function isPersonalMicrosoftDomain(domain: string): boolean {
  const lower = domain.toLowerCase().replace(/\.$/, '');
  const dot = lower.indexOf('.');
  if (dot < 0) return false;
  return PERSONAL_BRANDS.includes(lower.slice(0, dot)) && PUBLIC_SUFFIX.test(lower.slice(dot + 1));
}

/** Why a UPN is malformed, or undefined if it is well formed. */
export function upnProblem(upn: string): string | undefined {
  if (/\s/.test(upn)) return 'contains white space';
  if (upn.length > 256) return 'is longer than 256 characters';
  const at = upn.lastIndexOf('@');
  if (at < 0) return 'has no @domain part';
  const local = upn.slice(0, at);
  const domain = upn.slice(at + 1);
  if (local.length === 0) return 'has nothing before the @';
  if (!LOCAL_PART.test(local)) {
    return local.length > 64
      ? 'has a user name longer than 64 characters'
      : "has characters not allowed in a user name (letters, digits and ' . - _ ! # ^ ~ are allowed)";
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return 'has a user name that starts or ends with a dot or has two dots in a row';
  const labels = domain.toLowerCase().split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label)) || domain.length > 253) {
    return `has "${domain}" after the @, which is not a domain name`;
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return `has "${domain}" after the @, which is not a domain name`;
  return undefined;
}

export { inTenantDomains };

/** Throws a 422 refusal a person can act on, or returns when the target may go on to the worker. */
export function checkTarget(target: NormalizedRequest['target'], tenantDomains: readonly string[]): void {
  if (target.userPrincipalName === undefined) return; // an object id: only the directory can tell
  const upn = target.userPrincipalName;
  const problem = upnProblem(upn);
  if (problem) {
    throw refused('malformed_upn', `the target "${clip(upn)}" is not a valid user principal name: it ${problem}. Put the user's sign-in name (like alex@contoso.com) in the ticket.`, {
      path: 'target.userPrincipalName',
    });
  }
  const domain = upnDomain(upn);
  if (isPersonalMicrosoftDomain(domain)) {
    throw refused(
      'personal_account',
      `${domain} is a personal Microsoft account domain: personal Microsoft accounts (outlook.com, hotmail.com, live.com, msn.com, …) have no organisation admin and cannot be reset by this service. The user should use Microsoft account recovery at ${ACCOUNT_RECOVERY_URL}.`,
      { domain, recoveryUrl: ACCOUNT_RECOVERY_URL },
    );
  }
  if (tenantDomains.length > 0 && !inTenantDomains(domain, tenantDomains)) {
    throw refused(
      'outside_tenant',
      `${domain} is not one of this tenant's domains (${tenantDomains.join(', ')}). Check the user's sign-in name in the ticket; an account of another organisation must be reset by that organisation's admins.`,
      { domain, tenantDomains },
    );
  }
}

function clip(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

export { IntakeRefusal };
