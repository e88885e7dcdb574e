import type { PresentationRequestBody, RequestedCredential } from './request-schema';
import type { PresentScenario } from './types';
import { VERIFIED_EMPLOYEE, credentialDate, holderDid, linkedDomain, verifiedEmployeeClaims, type HeldCredential } from './verified-employee';

/** Documented: "The default is 70." */
export const DEFAULT_FACECHECK_THRESHOLD = 70;
export const DEFAULT_MATCH_SCORE = 92.5;

/**
 * presentation_error codes. Only the Face Check one is documented (using-facecheck: `claimValidationError`,
 * "Match confidence score failing to meet the threshold."); the others are guesses in the same style.
 * The app must treat every presentation_error as a failure whatever its code.
 */
export const PRESENTATION_ERRORS = {
  faceCheckBelowThreshold: { code: 'claimValidationError', message: 'Match confidence score failing to meet the threshold.' },
  // Guess.
  issuerNotAccepted: { code: 'issuerNotAccepted', message: 'The credential was not issued by an accepted issuer.' },
  // Guess: constraints are claim checks, so the documented claim-validation code.
  constraintNotMet: { code: 'claimValidationError', message: 'The credential does not meet the requested claim constraints.' },
  // Guess.
  credentialRevoked: { code: 'credentialRevoked', message: 'The presented credential has been revoked.' },
  // Guess: what the person declining in Authenticator leads to.
  userDeclined: { code: 'userCanceled', message: 'The user declined the presentation request.' },
} as const;

/** A scenario the stand-in's wallet cannot act out for this request (it rejects present()). */
export class NotPresentable extends Error {}

export interface PresentationOutcome {
  /** The callback that ends the presentation. */
  body: Record<string, unknown>;
  /** What the request becomes once the callback is sent ('retrieved' when it does not end it). */
  finalStatus: 'verified' | 'error' | 'retrieved';
  /** Replaces the request's own api-key on this callback (raw scenarios). */
  apiKey?: string;
}

/**
 * The outcome of a scenario as the real service would produce it: it refuses a credential from an issuer
 * outside a non-empty `acceptedIssuers`, one that misses a constraint, a revoked one unless `allowRevoked`,
 * and a Face Check under the threshold, with presentation_error. Anything else it lets through as
 * presentation_verified with the values as they are, so the app's own checks are what must stop it.
 *
 * Authenticator itself also filters credentials by type, issuer and constraints before the person can pick
 * one; a service-side refusal is what an altered wallet would meet, and what the app sees either way.
 */
export function presentationOutcome(requestId: string, request: PresentationRequestBody, scenario: PresentScenario, issuer: string, now: Date): PresentationOutcome {
  const { state } = request.callback;
  if (scenario.kind === 'raw') {
    const status = scenario.body.requestStatus;
    // A forged callback (another api-key) does not end the presentation at the service.
    const finalStatus = scenario.apiKey !== undefined ? 'retrieved' : status === 'presentation_verified' ? 'verified' : status === 'presentation_error' ? 'error' : 'retrieved';
    return { body: scenario.body, finalStatus, ...(scenario.apiKey !== undefined ? { apiKey: scenario.apiKey } : {}) };
  }
  if (scenario.kind === 'error') {
    const error = { code: scenario.code ?? PRESENTATION_ERRORS.userDeclined.code, message: scenario.message ?? PRESENTATION_ERRORS.userDeclined.message };
    return errorOutcome(requestId, state, error);
  }

  const requested = verifiedEmployeeRequest(request);
  const named = namedPerson(requested);
  const needsNamed = scenario.kind !== 'someone-else';
  if (needsNamed && named === undefined) {
    throw new NotPresentable('The request names nobody (no revocationId constraint with values), so there is no "right person" to present as; use someone-else with a upn.');
  }
  const held: HeldCredential = {
    upn: scenario.kind === 'someone-else' ? scenario.upn : named!,
    issuer: scenario.kind === 'other-issuer' ? scenario.issuer : issuer,
    revocationStatus: scenario.kind === 'revoked' ? 'REVOKED' : 'VALID',
  };
  const validation = requested.configuration?.validation;
  const faceCheck = validation?.faceCheck;
  const threshold = faceCheck?.matchConfidenceThreshold ?? DEFAULT_FACECHECK_THRESHOLD;
  const score = scenario.kind === 'low-score' ? (scenario.score ?? Math.max(0, threshold - 20.25)) : scenario.kind === 'self' || scenario.kind === 'someone-else' ? (scenario.score ?? DEFAULT_MATCH_SCORE) : DEFAULT_MATCH_SCORE;
  const claims = verifiedEmployeeClaims(held.upn);

  const accepted = requested.acceptedIssuers ?? [];
  if (accepted.length > 0 && !accepted.includes(held.issuer)) return errorOutcome(requestId, state, PRESENTATION_ERRORS.issuerNotAccepted);
  if (!meetsConstraints(claims, requested)) return errorOutcome(requestId, state, PRESENTATION_ERRORS.constraintNotMet);
  if (held.revocationStatus === 'REVOKED' && validation?.allowRevoked !== true) return errorOutcome(requestId, state, PRESENTATION_ERRORS.credentialRevoked);
  // The score is left out on failure, as documented.
  if (faceCheck !== undefined && score < threshold) return errorOutcome(requestId, state, PRESENTATION_ERRORS.faceCheckBelowThreshold);

  const day = 24 * 60 * 60 * 1000;
  return {
    finalStatus: 'verified',
    body: {
      requestId,
      requestStatus: 'presentation_verified',
      state,
      subject: holderDid(held.upn),
      verifiedCredentialsData: [
        {
          issuer: held.issuer,
          type: ['VerifiableCredential', VERIFIED_EMPLOYEE],
          claims,
          credentialState: { revocationStatus: held.revocationStatus },
          domainValidation: { url: linkedDomain(held.issuer) },
          issuanceDate: credentialDate(new Date(now.getTime() - 30 * day)),
          expirationDate: credentialDate(new Date(now.getTime() + 335 * day)),
          ...(faceCheck !== undefined ? { faceCheck: { matchConfidenceScore: score, sourcePhotoQuality: 'HIGH' } } : {}),
        },
      ],
    },
  };
}

function errorOutcome(requestId: string, state: string, error: { code: string; message: string }): PresentationOutcome {
  return { finalStatus: 'error', body: { requestId, requestStatus: 'presentation_error', state, error: { code: error.code, message: error.message } } };
}

/** The stand-in's wallet holds VerifiedEmployee credentials only. */
function verifiedEmployeeRequest(request: PresentationRequestBody): RequestedCredential {
  const others = request.requestedCredentials.filter((c) => c.type !== VERIFIED_EMPLOYEE);
  const requested = request.requestedCredentials.find((c) => c.type === VERIFIED_EMPLOYEE);
  if (!requested || others.length > 0) {
    throw new NotPresentable(`The stand-in's wallet holds only ${VERIFIED_EMPLOYEE} credentials; this request asks for ${request.requestedCredentials.map((c) => c.type).join(', ')}.`);
  }
  return requested;
}

/** The person a `revocationId` constraint with `values` names (the UPN a VerifiedEmployee carries). */
export function namedPerson(requested: RequestedCredential): string | undefined {
  return requested.constraints?.find((c) => c.claimName === 'revocationId' && c.values !== undefined)?.values?.[0];
}

/** Every constraint must hold (AND); comparisons are case-insensitive, as documented. */
function meetsConstraints(claims: Record<string, string>, requested: RequestedCredential): boolean {
  return (requested.constraints ?? []).every((constraint) => {
    if (!Object.hasOwn(claims, constraint.claimName)) return false;
    const value = claims[constraint.claimName]!.toLowerCase();
    if (constraint.values) return constraint.values.some((v) => v.toLowerCase() === value);
    if (constraint.contains !== undefined) return value.includes(constraint.contains.toLowerCase());
    if (constraint.startsWith !== undefined) return value.startsWith(constraint.startsWith.toLowerCase());
    return false;
  });
}
