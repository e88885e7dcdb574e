import { z } from 'zod';
import { expectBody, type StepContext } from './context';
import { isObjectId, userPath } from './paths';

/**
 * Break-glass accounts are matched by object id, so renaming one does not take it off the list.
 * BREAK_GLASS_IDS holds object ids; each BREAK_GLASS_UPNS entry is resolved to its object id once per
 * process (the first reset after start) and the id is kept: a rename after that still matches. An
 * entry that does not resolve refuses every reset until it is fixed, since a misspelt or renamed
 * break-glass entry would otherwise silently protect nobody.
 */

const resolved = new Map<string, Promise<string | undefined>>();

const idSchema = z.object({ id: z.string().min(1) }).passthrough();

export type BreakGlassIds = { ok: true; ids: Set<string> } | { ok: false; unresolved: string[] };

export async function breakGlassIds(ctx: Pick<StepContext, 'call' | 'graph'>, upns: readonly string[], ids: readonly string[]): Promise<BreakGlassIds> {
  const set = new Set(ids.map((id) => id.toLowerCase()));
  const unresolved: string[] = [];
  await Promise.all(
    upns.map(async (entry) => {
      if (isObjectId(entry)) {
        set.add(entry.toLowerCase());
        return;
      }
      const key = `${ctx.graph.origin}|${entry.toLowerCase()}`;
      let lookup = resolved.get(key);
      if (!lookup) {
        lookup = resolveOnce(ctx, entry);
        resolved.set(key, lookup);
        // A failed read is not remembered: the next reset tries again.
        lookup.catch(() => resolved.delete(key));
      }
      const id = await lookup;
      if (id) set.add(id);
      else unresolved.push(entry);
    }),
  );
  return unresolved.length > 0 ? { ok: false, unresolved } : { ok: true, ids: set };
}

async function resolveOnce(ctx: Pick<StepContext, 'call'>, upn: string): Promise<string | undefined> {
  const response = await ctx.call({ method: 'GET', version: 'v1.0', path: `${userPath(upn)}?$select=id` });
  if (response.status === 404) return undefined;
  return expectBody(response, idSchema, `Resolving break-glass account ${upn}`).id.toLowerCase();
}

/** For tests: forget what was resolved. */
export function forgetBreakGlassIds(): void {
  resolved.clear();
}
