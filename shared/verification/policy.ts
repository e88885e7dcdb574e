import { z } from 'zod';

/**
 * Which proof of identity a reset needs before its first Graph write. Ordered from looser to stricter:
 * either method is looser than one named method, and a Verified ID presentation with Face Check is the
 * strictest (what VERIFICATION_STRICT_GROUP_IDS demand). A request may ask for stricter, never looser.
 */
export const VERIFICATION_POLICIES = ['none', 'verified-id-or-manager', 'manager', 'verified-id'] as const;
export type VerificationPolicy = (typeof VERIFICATION_POLICIES)[number];
export const verificationPolicySchema = z.enum(VERIFICATION_POLICIES);

/** A method that can pass a verification. */
export type VerificationMethod = 'verified-id' | 'manager';

function rank(policy: VerificationPolicy): number {
  return VERIFICATION_POLICIES.indexOf(policy);
}

export interface PolicyInput {
  /** VERIFICATION_REQUIRED. */
  setting: VerificationPolicy;
  /** What the request itself asked for, if anything (MAC'd with the request). */
  asked?: VerificationPolicy;
  /** Bulk jobs and schedules: verification only when the job asks for it. */
  batch: boolean;
  /** The target is a member of a VERIFICATION_STRICT_GROUP_IDS group. */
  strictMember: boolean;
  dryRun: boolean;
}

/** The policy that applies to one request: the strictest of what the service, the request and the target's groups demand. */
export function effectivePolicy(input: PolicyInput): VerificationPolicy {
  if (input.dryRun) return 'none';
  let policy: VerificationPolicy = input.batch ? 'none' : input.setting;
  if (input.asked && rank(input.asked) > rank(policy)) policy = input.asked;
  // Strict groups demand a Verified ID whenever anything is verified, and for single requests always.
  if (input.strictMember && (!input.batch || policy !== 'none')) policy = 'verified-id';
  return policy;
}

export function methodsOf(policy: VerificationPolicy): VerificationMethod[] {
  if (policy === 'none') return [];
  if (policy === 'verified-id-or-manager') return ['verified-id', 'manager'];
  return [policy];
}
