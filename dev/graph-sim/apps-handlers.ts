import type { SimApplication, SimServicePrincipal } from './apps';
import { graphError, methodNotAllowed, type Outcome, type SimDirectory } from './directory';
import type { SimAdministrativeUnit } from './rbac';

/**
 * What the privileged-target guard reads about applications and administrative units, answered as Graph
 * documents it:
 *  - GET /users/{id}/ownedObjects, also cast to microsoft.graph.application, .servicePrincipal or .group
 *    (user-list-ownedobjects). Without Application.Read.All, applications and service principals come
 *    with limited information (only `@odata.type` and `id`; "Limited information returned for
 *    inaccessible member objects"). A tenant file may make it refuse applications altogether
 *    (ownedObjectsForApplications: false), as the generated permissions table now says.
 *  - GET /servicePrincipals (`$filter=appId eq '…'`), /servicePrincipals/{id} (with appRoles),
 *    /servicePrincipals/{id}/appRoleAssignments and /owners (serviceprincipal-list-approleassignments);
 *  - GET /applications (`$filter=appId eq '…'`), /applications/{id} and /owners;
 *  - GET /directory/administrativeUnits[/{id}] with isMemberManagementRestricted, and /members.
 * Anything else answers undefined and falls through to the other handlers.
 */

export interface AppsRequest {
  query: URLSearchParams;
  origin: string;
  version: string;
  path: string;
}

const CASTS: Record<string, 'application' | 'servicePrincipal' | 'group'> = {
  'microsoft.graph.application': 'application',
  'microsoft.graph.serviceprincipal': 'servicePrincipal',
  'microsoft.graph.group': 'group',
};

export function handleAppsRoute(dir: SimDirectory, segments: string[], method: string, req: AppsRequest): Outcome | undefined {
  if (segments[0] === 'users' && segments[2] === 'ownedObjects' && segments.length <= 4) {
    if (method !== 'GET') return methodNotAllowed();
    const user = dir.findUser(segments[1]!);
    if (!user) return notFoundObject(segments[1]!);
    if (!dir.ownedObjectsForApplications) {
      return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    const cast = segments[3] === undefined ? undefined : CASTS[segments[3].toLowerCase()];
    if (segments[3] !== undefined && !cast) return notFoundSegment(segments[3]);
    const limited = dir.withheldPermissions.has('Application.Read.All');
    const items: Record<string, unknown>[] = [];
    if (!cast || cast === 'application') items.push(...dir.apps.applications.filter((a) => a.ownerIds.includes(user.id)).map((a) => applicationJson(a, limited)));
    if (!cast || cast === 'servicePrincipal') items.push(...dir.apps.servicePrincipals.filter((sp) => sp.ownerIds.includes(user.id)).map((sp) => servicePrincipalJson(sp, limited, false)));
    if (!cast || cast === 'group') {
      items.push(...dir.groups.filter((g) => g.ownerIds.includes(user.id)).map((g) => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName, isAssignableToRole: g.isAssignableToRole })));
    }
    return { status: 200, body: page(items, req) };
  }

  if (segments[0] === 'servicePrincipals') {
    if (method !== 'GET') return methodNotAllowed();
    if (segments.length === 1) {
      const filtered = byAppId(req.query.get('$filter'), dir.apps.servicePrincipals);
      if (!filtered.ok) return graphError(400, 'Request_UnsupportedQuery', filtered.message);
      return { status: 200, body: page(filtered.items.map((sp) => servicePrincipalJson(sp, false, true)), req) };
    }
    const sp = dir.apps.servicePrincipal(segments[1]!);
    if (!sp) return notFoundObject(segments[1]!);
    if (segments.length === 2) return { status: 200, body: servicePrincipalJson(sp, false, true) };
    if (segments.length === 3 && segments[2] === 'appRoleAssignments') {
      const items = sp.assignments.map((a) => {
        const resource = dir.apps.servicePrincipal(a.resourceId);
        return {
          id: a.id,
          appRoleId: a.appRoleId,
          createdDateTime: a.createdDateTime,
          deletedDateTime: null,
          principalDisplayName: sp.displayName,
          principalId: sp.id,
          principalType: 'ServicePrincipal',
          resourceDisplayName: resource?.displayName ?? null,
          resourceId: a.resourceId,
        };
      });
      return { status: 200, body: page(items, req) };
    }
    if (segments.length === 3 && segments[2] === 'owners') return { status: 200, body: page(ownersJson(dir, sp.ownerIds), req) };
    return notFoundSegment(segments[2] ?? segments[1]!);
  }

  if (segments[0] === 'applications') {
    if (method !== 'GET') return methodNotAllowed();
    if (segments.length === 1) {
      const filtered = byAppId(req.query.get('$filter'), dir.apps.applications);
      if (!filtered.ok) return graphError(400, 'Request_UnsupportedQuery', filtered.message);
      return { status: 200, body: page(filtered.items.map((a) => applicationJson(a, false)), req) };
    }
    const app = dir.apps.applications.find((a) => a.id === segments[1]!.toLowerCase());
    if (!app) return notFoundObject(segments[1]!);
    if (segments.length === 2) return { status: 200, body: applicationJson(app, false) };
    if (segments.length === 3 && segments[2] === 'owners') return { status: 200, body: page(ownersJson(dir, app.ownerIds), req) };
    return notFoundSegment(segments[2] ?? segments[1]!);
  }

  if (segments[0] === 'directory' && segments[1] === 'administrativeUnits') {
    if (method !== 'GET') return methodNotAllowed();
    if (segments.length === 2) return { status: 200, body: page(dir.rbac.administrativeUnits.map((unit) => administrativeUnitJson(unit, false)), req) };
    const unit = dir.rbac.administrativeUnits.find((u) => u.id === segments[2]!.toLowerCase());
    if (!unit) return notFoundObject(segments[2]!);
    if (segments.length === 3) return { status: 200, body: administrativeUnitJson(unit, false) };
    if (segments.length === 4 && segments[3] === 'members') {
      const users = unit.memberUserIds.map((id) => dir.findUser(id)!).map((u) => ({ '@odata.type': '#microsoft.graph.user', id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName }));
      const groups = unit.memberGroupIds.map((id) => dir.groups.find((g) => g.id === id)!).map((g) => ({ '@odata.type': '#microsoft.graph.group', id: g.id, displayName: g.displayName }));
      return { status: 200, body: page([...users, ...groups], req) };
    }
    return notFoundSegment(segments[3] ?? segments[2]!);
  }
  return undefined;
}

/**
 * An administrative unit as a directoryObject collection shows it. Without AdministrativeUnit.Read.All
 * only `@odata.type` and `id` carry values (limited information).
 */
export function administrativeUnitJson(unit: SimAdministrativeUnit, limited: boolean): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.administrativeUnit',
    id: unit.id,
    displayName: limited ? null : unit.displayName,
    description: null,
    isMemberManagementRestricted: limited ? null : unit.isMemberManagementRestricted,
    visibility: null,
  };
}

function applicationJson(app: SimApplication, limited: boolean): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.application', id: app.id, appId: limited ? null : app.appId, displayName: limited ? null : app.displayName };
}

function servicePrincipalJson(sp: SimServicePrincipal, limited: boolean, withAppRoles: boolean): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.servicePrincipal',
    id: sp.id,
    appId: limited ? null : sp.appId,
    displayName: limited ? null : sp.displayName,
    servicePrincipalType: limited ? null : 'Application',
    ...(withAppRoles ? { appRoles: sp.appRoles.map((r) => ({ ...r, isEnabled: true, description: r.displayName, origin: 'Application' })) } : {}),
  };
}

function ownersJson(dir: SimDirectory, ownerIds: string[]): Record<string, unknown>[] {
  return ownerIds.map((id) => dir.findUser(id)!).map((u) => ({ '@odata.type': '#microsoft.graph.user', id: u.id, userPrincipalName: u.userPrincipalName, displayName: u.displayName }));
}

/** `$filter=appId eq '…'`, the one filter the guard sends; others are a 400 here (the wording a guess). */
function byAppId<T extends { appId: string }>(filter: string | null, items: T[]): { ok: true; items: T[] } | { ok: false; message: string } {
  if (filter === null || filter.trim() === '') return { ok: true, items };
  const match = /^\s*appId\s+eq\s+'([^']*)'\s*$/i.exec(filter);
  if (!match) return { ok: false, message: `Unsupported query in this simulator: $filter=${filter}` };
  return { ok: true, items: items.filter((item) => item.appId === match[1]!.toLowerCase()) };
}

function notFoundObject(key: string): Outcome {
  return graphError(404, 'Request_ResourceNotFound', `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`);
}

function notFoundSegment(segment: string): Outcome {
  return graphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}

function page<T>(items: T[], req: AppsRequest, defaultTop = 100): { value: T[]; '@odata.nextLink'?: string } {
  const top = Math.min(999, Math.max(1, Number(req.query.get('$top') ?? defaultTop) || defaultTop));
  const skip = Number(Buffer.from(req.query.get('$skiptoken') ?? '', 'base64url').toString() || '0') || 0;
  const value = items.slice(skip, skip + top);
  if (skip + top >= items.length) return { value };
  const next = new URLSearchParams(req.query);
  next.set('$skiptoken', Buffer.from(String(skip + top)).toString('base64url'));
  return { value, '@odata.nextLink': `${req.origin}/${req.version}${req.path}?${next.toString()}` };
}
