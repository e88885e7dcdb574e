import type { GraphTransport } from './http';
import { readAllPages } from './paging';
import { defaultRetryPolicy, callGraph, type RetryPolicy } from './retry';
import { directoryObjectSchema } from './schemas';
import { strictEncode } from './paths';

export interface GroupUserMember {
  id: string;
  userPrincipalName: string | undefined;
  displayName: string | undefined;
  userType: string | undefined;
}

/**
 * Every user in a group, nested groups included, for bulk remediation. Graph pages this list
 * (100 by default, up to 999 with $top); every page is read, each with the advanced-query header.
 */
export async function listGroupUserMembers(
  graph: GraphTransport,
  groupId: string,
  options: { pageSize?: number; retry?: Partial<RetryPolicy> } = {},
): Promise<GroupUserMember[]> {
  const policy = defaultRetryPolicy(options.retry);
  const caller = { graph, call: (request: Parameters<GraphTransport['send']>[0]) => callGraph(graph, request, policy) };
  const top = Math.min(999, Math.max(1, options.pageSize ?? 999));
  const members = await readAllPages(
    caller,
    {
      version: 'v1.0',
      path: `/groups/${strictEncode(groupId)}/transitiveMembers/microsoft.graph.user?$count=true&$select=id,userPrincipalName,displayName,userType&$top=${top}`,
      // The OData cast is an advanced query: Graph requires ConsistencyLevel: eventual and $count=true
      // (learn.microsoft.com/graph/api/group-list-transitivemembers). It reads an index that may lag a
      // moment behind membership changes, which a bulk job started after an incident can accept.
      headers: { ConsistencyLevel: 'eventual' },
    },
    directoryObjectSchema,
    `Listing the members of group ${groupId}`,
  );
  return members.map((m) => ({
    id: m.id,
    userPrincipalName: m.userPrincipalName ?? undefined,
    displayName: m.displayName ?? undefined,
    userType: m.userType ?? undefined,
  }));
}
