import { createHash } from 'node:crypto';

/**
 * The VerifiedEmployee credential a person holds in Microsoft Authenticator, as
 * learn.microsoft.com/entra/verified-id/how-to-use-quickstart-verifiedemployee describes it: claims from
 * the user's Entra profile, the UPN as `revocationId`, and a photo used by Face Check.
 */
export interface HeldCredential {
  upn: string;
  issuer: string;
  revocationStatus: 'VALID' | 'REVOKED';
}

export const VERIFIED_EMPLOYEE = 'VerifiedEmployee';

/**
 * Plausible profile claims made from the UPN: "megan.bowen@contoso.com" gives Megan Bowen. The photo claim
 * is left out on purpose: the callback never carries it here (Face Check sends only the score).
 */
export function verifiedEmployeeClaims(upn: string): Record<string, string> {
  const [local = upn, domain = 'contoso.com'] = upn.split('@');
  const words = local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase());
  const givenName = words[0] ?? local;
  const surname = words.length > 1 ? words.slice(1).join(' ') : undefined;
  return {
    displayName: words.length > 0 ? words.join(' ') : local,
    givenName,
    // Claims whose profile attribute is empty are left out of the credential, as the docs say.
    ...(surname ? { surname } : {}),
    jobTitle: 'Employee',
    preferredLanguage: 'en-US',
    mail: `${local.toLowerCase()}@${domain.toLowerCase()}`,
    revocationId: upn,
  };
}

/**
 * The holder's DID as `subject`. The documented example shows a did:web; Authenticator makes its own
 * key-based DID per account, so the app must not rely on it. Stable per person here.
 */
export function holderDid(upn: string): string {
  return `did:web:wallet.verifiedid.local:${createHash('sha256').update(upn.toLowerCase()).digest('hex').slice(0, 32)}`;
}

/**
 * The linked domain the service reports in `domainValidation.url`. For did:web the DID names its host
 * ("did:web:verifiedid.contoso.com" is linked to https://contoso.com/ in the documented examples); for other
 * DID methods the domain lives in the DID document, which the stand-in does not have.
 */
export function linkedDomain(issuer: string): string {
  const web = /^did:web:([^:]+)/.exec(issuer);
  if (!web) return 'https://linked-domain.invalid/';
  const host = decodeURIComponent(web[1]!).toLowerCase();
  const labels = host.split('.');
  return `https://${labels.length > 2 ? labels.slice(1).join('.') : host}/`;
}

/** "yyyy-MM-ddTHH:mm:ssZ", the format of the documented issuanceDate and expirationDate. */
export function credentialDate(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
