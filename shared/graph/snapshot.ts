import { classify, phoneTypeOf } from './catalogue';
import type { StepContext } from './context';
import { describeMethod } from './mask';
import { readAllPages } from './paging';
import { authenticationMethodSchema, signInPreferencesSchema } from './schemas';
import type { Snapshot, SnapshotMethod } from './state';

/**
 * The user's registered methods, masked. v1.0 `/authentication/methods` lists every type it knows;
 * hardware OATH tokens live in a beta-only collection, so that one is read too when asked for. A
 * refused beta read (403/404) is tolerated: the token, if any, then simply is not in the snapshot.
 */
export async function listMethods(ctx: StepContext, objectId: string, options: { hardwareOath: boolean }): Promise<SnapshotMethod[]> {
  const listed = await readAllPages(
    ctx,
    { version: 'v1.0', path: `/users/${objectId}/authentication/methods` },
    authenticationMethodSchema,
    'Listing the authentication methods',
  );
  if (options.hardwareOath) {
    const response = await ctx.call({ method: 'GET', version: 'beta', path: `/users/${objectId}/authentication/hardwareOathMethods` });
    if (response.status === 200) {
      const more = await readAllPages(
        ctx,
        { version: 'beta', path: `/users/${objectId}/authentication/hardwareOathMethods` },
        authenticationMethodSchema.extend({ '@odata.type': authenticationMethodSchema.shape['@odata.type'].default('#microsoft.graph.hardwareOathAuthenticationMethod') }),
        'Listing hardware OATH tokens',
      );
      for (const method of more) if (!listed.some((known) => known.id === method.id)) listed.push(method);
    }
  }
  return listed.map((raw) => {
    const classified = classify(raw['@odata.type']);
    const phoneType = classified.kind === 'phone' ? phoneTypeOf(raw.id, raw.phoneType) : undefined;
    return {
      id: raw.id,
      kind: classified.kind,
      odataType: raw['@odata.type'],
      detail: describeMethod(classified.kind, raw),
      ...(phoneType ? { phoneType } : {}),
    };
  });
}

export async function takeSnapshot(ctx: StepContext, objectId: string, options: { hardwareOath: boolean }): Promise<Snapshot> {
  const methods = await listMethods(ctx, objectId, options);
  return { takenAt: ctx.now().toISOString(), methods, defaultMethod: await readDefaultMethod(ctx, objectId) };
}

/** The default MFA method, from beta signInPreferences; the plan falls back to retry-after-others without it. */
async function readDefaultMethod(ctx: StepContext, objectId: string): Promise<Snapshot['defaultMethod']> {
  const response = await ctx.call({ method: 'GET', version: 'beta', path: `/users/${objectId}/authentication/signInPreferences` });
  if (response.status !== 200) {
    return { source: 'unavailable', note: `signInPreferences answered ${response.status}; a default-method refusal will be retried after the other deletions` };
  }
  const parsed = signInPreferencesSchema.safeParse(response.body);
  if (!parsed.success) return { source: 'unavailable', note: 'signInPreferences answer not understood' };
  const preference = parsed.data.userPreferredMethodForSecondaryAuthentication ?? 'none';
  return { source: 'signInPreferences', preference };
}
