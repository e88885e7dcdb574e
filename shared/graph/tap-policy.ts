import { z } from 'zod';
import type { StepContext } from './context';
import { GraphNetworkError } from './http';
import { graphErrorText } from './schemas';
import type { ResetState } from './state';
import type { TemporaryAccessPassRequest } from './sessions';

/**
 * The tenant's Temporary Access Pass policy (v1.0 GET /policies/authenticationMethodsPolicy/
 * authenticationMethodConfigurations/TemporaryAccessPass; application permission
 * Policy.Read.AuthenticationMethod). It bounds the lifetime (Entra's defaults: 60–480 minutes, 60 by
 * default), may force one-time passes, and names who may get one. Read before anything changes, so a
 * lifetime the policy cannot give is clamped up front and said in the result, and a disabled policy
 * refuses the request before any method is removed. Who the policy targets is left to Graph, whose
 * refusal the result carries.
 */
const policySchema = z
  .object({
    state: z.string().nullish(),
    defaultLifetimeInMinutes: z.number().int().nullish(),
    minimumLifetimeInMinutes: z.number().int().nullish(),
    maximumLifetimeInMinutes: z.number().int().nullish(),
    isUsableOnce: z.boolean().nullish(),
  })
  .passthrough();

export type TapPolicy = NonNullable<ResetState['tapPolicy']>;

export const TAP_POLICY_PATH = '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass';

/** Never throws for an answer: a policy that cannot be read leaves the decision to Graph at creation. */
export async function readTapPolicy(ctx: Pick<StepContext, 'call'>): Promise<TapPolicy> {
  let response;
  try {
    response = await ctx.call({ method: 'GET', version: 'v1.0', path: TAP_POLICY_PATH });
  } catch (error) {
    if (error instanceof GraphNetworkError) return { source: 'unavailable', note: `the Temporary Access Pass policy could not be read (no answer: ${error.message})` };
    throw error;
  }
  const parsed = response.status === 200 ? policySchema.safeParse(response.body) : undefined;
  if (!parsed?.success) {
    const why = response.status === 200 ? 'answer not understood' : (graphErrorText(response.body) ?? `HTTP ${response.status}`);
    return { source: 'unavailable', note: `the Temporary Access Pass policy could not be read (${why}); Graph applies it when the pass is created` };
  }
  const p = parsed.data;
  return {
    source: 'policy',
    ...(p.state ? { state: p.state } : {}),
    ...(p.minimumLifetimeInMinutes != null ? { minimumLifetimeInMinutes: p.minimumLifetimeInMinutes } : {}),
    ...(p.maximumLifetimeInMinutes != null ? { maximumLifetimeInMinutes: p.maximumLifetimeInMinutes } : {}),
    ...(p.defaultLifetimeInMinutes != null ? { defaultLifetimeInMinutes: p.defaultLifetimeInMinutes } : {}),
    ...(p.isUsableOnce != null ? { isUsableOnce: p.isUsableOnce } : {}),
  };
}

/** The request as the policy can grant it, and what changed, in words for the result. */
export function fitToPolicy(request: TemporaryAccessPassRequest, policy: TapPolicy | undefined): { request: TemporaryAccessPassRequest; adjusted?: string } {
  if (!policy || policy.source !== 'policy') return { request };
  const changes: string[] = [];
  const fitted = { ...request };
  const { minimumLifetimeInMinutes: min, maximumLifetimeInMinutes: max } = policy;
  if (fitted.lifetimeInMinutes !== undefined && max !== undefined && fitted.lifetimeInMinutes > max) {
    changes.push(`lifetime ${fitted.lifetimeInMinutes} minutes clamped to ${max}, the tenant policy's maximum`);
    fitted.lifetimeInMinutes = max;
  }
  if (fitted.lifetimeInMinutes !== undefined && min !== undefined && fitted.lifetimeInMinutes < min) {
    changes.push(`lifetime ${fitted.lifetimeInMinutes} minutes raised to ${min}, the tenant policy's minimum`);
    fitted.lifetimeInMinutes = min;
  }
  if (policy.isUsableOnce === true && fitted.isUsableOnce === false) {
    changes.push('made one-time use: the tenant policy allows no reusable passes');
    fitted.isUsableOnce = true;
  }
  return changes.length > 0 ? { request: fitted, adjusted: changes.join('; ') } : { request: fitted };
}
