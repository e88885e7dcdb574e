import { isLoopbackUrl } from '../shared/config';
import { startVerifiedIdSimulator, type RunningVerifiedIdSim } from './verified-id-sim';

export interface LocalVerifiedId {
  sim: RunningVerifiedIdSim | undefined;
  /** Banner lines. */
  lines: string[];
  stop(): Promise<void>;
}

/** The demo verifier's and issuer's DIDs under npm start (the stand-in issues the demo people's VerifiedEmployee cards). */
export const DEMO_VERIFIER_DID = 'did:web:verifier.contoso.com';
export const DEMO_ISSUER_DID = 'did:web:verifiedid.contoso.com';

/**
 * `npm start` with the demo tenant: verifying the person is on (VERIFICATION_REQUIRED
 * verified-id-or-manager unless set), with a local stand-in for the Verified ID Request Service whose
 * wallet page lets a demo person present as themselves, as someone else, with a revoked card or a low
 * Face Check score. A real or explicitly chosen endpoint is left alone.
 */
export async function startLocalVerifiedId(env: NodeJS.ProcessEnv, options: { demoTenant: boolean }): Promise<LocalVerifiedId> {
  const lines: string[] = [];
  const chosen = env.VERIFIED_ID_ENDPOINT && !isLoopbackUrl(env.VERIFIED_ID_ENDPOINT);
  let sim: RunningVerifiedIdSim | undefined;
  if (options.demoTenant && !chosen && !env.VERIFIED_ID_ENDPOINT) {
    sim = await startVerifiedIdSimulator({ issuer: DEMO_ISSUER_DID });
    env.VERIFIED_ID_ENDPOINT = sim.endpoint;
    env.VERIFIED_ID_AUTHORITY ||= DEMO_VERIFIER_DID;
    env.VERIFIED_ID_ACCEPTED_ISSUERS ||= DEMO_ISSUER_DID;
    env.VERIFICATION_REQUIRED ||= 'verified-id-or-manager';
    lines.push(`  verify     ${env.VERIFICATION_REQUIRED} before any write; Verified ID Request Service stand-in ${sim.endpoint}`);
    lines.push(`             wallet (act as the person with Microsoft Authenticator): ${sim.walletUrl}`);
  } else if (env.VERIFICATION_REQUIRED && env.VERIFICATION_REQUIRED !== 'none') {
    lines.push(`  verify     ${env.VERIFICATION_REQUIRED} before any write; Request Service ${env.VERIFIED_ID_ENDPOINT ?? 'https://verifiedid.did.msidentity.com/v1.0'}`);
  }
  return { sim, lines, stop: async () => sim?.stop() };
}
