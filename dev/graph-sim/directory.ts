import { randomInt } from 'node:crypto';
import type { MethodKind } from '../../shared/method-names';
import type { AppPermission } from './permissions';
import { SimApps } from './apps';
import { SimRbac, type SimAdministrativeUnit } from './rbac';
import { stableId, type ParsedTenantFile, type TenantMethod } from './tenant-file';

type TapPolicy = ParsedTenantFile['temporaryAccessPassPolicy'];
type SimRules = ParsedTenantFile['rules'];

/**
 * The simulated directory: users, their methods, groups and roles, and the rules Graph enforces on
 * them. Handlers call into this; tests read it to check what really changed.
 */

export const PHONE_IDS = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
} as const;
const PASSWORD_ID = '28c10230-6103-485e-b985-444c60001490';

export const COLLECTIONS: Readonly<Record<string, MethodKind | 'password'>> = {
  phoneMethods: 'phone',
  microsoftAuthenticatorMethods: 'microsoftAuthenticator',
  softwareOathMethods: 'softwareOath',
  hardwareOathMethods: 'hardwareOath',
  fido2Methods: 'fido2',
  windowsHelloForBusinessMethods: 'windowsHelloForBusiness',
  emailMethods: 'email',
  temporaryAccessPassMethods: 'temporaryAccessPass',
  platformCredentialMethods: 'platformCredential',
  externalAuthenticationMethods: 'externalAuthentication',
  passwordMethods: 'password',
};

const ODATA_TYPES: Readonly<Record<MethodKind | 'password', string>> = {
  phone: '#microsoft.graph.phoneAuthenticationMethod',
  microsoftAuthenticator: '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
  softwareOath: '#microsoft.graph.softwareOathAuthenticationMethod',
  hardwareOath: '#microsoft.graph.hardwareOathAuthenticationMethod',
  fido2: '#microsoft.graph.fido2AuthenticationMethod',
  windowsHelloForBusiness: '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod',
  email: '#microsoft.graph.emailAuthenticationMethod',
  temporaryAccessPass: '#microsoft.graph.temporaryAccessPassAuthenticationMethod',
  platformCredential: '#microsoft.graph.platformCredentialAuthenticationMethod',
  externalAuthentication: '#microsoft.graph.externalAuthenticationMethod',
  qrCodePin: '#microsoft.graph.qrCodePinAuthenticationMethod',
  password: '#microsoft.graph.passwordAuthenticationMethod',
};

const DEFAULT_CAPABLE = new Set<string>(['phone', 'microsoftAuthenticator', 'softwareOath', 'hardwareOath']);

export interface SimMethod {
  id: string;
  kind: MethodKind | 'password' | 'other';
  odataType: string;
  /** Graph's properties of the method, as listed. */
  props: Record<string, unknown>;
  /**
   * Hardware OATH only: the token as the tenant's inventory holds it (serial, model, status). Graph
   * keeps these on the method's `device` relationship, shown with `$expand=device`, not on the method.
   */
  device?: Record<string, unknown>;
  undeletable?: 'refuse' | 'sticky';
}

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  userType: 'Member' | 'Guest';
  accountEnabled: boolean;
  groupIds: string[];
  defaultMethod: string;
  methods: SimMethod[];
  note?: string;
  signInSessionsValidFromDateTime: string;
  /** Object id of the user's manager (GET /users/{id}/manager). */
  managerId?: string;
  /** Identity Protection's rating at start (schedule-handlers.ts keeps it from then on). */
  riskLevel?: 'low' | 'medium' | 'high';
  mail: string | null;
  otherMails: string[];
  proxyAddresses: string[];
}

/** A mail sent through POST /users/{sender}/sendMail, kept for tests (the request log never holds bodies). */
export interface SentMail {
  from: string;
  to: string[];
  subject: string;
  body: string;
  headers: { name: string; value: string }[];
  at: string;
  requestId: string;
}

export interface SimGroup {
  id: string;
  displayName: string;
  memberOf: string[];
  /** Role-assignable groups hold directory roles, and their members and owners count as privileged. */
  isAssignableToRole: boolean;
  /** Object ids of the users who own the group. */
  ownerIds: string[];
}

export interface Removal {
  userId: string;
  userPrincipalName: string;
  methodId: string;
  kind: string;
  at: string;
  requestId: string;
}

export type Outcome = { status: number; body?: unknown };

/**
 * Graph's error shape: `{error: {code, message, innerError: {date, request-id, client-request-id}}}`
 * (learn.microsoft.com/graph/errors). The server adds innerError to every error body it sends.
 */
export const graphError = (status: number, code: string, message: string): Outcome => ({ status, body: { error: { code, message } } });

/**
 * 405 for a method a route does not take. The status is Graph's (learn.microsoft.com/graph/errors);
 * code and message are Entra's directory answer as seen in the field, and a guess for other workloads.
 */
export const methodNotAllowed = (): Outcome => graphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');

/** A preference Graph can hold in userPreferredMethodForSecondaryAuthentication (signInPreferences). */
const PREFERENCES = new Set(['push', 'oath', 'voiceMobile', 'voiceAlternateMobile', 'voiceOffice', 'sms']);

export class SimDirectory {
  readonly tenantId: string;
  readonly displayName: string;
  readonly domains: string[];
  readonly signInPreferencesEnabled: boolean;
  readonly hardwareOathReadable: boolean;
  /** The tenant has the licence PIM needs (tenant file pimLicensed). */
  readonly pimLicensed: boolean;
  /** `national`: the APIs Graph offers in the global cloud only are missing (hardware OATH tokens). */
  readonly cloud: 'global' | 'national';
  readonly tapPolicy: TapPolicy;
  readonly rules: SimRules;
  /** Application permissions the app lacks; tests may change it while the simulator runs. */
  readonly withheldPermissions: Set<AppPermission>;
  readonly users: SimUser[] = [];
  readonly groups: SimGroup[] = [];
  /** Role definitions, assignments and eligibilities (roleManagement/directory). */
  readonly rbac: SimRbac;
  /** App registrations and service principals (owners, Graph application permissions). */
  readonly apps: SimApps;
  /** GET /users/{id}/ownedObjects answers applications (tenant file ownedObjectsForApplications). */
  readonly ownedObjectsForApplications: boolean;
  /** Every method a DELETE actually removed, in order: a method removed twice would show twice. */
  readonly removals: Removal[] = [];
  readonly revocations: { userId: string; at: string; requestId: string }[] = [];
  /** Passes issued (never the secret). */
  readonly passesIssued: { userId: string; methodId: string; at: string; requestId: string }[] = [];
  /** Hardware OATH tokens deactivated (still assigned to the user), in order. */
  readonly deactivations: { userId: string; methodId: string; at: string; requestId: string }[] = [];
  /** Mails sent with sendMail, in order. */
  readonly mailsSent: SentMail[] = [];
  /**
   * Mailboxes the app may send from (an Exchange application access policy or RBAC for Applications
   * scope); undefined: any mailbox, as Mail.Send without a restriction allows.
   */
  mailSendScope: string[] | undefined;
  /** Default-method changes made through PATCH signInPreferences. */
  readonly preferenceChanges: { userId: string; from: string; to: string; at: string; requestId: string }[] = [];

  constructor(file: ParsedTenantFile) {
    this.tenantId = file.tenantId ?? stableId('tenant', file.domains[0]!);
    this.displayName = file.displayName;
    this.domains = file.domains;
    this.signInPreferencesEnabled = file.signInPreferences;
    this.hardwareOathReadable = file.hardwareOathMethods;
    this.pimLicensed = file.pimLicensed;
    this.cloud = file.cloud;
    this.tapPolicy = file.temporaryAccessPassPolicy;
    this.rules = file.rules;
    this.withheldPermissions = new Set(file.withheldPermissions);
    this.ownedObjectsForApplications = file.ownedObjectsForApplications;
    this.rbac = new SimRbac(file);
    for (const group of file.groups) {
      if (!group.isAssignableToRole && (group.roles.length > 0 || group.eligibleRoles.length > 0)) {
        throw new Error(`Graph simulator tenant: group "${group.displayName}" holds directory roles but is not isAssignableToRole (Graph assigns roles only to role-assignable groups)`);
      }
      this.groups.push({
        id: (group.id ?? stableId('group', group.displayName)).toLowerCase(),
        displayName: group.displayName,
        memberOf: [],
        isAssignableToRole: group.isAssignableToRole,
        ownerIds: [],
      });
    }
    file.groups.forEach((group, index) => (this.groups[index]!.memberOf = group.memberOf.map((ref) => this.groupRef(ref))));
    for (const group of this.groups) {
      const roleAssignable = group.memberOf.map((id) => this.groups.find((g) => g.id === id)!).find((parent) => parent.isAssignableToRole);
      if (roleAssignable) {
        throw new Error(`Graph simulator tenant: group "${group.displayName}" is nested in role-assignable group "${roleAssignable.displayName}" (Graph does not allow groups as members of role-assignable groups)`);
      }
    }
    for (const user of file.users) {
      const methods = user.methods.map((method, index) => toSimMethod(user.userPrincipalName, method, index));
      if (!methods.some((m) => m.kind === 'password') && user.userType !== 'Guest') {
        methods.unshift({ id: PASSWORD_ID, kind: 'password', odataType: ODATA_TYPES.password, props: { password: null } });
      }
      this.users.push({
        id: (user.id ?? stableId('user', user.userPrincipalName)).toLowerCase(),
        userPrincipalName: user.userPrincipalName,
        displayName: user.displayName ?? user.userPrincipalName,
        userType: user.userType,
        accountEnabled: user.accountEnabled,
        groupIds: user.groups.map((ref) => this.groupRef(ref)),
        defaultMethod: user.defaultMethod ?? derivedDefault(methods),
        methods,
        ...(user.note ? { note: user.note } : {}),
        ...(user.riskLevel ? { riskLevel: user.riskLevel } : {}),
        mail: user.mail ?? (user.userType === 'Guest' ? null : user.userPrincipalName),
        otherMails: user.otherMails,
        proxyAddresses: user.proxyAddresses.length > 0 ? user.proxyAddresses : user.userType === 'Guest' ? [] : [`SMTP:${user.mail ?? user.userPrincipalName}`],
        signInSessionsValidFromDateTime: '2024-01-01T00:00:00Z',
      });
    }
    file.users.forEach((user, index) => {
      if (!user.manager) return;
      const manager = this.findUser(user.manager);
      if (!manager) throw new Error(`Graph simulator tenant: user "${user.userPrincipalName}" names unknown manager "${user.manager}"`);
      this.users[index]!.managerId = manager.id;
    });
    // Grants that exist when the tenant starts are in the advanced-query index already.
    file.users.forEach((user, index) => {
      const id = this.users[index]!.id;
      for (const role of user.roles) this.rbac.grant(id, role, { kind: 'active', indexed: true });
      for (const role of user.eligibleRoles) this.rbac.grant(id, role, { kind: 'eligible', indexed: true });
    });
    file.groups.forEach((group, index) => {
      const simGroup = this.groups[index]!;
      for (const role of group.roles) this.rbac.grant(simGroup.id, role, { kind: 'active', indexed: true });
      for (const role of group.eligibleRoles) this.rbac.grant(simGroup.id, role, { kind: 'eligible', indexed: true });
      simGroup.ownerIds = group.owners.map((owner) => {
        const found = this.findUser(owner);
        if (!found) throw new Error(`Graph simulator tenant: group "${group.displayName}" names unknown owner "${owner}"`);
        return found.id;
      });
      for (const [accessId, refs] of [['member', group.eligibleMembers], ['owner', group.eligibleOwners]] as const) {
        for (const ref of refs) {
          const found = this.findUser(ref);
          if (!found) throw new Error(`Graph simulator tenant: group "${group.displayName}" names unknown eligible ${accessId} "${ref}"`);
          this.rbac.grantGroupEligibility(found.id, simGroup.id, accessId);
        }
      }
    });
    file.administrativeUnits.forEach((unit, index) => {
      const simUnit = this.rbac.administrativeUnits[index]!;
      for (const ref of unit.members) {
        const user = this.findUser(ref);
        const group = user ? undefined : this.groups.find((g) => g.id === ref.toLowerCase() || g.displayName.toLowerCase() === ref.toLowerCase());
        if (!user && !group) throw new Error(`Graph simulator tenant: administrative unit "${unit.displayName}" names unknown member "${ref}"`);
        if (user) simUnit.memberUserIds.push(user.id);
        if (group) simUnit.memberGroupIds.push(group.id);
      }
    });
    this.apps = new SimApps(file, (ref, what) => {
      const found = this.findUser(ref);
      if (!found) throw new Error(`Graph simulator tenant: ${what} names unknown owner "${ref}"`);
      return found.id;
    });
    file.servicePrincipals.forEach((sp, index) => {
      // index + 1: Microsoft Graph's own service principal comes first.
      const simSp = this.apps.servicePrincipals[index + 1]!;
      for (const role of sp.roles) this.rbac.grant(simSp.id, role, { kind: 'active', indexed: true });
      for (const role of sp.eligibleRoles) this.rbac.grant(simSp.id, role, { kind: 'eligible', indexed: true });
    });
  }

  /**
   * Administrative units the user is in: directly, or through a group that is a member (Graph's
   * transitiveMemberOf may list those too; only direct members are protected by a restricted unit).
   */
  administrativeUnitsOf(user: SimUser): { unit: SimAdministrativeUnit; direct: boolean }[] {
    const groups = new Set(this.transitiveGroupIds(user));
    return this.rbac.administrativeUnits
      .map((unit) => ({ unit, direct: unit.memberUserIds.includes(user.id), viaGroup: unit.memberGroupIds.some((id) => groups.has(id)) }))
      .filter((entry) => entry.direct || entry.viaGroup)
      .map(({ unit, direct }) => ({ unit, direct }));
  }

  /** Restricted management units the user is a direct member of: only admins scoped to them may change the user. */
  restrictedUnitsOf(user: SimUser): SimAdministrativeUnit[] {
    return this.administrativeUnitsOf(user).filter((entry) => entry.direct && entry.unit.isMemberManagementRestricted).map((entry) => entry.unit);
  }

  private groupRef(ref: string): string {
    const found = this.groups.find((g) => g.id === ref.toLowerCase() || g.displayName.toLowerCase() === ref.toLowerCase());
    if (!found) throw new Error(`Graph simulator tenant: unknown group "${ref}"`);
    return found.id;
  }

  /** By object id or UPN, case-insensitive, as Graph's /users/{id | userPrincipalName}. */
  findUser(key: string): SimUser | undefined {
    const lower = key.toLowerCase();
    return this.users.find((u) => u.id === lower || u.userPrincipalName.toLowerCase() === lower);
  }

  /** The user's methods as test assertions want them. */
  methodsOf(key: string): SimMethod[] {
    return this.findUser(key)?.methods ?? [];
  }

  /** Group ids the user is in, nested groups followed. */
  transitiveGroupIds(user: SimUser): string[] {
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const parent of this.groups.find((g) => g.id === id)?.memberOf ?? []) visit(parent);
    };
    user.groupIds.forEach(visit);
    return [...seen];
  }

  /**
   * The user's directoryRole objects: active, tenant-wide, built-in roles, direct or through
   * role-assignable groups. `indexedOnly`: as the cast advanced query sees them, without recent grants.
   */
  transitiveRoles(user: SimUser, options: { indexedOnly?: boolean } = {}): { id: string; displayName: string; roleTemplateId: string }[] {
    return this.rbac.directoryRolesOf([user.id, ...this.transitiveGroupIds(user)], { indexedOnly: options.indexedOnly ?? false });
  }

  transitiveUserMembers(groupId: string): SimUser[] {
    return this.users.filter((u) => this.transitiveGroupIds(u).includes(groupId.toLowerCase()));
  }

  /**
   * DELETE /users/{id}/authentication/{collection}/{methodId}, with Graph's rules: typed collections
   * only, never the password, the alternate mobile before the mobile, and the default method only
   * under rules.defaultMethod. On a hardware OATH token, DELETE unassigns it: the token goes back to the
   * tenant's inventory, where an admin must assign it again.
   */
  deleteMethod(user: SimUser, collection: string, methodId: string, version: string, requestId: string, now: Date): Outcome {
    const kind = COLLECTIONS[collection];
    if (!kind || (kind === 'hardwareOath' && (version !== 'beta' || this.cloud === 'national'))) {
      return graphError(400, 'BadRequest', `Resource not found for the segment '${collection}'.`);
    }
    // Graph documents no DELETE for passwordMethods; status and wording are a guess.
    if (kind === 'password') return graphError(400, 'badRequest', 'Password authentication methods cannot be deleted.');
    const method = user.methods.find((m) => m.id.toLowerCase() === methodId.toLowerCase() && m.kind === kind);
    // 404 itemNotFound is Graph's documented code; the wording is a guess.
    if (!method) return graphError(404, 'itemNotFound', `The ${collection} item ${methodId} was not found for this user.`);
    return this.removeMethod(user, method, requestId, now);
  }

  /**
   * DELETE /users/{id}/authentication/qrCodePinMethod (v1.0 and beta, global cloud only): the user's one
   * QR code + PIN method, with both its QR codes and the PIN. 404 when the user has none (Graph's
   * documented itemNotFound; the wording is a guess).
   */
  deleteQrCodePin(user: SimUser, requestId: string, now: Date): Outcome {
    const method = user.methods.find((m) => m.kind === 'qrCodePin');
    if (!method) return graphError(404, 'itemNotFound', 'The user has no QR code PIN authentication method.');
    return this.removeMethod(user, method, requestId, now);
  }

  private removeMethod(user: SimUser, method: SimMethod, requestId: string, now: Date): Outcome {
    // The rule is documented (phoneauthenticationmethod-delete: no alternate mobile without a mobile); status and wording are a guess.
    if (method.kind === 'phone' && method.props.phoneType === 'mobile' && user.methods.some((m) => m.props.phoneType === 'alternateMobile')) {
      return graphError(400, 'badRequest', 'Cannot delete the mobile phone method while an alternate mobile phone method is registered. Delete the alternate mobile phone first.');
    }
    if (this.isBlockedAsDefault(user, method)) {
      // Graph's own answer, word for word (microsoft-graph-docs issue 14470). Another wording seen in the
      // field ("… matches the user's current default authentication method, and cannot be deleted until the
      // default authentication method is changed") says the same; the engine reads either.
      return graphError(400, 'badRequest', 'Cannot delete default method with other methods configured. Please change default method before deletion.');
    }
    if (method.undeletable === 'refuse') {
      // A test fault, not a Graph rule: the shape of Graph's 403, the wording ours.
      return graphError(403, 'accessDenied', 'This authentication method is managed by another system and cannot be removed by this caller.');
    }
    if (method.undeletable === 'sticky') return { status: 204 };

    user.methods = user.methods.filter((m) => m !== method);
    if (!user.methods.some((m) => matchesPreference(m, user.defaultMethod))) {
      user.defaultMethod = derivedDefault(user.methods);
    }
    this.removals.push({ userId: user.id, userPrincipalName: user.userPrincipalName, methodId: method.id, kind: method.kind, at: now.toISOString(), requestId });
    return { status: 204 };
  }

  private isBlockedAsDefault(user: SimUser, method: SimMethod): boolean {
    if (!matchesPreference(method, user.defaultMethod)) return false;
    // Another method of the same default kind keeps the preference valid (our reading: Graph does not
    // document two Authenticator apps, but refusing the first of two would make neither deletable).
    if (user.methods.some((m) => m !== method && matchesPreference(m, user.defaultMethod))) return false;
    if (this.rules.defaultMethod === 'never-while-others') {
      // "Cannot delete default method with other methods configured", read literally: any other method
      // counts, the password and a deactivated hardware token included. The default goes only once it
      // has been moved (PATCH signInPreferences) to a method that stays.
      return user.methods.some((m) => m !== method);
    }
    if (this.rules.defaultMethod === 'last-only') {
      // The default goes as the last method: any method but the password counts, FIDO2, Windows Hello,
      // email and a pass included. A deactivated hardware token stays assigned but cannot sign in; we let
      // it not count (a guess: Graph does not say, and the engine is right either way, since it reads
      // Graph's refusal rather than predicting it).
      return user.methods.some((m) => m !== method && m.kind !== 'password' && !(m.kind === 'hardwareOath' && m.device?.status !== 'activated'));
    }
    const others = user.methods.filter((m) => m !== method && DEFAULT_CAPABLE.has(m.kind));
    // The mobile cannot go while this alternate mobile exists, so it does not count against it.
    const blockingOthers = others.filter((m) => !(method.props.phoneType === 'alternateMobile' && m.props.phoneType === 'mobile'));
    return blockingOthers.length > 0;
  }

  /** POST beta hardwareOathMethods/{id}/deactivate → 204: the token stays assigned but no longer signs in. */
  deactivateHardwareOath(user: SimUser, methodId: string, requestId: string, now: Date): Outcome {
    const method = user.methods.find((m) => m.kind === 'hardwareOath' && m.id.toLowerCase() === methodId.toLowerCase());
    // As for DELETE: the code is Graph's, the wording a guess; `refuse` is a test fault.
    if (!method) return graphError(404, 'itemNotFound', `The hardwareOathMethods item ${methodId} was not found for this user.`);
    if (method.undeletable === 'refuse') {
      return graphError(403, 'accessDenied', 'This authentication method is managed by another system and cannot be changed by this caller.');
    }
    if (method.undeletable !== 'sticky') method.device = { ...method.device, status: 'assigned' };
    this.deactivations.push({ userId: user.id, methodId: method.id, at: now.toISOString(), requestId });
    return { status: 204 };
  }

  /**
   * PATCH beta signInPreferences → 204. Only the documented properties are accepted; a preference the
   * user has no method for is refused (the 400 and its wording are a guess: Graph does not document it).
   */
  updateSignInPreferences(user: SimUser, body: unknown, requestId: string, now: Date): Outcome {
    // Every 400 here is a guess at code and wording: Graph documents the properties, not its refusals.
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return graphError(400, 'badRequest', 'The request body must be a JSON object.');
    const input = body as Record<string, unknown>;
    const unknown = Object.keys(input).filter((key) => key !== 'userPreferredMethodForSecondaryAuthentication' && key !== 'isSystemPreferredAuthenticationMethodEnabled' && key !== '@odata.type');
    if (unknown.length > 0) return graphError(400, 'badRequest', `Invalid property '${unknown[0]}' for signInPreferences.`);
    if (input.isSystemPreferredAuthenticationMethodEnabled !== undefined && typeof input.isSystemPreferredAuthenticationMethodEnabled !== 'boolean') {
      return graphError(400, 'badRequest', 'isSystemPreferredAuthenticationMethodEnabled must be a boolean.');
    }
    const preference = input.userPreferredMethodForSecondaryAuthentication;
    if (preference !== undefined) {
      if (typeof preference !== 'string' || !PREFERENCES.has(preference)) {
        return graphError(400, 'badRequest', `Requested value '${String(preference)}' is not a valid userDefaultAuthenticationMethodType.`);
      }
      if (!user.methods.some((m) => matchesPreference(m, preference))) {
        return graphError(400, 'badRequest', `The user has no registered method for the default method '${preference}'.`);
      }
      this.preferenceChanges.push({ userId: user.id, from: user.defaultMethod, to: preference, at: now.toISOString(), requestId });
      user.defaultMethod = preference;
    }
    return { status: 204 };
  }

  /** A policy target as the tenant file names it (`all_users`, a group or a user), as Graph lists it. */
  tapPolicyTarget(ref: string): { targetType: 'group' | 'user'; id: string } {
    if (ref === 'all_users') return { targetType: 'group', id: 'all_users' };
    const group = this.groups.find((g) => g.id === ref.toLowerCase() || g.displayName.toLowerCase() === ref.toLowerCase());
    if (group) return { targetType: 'group', id: group.id };
    const user = this.findUser(ref);
    return user ? { targetType: 'user', id: user.id } : { targetType: 'group', id: ref };
  }

  /** Whether the tenant's Temporary Access Pass policy targets the user (include minus exclude, groups followed). */
  tapPolicyTargets(user: SimUser): boolean {
    const groups = new Set(this.transitiveGroupIds(user));
    const matches = (ref: string) => {
      const target = this.tapPolicyTarget(ref);
      return target.targetType === 'user' ? target.id === user.id : target.id === 'all_users' || groups.has(target.id);
    };
    return this.tapPolicy.includeTargets.some(matches) && !this.tapPolicy.excludeTargets.some(matches);
  }

  /**
   * POST temporaryAccessPassMethods: returns the pass once; it is not kept anywhere. The tenant's
   * policy bounds the lifetime, may force one-time use and names who may get a pass; an existing pass
   * is replaced, as Graph does. Graph documents the policy, not the wording of its refusals: the 400s
   * below are guesses at code and message.
   */
  createTemporaryAccessPass(user: SimUser, body: unknown, requestId: string, now: Date): Outcome {
    const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const policy = this.tapPolicy;
    if (policy.state !== 'enabled') {
      return graphError(400, 'badRequest', 'Temporary Access Pass is not enabled in the authentication methods policy of this tenant.');
    }
    if (!this.tapPolicyTargets(user)) {
      return graphError(400, 'badRequest', 'The user is not within the scope of the Temporary Access Pass policy of this tenant.');
    }
    const lifetime = input.lifetimeInMinutes ?? policy.defaultLifetimeInMinutes;
    if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < policy.minimumLifetimeInMinutes || lifetime > policy.maximumLifetimeInMinutes) {
      return graphError(
        400,
        'badRequest',
        `lifetimeInMinutes must be between ${policy.minimumLifetimeInMinutes} and ${policy.maximumLifetimeInMinutes} minutes (the tenant's Temporary Access Pass policy).`,
      );
    }
    if (policy.isUsableOnce && input.isUsableOnce === false) {
      return graphError(400, 'badRequest', "The tenant's Temporary Access Pass policy allows one-time passes only (isUsableOnce must be true).");
    }
    // One pass per user: a new one replaces the old.
    user.methods = user.methods.filter((m) => m.kind !== 'temporaryAccessPass');
    const id = stableId('tap', user.id, requestId);
    const startDateTime = typeof input.startDateTime === 'string' ? input.startDateTime : now.toISOString();
    const props = { isUsableOnce: policy.isUsableOnce || input.isUsableOnce === true, lifetimeInMinutes: lifetime, startDateTime, createdDateTime: now.toISOString(), isUsable: true, methodUsabilityReason: 'EnabledByPolicy' };
    user.methods.push({ id, kind: 'temporaryAccessPass', odataType: ODATA_TYPES.temporaryAccessPass, props: { ...props, temporaryAccessPass: null } });
    this.passesIssued.push({ userId: user.id, methodId: id, at: now.toISOString(), requestId });
    return { status: 201, body: { '@odata.type': ODATA_TYPES.temporaryAccessPass, id, ...props, temporaryAccessPass: generatePass() } };
  }

  /** The user registers a method themselves (tests of the follow-up watch): it appears in their listings. */
  registerMethod(key: string, method: TenantMethod, now: Date = new Date()): SimMethod {
    const user = this.findUser(key);
    if (!user) throw new Error(`no user ${key}`);
    const made = toSimMethod(user.userPrincipalName, method, user.methods.length + 1000 + this.removals.length);
    if (user.methods.some((m) => m.id === made.id)) made.id = stableId('method', user.userPrincipalName, made.kind, now.toISOString());
    made.props = { ...made.props, createdDateTime: now.toISOString() };
    user.methods.push(made);
    return made;
  }

  /** The user signs in with their one-time Temporary Access Pass: Graph then reports it as used. */
  useTemporaryAccessPass(key: string): boolean {
    const pass = this.findUser(key)?.methods.find((m) => m.kind === 'temporaryAccessPass');
    if (!pass) return false;
    pass.props = { ...pass.props, isUsable: false, methodUsabilityReason: 'OneTimeUsed' };
    return true;
  }

  /**
   * POST /users/{sender}/sendMail (learn.microsoft.com/graph/api/user-sendmail): 202 with no body. The
   * sender needs a mailbox (a member account); recipients and a subject are required; an application
   * access policy that does not cover the sender answers 403 ErrorAccessDenied.
   */
  sendMail(sender: SimUser, body: unknown, requestId: string, now: Date): Outcome {
    // Exchange's codes and messages as seen in the field; the recipient and header checks' wording is a guess.
    if (sender.userType !== 'Member' || !sender.accountEnabled) {
      return graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
    }
    if (this.mailSendScope && !this.mailSendScope.some((allowed) => allowed.toLowerCase() === sender.userPrincipalName.toLowerCase() || allowed.toLowerCase() === sender.id)) {
      return graphError(403, 'ErrorAccessDenied', 'Access to OData is disabled: the application access policy does not allow this mailbox.');
    }
    const message = (body as { message?: unknown } | undefined)?.message as Record<string, unknown> | undefined;
    if (!message || typeof message !== 'object') return graphError(400, 'ErrorInvalidRequest', 'The message parameter is required.');
    const recipients = Array.isArray(message.toRecipients) ? (message.toRecipients as unknown[]) : [];
    const to = recipients
      .map((r) => (r as { emailAddress?: { address?: unknown } } | null)?.emailAddress?.address)
      .filter((a): a is string => typeof a === 'string' && /^[^@\s]+@[^@\s]+$/.test(a));
    if (to.length === 0 || to.length !== recipients.length) return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
    const content = (message.body as { content?: unknown } | undefined)?.content;
    const headers = Array.isArray(message.internetMessageHeaders) ? (message.internetMessageHeaders as { name: string; value: string }[]) : [];
    if (headers.some((h) => typeof h?.name !== 'string' || !/^x-/i.test(h.name))) {
      return graphError(400, 'InvalidInternetMessageHeader', 'The internet message header name should start with \'x-\' or \'X-\'.');
    }
    this.mailsSent.push({
      from: sender.userPrincipalName,
      to,
      subject: typeof message.subject === 'string' ? message.subject : '',
      body: typeof content === 'string' ? content : '',
      headers,
      at: now.toISOString(),
      requestId,
    });
    return { status: 202 };
  }

  revoke(user: SimUser, requestId: string, now: Date): Outcome {
    user.signInSessionsValidFromDateTime = now.toISOString();
    this.revocations.push({ userId: user.id, at: now.toISOString(), requestId });
    return { status: 200, body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean', value: true } };
  }
}

/** A method as Graph lists it; a hardware token's `device` only with `$expand=device`. */
export function methodJson(method: SimMethod, options: { expandDevice?: boolean; user?: SimUser } = {}): Record<string, unknown> {
  const device = options.expandDevice && method.device
    ? { device: { ...method.device, ...(options.user ? { assignedTo: { id: options.user.id, displayName: options.user.displayName } } : {}) } }
    : {};
  return { '@odata.type': method.odataType, id: method.id, ...method.props, ...device };
}

// Deliberately the simulator's own reading of Graph's rule, not the engine's (shared/graph/plan.ts):
// sharing it would let a mistake in the engine pass its own tests.
function matchesPreference(method: SimMethod, preference: string): boolean {
  switch (preference) {
    case 'push':
      return method.kind === 'microsoftAuthenticator';
    case 'oath':
      return method.kind === 'softwareOath' || method.kind === 'hardwareOath';
    case 'voiceMobile':
    case 'sms':
      return method.props.phoneType === 'mobile';
    case 'voiceAlternateMobile':
      return method.props.phoneType === 'alternateMobile';
    case 'voiceOffice':
      return method.props.phoneType === 'office';
    default:
      return false;
  }
}

/** What Entra picks as default when none is set: the strongest registered second factor. */
function derivedDefault(methods: SimMethod[]): string {
  if (methods.some((m) => m.kind === 'microsoftAuthenticator')) return 'push';
  if (methods.some((m) => m.kind === 'softwareOath' || m.kind === 'hardwareOath')) return 'oath';
  if (methods.some((m) => m.props.phoneType === 'mobile')) return 'sms';
  if (methods.some((m) => m.props.phoneType === 'alternateMobile')) return 'voiceAlternateMobile';
  if (methods.some((m) => m.props.phoneType === 'office')) return 'voiceOffice';
  return 'none';
}

function toSimMethod(upn: string, method: TenantMethod, index: number): SimMethod {
  const created = { createdDateTime: '2024-03-01T09:00:00Z' };
  const base = (kind: SimMethod['kind'], props: Record<string, unknown>, id?: string): SimMethod => ({
    id: method.id ?? id ?? stableId('method', upn, kind, String(index)),
    kind,
    odataType: kind === 'other' ? method.odataType! : ODATA_TYPES[kind as MethodKind | 'password'],
    props,
    ...(method.undeletable ? { undeletable: method.undeletable } : {}),
  });
  switch (method.type) {
    case 'phone':
      return base('phone', { phoneNumber: method.phoneNumber, phoneType: method.phoneType, smsSignInState: 'notAllowedByPolicy' }, PHONE_IDS[method.phoneType!]);
    case 'microsoftAuthenticator':
      return base('microsoftAuthenticator', { displayName: method.displayName ?? 'Phone', deviceTag: method.deviceTag ?? 'SoftwareTokenActivated', phoneAppVersion: '6.2401.0119', ...created });
    case 'softwareOath':
      return base('softwareOath', { secretKey: null });
    case 'hardwareOath': {
      const made = base('hardwareOath', { ...created });
      made.device = {
        id: made.id,
        displayName: method.displayName ?? 'Hardware token',
        serialNumber: method.serialNumber ?? '000000',
        manufacturer: method.manufacturer ?? 'Unknown',
        model: method.model ?? 'OATH TOTP token',
        secretKey: null,
        timeIntervalInSeconds: 30,
        status: 'activated',
        hashFunction: 'hmacsha1',
      };
      return made;
    }
    case 'fido2':
      return base('fido2', { displayName: method.displayName ?? 'Security key', model: method.model ?? method.displayName ?? 'Security key', aaGuid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8', ...created });
    case 'windowsHelloForBusiness':
      return base('windowsHelloForBusiness', { displayName: method.displayName ?? 'PC', keyStrength: 'normal', ...created });
    case 'email':
      return base('email', { emailAddress: method.emailAddress });
    case 'temporaryAccessPass':
      return base('temporaryAccessPass', { lifetimeInMinutes: method.lifetimeInMinutes ?? 60, isUsableOnce: method.isUsableOnce ?? false, startDateTime: '2024-03-01T09:00:00Z', isUsable: true, temporaryAccessPass: null, ...created });
    case 'platformCredential':
      return base('platformCredential', { displayName: method.displayName ?? 'Mac', keyStrength: 'strong', platform: 'macOS', ...created });
    case 'externalAuthentication':
      return base('externalAuthentication', { displayName: method.displayName ?? 'External method', configurationId: stableId('external', upn) });
    case 'qrCodePin':
      // The resource lists only createdDateTime; the QR codes and the PIN are relationships, never listed.
      return base('qrCodePin', { ...created });
    case 'password':
      return base('password', { password: null }, PASSWORD_ID);
    case 'other':
      return base('other', { displayName: method.displayName ?? 'Unknown method' });
  }
}

/** A pass like the ones Entra issues: letters, digits and a symbol. */
function generatePass(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  let pass = '';
  for (let i = 0; i < 10; i += 1) pass += alphabet[randomInt(alphabet.length)];
  return `${pass}${'!@#$%&*'[randomInt(7)]}`;
}
