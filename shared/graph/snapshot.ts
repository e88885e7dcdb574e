import { classify, phoneTypeOf } from './catalogue';
import { GraphCallError, type StepContext } from './context';
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
  // Independent reads: one round trip instead of two.
  const [listed, hardware] = await Promise.all([
    readAllPages(ctx, { version: 'v1.0', path: `/users/${objectId}/authentication/methods` }, authenticationMethodSchema, 'Listing the authentication methods'),
    options.hardwareOath ? readHardwareOath(ctx, objectId) : Promise.resolve([]),
  ]);
  for (const method of hardware) if (!listed.some((known) => known.id === method.id)) listed.push(method);
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

const hardwareOathSchema = authenticationMethodSchema.extend({
  '@odata.type': authenticationMethodSchema.shape['@odata.type'].default('#microsoft.graph.hardwareOathAuthenticationMethod'),
});

/** The beta collection; refused (403/404, e.g. without the beta permission) means no token is seen. */
async function readHardwareOath(ctx: StepContext, objectId: string) {
  try {
    return await readAllPages(ctx, { version: 'beta', path: `/users/${objectId}/authentication/hardwareOathMethods` }, hardwareOathSchema, 'Listing hardware OATH tokens');
  } catch (error) {
    if (error instanceof GraphCallError && (error.status === 403 || error.status === 404)) return [];
    throw error;
  }
}

export async function takeSnapshot(ctx: StepContext, objectId: string, options: { hardwareOath: boolean }): Promise<Snapshot> {
  const [methods, defaultMethod] = await Promise.all([listMethods(ctx, objectId, options), readDefaultMethod(ctx, objectId)]);
  return { takenAt: ctx.now().toISOString(), methods, defaultMethod };
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
