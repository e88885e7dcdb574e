import { z } from 'zod';
import { expectBody, GraphCallError } from '../graph/context';
import { listGroupUserMembers } from '../graph/members';
import { readAllPages } from '../graph/paging';
import { strictEncode } from '../graph/paths';
import { callGraph, defaultRetryPolicy } from '../graph/retry';
import type { GraphTransport } from '../graph/http';
import { RISK_LEVELS, type RiskLevel } from './schedule-request';

/** A user a schedule run found, with what the risky-users rule needs. */
export interface FoundUser {
  id: string;
  userPrincipalName: string | undefined;
  /** Risky users only: when Identity Protection last changed this user's risk. */
  riskLastUpdatedDateTime?: string;
}

const policy = () => defaultRetryPolicy({ maxInlineWaitSeconds: 5 });
const caller = (graph: GraphTransport) => ({ graph, call: (request: Parameters<GraphTransport['send']>[0]) => callGraph(graph, request, policy()) });

/** Members resolved at run time, nested groups included (members.ts sends the advanced-query headers). */
export async function groupMembers(graph: GraphTransport, groupId: string): Promise<FoundUser[]> {
  const members = await listGroupUserMembers(graph, groupId, { retry: { maxInlineWaitSeconds: 5 } });
  return members.map((member) => ({ id: member.id, userPrincipalName: member.userPrincipalName }));
}

/** riskyUser, as learn.microsoft.com/graph/api/resources/riskyuser documents it (the fields used). */
const riskyUserSchema = z
  .object({
    id: z.string().min(1),
    userPrincipalName: z.string().nullish(),
    riskLevel: z.string(),
    riskState: z.string(),
    riskLastUpdatedDateTime: z.string().nullish(),
    isDeleted: z.boolean().nullish(),
  })
  .passthrough();

/**
 * Users Identity Protection rates at `minimum` or above and still at risk
 * (`GET /identityProtection/riskyUsers?$filter=riskLevel eq 'high' and riskState eq 'atRisk'`, one
 * query per level, every page). IdentityRiskyUser.Read.All; Entra ID P2.
 */
export async function riskyUsers(graph: GraphTransport, minimum: RiskLevel): Promise<FoundUser[]> {
  const levels = RISK_LEVELS.slice(RISK_LEVELS.indexOf(minimum));
  const found = new Map<string, FoundUser>();
  for (const level of levels) {
    const filter = encodeURIComponent(`riskLevel eq '${level}' and riskState eq 'atRisk'`);
    const users = await readAllPages(caller(graph), { version: 'v1.0', path: `/identityProtection/riskyUsers?$filter=${filter}&$top=500` }, riskyUserSchema, `Listing ${level}-risk users`);
    for (const user of users) {
      // The filter is Graph's; checked again here so that a wider answer never widens a run.
      if (user.isDeleted || user.riskState !== 'atRisk' || user.riskLevel !== level) continue;
      found.set(user.id.toLowerCase(), { id: user.id.toLowerCase(), userPrincipalName: user.userPrincipalName ?? undefined, riskLastUpdatedDateTime: user.riskLastUpdatedDateTime ?? undefined });
    }
  }
  return [...found.values()];
}

export type Removal = 'removed' | 'not_direct_member' | 'failed';

/**
 * `DELETE /groups/{id}/members/{userId}/$ref` (GroupMember.ReadWrite.All). A 404 means the user is
 * not a direct member (already removed, or in the group only through a nested group, which this
 * call cannot change).
 */
export async function removeFromGroup(graph: GraphTransport, groupId: string, userId: string): Promise<Removal> {
  const response = await callGraph(graph, { method: 'DELETE', version: 'v1.0', path: `/groups/${strictEncode(groupId)}/members/${strictEncode(userId)}/$ref` }, policy());
  if (response.status === 204) return 'removed';
  if (response.status === 404) return 'not_direct_member';
  return 'failed';
}
