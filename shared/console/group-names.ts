import { z } from 'zod';
import type { GraphTransport } from '../graph/http';

const groupSchema = z.object({ id: z.string(), displayName: z.string().nullish() }).passthrough();

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Group display names for people (GET /groups/{id}?$select=id,displayName, GroupMember.Read.All, which
 * the guards need anyway): the console says "MFA reset console readers", not a GUID. Names are kept ten
 * minutes; a group that cannot be read is named by its id, never an error, since a name is only a label.
 */
export class GroupNames {
  private readonly cache = new Map<string, { name: string | undefined; until: number }>();

  constructor(
    private readonly graph: GraphTransport,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  async name(id: string): Promise<string | undefined> {
    const key = id.toLowerCase();
    if (!GUID.test(key)) return undefined;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.name;
    let name: string | undefined;
    try {
      const response = await this.graph.send({ method: 'GET', version: 'v1.0', path: `/groups/${key}?$select=id,displayName` });
      const parsed = response.status === 200 ? groupSchema.safeParse(response.body) : undefined;
      name = parsed?.success ? (parsed.data.displayName ?? undefined) : undefined;
    } catch {
      name = undefined;
    }
    // A failed read is retried sooner than a name is refreshed.
    this.cache.set(key, { name, until: Date.now() + (name === undefined ? 30_000 : this.ttlMs) });
    return name;
  }

  /** `"MFA reset console readers"`, or the id when the directory does not say. */
  async label(id: string): Promise<string> {
    const name = await this.name(id);
    return name ? `"${name}"` : `group ${id}`;
  }
}
