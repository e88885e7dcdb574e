import { z } from 'zod';
import { failure, type StepContext } from './context';
import { readTransitiveMemberships } from './privileged-reads';
import { graphErrorText } from './schemas';
import type { ResetState, ResolvedTarget } from './state';
import type { TemporaryAccessPassRequest } from './sessions';

/**
 * The tenant's Temporary Access Pass policy (v1.0 GET /policies/authenticationMethodsPolicy/
 * authenticationMethodConfigurations/TemporaryAccessPass; application permission
 * Policy.Read.AuthenticationMethod). It bounds the lifetime (Entra's defaults: 60–480 minutes, 60 by
 * default), may force one-time passes, and names who may use one (includeTargets minus excludeTargets:
 * `all_users`, groups, users). Read before anything changes, so a lifetime the policy cannot give is
 * clamped up front and said in the result, and a request whose pass could not be used — a disabled
 * policy, a user the policy does not include, a policy that cannot be read — is refused before any method
 * is removed: "Although you can create a Temporary Access Pass for any user, only users included in the
 * policy can sign in with it" (Entra's Temporary Access Pass how-to).
 */
const targetSchema = z.object({ id: z.string().min(1), targetType: z.string().nullish() }).passthrough();

const policySchema = z
  .object({
    state: z.string().nullish(),
    defaultLifetimeInMinutes: z.number().int().nullish(),
    minimumLifetimeInMinutes: z.number().int().nullish(),
    maximumLifetimeInMinutes: z.number().int().nullish(),
    isUsableOnce: z.boolean().nullish(),
    includeTargets: z.array(targetSchema).nullish(),
    excludeTargets: z.array(targetSchema).nullish(),
  })
  .passthrough();

export type TapPolicy = NonNullable<ResetState['tapPolicy']>;

export const TAP_POLICY_PATH = '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass';

/** The `id` Graph uses in includeTargets for every user of the tenant. */
const ALL_USERS = 'all_users';

/**
 * Graph refusing the read (a missing permission, an answer not understood) is `unavailable`, and the
 * request is refused (passPolicyRefusal); Graph failing (5xx after retries, no answer) throws, so the
 * request ends `failed` and is retried. Never a pass on a policy nobody could read.
 */
export async function readTapPolicy(ctx: Pick<StepContext, 'call'>): Promise<TapPolicy> {
  const response = await ctx.call({ method: 'GET', version: 'v1.0', path: TAP_POLICY_PATH });
  if (response.status >= 500 || response.status === 429) throw failure(response, 'Reading the Temporary Access Pass policy');
  const parsed = response.status === 200 ? policySchema.safeParse(response.body) : undefined;
  if (!parsed?.success) {
    const why = response.status === 200 ? 'answer not understood' : (graphErrorText(response.body) ?? `HTTP ${response.status}`);
    return { source: 'unavailable', note: `the Temporary Access Pass policy could not be read (${why})` };
  }
  const p = parsed.data;
  const targets = (list: z.infer<typeof targetSchema>[]) => list.map((t) => ({ id: t.id.toLowerCase(), targetType: (t.targetType ?? 'group').toLowerCase() }));
  return {
    source: 'policy',
    ...(p.state ? { state: p.state } : {}),
    ...(p.minimumLifetimeInMinutes != null ? { minimumLifetimeInMinutes: p.minimumLifetimeInMinutes } : {}),
    ...(p.maximumLifetimeInMinutes != null ? { maximumLifetimeInMinutes: p.maximumLifetimeInMinutes } : {}),
    ...(p.defaultLifetimeInMinutes != null ? { defaultLifetimeInMinutes: p.defaultLifetimeInMinutes } : {}),
    ...(p.isUsableOnce != null ? { isUsableOnce: p.isUsableOnce } : {}),
    ...(p.includeTargets != null ? { includeTargets: targets(p.includeTargets) } : {}),
    excludeTargets: targets(p.excludeTargets ?? []),
  };
}

export interface PassPolicyRefusal {
  code: string;
  reason: string;
}

const SEND_WITHOUT = 'or send the request without a pass';

/**
 * Whether the pass the request asks for could be used by this user, decided before the first write.
 * The user's groups (transitive: a member of a nested group counts) come from the guard's read when it
 * ran in this attempt, or are read here. A refusal names the policy and what to change.
 */
export async function passPolicyRefusal(
  ctx: Pick<StepContext, 'call' | 'graph'>,
  policy: TapPolicy | undefined,
  target: ResolvedTarget,
  knownGroups?: readonly { id: string; displayName?: string }[],
): Promise<PassPolicyRefusal | undefined> {
  if (!policy) return undefined;
  if (policy.source !== 'policy') {
    return {
      code: 'temporary-access-pass-policy-unreadable',
      reason: `${policy.note ?? 'The Temporary Access Pass policy could not be read'}, so whether ${target.userPrincipalName} could sign in with the requested pass is unknown, and nothing was changed. Grant the app Policy.Read.AuthenticationMethod (infra/scripts/grant-graph-permissions.sh) and send the request again, ${SEND_WITHOUT}.`,
    };
  }
  if (policy.state === 'disabled') return undefined; // refused by the engine's own check, with its own code
  if (!policy.includeTargets) {
    return {
      code: 'temporary-access-pass-policy-unreadable',
      reason: `The Temporary Access Pass policy came without its includeTargets, so whether ${target.userPrincipalName} could sign in with the requested pass is unknown, and nothing was changed. Check the policy in Entra ID (Authentication methods > Policies > Temporary Access Pass) and send the request again, ${SEND_WITHOUT}.`,
    };
  }
  const userId = target.objectId.toLowerCase();
  const targetsGroups = [...policy.includeTargets, ...(policy.excludeTargets ?? [])].some((t) => t.targetType === 'group' && t.id !== ALL_USERS);
  const groups = knownGroups ?? (targetsGroups ? (await readTransitiveMemberships(ctx, userId)).filter((m) => m.type === 'group') : []);
  const memberOf = new Map(groups.map((g) => [g.id.toLowerCase(), g.displayName]));
  const matches = (t: { id: string; targetType: string }) =>
    t.targetType === 'user' ? t.id === userId : t.id === ALL_USERS || memberOf.has(t.id);
  const label = (t: { id: string; targetType: string }) =>
    t.id === ALL_USERS ? 'all users' : t.targetType === 'user' ? `user ${t.id}` : `group ${memberOf.get(t.id) ? `${memberOf.get(t.id)} (${t.id})` : t.id}`;
  const where = 'Entra ID (Authentication methods > Policies > Temporary Access Pass)';
  const excludedBy = (policy.excludeTargets ?? []).filter(matches);
  if (excludedBy.length > 0) {
    return {
      code: 'temporary-access-pass-not-targeted',
      reason: `The tenant's Temporary Access Pass policy excludes ${target.userPrincipalName} (through ${excludedBy.map(label).join(', ')}), so a pass issued now could not be used to sign in, and nothing was changed. Take the user out of the policy's excluded ${excludedBy.some((t) => t.targetType === 'user') ? 'users' : 'groups'} in ${where}, ${SEND_WITHOUT}.`,
    };
  }
  if (!policy.includeTargets.some(matches)) {
    const included = policy.includeTargets.length > 0 ? policy.includeTargets.map(label).join(', ') : 'nobody';
    return {
      code: 'temporary-access-pass-not-targeted',
      reason: `The tenant's Temporary Access Pass policy does not include ${target.userPrincipalName} (it targets ${included}), so a pass issued now could not be used to sign in, and nothing was changed. Add the user, or a group they are in, to the policy's targets in ${where}, ${SEND_WITHOUT}.`,
    };
  }
  return undefined;
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
