import { z } from 'zod';
import type { SimPresentation } from './types';

/**
 * `POST /_stand-in/present` (JSON): act as a person in front of Microsoft Authenticator without the
 * wallet page, for `npm run demo` and scripts: the newest open presentation request whose revocationId
 * constraint names `upn` is presented with the scenario given. JSON only, so a web page elsewhere
 * cannot send it (a cross-origin JSON POST needs a preflight the stand-in never answers).
 */
export const personRequestSchema = z
  .object({
    upn: z.string().min(3).max(256),
    scenario: z.enum(['self', 'someone-else', 'revoked', 'low-score', 'decline']).default('self'),
    /** someone-else: whose credential is presented. */
    as: z.string().min(3).max(256).optional(),
  })
  .strict();
export type PersonRequest = z.infer<typeof personRequestSchema>;

/** The newest open presentation request for the person, if any. */
export function openPresentationFor(presentations: Map<string, SimPresentation>, upn: string, now: Date): SimPresentation | undefined {
  const wanted = upn.toLowerCase();
  const open = [...presentations.values()].filter((p) => {
    if (p.status !== 'created' && p.status !== 'retrieved') return false;
    if (Date.parse(p.expiresAt) <= now.getTime()) return false;
    const constraints = p.body.requestedCredentials.flatMap((c) => c.constraints ?? []);
    return constraints.some((c) => c.claimName === 'revocationId' && (c.values ?? []).some((v) => v.toLowerCase() === wanted));
  });
  return open.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).pop();
}
