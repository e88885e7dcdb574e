import type { Settings } from '../config';
import type { RequestRow } from '../requests/request-row';
import { parseVerification } from './verification-state';

/**
 * Who may be shown a request's pass. With verification on, the pass goes to the verified person (the
 * browser that presented, or the attesting manager), never to the agent who took the call: the
 * collector reveal and the machine collection refuse, with why. They stay only for a service that
 * verifies nobody (VERIFICATION_REQUIRED=none) and a request that was not verified.
 */
export function passGoesToVerifiedPerson(row: RequestRow, settings: Pick<Settings, 'VERIFICATION_REQUIRED'>): string | undefined {
  const verification = parseVerification(row.verification);
  if (verification) {
    const to = verification.evidence?.method === 'manager' ? `the manager who verified the user (${verification.evidence.who}), in their console` : 'the verified person, on the verification page that showed them the code';
    return `this request verified the person, so its pass is shown only to ${to}; an agent is shown that a pass was issued and to whom, never the pass`;
  }
  if (settings.VERIFICATION_REQUIRED !== 'none') {
    return `this service verifies people before a reset (VERIFICATION_REQUIRED=${settings.VERIFICATION_REQUIRED}), so passes go to the verified person, never through the collector group`;
  }
  return undefined;
}
