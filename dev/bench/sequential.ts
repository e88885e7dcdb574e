import { z } from 'zod';

const userSchema = z.object({ id: z.string() });
const methodsSchema = z.object({ value: z.array(z.object({ id: z.string(), '@odata.type': z.string() })) });

/**
 * The usual script: one Graph call at a time, user after user (list the methods, delete each, the
 * default last, revoke sessions), honouring Retry-After. Runs until `maxSeconds` or every user is done.
 */
export async function sequentialResets(origin: string, upns: readonly string[], maxSeconds: number): Promise<{ users: number; seconds: number; requests: number }> {
  const started = performance.now();
  let requests = 0;
  const call = async (method: string, path: string): Promise<unknown> => {
    for (;;) {
      requests += 1;
      const response = await fetch(`${origin}/v1.0${path}`, { method, headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, body: method === 'POST' ? '{}' : undefined });
      if (response.status === 429 || response.status === 503) {
        const wait = Number(response.headers.get('retry-after') ?? '1');
        await response.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0.05, wait) * 1000));
        continue;
      }
      const text = await response.text();
      if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 200)}`);
      return text ? JSON.parse(text) : undefined;
    }
  };
  let done = 0;
  for (const upn of upns) {
    if ((performance.now() - started) / 1000 >= maxSeconds) break;
    const user = userSchema.parse(await call('GET', `/users/${encodeURIComponent(upn)}?$select=id`));
    const methods = methodsSchema.parse(await call('GET', `/users/${user.id}/authentication/methods`)).value;
    const phones = methods.filter((m) => m['@odata.type'] === '#microsoft.graph.phoneAuthenticationMethod');
    const apps = methods.filter((m) => m['@odata.type'] === '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod');
    for (const phone of phones) await call('DELETE', `/users/${user.id}/authentication/phoneMethods/${phone.id}`);
    for (const app of apps) await call('DELETE', `/users/${user.id}/authentication/microsoftAuthenticatorMethods/${app.id}`);
    await call('POST', `/users/${user.id}/revokeSignInSessions`);
    done += 1;
  }
  return { users: done, seconds: (performance.now() - started) / 1000, requests };
}
