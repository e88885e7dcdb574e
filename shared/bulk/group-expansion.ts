import { expectBody, GraphCallError } from '../graph/context';
import type { GraphTransport } from '../graph/http';
import { splitNextLink } from '../graph/paging';
import { strictEncode } from '../graph/paths';
import { callGraph, defaultRetryPolicy, RetryLaterError } from '../graph/retry';
import { collectionSchema, directoryObjectSchema } from '../graph/schemas';
import { itemsFor } from './bulk-items';
import type { BulkItem } from './bulk-rows';

export type Expansion =
  | { ok: true; items: BulkItem[] }
  /** More user members than `limit`: nobody is reset. `count` is Graph's @odata.count when it gave one. */
  | { ok: false; tooMany: true; seen: number; count?: number; reason: string }
  /** The group does not exist or cannot be read: the job fails (or is refused) with this reason. */
  | { ok: false; tooMany?: false; permanent: true; reason: string }
  /** Graph is throttling or unavailable: try again later. */
  | { ok: false; tooMany?: false; permanent: false; reason: string; retryAt?: Date };

interface Member {
  id: string;
  userPrincipalName: string | undefined;
}

const PAGE_SIZE = 999;

/**
 * A group job's users: every user member of the group, nested groups included, in UPN order so that a
 * second expansion (after a restart) yields the same items at the same positions. Reading stops as
 * soon as more than `limit` users were seen: a group of every user in the tenant is refused after
 * about `limit / 999` pages instead of being read to its end.
 */
export async function expandGroup(
  graph: GraphTransport,
  jobId: string,
  groupId: string,
  tenantDomains: readonly string[],
  options: { limit: number; maxInlineWaitSeconds?: number },
): Promise<Expansion> {
  let read: { members: Member[]; more: boolean; count?: number };
  try {
    read = await readUserMembers(graph, groupId, options.limit, options.maxInlineWaitSeconds ?? 5);
  } catch (error) {
    if (error instanceof GraphCallError && error.status < 500 && error.status !== 429 && error.status !== 408) {
      const reason =
        error.status === 404
          ? `group ${groupId} does not exist in the tenant`
          : error.status === 403
            ? `the app may not read the members of group ${groupId} (GroupMember.Read.All): ${error.message}`
            : `the members of group ${groupId} cannot be listed: ${error.message}`;
      return { ok: false, permanent: true, reason };
    }
    if (error instanceof RetryLaterError) return { ok: false, permanent: false, reason: error.message, retryAt: error.retryAt };
    if (error instanceof GraphCallError || (error instanceof Error && error.name === 'GraphNetworkError')) {
      return { ok: false, permanent: false, reason: error.message };
    }
    throw error;
  }
  if (read.more) {
    const total = read.count !== undefined && read.count > options.limit ? `${read.count} users` : `more than ${options.limit} users`;
    return {
      ok: false,
      tooMany: true,
      seen: read.members.length,
      ...(read.count !== undefined ? { count: read.count } : {}),
      reason: `group ${groupId} has ${total}; a bulk job takes at most ${options.limit}. Split it into smaller groups or CSV files.`,
    };
  }
  const sorted = [...read.members].sort((a, b) => (a.userPrincipalName ?? `~${a.id}`).toLowerCase().localeCompare((b.userPrincipalName ?? `~${b.id}`).toLowerCase()));
  const items = itemsFor(
    jobId,
    sorted.map((member, index) => ({ row: index + 1, value: member.userPrincipalName ?? '' })),
    tenantDomains,
  ).map((item, index) =>
    item.errorCode === 'missing_upn' ? { ...item, userPrincipalName: `(object ${sorted[index]!.id})`, errorMessage: `group member ${sorted[index]!.id} has no userPrincipalName` } : item,
  );
  return { ok: true, items };
}

/**
 * The group's transitive user members, page after page, stopping once more than `limit` were seen.
 * The OData cast is an advanced query: Graph requires `ConsistencyLevel: eventual` and `$count=true`
 * (learn.microsoft.com/graph/api/group-list-transitivemembers). It reads an index that may lag a moment
 * behind membership changes, which a bulk job (unlike a guard) can accept.
 */
async function readUserMembers(graph: GraphTransport, groupId: string, limit: number, maxInlineWaitSeconds: number): Promise<{ members: Member[]; more: boolean; count?: number }> {
  const policy = defaultRetryPolicy({ maxInlineWaitSeconds });
  const schema = collectionSchema(directoryObjectSchema);
  const what = `Listing the members of group ${groupId}`;
  const headers = { ConsistencyLevel: 'eventual' };
  const members: Member[] = [];
  let count: number | undefined;
  let next: { version: 'v1.0' | 'beta'; path: string } | undefined = {
    version: 'v1.0',
    path: `/groups/${strictEncode(groupId)}/transitiveMembers/microsoft.graph.user?$count=true&$select=id,userPrincipalName&$top=${PAGE_SIZE}`,
  };
  while (next) {
    const response = await callGraph(graph, { method: 'GET', version: next.version, path: next.path, headers }, policy);
    const body = expectBody(response, schema, what);
    count ??= body['@odata.count'];
    for (const member of body.value) members.push({ id: member.id, userPrincipalName: member.userPrincipalName ?? undefined });
    if (members.length > limit) return { members, more: true, ...(count !== undefined ? { count } : {}) };
    next = body['@odata.nextLink'] ? splitNextLink(graph.origin, body['@odata.nextLink'], response.requestId) : undefined;
  }
  return { members, more: false, ...(count !== undefined ? { count } : {}) };
}
