import type { Settings } from '../config';

export type PresentationSettings = Pick<
  Settings,
  'VERIFIED_ID_AUTHORITY' | 'VERIFIED_ID_ACCEPTED_ISSUERS' | 'VERIFIED_ID_FACECHECK_THRESHOLD' | 'VERIFIED_ID_CLIENT_NAME' | 'CONSOLE_BASE_URL'
>;

/** The route the Request Service posts its events to (functions/verification-callback.ts). */
export const CALLBACK_PATH = '/api/verification/callback';

/**
 * The presentation request for one attempt, as presentation-request-api documents it: one
 * `VerifiedEmployee` credential from the accepted issuers only (never an empty list, which would accept
 * any issuer), not revoked, from a validated linked domain, with Face Check against the credential's
 * photo at our threshold, and the credential's `revocationId` (the UPN) pinned to the target. No
 * receipt: the service gives none with Face Check. The callback carries a per-attempt api-key.
 */
export function presentationRequestBody(
  settings: PresentationSettings,
  input: { ticket: string; targetUpn: string; state: string; apiKey: string },
): Record<string, unknown> {
  if (!settings.VERIFIED_ID_AUTHORITY || settings.VERIFIED_ID_ACCEPTED_ISSUERS.length === 0 || !settings.CONSOLE_BASE_URL) {
    throw new Error('Verified ID is not configured: VERIFIED_ID_AUTHORITY, VERIFIED_ID_ACCEPTED_ISSUERS and CONSOLE_BASE_URL are needed');
  }
  return {
    authority: settings.VERIFIED_ID_AUTHORITY,
    includeQRCode: true,
    registration: {
      clientName: settings.VERIFIED_ID_CLIENT_NAME,
      purpose: purposeText(input.ticket),
    },
    callback: {
      url: `${settings.CONSOLE_BASE_URL.replace(/\/+$/, '')}${CALLBACK_PATH}`,
      state: input.state,
      headers: { 'api-key': input.apiKey },
    },
    requestedCredentials: [
      {
        type: 'VerifiedEmployee',
        purpose: purposeText(input.ticket),
        acceptedIssuers: [...settings.VERIFIED_ID_ACCEPTED_ISSUERS],
        configuration: {
          validation: {
            allowRevoked: false,
            validateLinkedDomain: true,
            faceCheck: { sourcePhotoClaimName: 'photo', matchConfidenceThreshold: settings.VERIFIED_ID_FACECHECK_THRESHOLD },
          },
        },
        constraints: [{ claimName: 'revocationId', values: [input.targetUpn] }],
      },
    ],
  };
}

/** What Microsoft Authenticator shows the person: which ticket, and that they must not go on unless they asked. */
export function purposeText(ticket: string): string {
  return `Confirm it is you before your MFA methods are reset for ticket ${ticket.slice(0, 80)}. Only continue if you asked for this.`;
}
