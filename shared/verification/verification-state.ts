import { z } from 'zod';
import { verificationPolicySchema } from './policy';

/**
 * A request's verification, kept on its ResetRequests row (property `verification`, JSON) under the
 * row's state MAC. Nothing secret is kept: the page link, the callback api-key and `state` are derived
 * from INTAKE_MAC_KEY when needed (verification-secrets.ts), and the page's browser binding is stored as
 * a hash. Evidence is what a person needs to judge the check later; never the photo.
 */

const isoTime = z.string().datetime({ offset: true });

/** One presentation request sent to the Verified ID Request Service. */
export const presentationAttemptSchema = z.object({
  /** 1, 2, …: the callback `state` and api-key are derived from the request id and this number. */
  n: z.number().int().positive(),
  /** The Request Service's requestId. */
  serviceRequestId: z.string().max(200),
  createdAt: isoTime,
  /** When the presentation request itself expires (the service's `expiry`); a new one can be asked for then. */
  expiresAt: isoTime,
  /** The deep link (openid-vc://…) Microsoft Authenticator opens. */
  url: z.string().max(4096),
  /** The QR code the service returned (a data: URL), kept for the latest attempt only. */
  qrCode: z.string().max(60_000).optional(),
  status: z.enum(['created', 'retrieved', 'verified', 'failed']),
  retrievedAt: isoTime.optional(),
  finishedAt: isoTime.optional(),
  /** Why it failed, in words a person can act on. */
  reason: z.string().max(500).optional(),
});
export type PresentationAttempt = z.infer<typeof presentationAttemptSchema>;

export const evidenceSchema = z.object({
  method: z.enum(['verified-id', 'manager']),
  at: isoTime,
  /** Verified ID: the credential's issuer DID and type, and Face Check's score. */
  issuer: z.string().max(300).optional(),
  credentialType: z.string().max(100).optional(),
  score: z.number().optional(),
  sourcePhotoQuality: z.string().max(40).optional(),
  /** Who presented (the credential's revocationId) or attested (the manager's UPN and object id). */
  who: z.string().max(300),
  objectId: z.string().max(64).optional(),
  /** Manager attestation: when they signed in, how (amr), and the authentication contexts met (acrs). */
  authTime: isoTime.optional(),
  amr: z.array(z.string().max(40)).max(20).optional(),
  acrs: z.array(z.string().max(10)).max(20).optional(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const verificationSchema = z.object({
  version: z.literal(1),
  policy: verificationPolicySchema,
  status: z.enum(['pending', 'passed', 'failed', 'expired']),
  /** The user it verifies (resolved object id and UPN): a verification never carries over to another target. */
  targetObjectId: z.string(),
  targetUpn: z.string(),
  startedAt: isoTime,
  expiresAt: isoTime,
  failures: z.number().int().nonnegative(),
  /** The last failures' reasons, newest last. */
  failureReasons: z.array(z.string().max(500)).max(10).default([]),
  attempts: z.array(presentationAttemptSchema).max(30).default([]),
  /** The target's manager at the time (GET /users/{id}/manager), who may attest. */
  manager: z.object({ objectId: z.string(), userPrincipalName: z.string(), displayName: z.string().optional(), notifiedAt: isoTime.optional() }).optional(),
  /** Why manager attestation is not offered although the policy allows it (no manager, no sender mailbox). */
  managerUnavailable: z.string().max(300).optional(),
  /** Why Verified ID is not offered any more although the policy allows it (the Request Service refused the presentation request). */
  verifiedIdUnavailable: z.string().max(500).optional(),
  /** SHA-256 of the secret the first browser to open the page registered: only that browser sees the QR code and the pass. */
  pageBinding: z.string().max(100).optional(),
  evidence: evidenceSchema.optional(),
  /** Who a pass was shown to, once (never the value). */
  passShownTo: z.string().max(300).optional(),
  passShownAt: isoTime.optional(),
});
export type Verification = z.infer<typeof verificationSchema>;

export function parseVerification(json: string | undefined): Verification | undefined {
  if (!json) return undefined;
  try {
    const parsed = verificationSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The attempt callbacks may still arrive for: the newest one, while it has not finished. */
export function currentAttempt(verification: Verification): PresentationAttempt | undefined {
  const last = verification.attempts[verification.attempts.length - 1];
  return last && (last.status === 'created' || last.status === 'retrieved') ? last : undefined;
}

/** Whether the worker should send a new presentation request: none yet, the last one failed, or it expired unused. */
export function needsNewAttempt(verification: Verification, methods: readonly string[], now: Date): boolean {
  if (verification.status !== 'pending' || !methods.includes('verified-id')) return false;
  if (Date.parse(verification.expiresAt) <= now.getTime()) return false;
  const last = verification.attempts[verification.attempts.length - 1];
  if (!last) return true;
  if (last.status === 'failed') return true;
  return (last.status === 'created' || last.status === 'retrieved') && Date.parse(last.expiresAt) <= now.getTime();
}

/**
 * Whether a message for a request waiting for verification gives the worker something to do: the
 * verification passed, failed or ran out of time, or a new presentation request is due. Otherwise the
 * message is a stray (a replayed wake-up, the expiry check come early) and nothing is claimed.
 */
export function workerHasWork(verification: Verification | undefined, maxFailures: number, now: Date): boolean {
  if (!verification || verification.status !== 'pending') return true;
  if (Date.parse(verification.expiresAt) <= now.getTime()) return true;
  if (verification.failures >= maxFailures) return true;
  const methods = verification.policy === 'verified-id-or-manager' ? ['verified-id', 'manager'] : [verification.policy];
  return needsNewAttempt(verification, verification.verifiedIdUnavailable ? methods.filter((m) => m !== 'verified-id') : methods, now);
}

/** The facts a "verified" ticket note is made from (shared/tickets/note-text.ts). */
export function evidenceFacts(verification: Verification): Record<string, string> {
  const evidence = verification.evidence;
  if (!evidence) return { user: verification.targetUpn };
  return {
    user: verification.targetUpn,
    method: evidence.method,
    who: evidence.who,
    at: evidence.at,
    ...(evidence.issuer ? { issuer: evidence.issuer } : {}),
    ...(evidence.score !== undefined ? { score: String(evidence.score) } : {}),
  };
}
