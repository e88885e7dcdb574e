import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import { supersededAnswer, supersededDetail } from '../passes/superseded';
import type { RequestStores } from '../request-stores';
import type { StoredRequest } from '../requests/request-row';
import { LeaseLostError, RequestProgress } from '../worker/request-progress';
import { parseVerification, type Verification } from './verification-state';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * Shows a verified request's Temporary Access Pass once, to the person the verification named: the
 * browser that opened the verification link and presented (Verified ID), or the manager who attested.
 * The pass is taken from the handover table first (a delete with its ETag: of two racing, one gets it),
 * the audit names who saw it, and only then is it answered. Never the agent: with verification on, the
 * console's collector reveal refuses (shared/console/reveal-pass.ts).
 */
export async function revealToVerifiedPerson(
  row: StoredRequest,
  verification: Verification,
  shownTo: string,
  deps: Pick<RequestStores, 'store' | 'audit' | 'passes'>,
): Promise<HttpAnswer> {
  if (verification.status !== 'passed') return errorAnswer(409, 'not_verified', 'the person has not been verified, so no pass is shown', undefined, NO_STORE);
  if (!deps.passes) return errorAnswer(404, 'no_pass', 'this service keeps no passes (TAP_SEALING_KEY is not set)', undefined, NO_STORE);
  const collected = await deps.passes.collect(row.id);
  if (collected.outcome === 'none') {
    if (verification.passShownTo) {
      return errorAnswer(410, 'pass_collected', `the pass was shown already, at ${verification.passShownAt}, to ${verification.passShownTo}`, undefined, NO_STORE);
    }
    return errorAnswer(404, 'no_pass', row.temporaryAccessPass ? 'no pass is waiting yet: the reset is still running, or it issued none' : 'this request did not ask for a pass', undefined, NO_STORE);
  }
  const progress = new RequestProgress(row, deps);
  // A later request's pass for the same user deleted this one in Entra ID: it is void, never shown as valid.
  if (collected.outcome === 'superseded') {
    await progress.audit({ action: 'pass-reveal', outcome: 'superseded', detail: supersededDetail(shownTo, collected) });
    await progress.save({});
    return supersededAnswer(collected, NO_STORE);
  }
  if (collected.outcome === 'expired') {
    await progress.audit({ action: 'pass-reveal', outcome: 'expired', detail: `asked for by ${shownTo}; the pass expired at ${collected.expiresAt} and was discarded` });
    await progress.save({});
    return errorAnswer(410, 'pass_expired', `the pass expired at ${collected.expiresAt}; ask the service desk for a new request`, undefined, NO_STORE);
  }
  const at = new Date().toISOString();
  await progress.audit({ action: 'pass-reveal', outcome: 'handed-over', detail: `shown once to ${shownTo}` });
  // The pass is out of the table now: whatever else changed the row meanwhile (a ticket note), this
  // records who saw it on the row as it is, and is never sent back through the caller's retry.
  await recordShown(progress, deps, shownTo, at);
  return jsonAnswer(200, { id: row.id, temporaryAccessPass: collected.temporaryAccessPass, expiresAt: collected.expiresAt }, NO_STORE);
}

async function recordShown(progress: RequestProgress, deps: Pick<RequestStores, 'store' | 'audit'>, shownTo: string, at: string): Promise<void> {
  let current: RequestProgress = progress;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const verification = parseVerification(current.current.verification);
    if (!verification) return;
    try {
      await current.save({ verification: JSON.stringify({ ...verification, passShownTo: shownTo.slice(0, 300), passShownAt: at }) });
      return;
    } catch (error) {
      if (!(error instanceof LeaseLostError)) throw error;
      const fresh = await deps.store.get(progress.current.id);
      if (!fresh?.trusted) return;
      current = new RequestProgress(fresh, deps);
    }
  }
}
