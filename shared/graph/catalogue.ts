import type { MethodKind, ResetProfile } from '../method-names';
import type { GraphVersion } from './http';

export interface MethodType {
  kind: MethodKind;
  /** The `@odata.type` Graph lists the method with. */
  odataType: string;
  /** Typed collection under /users/{id}/authentication/: the only place a method can be deleted. */
  collection: string;
  /** Graph version that offers DELETE on the collection. */
  deleteVersion: GraphVersion;
  /**
   * A single-valued navigation property rather than a collection: the user has at most one, and it is
   * deleted at `/users/{id}/authentication/{collection}` without an id (QR code + PIN).
   */
  singleton?: boolean;
  /**
   * The v1.0 page documents DELETE on the reference (`…/{id}/$ref`) rather than on the item. What Graph
   * accepts is unverified, so the engine sends the documented form and falls back to the item path once
   * when Graph answers it as an unknown path (execute.ts).
   */
  deleteByRef?: boolean;
  /** Why the `portal` profile keeps it, when that needs more than "outside the portal profile". */
  portalNote?: string;
  /** Removed by the admin center's "Require re-register multifactor authentication" (the `portal` profile). */
  portal: boolean;
  /** Can be the user's default MFA method, so it must go last (userDefaultAuthenticationMethodType). */
  canBeDefault: boolean;
  label: string;
}

export const PASSWORD_ODATA_TYPE = '#microsoft.graph.passwordAuthenticationMethod';

/**
 * Every method kind a request can name, one per typed collection. Source:
 * learn.microsoft.com/graph/api/resources/authenticationmethods-overview and, for the `portal` column,
 * learn.microsoft.com/entra/identity/authentication/howto-mfa-userdevicesettings.
 */
export const METHOD_TYPES: Readonly<Record<MethodKind, MethodType>> = {
  phone: {
    kind: 'phone',
    odataType: '#microsoft.graph.phoneAuthenticationMethod',
    collection: 'phoneMethods',
    deleteVersion: 'v1.0',
    portal: true,
    canBeDefault: true,
    label: 'phone (mobile, alternate mobile, office)',
  },
  microsoftAuthenticator: {
    kind: 'microsoftAuthenticator',
    odataType: '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
    collection: 'microsoftAuthenticatorMethods',
    deleteVersion: 'v1.0',
    portal: true,
    canBeDefault: true,
    label: 'Microsoft Authenticator',
  },
  softwareOath: {
    kind: 'softwareOath',
    odataType: '#microsoft.graph.softwareOathAuthenticationMethod',
    collection: 'softwareOathMethods',
    deleteVersion: 'v1.0',
    portal: true,
    canBeDefault: true,
    label: 'software OATH token',
  },
  hardwareOath: {
    kind: 'hardwareOath',
    odataType: '#microsoft.graph.hardwareOathAuthenticationMethod',
    collection: 'hardwareOathMethods',
    // Only beta offers the per-user collection; deleting unassigns the token, which stays in the tenant's inventory.
    deleteVersion: 'beta',
    portal: true,
    canBeDefault: true,
    label: 'hardware OATH token',
  },
  fido2: {
    kind: 'fido2',
    odataType: '#microsoft.graph.fido2AuthenticationMethod',
    collection: 'fido2Methods',
    deleteVersion: 'v1.0',
    portal: false,
    canBeDefault: false,
    label: 'FIDO2 security key / passkey',
  },
  windowsHelloForBusiness: {
    kind: 'windowsHelloForBusiness',
    odataType: '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod',
    collection: 'windowsHelloForBusinessMethods',
    deleteVersion: 'v1.0',
    portal: false,
    canBeDefault: false,
    label: 'Windows Hello for Business',
  },
  email: {
    kind: 'email',
    odataType: '#microsoft.graph.emailAuthenticationMethod',
    collection: 'emailMethods',
    deleteVersion: 'v1.0',
    portal: false,
    canBeDefault: false,
    label: 'email (self-service password reset)',
  },
  temporaryAccessPass: {
    kind: 'temporaryAccessPass',
    odataType: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
    collection: 'temporaryAccessPassMethods',
    deleteVersion: 'v1.0',
    portal: false,
    canBeDefault: false,
    label: 'Temporary Access Pass',
  },
  platformCredential: {
    kind: 'platformCredential',
    odataType: '#microsoft.graph.platformCredentialAuthenticationMethod',
    collection: 'platformCredentialMethods',
    deleteVersion: 'v1.0',
    portal: false,
    canBeDefault: false,
    label: 'Platform Credential for macOS',
  },
  externalAuthentication: {
    kind: 'externalAuthentication',
    odataType: '#microsoft.graph.externalAuthenticationMethod',
    collection: 'externalAuthenticationMethods',
    deleteVersion: 'v1.0',
    // learn.microsoft.com/graph/api/authentication-delete-externalauthenticationmethods (v1.0).
    deleteByRef: true,
    portal: false,
    canBeDefault: false,
    label: 'external authentication method',
  },
  qrCodePin: {
    kind: 'qrCodePin',
    odataType: '#microsoft.graph.qrCodePinAuthenticationMethod',
    // v1.0 since January 2026, global cloud only: DELETE /users/{id}/authentication/qrCodePinMethod
    // (qrcodepinauthenticationmethod-delete; UserAuthMethod-QR.ReadWrite.All), which removes both QR codes and the PIN.
    collection: 'qrCodePinMethod',
    deleteVersion: 'v1.0',
    singleton: true,
    portal: false,
    portalNote:
      'the admin center\'s "Require re-register multifactor authentication" does not remove QR code + PIN (its documented list is phones, Microsoft Authenticator and OATH tokens), so neither does the portal profile; a request with profile "all" or methods ["qrCodePin"] removes it (where it kept the default, the console\'s Finish on this request; otherwise a new ticket, since a ticket asks for one reset)',
    canBeDefault: false,
    label: 'QR code + PIN',
  },
};

const byOdataType = new Map(Object.values(METHOD_TYPES).map((type) => [type.odataType.toLowerCase(), type]));

export type Classified =
  | { kind: MethodKind; type: MethodType }
  | { kind: 'password' }
  | { kind: 'unknown'; odataType: string };

/** Classifies a listed method; a type this catalogue does not know is reported as `unknown`, never dropped. */
export function classify(odataType: string): Classified {
  const normalised = odataType.startsWith('#') ? odataType : `#${odataType}`;
  if (normalised.toLowerCase() === PASSWORD_ODATA_TYPE.toLowerCase()) return { kind: 'password' };
  const type = byOdataType.get(normalised.toLowerCase());
  return type ? { kind: type.kind, type } : { kind: 'unknown', odataType: normalised };
}

/** Whether a profile (or an explicit list of kinds, which wins) puts a kind in scope. */
export function inScope(kind: MethodKind, profile: ResetProfile, methods: readonly MethodKind[] | undefined): boolean {
  if (methods && methods.length > 0) return methods.includes(kind);
  return profile === 'all' ? true : METHOD_TYPES[kind].portal;
}

/** Phone method ids are fixed per phone type in Graph. */
export const PHONE_IDS = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
} as const;
export type PhoneType = keyof typeof PHONE_IDS;

export function phoneTypeOf(id: string, declared?: unknown): PhoneType | undefined {
  if (declared === 'mobile' || declared === 'alternateMobile' || declared === 'office') return declared;
  const entry = Object.entries(PHONE_IDS).find(([, value]) => value === id.toLowerCase());
  return entry ? (entry[0] as PhoneType) : undefined;
}
