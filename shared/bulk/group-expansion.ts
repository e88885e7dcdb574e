import { GraphCallError } from '../graph/context';
import { listGroupUserMembers, RetryLaterError, type GraphTransport } from '../graph';
import { itemsFor } from './bulk-items';
import type { BulkItem } from './bulk-rows';

export type Expansion =
  | { ok: true; items: BulkItem[] }
  /** The group does not exist or cannot be read: the job fails with this reason. */
  | { ok: false; permanent: true; reason: string }
  /** Graph is throttling or unavailable: try again on a later tick. */
  | { ok: false; permanent: false; reason: string };

/**
 * A group job's users: every user member of the group, nested groups included, in UPN order so that a
 * second expansion (after a restart) yields the same items at the same positions.
 */
export async function expandGroup(graph: GraphTransport, jobId: string, groupId: string, tenantDomains: readonly string[]): Promise<Expansion> {
  try {
    const members = await listGroupUserMembers(graph, groupId, { retry: { maxInlineWaitSeconds: 5 } });
    const sorted = [...members].sort((a, b) => (a.userPrincipalName ?? `~${a.id}`).toLowerCase().localeCompare((b.userPrincipalName ?? `~${b.id}`).toLowerCase()));
    const items = itemsFor(
      jobId,
      sorted.map((member, index) => ({ row: index + 1, value: member.userPrincipalName ?? '' })),
      tenantDomains,
    ).map((item, index) =>
      item.errorCode === 'missing_upn' ? { ...item, userPrincipalName: `(object ${sorted[index]!.id})`, errorMessage: `group member ${sorted[index]!.id} has no userPrincipalName` } : item,
    );
    return { ok: true, items };
  } catch (error) {
    if (error instanceof GraphCallError && error.status < 500 && error.status !== 429) {
      const reason =
        error.status === 404
          ? `group ${groupId} does not exist in the tenant`
          : error.status === 403
            ? `the app may not read the members of group ${groupId} (GroupMember.Read.All): ${error.message}`
            : `the members of group ${groupId} cannot be listed: ${error.message}`;
      return { ok: false, permanent: true, reason };
    }
    if (error instanceof RetryLaterError || error instanceof GraphCallError || (error instanceof Error && error.name === 'GraphNetworkError')) {
      return { ok: false, permanent: false, reason: error.message };
    }
    throw error;
  }
}
