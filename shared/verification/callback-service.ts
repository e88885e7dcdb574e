import type { Settings } from '../config';
import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import type { Logger } from '../log';
import type { RequestStores } from '../request-stores';
import { LeaseLostError, RequestProgress } from '../worker/request-progress';
import { callbackBodySchema, type CallbackBody } from './callback-body';
import { checkPresentation } from './presentation-check';
import { evidenceFacts, parseVerification, type PresentationAttempt, type Verification } from './verification-state';
import type { TicketHook } from '../tickets/open-outbox';

/** A callback is small JSON; anything larger is not the Request Service's. */
export const MAX_CALLBACK_BYTES = 64 * 1024;

export type CallbackSettings = Pick<Settings, 'VERIFIED_ID_ACCEPTED_ISSUERS' | 'VERIFIED_ID_FACECHECK_THRESHOLD' | 'VERIFICATION_MAX_FAILURES'>;

export interface CallbackDependencies extends Pick<RequestStores, 'store' | 'audit' | 'queue' | 'secrets'> {
  settings: CallbackSettings;
  /** The ticket outbox: a note when the verification passes (or finally fails). */
  tickets?: TicketHook;
  log: Logger;
  now?: () => Date;
}

/**
 * `POST /api/verification/callback`: the Verified ID Request Service's events. The route is anonymous
 * at the host (the service sends only the headers we gave it), so this is its whole authentication: the
 * `state` must be one this service derived for the request and attempt (MAC), and the `api-key` header
 * that attempt's own key, compared in constant time; the service's requestId must be the attempt's.
 * `request_retrieved` is recorded; `presentation_verified` passes only if every claim checks again
 * (presentation-check.ts); `presentation_error` and anything that fails count a failure. A callback for
 * an attempt already settled, or a request no longer waiting, changes nothing (replays). Every outcome
 * is audited, and the worker is woken to go on, try a new code, or end the request.
 */
export async function receiveVerificationCallback(input: { body: Uint8Array; apiKey: string | null }, deps: CallbackDependencies): Promise<HttpAnswer> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input.body));
  } catch {
    return errorAnswer(400, 'invalid_json', 'the body is not JSON');
  }
  const parsed = callbackBodySchema.safeParse(json);
  if (!parsed.success) return errorAnswer(400, 'invalid_callback', 'the body is not a Request Service callback (requestId, requestStatus, state)');
  const body = parsed.data;
  const named = deps.secrets.readState(body.state);
  // One answer for an unknown state and a wrong key: neither says which part was wrong.
  if (!named || !deps.secrets.checkApiKey(named.requestId, named.attempt, input.apiKey)) {
    deps.log.warn('verification callback refused: unknown state or wrong api-key');
    return errorAnswer(401, 'unauthenticated', 'this callback does not carry the state and api-key of a presentation request this service made');
  }

  let pending = 0;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const row = await deps.store.get(named.requestId);
    if (!row || !row.trusted) return errorAnswer(409, 'not_waiting', 'the request this callback is for cannot be used');
    const verification = parseVerification(row.verification);
    const presentation = verification?.attempts.find((candidate) => candidate.n === named.attempt);
    // The worker sends a presentation request before it saves it: a callback for that very attempt
    // (its state is ours, MAC'd) can overtake the save. Wait a moment for it rather than lose the callback.
    if (verification && !presentation && named.attempt === verification.attempts.length + 1 && pending < 20) {
      pending += 1;
      attempt -= 1;
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    if (!verification || !presentation || presentation.serviceRequestId !== body.requestId) {
      return errorAnswer(409, 'unknown_presentation', 'this callback names a presentation request the request does not know');
    }
    const settled = row.status !== 'awaiting_verification' || verification.status !== 'pending' || presentation.status === 'verified' || presentation.status === 'failed';
    if (settled) return jsonAnswer(200, { outcome: 'ignored', reason: 'this presentation was settled already; nothing changed' });

    const progress = new RequestProgress(row, deps);
    try {
      const outcome = await apply(progress, verification, presentation, body, deps);
      return jsonAnswer(200, { outcome });
    } catch (error) {
      if (error instanceof LeaseLostError) continue; // the row changed meanwhile (another callback): read it again
      throw error;
    }
  }
  return errorAnswer(503, 'busy', 'the request kept changing; send the callback again', undefined, { 'retry-after': '2' });
}

async function apply(
  progress: RequestProgress,
  verification: Verification,
  presentation: PresentationAttempt,
  body: CallbackBody,
  deps: CallbackDependencies,
): Promise<string> {
  const now = (deps.now ?? (() => new Date()))();
  const at = now.toISOString();
  const replace = (next: PresentationAttempt): Verification => ({ ...verification, attempts: verification.attempts.map((a) => (a.n === next.n ? next : a)) });

  if (body.requestStatus === 'request_retrieved') {
    if (presentation.status !== 'created') return 'ignored';
    await progress.audit({ action: 'verification presentation', outcome: 'retrieved', detail: `presentation request ${presentation.n} opened in Microsoft Authenticator` });
    await progress.save({ verification: JSON.stringify(replace({ ...presentation, status: 'retrieved', retrievedAt: at })) });
    return 'retrieved';
  }

  let failure: string | undefined;
  let next: Verification;
  if (body.requestStatus === 'presentation_verified') {
    const verdict = checkPresentation(
      body,
      { acceptedIssuers: deps.settings.VERIFIED_ID_ACCEPTED_ISSUERS, threshold: deps.settings.VERIFIED_ID_FACECHECK_THRESHOLD, targetUpn: verification.targetUpn, expiresAt: verification.expiresAt },
      now,
    );
    if (verdict.ok) {
      next = { ...replace({ ...presentation, status: 'verified', finishedAt: at }), status: 'passed', evidence: verdict.evidence };
      await progress.audit({
        action: 'verification',
        outcome: 'passed',
        detail: `${verdict.evidence.who} presented a VerifiedEmployee credential from ${verdict.evidence.issuer}; Face Check ${verdict.evidence.score} (threshold ${deps.settings.VERIFIED_ID_FACECHECK_THRESHOLD})`,
      });
    } else {
      failure = verdict.reason;
    }
  } else if (body.requestStatus === 'presentation_error') {
    const code = body.error?.code ?? 'unknown';
    failure = `the presentation failed (${code}${body.error?.message ? `: ${body.error.message.slice(0, 200)}` : ''})`;
  } else {
    return 'ignored';
  }

  if (failure !== undefined) {
    const failures = verification.failures + 1;
    const exhausted = failures >= deps.settings.VERIFICATION_MAX_FAILURES;
    next = {
      ...replace({ ...presentation, status: 'failed', finishedAt: at, reason: failure.slice(0, 500) }),
      failures,
      failureReasons: [...verification.failureReasons, failure.slice(0, 500)].slice(-10),
      ...(exhausted ? { status: 'failed' as const } : {}),
    };
    await progress.audit({
      action: 'verification',
      outcome: 'failed',
      detail: `presentation ${presentation.n}: ${failure} (${failures} of ${deps.settings.VERIFICATION_MAX_FAILURES} failures allowed)`,
    });
  }
  const verificationJson = JSON.stringify(next!);
  const passed = next!.status === 'passed';
  const saved = await progress.save((row) => ({
    verification: verificationJson,
    ...(passed ? deps.tickets?.fieldsOnVerification({ ...row, verification: verificationJson }, 'verification-passed', evidenceFacts(next!)) : {}),
  }));
  if (passed && saved.ticketDueAt) await deps.tickets?.notify(saved);
  // The worker goes on: the reset after a pass, a new code or the end after a failure.
  await deps.queue.send(progress.current.id).catch((error: unknown) => {
    deps.log.warn('verification recorded, but the worker was not woken; the sweeper will find the request', { requestId: progress.current.id, cause: error instanceof Error ? error.message : String(error) });
  });
  return next!.status === 'passed' ? 'passed' : 'failed';
}
