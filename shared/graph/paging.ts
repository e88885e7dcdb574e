import type { z } from 'zod';
import { expectBody, GraphCallError, type StepContext } from './context';
import type { GraphVersion } from './http';
import { collectionSchema } from './schemas';

type Caller = Pick<StepContext, 'call' | 'graph'>;

/** Reads every page of a collection, following @odata.nextLink (which must stay on the same Graph origin). */
export async function readAllPages<T extends z.ZodTypeAny>(
  ctx: Caller,
  first: { version: GraphVersion; path: string; headers?: Record<string, string> },
  item: T,
  what: string,
  maxPages = 1000,
): Promise<z.output<T>[]> {
  const schema = collectionSchema(item);
  const items: z.output<T>[] = [];
  let next: { version: GraphVersion; path: string } | undefined = first;
  for (let page = 0; next && page < maxPages; page += 1) {
    const response = await ctx.call({ method: 'GET', version: next.version, path: next.path, headers: first.headers });
    const body = expectBody(response, schema, what);
    items.push(...(body.value as z.output<T>[]));
    next = body['@odata.nextLink'] ? splitNextLink(ctx.graph.origin, body['@odata.nextLink'], response.requestId) : undefined;
  }
  return items;
}

/** Turns an absolute nextLink into version + path, refusing links that point at another origin. */
export function splitNextLink(origin: string, link: string, requestId?: string): { version: GraphVersion; path: string } {
  const url = new URL(link);
  const match = /^\/(v1\.0|beta)(\/.*)$/.exec(url.pathname);
  if (url.origin !== new URL(origin).origin || !match) {
    throw new GraphCallError(200, requestId, `Graph returned a next page link outside ${origin}: not followed`);
  }
  return { version: match[1] as GraphVersion, path: `${match[2]}${url.search}` };
}
