import { graphError, methodNotAllowed, type Outcome, type SimDirectory, type SimUser } from './directory';
import type { SimRequest } from './handlers';

/**
 * What scheduled remediation reads and writes: Identity Protection's risky users
 * (`GET /identityProtection/riskyUsers`, `$filter` on riskLevel and riskState, paged) and direct
 * group member removal (`DELETE /groups/{id}/members/{id}/$ref`, 204; 404 when the user is not a
 * direct member, as Graph answers).
 */

export type SimRiskLevel = 'low' | 'medium' | 'high' | 'hidden' | 'none';
export type SimRiskState = 'atRisk' | 'confirmedCompromised' | 'remediated' | 'dismissed' | 'none';

interface RiskRecord {
  riskLevel: SimRiskLevel;
  riskState: SimRiskState;
  riskLastUpdatedDateTime: string;
}

const risks = new WeakMap<SimDirectory, Map<string, RiskRecord>>();
/** Risk records by user id, seeded on first use with the ratings the tenant file gives (`riskLevel`). */
const riskOf = (dir: SimDirectory) => {
  let map = risks.get(dir);
  if (!map) {
    risks.set(dir, (map = new Map()));
    const at = new Date().toISOString();
    for (const user of dir.users) if (user.riskLevel) map.set(user.id, { riskLevel: user.riskLevel, riskState: 'atRisk', riskLastUpdatedDateTime: at });
  }
  return map;
};

/** Sets (or raises again) a user's risk, as Identity Protection would; the update time is `at`. */
export function setUserRisk(dir: SimDirectory, key: string, riskLevel: SimRiskLevel, options: { riskState?: SimRiskState; at?: Date } = {}): void {
  const user = dir.findUser(key);
  if (!user) throw new Error(`no user ${key} in the simulated tenant`);
  riskOf(dir).set(user.id, { riskLevel, riskState: options.riskState ?? (riskLevel === 'none' ? 'none' : 'atRisk'), riskLastUpdatedDateTime: (options.at ?? new Date()).toISOString() });
}

function riskyUserJson(user: SimUser, risk: RiskRecord) {
  return {
    id: user.id,
    isDeleted: false,
    isProcessing: false,
    riskLastUpdatedDateTime: risk.riskLastUpdatedDateTime,
    riskLevel: risk.riskLevel,
    riskState: risk.riskState,
    riskDetail: 'none',
    userDisplayName: user.displayName,
    userPrincipalName: user.userPrincipalName,
  };
}

/**
 * The subset of OData `$filter` the riskyUsers list takes here: `riskLevel eq 'x'` and `riskState
 * eq 'y'`, joined with `and` (the enum form `microsoft.graph.riskLevel'high'` too). Anything else is a
 * 400, so a client that sends a filter Graph would read differently is caught.
 */
function readFilter(filter: string | null): { riskLevel?: string; riskState?: string } | undefined {
  if (filter === null || filter.trim() === '') return {};
  const wanted: Record<string, string> = {};
  for (const clause of filter.split(/\s+and\s+/i)) {
    const match = /^\s*(riskLevel|riskState)\s+eq\s+(?:microsoft\.graph\.(?:riskLevel|riskState))?'([A-Za-z]+)'\s*$/.exec(clause);
    if (!match) return undefined;
    wanted[match[1]!] = match[2]!;
  }
  return wanted;
}

export function handleScheduleRoute(dir: SimDirectory, s: string[], method: string, req: SimRequest): Outcome | undefined {
  if (s[0] === 'identityProtection' && s[1] === 'riskyUsers' && s.length === 2) {
    if (method !== 'GET') return methodNotAllowed();
    // The filter refusal's wording is a guess; the 400 status is Graph's.
    const wanted = readFilter(req.query.get('$filter'));
    if (!wanted) return graphError(400, 'BadRequest', `Invalid filter clause: the simulator reads riskLevel eq '…' and riskState eq '…' only.`);
    const rows = dir.users
      .map((user) => ({ user, risk: riskOf(dir).get(user.id) }))
      .filter((row): row is { user: SimUser; risk: RiskRecord } => row.risk !== undefined)
      .filter(({ risk }) => (wanted.riskLevel === undefined || risk.riskLevel === wanted.riskLevel) && (wanted.riskState === undefined || risk.riskState === wanted.riskState))
      .map(({ user, risk }) => riskyUserJson(user, risk));
    return { status: 200, body: pageOf(rows, req) };
  }
  if (s[0] === 'groups' && s[2] === 'members' && s[4] === '$ref' && s.length === 5) {
    const group = dir.groups.find((g) => g.id === s[1]!.toLowerCase());
    if (!group) return graphError(404, 'Request_ResourceNotFound', `Resource '${s[1]}' does not exist or one of its queried reference-property objects are not present.`);
    if (method !== 'DELETE') return methodNotAllowed();
    const user = dir.users.find((u) => u.id === s[3]!.toLowerCase());
    const position = user ? user.groupIds.indexOf(group.id) : -1;
    if (!user || position < 0) {
      return graphError(404, 'Request_ResourceNotFound', `Resource '${s[3]}' does not exist or one of its queried reference-property objects are not present.`);
    }
    user.groupIds.splice(position, 1);
    memberRemovals(dir).push({ groupId: group.id, userId: user.id, at: req.now.toISOString(), requestId: req.requestId });
    return { status: 204 };
  }
  return undefined;
}

const removalLog = new WeakMap<SimDirectory, { groupId: string; userId: string; at: string; requestId: string }[]>();
/** Every member removal the simulator carried out, in order. */
export function memberRemovals(dir: SimDirectory): { groupId: string; userId: string; at: string; requestId: string }[] {
  let log = removalLog.get(dir);
  if (!log) removalLog.set(dir, (log = []));
  return log;
}

/** Graph's paging: `$top` (default 100 here), then @odata.nextLink with a skip token. */
function pageOf<T>(items: T[], req: SimRequest): { value: T[]; '@odata.nextLink'?: string } {
  const top = Math.min(500, Math.max(1, Number(req.query.get('$top') ?? 100) || 100));
  const skip = Number(Buffer.from(req.query.get('$skiptoken') ?? '', 'base64url').toString() || '0') || 0;
  const value = items.slice(skip, skip + top);
  if (skip + top >= items.length) return { value };
  const next = new URLSearchParams(req.query);
  next.set('$skiptoken', Buffer.from(String(skip + top)).toString('base64url'));
  return { value, '@odata.nextLink': `${req.origin}/${req.version}${req.path}?${next.toString()}` };
}
