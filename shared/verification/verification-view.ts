import QRCode from 'qrcode';
import type { RequestRow } from '../requests/request-row';
import { methodsOf } from './policy';
import type { VerificationSecrets } from './verification-secrets';
import { parseVerification } from './verification-state';

/**
 * What the status answer and the console show of a request's verification: the method(s), the state,
 * the expiry, failures, evidence, who a pass was shown to, and, for the person, the link to hand over
 * with a QR code of it (the page the link opens is bound to the first browser that opens it). Never a
 * callback state, api-key, page secret or the pass itself.
 */
export async function verificationView(row: RequestRow, secrets: VerificationSecrets, baseUrl: string | undefined) {
  const verification = parseVerification(row.verification);
  if (!verification) return undefined;
  const link = baseUrl ? `${baseUrl.replace(/\/+$/, '')}/api/verify/${row.id}/${secrets.pageToken(row.id, verification.startedAt)}` : undefined;
  const open = verification.status === 'pending';
  const latest = verification.attempts[verification.attempts.length - 1];
  return {
    policy: verification.policy,
    methods: methodsOf(verification.policy).filter((method) => (method === 'manager' ? verification.manager !== undefined : !verification.verifiedIdUnavailable)),
    status: verification.status,
    startedAt: verification.startedAt,
    expiresAt: verification.expiresAt,
    failures: verification.failures,
    failureReasons: verification.failureReasons,
    ...(open && link ? { link, linkQrCode: await QRCode.toDataURL(link, { margin: 1, width: 240 }) } : {}),
    pageOpened: verification.pageBinding !== undefined,
    presentation: latest ? { n: latest.n, status: latest.status, createdAt: latest.createdAt, expiresAt: latest.expiresAt, ...(latest.retrievedAt ? { retrievedAt: latest.retrievedAt } : {}) } : undefined,
    ...(verification.manager ? { manager: { userPrincipalName: verification.manager.userPrincipalName, displayName: verification.manager.displayName } } : {}),
    ...(verification.managerUnavailable ? { managerUnavailable: verification.managerUnavailable } : {}),
    ...(verification.verifiedIdUnavailable ? { verifiedIdUnavailable: verification.verifiedIdUnavailable } : {}),
    ...(verification.evidence ? { evidence: verification.evidence } : {}),
    ...(verification.passShownTo ? { passShownTo: verification.passShownTo, passShownAt: verification.passShownAt } : {}),
  };
}
