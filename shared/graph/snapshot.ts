import { z } from 'zod';
import { graphCloudOf } from '../graph-clouds';
import { classify, phoneTypeOf } from './catalogue';
import { GraphCallError, type StepContext } from './context';
import { describeMethod } from './mask';
import { readAllPages } from './paging';
import { authenticationMethodSchema, signInPreferencesSchema } from './schemas';
import type { Snapshot, SnapshotMethod } from './state';

export interface MethodListing {
  methods: SnapshotMethod[];
  hardwareOath: Snapshot['hardwareOath'];
}

/**
 * The user's registered methods, masked. v1.0 `/authentication/methods` lists every type it knows;
 * hardware OATH tokens live in a beta-only collection, so that one is read too when in scope, with
 * `$expand=device`: serial, model and status are on the token's device, not on the method. A refused
 * beta read (403/404) is not "no tokens": the listing says `unavailable`, and the reset cannot end
 * `completed` while tokens in scope may be left.
 */
export async function listMethods(ctx: StepContext, objectId: string, options: { hardwareOath: boolean }): Promise<MethodListing> {
  // Independent reads: one round trip instead of two.
  const [listed, hardware] = await Promise.all([
    readAllPages(ctx, { version: 'v1.0', path: `/users/${objectId}/authentication/methods` }, authenticationMethodSchema, 'Listing the authentication methods'),
    options.hardwareOath ? readHardwareOath(ctx, objectId) : Promise.resolve({ tokens: [], state: { source: 'not-read' as const } }),
  ]);
  const methods: SnapshotMethod[] = listed.map((raw) => {
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
  for (const token of hardware.tokens) {
    if (methods.some((known) => known.id === token.id)) continue;
    const device = token.device ?? undefined;
    methods.push({
      id: token.id,
      kind: 'hardwareOath',
      odataType: token['@odata.type'],
      detail: describeMethod('hardwareOath', { ...(device ?? {}), id: token.id }),
      ...(device?.status ? { deviceStatus: device.status } : {}),
    });
  }
  return { methods, hardwareOath: hardware.state };
}

const hardwareDeviceSchema = z
  .object({
    displayName: z.string().nullish(),
    serialNumber: z.string().nullish(),
    manufacturer: z.string().nullish(),
    model: z.string().nullish(),
    status: z.string().nullish(),
  })
  .passthrough();

const hardwareOathSchema = authenticationMethodSchema.extend({
  '@odata.type': authenticationMethodSchema.shape['@odata.type'].default('#microsoft.graph.hardwareOathAuthenticationMethod'),
  device: hardwareDeviceSchema.nullish(),
});

const GLOBAL_ONLY =
  "Graph offers beta hardwareOathMethods in the global cloud only, so check the user's tokens in the admin center, or leave hardwareOath out of the request's methods where the tenant has none";

/**
 * The beta collection with each token's device; refused or missing (400/404: an endpoint Graph does not
 * offer there) is reported, never read as "none". Outside the global cloud it is not asked for at all.
 */
async function readHardwareOath(ctx: StepContext, objectId: string): Promise<{ tokens: z.output<typeof hardwareOathSchema>[]; state: Snapshot['hardwareOath'] }> {
  const cloud = graphCloudOf(ctx.graph.origin);
  if (cloud && !cloud.offers.hardwareOathMethods) {
    return { tokens: [], state: { source: 'unavailable', note: `hardware OATH tokens could not be read: ${GLOBAL_ONLY} (this is the ${cloud.name} cloud)` } };
  }
  try {
    const tokens = await readAllPages(
      ctx,
      { version: 'beta', path: `/users/${objectId}/authentication/hardwareOathMethods?$expand=device` },
      hardwareOathSchema,
      'Listing hardware OATH tokens',
    );
    return { tokens, state: { source: 'listed' } };
  } catch (error) {
    if (error instanceof GraphCallError && (error.status === 401 || error.status === 403)) {
      return {
        tokens: [],
        state: {
          source: 'unavailable',
          note: `hardware OATH tokens could not be read (${error.message}); grant UserAuthenticationMethod.Read.All for beta hardwareOathMethods, or check the tokens in the admin center`,
        },
      };
    }
    if (error instanceof GraphCallError && (error.status === 400 || error.status === 404)) {
      return {
        tokens: [],
        state: {
          source: 'unavailable',
          note: `hardware OATH tokens could not be read (${error.message}): check the user's tokens in the admin center, or leave hardwareOath out of the request's methods where the tenant has none`,
        },
      };
    }
    throw error;
  }
}

export async function takeSnapshot(ctx: StepContext, objectId: string, options: { hardwareOath: boolean }): Promise<Snapshot> {
  const [listing, defaultMethod] = await Promise.all([listMethods(ctx, objectId, options), readDefaultMethod(ctx, objectId)]);
  return { takenAt: ctx.now().toISOString(), methods: listing.methods, defaultMethod, hardwareOath: listing.hardwareOath };
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
