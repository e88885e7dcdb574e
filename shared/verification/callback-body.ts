import { z } from 'zod';

/**
 * A Request Service callback as presentation-request-api and using-facecheck document it. Only what the
 * checks read is typed; everything else passes through and is never stored (the receipt, the claims
 * other than revocationId, and any photo).
 */
export const verifiedCredentialSchema = z
  .object({
    issuer: z.string().max(2000),
    type: z.array(z.string().max(200)).max(20),
    claims: z.record(z.string(), z.unknown()).default({}),
    credentialState: z.object({ revocationStatus: z.string().max(40) }).passthrough().optional(),
    domainValidation: z.object({ url: z.string().max(2000) }).passthrough().optional(),
    issuanceDate: z.string().max(60).optional(),
    expirationDate: z.string().max(60).optional(),
    faceCheck: z.object({ matchConfidenceScore: z.number(), sourcePhotoQuality: z.string().max(40).optional() }).passthrough().optional(),
  })
  .passthrough();
export type VerifiedCredential = z.infer<typeof verifiedCredentialSchema>;

export const callbackBodySchema = z
  .object({
    requestId: z.string().min(1).max(200),
    requestStatus: z.string().min(1).max(100),
    state: z.string().min(1).max(400),
    subject: z.string().max(4000).optional(),
    verifiedCredentialsData: z.array(verifiedCredentialSchema).max(10).optional(),
    error: z.object({ code: z.string().max(200).optional(), message: z.string().max(2000).optional() }).passthrough().optional(),
  })
  .passthrough();
export type CallbackBody = z.infer<typeof callbackBodySchema>;
