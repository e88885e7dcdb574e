import type { Evidence } from './verification-state';
import type { CallbackBody, VerifiedCredential } from './callback-body';

export interface PresentationExpectations {
  /** VERIFIED_ID_ACCEPTED_ISSUERS (never empty). */
  acceptedIssuers: readonly string[];
  /** VERIFIED_ID_FACECHECK_THRESHOLD. */
  threshold: number;
  /** The resolved target's UPN: the credential's revocationId must be exactly this user. */
  targetUpn: string;
  /** The verification's deadline. */
  expiresAt: string;
}

export type PresentationVerdict = { ok: true; evidence: Evidence } | { ok: false; reason: string };

/**
 * Every claim of a `presentation_verified` callback checked again on arrival, whatever the service
 * says it checked: the issuer is one we accept, the credential is a VerifiedEmployee, its revocationId
 * is the target's UPN (case-blind), it is not revoked, Face Check ran and scored at least our threshold,
 * the credential has not expired, and the verification itself has not. Anything else fails, with a reason.
 */
export function checkPresentation(body: CallbackBody, expect: PresentationExpectations, now: Date): PresentationVerdict {
  if (now.getTime() > Date.parse(expect.expiresAt)) return { ok: false, reason: `the verification had expired at ${expect.expiresAt}` };
  const credentials = body.verifiedCredentialsData ?? [];
  const employee = credentials.filter((credential) => credential.type.includes('VerifiedEmployee'));
  if (employee.length !== 1) {
    return { ok: false, reason: employee.length === 0 ? 'no VerifiedEmployee credential was presented' : 'more than one VerifiedEmployee credential was presented' };
  }
  const credential = employee[0]!;
  if (!expect.acceptedIssuers.includes(credential.issuer)) {
    return { ok: false, reason: `the credential's issuer ${clip(credential.issuer)} is not one of VERIFIED_ID_ACCEPTED_ISSUERS` };
  }
  const revocationId = credential.claims.revocationId;
  if (typeof revocationId !== 'string' || revocationId.trim().toLowerCase() !== expect.targetUpn.toLowerCase()) {
    return { ok: false, reason: `the credential belongs to ${typeof revocationId === 'string' ? clip(revocationId) : 'nobody named'}, not ${expect.targetUpn}` };
  }
  const revocation = credential.credentialState?.revocationStatus;
  if (revocation !== 'VALID') return { ok: false, reason: `the credential's revocation status is ${revocation ? clip(revocation) : 'missing'}, not VALID` };
  if (credential.expirationDate && Date.parse(credential.expirationDate) <= now.getTime()) {
    return { ok: false, reason: `the credential expired at ${clip(credential.expirationDate)}` };
  }
  const face = faceCheckOf(credential);
  if (!face) return { ok: false, reason: 'no Face Check result came with the presentation' };
  if (face.score < expect.threshold) return { ok: false, reason: `Face Check scored ${face.score.toFixed(1)}, under the threshold ${expect.threshold}` };
  return {
    ok: true,
    evidence: {
      method: 'verified-id',
      at: now.toISOString(),
      issuer: credential.issuer,
      credentialType: 'VerifiedEmployee',
      score: Math.round(face.score * 10) / 10,
      ...(face.quality ? { sourcePhotoQuality: face.quality } : {}),
      who: revocationId.trim(),
    },
  };
}

function faceCheckOf(credential: VerifiedCredential): { score: number; quality?: string } | undefined {
  const face = credential.faceCheck;
  if (!face || !Number.isFinite(face.matchConfidenceScore)) return undefined;
  return { score: face.matchConfidenceScore, ...(face.sourcePhotoQuality ? { quality: face.sourcePhotoQuality } : {}) };
}

function clip(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > 120 ? `${clean.slice(0, 119)}…` : clean;
}
