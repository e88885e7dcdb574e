import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { METHOD_KINDS } from '../../shared/method-names';
import { APP_PERMISSIONS } from './permissions';

/**
 * The simulator's tenant file (GRAPH_SIM_TENANT). Ids are optional: missing ones are derived from the
 * UPN so the same file always yields the same ids. Methods are written as people think of them
 * ("a mobile phone", "an Authenticator on a Pixel 8"); the simulator turns them into Graph objects.
 */

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID');

export const DEFAULT_PREFERENCES = ['push', 'oath', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'sms', 'none'] as const;

export const tenantMethodSchema = z
  .object({
    type: z.enum([...METHOD_KINDS, 'password', 'other']),
    id: z.string().min(1).optional(),
    /** For `other`: a method type this project does not know, to show it is reported rather than dropped. */
    odataType: z.string().optional(),
    phoneType: z.enum(['mobile', 'alternateMobile', 'office']).optional(),
    phoneNumber: z.string().optional(),
    displayName: z.string().optional(),
    deviceTag: z.string().optional(),
    model: z.string().optional(),
    emailAddress: z.string().optional(),
    serialNumber: z.string().optional(),
    manufacturer: z.string().optional(),
    lifetimeInMinutes: z.number().int().optional(),
    isUsableOnce: z.boolean().optional(),
    /** Fault for tests and demos: `refuse` answers 403 to every DELETE, `sticky` answers 204 and keeps the method. */
    undeletable: z.enum(['refuse', 'sticky']).optional(),
  })
  .superRefine((method, ctx) => {
    if (method.type === 'phone' && (!method.phoneType || !method.phoneNumber)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a phone needs phoneType and phoneNumber' });
    }
    if (method.type === 'email' && !method.emailAddress) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'an email method needs emailAddress' });
    }
    if (method.type === 'other' && !method.odataType) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'an `other` method needs odataType' });
    }
  });
export type TenantMethod = z.infer<typeof tenantMethodSchema>;

/** A role in a tenant file: its name or id, alone or with the administrative unit it is scoped to. */
export const roleRefSchema = z.union([
  z.string().min(1),
  z.object({ role: z.string().min(1), administrativeUnit: z.string().min(1).optional() }),
]);
export type RoleRef = z.infer<typeof roleRefSchema>;

export const tenantUserSchema = z.object({
  id: guid.optional(),
  userPrincipalName: z.string().min(3),
  displayName: z.string().optional(),
  userType: z.enum(['Member', 'Guest']).default('Member'),
  accountEnabled: z.boolean().default(true),
  /** Active directory roles: built-in names ("Global Administrator"), template ids or custom role names; optionally scoped to an administrative unit. */
  roles: z.array(roleRefSchema).default([]),
  /** PIM-eligible directory roles (roleEligibilityScheduleInstances), in the same form. */
  eligibleRoles: z.array(roleRefSchema).default([]),
  /** Group ids or display names the user is a direct member of. */
  groups: z.array(z.string()).default([]),
  /** userPreferredMethodForSecondaryAuthentication; derived from the methods when left out. */
  defaultMethod: z.enum(DEFAULT_PREFERENCES).optional(),
  methods: z.array(tenantMethodSchema).default([]),
  /** What this user demonstrates; shown by the simulator's CLI. */
  note: z.string().optional(),
  /** The user's manager (UPN or object id of another user): GET /users/{id}/manager. */
  manager: z.string().optional(),
  /** Identity Protection's rating when the tenant starts, at risk (GET /identityProtection/riskyUsers). */
  riskLevel: z.enum(['low', 'medium', 'high']).optional(),
  /** The primary SMTP address; members default to their UPN, guests to none. */
  mail: z.string().optional(),
  /** Other addresses the user gave (Graph's otherMails). */
  otherMails: z.array(z.string()).default([]),
  /** Exchange addresses, as Graph lists them: `SMTP:` primary, `smtp:` aliases. */
  proxyAddresses: z.array(z.string()).default([]),
});
export type TenantUser = z.infer<typeof tenantUserSchema>;

export const tenantGroupSchema = z.object({
  id: guid.optional(),
  displayName: z.string().min(1),
  /** Groups this group is nested in (ids or display names). */
  memberOf: z.array(z.string()).default([]),
  /** Created with isAssignableToRole: only such groups can hold directory roles, and they take no groups as members. */
  isAssignableToRole: z.boolean().default(false),
  /** Directory roles assigned to this (role-assignable) group, active and PIM-eligible. */
  roles: z.array(roleRefSchema).default([]),
  eligibleRoles: z.array(roleRefSchema).default([]),
  /** UPNs (or ids) of the users who own the group. */
  owners: z.array(z.string()).default([]),
  /**
   * PIM for Groups: UPNs (or ids) of users eligible for membership or ownership, who are neither until
   * they activate it (identityGovernance/privilegedAccess/group/eligibilityScheduleInstances).
   */
  eligibleMembers: z.array(z.string()).default([]),
  eligibleOwners: z.array(z.string()).default([]),
});

/**
 * The tenant's Temporary Access Pass policy (authenticationMethodConfigurations/TemporaryAccessPass).
 * Defaults are Entra's: enabled, 60–480 minutes, 60 by default, reusable passes allowed, all users.
 */
export const tapPolicySchema = z
  .object({
    state: z.enum(['enabled', 'disabled']).default('enabled'),
    minimumLifetimeInMinutes: z.number().int().min(10).max(43200).default(60),
    maximumLifetimeInMinutes: z.number().int().min(10).max(43200).default(480),
    defaultLifetimeInMinutes: z.number().int().min(10).max(43200).default(60),
    isUsableOnce: z.boolean().default(false),
    /** Group ids or display names, or users (UPN or id), who may use a pass; `all_users` for everyone. */
    includeTargets: z.array(z.string()).default(['all_users']),
    excludeTargets: z.array(z.string()).default([]),
    /** When false, reading the policy answers 403, as for an app without Policy.Read.AuthenticationMethod. */
    readable: z.boolean().default(true),
  })
  .default({});

/**
 * How strictly the simulator applies rules where Graph's documentation leaves room for readings. The
 * default method: `last-only` (Microsoft's own reset script: it "can only be deleted when it is the only
 * (last) auth method", the password not counted) or `never-while-others` (Graph's message read
 * literally, "Cannot delete default method with other methods configured", the password counted too,
 * as a field report shows for a user with a password and one Authenticator: Microsoft Q&A 1337439), so
 * a default can go only after it has been moved; `lenient` is the older, kinder reading (the default
 * may go once no other phone/Authenticator/OATH remains), kept only so a test can show the difference.
 */
export const simRulesSchema = z
  .object({
    defaultMethod: z.enum(['last-only', 'never-while-others', 'lenient']).default('last-only'),
    /**
     * Which DELETE form Graph takes for an external authentication method. The v1.0 page documents
     * `…/externalAuthenticationMethods/{id}/$ref`; whether the item path works too is unverified, so a
     * test can make the simulator take only one (`ref`, the default, or `item`) or both.
     */
    externalMethodDelete: z.enum(['ref', 'item', 'both']).default('ref'),
  })
  .default({});

export const tenantFileSchema = z.object({
  tenantId: guid.optional(),
  displayName: z.string().default('Simulated tenant'),
  domains: z.array(z.string().min(3)).min(1),
  /** When false, beta signInPreferences answers 403, as for an app without that permission. */
  signInPreferences: z.boolean().default(true),
  /** When false, beta hardwareOathMethods answers 403, as for an app without the beta permission. */
  hardwareOathMethods: z.boolean().default(true),
  /**
   * When false, the tenant has no Microsoft Entra ID P2 (or ID Governance) licence, so no PIM: the
   * eligibility reads answer 400 AadPremiumLicenseRequired, as Graph does (and nobody is eligible).
   */
  pimLicensed: z.boolean().default(true),
  /**
   * `national`: a US Government or China tenant, where Graph offers no beta hardwareOathMethods (its
   * API reference marks list and deactivate "global only"): the segment is unknown there (400).
   */
  cloud: z.enum(['global', 'national']).default('global'),
  temporaryAccessPassPolicy: tapPolicySchema,
  rules: simRulesSchema,
  /**
   * Application permissions the app lacks in this tenant: every route that needs one answers Graph's 403
   * (dev/graph-sim/permissions.ts). Empty: the app holds all the grant script asks for.
   */
  withheldPermissions: z.array(z.enum(APP_PERMISSIONS)).default([]),
  groups: z.array(tenantGroupSchema).default([]),
  /**
   * Administrative units that role assignments can be scoped to, with their members (UPNs, user ids or
   * group names). `isMemberManagementRestricted`: a restricted management unit, whose member users Graph
   * lets no application change (learn.microsoft.com/entra/identity/role-based-access-control/admin-units-restricted-management).
   */
  administrativeUnits: z
    .array(
      z.object({
        id: guid.optional(),
        displayName: z.string().min(1),
        isMemberManagementRestricted: z.boolean().default(false),
        members: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  /** App registrations (application objects) and the users who own them. */
  applications: z.array(z.object({ id: guid.optional(), appId: guid.optional(), displayName: z.string().min(1), owners: z.array(z.string()).default([]) })).default([]),
  /**
   * Service principals: their owners, the directory roles they hold (active or PIM-eligible) and the
   * Microsoft Graph application permissions granted to them (app role values, such as
   * `Directory.ReadWrite.All`). `application` names the app registration whose service principal this is.
   */
  servicePrincipals: z
    .array(
      z.object({
        id: guid.optional(),
        appId: guid.optional(),
        displayName: z.string().min(1),
        application: z.string().optional(),
        owners: z.array(z.string()).default([]),
        roles: z.array(roleRefSchema).default([]),
        eligibleRoles: z.array(roleRefSchema).default([]),
        graphPermissions: z.array(z.string().min(1)).default([]),
      }),
    )
    .default([]),
  /**
   * Whether `GET /users/{id}/ownedObjects` answers an application. Older versions of its reference page
   * list User.Read.All for applications; the generated permissions table now says "Not supported".
   * false: 403, as that table says, so a test can show the guard failing closed.
   */
  ownedObjectsForApplications: z.boolean().default(true),
  /** Custom directory role definitions (isBuiltIn false). */
  customRoles: z.array(z.object({ id: guid.optional(), displayName: z.string().min(1), permissions: z.array(z.string()).default([]) })).default([]),
  users: z.array(tenantUserSchema),
});
export type TenantFile = z.input<typeof tenantFileSchema>;
export type ParsedTenantFile = z.output<typeof tenantFileSchema>;

export function parseTenantFile(json: unknown, where = 'tenant file'): ParsedTenantFile {
  const parsed = tenantFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
    throw new Error(`Invalid ${where}:\n${problems}`);
  }
  return parsed.data;
}

export function loadTenantFile(path: string): ParsedTenantFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the Graph simulator tenant ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseTenantFile(json, `Graph simulator tenant ${path}`);
}

/** A stable GUID from a name, so tenant files need not spell out ids. */
export function stableId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000').toLowerCase()).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
