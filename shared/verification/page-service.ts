import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import type { Logger } from '../log';
import type { RequestStores } from '../request-stores';
import { isRequestId, type StoredRequest } from '../requests/request-row';
import { LeaseLostError, RequestProgress } from '../worker/request-progress';
import { methodsOf } from './policy';
import { revealToVerifiedPerson } from './verified-pass';
import { needsNewAttempt, parseVerification, type Verification } from './verification-state';

const NO_STORE = { 'cache-control': 'no-store' };

export interface PageDependencies extends Pick<RequestStores, 'store' | 'audit' | 'queue' | 'passes' | 'secrets'> {
  settings: { VERIFICATION_MAX_FAILURES: number };
  log: Logger;
  now?: () => Date;
}

/** The page's own secret: 32 random bytes the browser made on first open, Base64url. */
const pageBodySchema = z.object({ secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 random bytes, Base64url') }).strict();

export type PageAction = 'open' | 'new-code' | 'pass';

/**
 * The verification page's JSON (`POST /api/verify/{id}/{token}/{action}`), for the person being verified.
 * The link's token is derived under INTAKE_MAC_KEY for the request (verification-secrets.ts); a wrong
 * one gets the same 404 as an unknown request. The first browser to open the link registers a secret of
 * its own (its hash is kept on the request): only that browser is shown the QR code and, once the reset
 * is done, the pass, so the link alone reveals nothing. `open` registers or checks the binding and
 * answers what the page shows; `new-code` asks the worker for a new presentation request when the
 * last one expired or failed; `pass` shows the pass once.
 */
export async function verificationPage(input: { id: string; token: string; action: PageAction; body: Uint8Array }, deps: PageDependencies): Promise<HttpAnswer> {
  const notFound = errorAnswer(404, 'not_found', 'this verification link is not valid (or no longer is)', undefined, NO_STORE);
  if (!isRequestId(input.id) || !/^[A-Za-z0-9_-]{20,100}$/.test(input.token)) return notFound;
  let secret: string;
  try {
    secret = pageBodySchema.parse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input.body))).secret;
  } catch {
    return errorAnswer(400, 'invalid_request', 'the body must be {"secret": "<32 random bytes, Base64url>"}', undefined, NO_STORE);
  }
  const binding = createHash('sha256').update(`verification-page\n${secret}`).digest('base64url');

  for (let attempt = 0; attempt < 5; attempt += 1) {
    const row = await deps.store.get(input.id);
    const verification = row?.trusted ? parseVerification(row.verification) : undefined;
    if (!row || !verification || !deps.secrets.checkPageToken(row.id, verification.startedAt, input.token)) return notFound;
    try {
      if (!verification.pageBinding) {
        if (input.action !== 'open') return errorAnswer(409, 'not_opened', 'open the page first', undefined, NO_STORE);
        const progress = new RequestProgress(row, deps);
        await progress.audit({ action: 'verification page', outcome: 'opened', detail: 'the verification link was opened; only this browser is shown the code and the pass from now on' });
        const saved = await progress.save({ verification: JSON.stringify({ ...verification, pageBinding: binding }) });
        return jsonAnswer(200, pageView(saved, { ...verification, pageBinding: binding }, deps), NO_STORE);
      }
      if (verification.pageBinding !== binding) {
        return errorAnswer(409, 'opened_elsewhere', 'this link was already opened in another browser; for your safety only that browser can go on. If that was not you, tell the service desk at once.', undefined, NO_STORE);
      }
      if (input.action === 'pass') {
        if (verification.evidence?.method !== 'verified-id') return errorAnswer(403, 'not_verified_here', 'the pass is shown to whoever verified: here only after a Verified ID presentation', undefined, NO_STORE);
        return await revealToVerifiedPerson(row, verification, 'the verified person, on the verification page in the browser that opened the link', deps);
      }
      if (input.action === 'new-code') {
        const now = (deps.now ?? (() => new Date()))();
        const methods = methodsOf(verification.policy).filter((m) => (m === 'verified-id' ? !verification.verifiedIdUnavailable : true));
        if (row.status === 'awaiting_verification' && needsNewAttempt(verification, methods, now)) await deps.queue.send(row.id);
      }
      return jsonAnswer(200, pageView(row, verification, deps), NO_STORE);
    } catch (error) {
      if (error instanceof LeaseLostError) continue;
      throw error;
    }
  }
  return errorAnswer(503, 'busy', 'the request kept changing; try again', undefined, { ...NO_STORE, 'retry-after': '2' });
}

/** What the bound page shows: never a token, key or state; the presentation QR only while it is usable. */
function pageView(row: StoredRequest, verification: Verification, deps: Pick<PageDependencies, 'settings' | 'now'>) {
  const now = (deps.now ?? (() => new Date()))();
  const latest = verification.attempts[verification.attempts.length - 1];
  const usable = verification.status === 'pending' && latest && (latest.status === 'created' || latest.status === 'retrieved') && Date.parse(latest.expiresAt) > now.getTime();
  const passWanted = row.temporaryAccessPass !== undefined;
  const done = ['completed', 'partial'].includes(row.status);
  return {
    request: { id: row.id, ticket: `${row.ticketSystem} ${row.ticketId}`, user: verification.targetUpn, status: row.status },
    verification: {
      status: verification.status,
      expiresAt: verification.expiresAt,
      failures: verification.failures,
      maxFailures: deps.settings.VERIFICATION_MAX_FAILURES,
      verifiedId: !verification.verifiedIdUnavailable && methodsOf(verification.policy).includes('verified-id'),
      manager: verification.manager ? { userPrincipalName: verification.manager.userPrincipalName, displayName: verification.manager.displayName } : undefined,
      presentation: usable ? { url: latest.url, qrCode: latest.qrCode, expiresAt: latest.expiresAt, status: latest.status } : undefined,
      lastFailure: verification.failureReasons[verification.failureReasons.length - 1],
      evidence: verification.evidence ? { method: verification.evidence.method, at: verification.evidence.at, score: verification.evidence.score } : undefined,
    },
    pass: !passWanted
      ? { state: 'none' }
      : verification.passShownAt
        ? { state: 'shown', at: verification.passShownAt }
        : verification.status !== 'passed'
          ? { state: 'not-yet' }
          : verification.evidence?.method !== 'verified-id'
            ? { state: 'elsewhere' }
            : done
              ? { state: 'ready' }
              : { state: 'not-yet' },
  };
}
