/**
 * The authentication method kinds a request may name in `methods`, one per Graph typed collection.
 * The Graph catalogue (shared/graph) maps each to its collection and @odata.type.
 */
export const METHOD_KINDS = [
  'phone',
  'microsoftAuthenticator',
  'softwareOath',
  'hardwareOath',
  'fido2',
  'windowsHelloForBusiness',
  'email',
  'temporaryAccessPass',
  'platformCredential',
  'externalAuthentication',
  'qrCodePin',
] as const;

export type MethodKind = (typeof METHOD_KINDS)[number];

/** `portal`: what the admin center's "Require re-register multifactor authentication" removes. `all`: all but the password. */
export const RESET_PROFILES = ['portal', 'all'] as const;
export type ResetProfile = (typeof RESET_PROFILES)[number];
