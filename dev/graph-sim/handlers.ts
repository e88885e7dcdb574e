import { administrativeUnitJson, handleAppsRoute } from './apps-handlers';
import { COLLECTIONS, graphError, methodJson, methodNotAllowed, type Outcome, type SimDirectory, type SimUser } from './directory';
import { permissionRefusal } from './permissions';
import { handleRbacRoute } from './rbac-handlers';
import { handleScheduleRoute } from './schedule-handlers';

export interface SimRequest {
  method: string;
  version: 'v1.0' | 'beta';
  /** Path below the version, still percent-encoded, without the query. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  /** http://127.0.0.1:port, for @odata.nextLink. */
  origin: string;
  requestId: string;
  now: Date;
}

const READ_POSTS = /\/(checkMemberGroups|getMemberGroups|checkMemberObjects|getMemberObjects)$/i;

/** Whether a request changes the directory: what the write budget and the dry-run checks count. */
export function isWrite(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  if (method === 'POST' && (READ_POSTS.test(path) || /^\/?\$batch$/i.test(path))) return false;
  return true;
}

/** Splits a path into decoded segments, reading the `users('…')` key form as well. */
export function segmentsOf(path: string): string[] {
  const raw = path.split('/').filter((s) => s.length > 0);
  const segments: string[] = [];
  for (const part of raw) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      decoded = part;
    }
    const keyed = /^(users|groups)\('(.*)'\)$/.exec(decoded);
    if (keyed) segments.push(keyed[1]!, keyed[2]!.replace(/''/g, "'"));
    else segments.push(decoded);
  }
  return segments;
}

/** Graph's OData router: an unknown segment is a 400 BadRequest with this wording (as Graph answers). */
const notFoundSegment = (segment: string): Outcome => graphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
/** Entra's directory 404 for an object that does not exist, word for word. */
const userNotFound = (key: string): Outcome =>
  graphError(404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);

function userJson(user: SimUser): Record<string, unknown> {
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    userType: user.userType,
    accountEnabled: user.accountEnabled,
    mail: user.mail,
    otherMails: user.otherMails,
    proxyAddresses: user.proxyAddresses,
  };
}

/**
 * Graph returns a user's default properties unless `$select` names others; userType, accountEnabled,
 * otherMails and proxyAddresses are not among the defaults (learn.microsoft.com/graph/api/user-get,
 * "Optional query parameters"), so a caller that relies on one must select it.
 */
const DEFAULT_USER_PROPERTIES = ['id', 'userPrincipalName', 'displayName', 'mail'];

function selected(json: Record<string, unknown>, req: SimRequest): Record<string, unknown> {
  const select = req.query.get('$select');
  const names = select ? select.split(',').map((name) => name.trim()).filter(Boolean) : DEFAULT_USER_PROPERTIES;
  return Object.fromEntries(Object.entries(json).filter(([name]) => name.startsWith('@odata') || names.includes(name)));
}

function page<T>(items: T[], req: SimRequest, defaultTop = 100): { value: T[]; '@odata.nextLink'?: string } {
  const top = Math.min(999, Math.max(1, Number(req.query.get('$top') ?? defaultTop) || defaultTop));
  const skip = Number(Buffer.from(req.query.get('$skiptoken') ?? '', 'base64url').toString() || '0') || 0;
  const value = items.slice(skip, skip + top);
  if (skip + top >= items.length) return { value };
  const next = new URLSearchParams(req.query);
  next.set('$skiptoken', Buffer.from(String(skip + top)).toString('base64url'));
  return { value, '@odata.nextLink': `${req.origin}/${req.version}${req.path}?${next.toString()}` };
}

export function handle(dir: SimDirectory, req: SimRequest): Outcome {
  const s = segmentsOf(req.path);
  const method = req.method.toUpperCase();
  // Graph authorizes before it looks anything up.
  const refused = permissionRefusal(method, s, dir.withheldPermissions);
  if (refused) return refused;
  const rbac = handleRbacRoute(dir, s, method, req);
  if (rbac) return rbac;
  const apps = handleAppsRoute(dir, s, method, req);
  if (apps) return apps;
  const scheduled = handleScheduleRoute(dir, s, method, req);
  if (scheduled) return scheduled;

  if (s[0] === 'policies' && s[1] === 'authenticationMethodsPolicy' && s[2] === 'authenticationMethodConfigurations' && s[3]?.toLowerCase() === 'temporaryaccesspass' && s.length === 4) {
    // PATCH exists in Graph; the simulator does not take it.
    if (method !== 'GET') return methodNotAllowed();
    return temporaryAccessPassPolicy(dir);
  }
  if (s[0] === 'users' && s.length === 1 && method === 'GET') {
    return { status: 200, body: page(dir.users.map((user) => selected(userJson(user), req)), req) };
  }
  if (s[0] === 'users' && s.length >= 2) {
    const user = dir.findUser(s[1]!);
    if (!user) return userNotFound(s[1]!);
    const restricted = isWrite(method, req.path) && s[2] !== 'sendMail' ? dir.restrictedUnitsOf(user) : [];
    if (restricted.length > 0) {
      // Applications' Graph permissions do not apply to members of a restricted management administrative
      // unit (admin-units-restricted-management, "Programmability"). Status and code are Entra's directory
      // refusal; the wording is a guess built on the admin center's message for the same case.
      return graphError(
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation. This user is a member of a restricted management administrative unit. Management rights are limited to administrators scoped on that administrative unit.',
      );
    }
    return userRoutes(dir, user, s.slice(2), method, req);
  }
  if (s[0] === 'groups' && s.length >= 2) {
    const group = dir.groups.find((g) => g.id === s[1]!.toLowerCase());
    if (!group) return graphError(404, 'Request_ResourceNotFound', `Resource '${s[1]}' does not exist or one of its queried reference-property objects are not present.`);
    if (s.length === 2 && method === 'GET') return { status: 200, body: { id: group.id, displayName: group.displayName } };
    if (s[2] === 'transitiveMembers' && method === 'GET' && (s.length === 3 || s[3] === 'microsoft.graph.user')) {
      const cast = s.length === 4;
      const advanced = req.headers['consistencylevel']?.toLowerCase() === 'eventual' && req.query.get('$count') === 'true';
      // "To filter the results on the OData type ... you must use the advanced query parameters: the
      // ConsistencyLevel header set to eventual and the $count=true query string" (group-list-transitivemembers).
      // The code is the one Graph documents for unsupported queries (aka.ms/graph-docs/advanced-queries); the message is a guess.
      if (cast && !advanced) {
        return graphError(400, 'Request_UnsupportedQuery', 'An OData cast on transitiveMembers is an advanced query: send ConsistencyLevel: eventual and $count=true.');
      }
      const users = dir.transitiveUserMembers(group.id).map((u) => selected({ '@odata.type': '#microsoft.graph.user', ...userJson(u) }, req));
      const body = page(users, req);
      return { status: 200, body: advanced ? { '@odata.count': users.length, ...body } : body };
    }
    return notFoundSegment(s[2] ?? s[1]!);
  }
  return notFoundSegment(s[0] ?? '');
}

function userRoutes(dir: SimDirectory, user: SimUser, rest: string[], method: string, req: SimRequest): Outcome {
  if (rest.length === 0) {
    return method === 'GET' ? { status: 200, body: selected(userJson(user), req) } : methodNotAllowed();
  }
  const [first, second, third] = rest;

  if (first === 'manager' && rest.length === 1) {
    if (method !== 'GET') return methodNotAllowed();
    const manager = user.managerId ? dir.users.find((u) => u.id === user.managerId) : undefined;
    if (!manager) return graphError(404, 'Request_ResourceNotFound', "Resource 'manager' does not exist or one of its queried reference-property objects are not present.");
    return { status: 200, body: selected({ '@odata.type': '#microsoft.graph.user', ...userJson(manager) }, req) };
  }

  if (first === 'sendMail' && rest.length === 1) {
    return method === 'POST' ? dir.sendMail(user, req.body, req.requestId, req.now) : methodNotAllowed();
  }

  if (first === 'revokeSignInSessions' && rest.length === 1) {
    return method === 'POST' ? dir.revoke(user, req.requestId, req.now) : methodNotAllowed();
  }

  if (first === 'checkMemberGroups' && rest.length === 1 && method === 'POST') {
    const ids = (req.body as { groupIds?: unknown } | undefined)?.groupIds;
    // The 20-id limit is documented (user-checkmembergroups); both wordings are a guess.
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) return graphError(400, 'Request_BadRequest', 'groupIds must be an array of ids.');
    if (ids.length > 20) return graphError(400, 'Request_BadRequest', 'checkMemberGroups accepts at most 20 group ids.');
    const member = new Set(dir.transitiveGroupIds(user));
    return { status: 200, body: { value: (ids as string[]).filter((id) => member.has(id.toLowerCase())) } };
  }

  if (first === 'transitiveMemberOf' && method === 'GET') {
    const wantsCount = req.query.get('$count') === 'true';
    if (wantsCount && req.headers['consistencylevel']?.toLowerCase() !== 'eventual') {
      // The rule is documented (advanced queries); code and wording are a guess.
      return graphError(400, 'Request_BadRequest', '$count is supported only with the ConsistencyLevel: eventual header (advanced query).');
    }
    // The cast reads the advanced-query index, which may lag behind recent role grants; the uncast list is current.
    const roles = dir.transitiveRoles(user, { indexedOnly: second !== undefined }).map((r) => ({ '@odata.type': '#microsoft.graph.directoryRole', ...r }));
    const groups = dir.transitiveGroupIds(user).map((id) => {
      const g = dir.groups.find((group) => group.id === id)!;
      return { '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName, isAssignableToRole: g.isAssignableToRole };
    });
    // Without AdministrativeUnit.Read.All a unit comes with limited information (only its type and id).
    const limitedUnits = dir.withheldPermissions.has('AdministrativeUnit.Read.All');
    const units = dir.administrativeUnitsOf(user).map(({ unit }) => administrativeUnitJson(unit, limitedUnits));
    const casts: Record<string, Record<string, unknown>[]> = {
      'microsoft.graph.directoryRole': roles,
      'microsoft.graph.group': groups,
      'microsoft.graph.administrativeUnit': units,
    };
    if (second !== undefined && !casts[second]) return notFoundSegment(second);
    const items: Record<string, unknown>[] = second === undefined ? [...groups, ...roles, ...units] : casts[second]!;
    const body = page(items, req);
    return { status: 200, body: wantsCount ? { '@odata.count': items.length, ...body } : body };
  }

  if (first !== 'authentication') return notFoundSegment(first!);

  if (second === 'signInPreferences' && rest.length === 2) {
    if (req.version !== 'beta') return notFoundSegment('signInPreferences');
    // Graph's refusal never names the permission it wanted (see permissions.ts).
    if (!dir.signInPreferencesEnabled) return graphError(403, 'accessDenied', 'Request Authorization failed');
    if (method === 'PATCH') return dir.updateSignInPreferences(user, req.body, req.requestId, req.now);
    if (method !== 'GET') return methodNotAllowed();
    return {
      status: 200,
      body: {
        '@odata.type': '#microsoft.graph.signInPreferences',
        isSystemPreferredAuthenticationMethodEnabled: false,
        userPreferredMethodForSecondaryAuthentication: user.defaultMethod,
        systemPreferredAuthenticationMethod: null,
      },
    };
  }

  if (second === 'qrCodePinMethod' && rest.length === 2) {
    // A single-valued property, global cloud only (qrcodepinauthenticationmethod-get, -delete).
    if (dir.cloud === 'national') return notFoundSegment('qrCodePinMethod');
    if (method === 'DELETE') return dir.deleteQrCodePin(user, req.requestId, req.now);
    // PUT creates one in Graph; the simulator does not take it.
    if (method !== 'GET') return methodNotAllowed();
    const found = user.methods.find((m) => m.kind === 'qrCodePin');
    // itemNotFound is Graph's documented code; the wording is a guess.
    return found ? { status: 200, body: methodJson(found) } : graphError(404, 'itemNotFound', 'The user has no QR code PIN authentication method.');
  }

  if (second === 'methods') {
    // hardware OATH tokens only show up in beta listings, and only in the global cloud; QR code + PIN
    // only in the global cloud.
    const visible = user.methods.filter(
      (m) => ((req.version === 'beta' && dir.cloud === 'global') || m.kind !== 'hardwareOath') && (dir.cloud === 'global' || m.kind !== 'qrCodePin'),
    );
    if (rest.length === 2) {
      return method === 'GET' ? { status: 200, body: { value: visible.map((m) => methodJson(m)) } } : methodNotAllowed();
    }
    if (rest.length === 3) {
      // The generic collection is read-only (documented): deletes go through the typed collections.
      if (method !== 'GET') return methodNotAllowed();
      const found = visible.find((m) => m.id.toLowerCase() === third!.toLowerCase());
      // itemNotFound is Graph's documented code; the wording is a guess.
      return found ? { status: 200, body: methodJson(found) } : graphError(404, 'itemNotFound', `Method ${third} not found.`);
    }
  }

  const kind = second ? COLLECTIONS[second] : undefined;
  if (!kind || (kind === 'hardwareOath' && (req.version !== 'beta' || dir.cloud === 'national'))) return notFoundSegment(second ?? 'authentication');
  if (kind === 'hardwareOath' && !dir.hardwareOathReadable) {
    return graphError(403, 'accessDenied', 'Request Authorization failed');
  }
  const expandDevice = kind === 'hardwareOath' && (req.query.get('$expand') ?? '').split(',').some((part) => part.trim().split('(')[0] === 'device');

  if (kind === 'hardwareOath' && rest.length === 4 && rest[3] === 'deactivate') {
    return method === 'POST' ? dir.deactivateHardwareOath(user, third!, req.requestId, req.now) : methodNotAllowed();
  }

  // The v1.0 page documents DELETE …/externalAuthenticationMethods/{id}/$ref; which forms Graph really
  // takes is unverified (rules.externalMethodDelete). A form it does not take: the router's 400 for the
  // `$ref` segment, 405 for DELETE on the item (both a guess at what Graph would answer).
  if (kind === 'externalAuthentication' && rest.length === 4 && rest[3] === '$ref') {
    if (method !== 'DELETE') return methodNotAllowed();
    if (dir.rules.externalMethodDelete === 'item') return notFoundSegment('$ref');
    return dir.deleteMethod(user, second!, third!, req.version, req.requestId, req.now);
  }
  if (kind === 'externalAuthentication' && rest.length === 3 && method === 'DELETE' && dir.rules.externalMethodDelete === 'ref') return methodNotAllowed();

  if (rest.length === 2) {
    if (method === 'GET') return { status: 200, body: { value: user.methods.filter((m) => m.kind === kind).map((m) => methodJson(m, { expandDevice, user })) } };
    if (method === 'POST' && kind === 'temporaryAccessPass') return dir.createTemporaryAccessPass(user, req.body, req.requestId, req.now);
    return methodNotAllowed();
  }
  if (rest.length === 3) {
    if (method === 'DELETE') return dir.deleteMethod(user, second!, third!, req.version, req.requestId, req.now);
    if (method === 'GET') {
      const found = user.methods.find((m) => m.kind === kind && m.id.toLowerCase() === third!.toLowerCase());
      // itemNotFound is Graph's documented code; the wording is a guess.
      return found ? { status: 200, body: methodJson(found, { expandDevice, user }) } : graphError(404, 'itemNotFound', `The ${second} item ${third} was not found.`);
    }
    return methodNotAllowed();
  }
  return notFoundSegment(rest[3] ?? second!);
}

/** GET authenticationMethodConfigurations/TemporaryAccessPass, shaped as Graph documents it. */
function temporaryAccessPassPolicy(dir: SimDirectory): Outcome {
  const policy = dir.tapPolicy;
  if (!policy.readable) {
    // The wording is a guess (as for every policy refusal: see permissions.ts).
    return graphError(403, 'accessDenied', 'Request Authorization failed');
  }
  // includeTargets are authenticationMethodTargets (group or user, `all_users` for everyone); excludeTargets
  // are excludeTargets (id and targetType), as v1.0 documents them.
  const target = (ref: string) => {
    const resolved = dir.tapPolicyTarget(ref);
    return { targetType: resolved.targetType, id: resolved.id };
  };
  return {
    status: 200,
    body: {
      '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration',
      id: 'TemporaryAccessPass',
      state: policy.state,
      defaultLifetimeInMinutes: policy.defaultLifetimeInMinutes,
      defaultLength: 8,
      minimumLifetimeInMinutes: policy.minimumLifetimeInMinutes,
      maximumLifetimeInMinutes: policy.maximumLifetimeInMinutes,
      isUsableOnce: policy.isUsableOnce,
      includeTargets: policy.includeTargets.map((ref) => ({ ...target(ref), isRegistrationRequired: false })),
      excludeTargets: policy.excludeTargets.map(target),
    },
  };
}
