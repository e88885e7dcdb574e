import { graphError, methodNotAllowed, type Outcome, type SimDirectory, type SimGroup, type SimUser } from './directory';
import type { SimRoleGrant } from './rbac';

/**
 * The directory-role side of Graph that the privileged-target guards read, answered as Graph documents
 * it (learn.microsoft.com/graph/api/rbacapplication-list-roleassignments,
 * …/rbacapplication-list-roleeligibilityscheduleinstances, …/group-list-owners):
 *  - GET /roleManagement/directory/roleAssignments and /roleEligibilityScheduleInstances, with
 *    `$filter` on principalId, roleDefinitionId, directoryScopeId (`eq`, `in`) and `$expand=roleDefinition`;
 *  - GET /roleManagement/directory/roleDefinitions[/{id}];
 *  - GET /groups (`$filter=isAssignableToRole eq true`, `$expand=owners`: at most 20 related objects
 *    and 100 groups a page, as Graph limits `$expand` on directory objects), /groups/{id}/owners and /members;
 *  - GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances (PIM for Groups), which
 *    requires `$filter` with `eq` on principalId or groupId (…/privilegedaccessgroup-list-eligibilityscheduleinstances).
 * Anything else answers undefined and falls through to the other handlers.
 */

export interface RbacRequest {
  query: URLSearchParams;
  origin: string;
  version: string;
  path: string;
}

const EXPAND_LIMIT = 20;

export function handleRbacRoute(dir: SimDirectory, segments: string[], method: string, req: RbacRequest): Outcome | undefined {
  if (segments[0] === 'roleManagement') {
    if (method !== 'GET') return methodNotAllowed();
    if (segments[1] !== 'directory') return notFound(segments[1] ?? 'roleManagement');
    return roleManagement(dir, segments.slice(2), req);
  }
  if (segments[0] === 'identityGovernance' && segments[1] === 'privilegedAccess' && segments[2] === 'group') {
    if (method !== 'GET') return methodNotAllowed();
    if (segments[3] !== 'eligibilityScheduleInstances' || segments.length !== 4) return notFound(segments[3] ?? 'group');
    return groupEligibilities(dir, req);
  }
  if (segments[0] === 'groups' && segments.length === 1 && method === 'GET') return listGroups(dir, req);
  if (segments[0] === 'groups' && segments.length === 3 && (segments[2] === 'owners' || segments[2] === 'members') && method === 'GET') {
    const group = dir.groups.find((g) => g.id === segments[1]!.toLowerCase());
    if (!group) return graphError(404, 'Request_ResourceNotFound', `Resource '${segments[1]}' does not exist or one of its queried reference-property objects are not present.`);
    const users = segments[2] === 'owners' ? group.ownerIds.map((id) => dir.findUser(id)!) : directMembers(dir, group);
    return { status: 200, body: page(users.map(userRef), req, 100) };
  }
  return undefined;
}

function roleManagement(dir: SimDirectory, rest: string[], req: RbacRequest): Outcome {
  const [collection, id] = rest;
  if (collection === 'roleDefinitions') {
    if (id !== undefined) {
      const body = dir.rbac.definitionJson(id.toLowerCase());
      return body ? { status: 200, body } : graphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist.`);
    }
    return { status: 200, body: page(dir.rbac.definitions.map((d) => dir.rbac.definitionJson(d.id)!), req, 100) };
  }
  if (collection !== 'roleAssignments' && collection !== 'roleEligibilityScheduleInstances') return notFound(collection ?? 'directory');
  if (id !== undefined) return notFound(id);
  if (collection === 'roleEligibilityScheduleInstances' && !dir.pimLicensed) return unlicensed();

  const filter = parseFilter(req.query.get('$filter'));
  // The $filter and $expand refusals below are a guess at Graph's wording; the 400 status is Graph's.
  if (!filter.ok) return graphError(400, 'BadRequest', filter.message);
  const expand = req.query.get('$expand');
  const expandDefinition = expand === null ? false : /^roleDefinition(\(.*\))?$/.test(expand);
  if (expand !== null && !expandDefinition) return graphError(400, 'BadRequest', `Could not find a property named '${expand}' to expand.`);

  const kind = collection === 'roleAssignments' ? 'active' : 'eligible';
  const grants = dir.rbac.grants.filter((g) => g.kind === kind && filter.matches(g));
  const items = grants.map((grant) => {
    const json = kind === 'active' ? dir.rbac.assignmentJson(grant) : dir.rbac.eligibilityJson(grant);
    return expandDefinition ? { ...json, roleDefinition: dir.rbac.definitionJson(grant.roleDefinitionId) } : json;
  });
  return { status: 200, body: page(items, req, 100) };
}

type Filter = { ok: true; matches: (grant: SimRoleGrant) => boolean } | { ok: false; message: string };

const FILTERABLE: Record<string, keyof SimRoleGrant> = { principalid: 'principalId', roledefinitionid: 'roleDefinitionId', directoryscopeid: 'directoryScopeId' };

/** `a eq 'x' and b in ('y','z')`: the operators these collections document for these properties. */
function parseFilter(text: string | null): Filter {
  if (text === null || text.trim() === '') return { ok: true, matches: () => true };
  const clauses = text.split(/\s+and\s+/i);
  const tests: ((grant: SimRoleGrant) => boolean)[] = [];
  for (const clause of clauses) {
    const eq = /^\s*(\w+)\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    const inList = /^\s*(\w+)\s+in\s+\(\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\)\s*$/i.exec(clause);
    const property = FILTERABLE[(eq?.[1] ?? inList?.[1] ?? '').toLowerCase()];
    if (!property || (!eq && !inList)) return { ok: false, message: `Invalid filter clause: '${clause.trim()}' is not supported on this collection.` };
    const values = eq ? [eq[2]!] : inList![2]!.split(',').map((v) => v.trim().slice(1, -1));
    const wanted = new Set(values.map((v) => v.toLowerCase()));
    tests.push((grant) => wanted.has(String(grant[property]).toLowerCase()));
  }
  return { ok: true, matches: (grant) => tests.every((test) => test(grant)) };
}

/**
 * PIM for Groups eligibility instances. Graph documents that the list requires `$filter` (eq) scoping it
 * to a principalId or a groupId; the wording of its refusal without one is a guess.
 */
function groupEligibilities(dir: SimDirectory, req: RbacRequest): Outcome {
  if (!dir.pimLicensed) return unlicensed();
  const filter = req.query.get('$filter') ?? '';
  const clauses = filter.trim() === '' ? [] : filter.split(/\s+and\s+/i);
  const tests: ((e: { principalId: string; groupId: string; accessId: string }) => boolean)[] = [];
  let scoped = false;
  for (const clause of clauses) {
    const eq = /^\s*(principalId|groupId|accessId)\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    if (!eq) return graphError(400, 'BadRequest', `Invalid filter clause: '${clause.trim()}' is not supported on this collection.`);
    const property = ({ principalid: 'principalId', groupid: 'groupId', accessid: 'accessId' } as const)[eq[1]!.toLowerCase() as 'principalid' | 'groupid' | 'accessid'];
    if (property !== 'accessId') scoped = true;
    const wanted = eq[2]!.toLowerCase();
    tests.push((e) => e[property].toLowerCase() === wanted);
  }
  if (!scoped) return graphError(400, 'BadRequest', 'The request must be scoped with $filter on principalId or groupId.');
  const items = dir.rbac.groupEligibilities.filter((e) => tests.every((test) => test(e))).map((e) => dir.rbac.groupEligibilityJson(e));
  return { status: 200, body: page(items, req, 100) };
}

function listGroups(dir: SimDirectory, req: RbacRequest): Outcome {
  const filter = req.query.get('$filter');
  let groups = dir.groups;
  if (filter !== null) {
    const match = /^\s*isAssignableToRole\s+eq\s+(true|false)\s*$/i.exec(filter);
    if (!match) return graphError(400, 'Request_UnsupportedQuery', `Unsupported query in this simulator: $filter=${filter}`);
    groups = groups.filter((g) => g.isAssignableToRole === (match[1]!.toLowerCase() === 'true'));
  }
  const expand = req.query.get('$expand');
  const expandOwners = expand !== null && /^owners(\(.*\))?$/.test(expand);
  if (expand !== null && !expandOwners) return graphError(400, 'BadRequest', `Could not find a property named '${expand}' to expand.`);
  const items = groups.map((g) => ({
    '@odata.type': '#microsoft.graph.group',
    id: g.id,
    displayName: g.displayName,
    isAssignableToRole: g.isAssignableToRole,
    ...(expandOwners ? { owners: g.ownerIds.slice(0, EXPAND_LIMIT).map((id) => userRef(dir.findUser(id)!)) } : {}),
  }));
  return { status: 200, body: page(items, req, 100, expandOwners ? 100 : 999) };
}

function directMembers(dir: SimDirectory, group: SimGroup): SimUser[] {
  return dir.users.filter((u) => u.groupIds.includes(group.id));
}

function userRef(user: SimUser): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.user', id: user.id, userPrincipalName: user.userPrincipalName, displayName: user.displayName };
}

/** Graph's answer to a PIM read in a tenant without the licence (as seen in the field: maester365/maester issue 1421). */
function unlicensed(): Outcome {
  return graphError(400, 'AadPremiumLicenseRequired', 'The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.');
}

function notFound(segment: string): Outcome {
  return graphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}

function page<T>(items: T[], req: RbacRequest, defaultTop: number, maxTop = 999): { value: T[]; '@odata.nextLink'?: string } {
  const top = Math.min(maxTop, Math.max(1, Number(req.query.get('$top') ?? defaultTop) || defaultTop));
  const skip = Number(Buffer.from(req.query.get('$skiptoken') ?? '', 'base64url').toString() || '0') || 0;
  const value = items.slice(skip, skip + top);
  if (skip + top >= items.length) return { value };
  const next = new URLSearchParams(req.query);
  next.set('$skiptoken', Buffer.from(String(skip + top)).toString('base64url'));
  return { value, '@odata.nextLink': `${req.origin}/${req.version}${req.path}?${next.toString()}` };
}
