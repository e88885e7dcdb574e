import { z } from 'zod';
import type { GraphTransport } from '../graph/http';
import { userPath } from '../graph/paths';

const managerSchema = z.object({ id: z.string().min(1), userPrincipalName: z.string().min(1), displayName: z.string().nullish() }).passthrough();

export type ManagerLookup =
  | { found: true; objectId: string; userPrincipalName: string; displayName?: string }
  | { found: false; reason: string };

/**
 * The target's manager as the directory says now (GET /users/{id}/manager, User.Read.All). A user with
 * no manager, or a manager who is not a user, cannot be verified this way. A refused or failed read
 * throws: the caller fails closed (no attestation offered) or retries.
 */
export async function readManager(graph: GraphTransport, objectId: string): Promise<ManagerLookup> {
  const response = await graph.send({ method: 'GET', version: 'v1.0', path: `${userPath(objectId)}/manager?$select=id,userPrincipalName,displayName` });
  if (response.status === 404) return { found: false, reason: 'the directory names no manager for this user' };
  if (response.status !== 200) throw new Error(`reading the user's manager: Graph answered ${response.status}`);
  const body = response.body as { '@odata.type'?: unknown } | undefined;
  if (body && typeof body['@odata.type'] === 'string' && body['@odata.type'] !== '#microsoft.graph.user') {
    return { found: false, reason: "the user's manager in the directory is not a person who can sign in" };
  }
  const parsed = managerSchema.safeParse(body);
  if (!parsed.success) throw new Error("reading the user's manager: Graph's answer had no id and userPrincipalName");
  return { found: true, objectId: parsed.data.id.toLowerCase(), userPrincipalName: parsed.data.userPrincipalName, ...(parsed.data.displayName ? { displayName: parsed.data.displayName } : {}) };
}
