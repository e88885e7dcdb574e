import { z } from 'zod';
import type { Settings } from '../config';
import { errorAnswer, IntakeRefusal, jsonAnswer, type HttpAnswer } from '../intake/answer';
import { authenticate, type HeaderLookup } from '../intake/signature';
import { isRequestId } from '../requests/request-row';
import type { RequestStores } from '../request-stores';
import { RequestProgress } from '../worker/request-progress';

const collectBodySchema = z.object({ collectedBy: z.string().trim().min(1).max(256) }).strict();

export interface CollectInput {
  id: string;
  body: Uint8Array;
  headers: HeaderLookup;
}

/**
 * `POST /api/resets/{id}/temporary-access-pass`: hands the sealed pass to the caller once. Signed like
 * the generic route (X-Signature-256 over the body `{"collectedBy": "..."}`); the audit names who
 * collected it. A second call finds nothing: the pass is not kept after it has been handed over.
 */
export async function collectTemporaryAccessPass(
  input: CollectInput,
  deps: Pick<RequestStores, 'store' | 'audit' | 'passes'> & { settings: Settings },
): Promise<HttpAnswer> {
  const noStore = { 'cache-control': 'no-store' };
  // Whoever holds the generic secret could collect any pass here; by default a pass goes only to a
  // signed-in collector in the console, who the audit then names.
  if (!deps.settings.MACHINE_PASS_COLLECTION) {
    return errorAnswer(404, 'machine_pass_collection_off', 'passes are handed to a signed-in member of the collector group in the console (Reveal pass on the request page); MACHINE_PASS_COLLECTION=true keeps this signed route', undefined, noStore);
  }
  try {
    authenticate('generic', input.body, input.headers, deps.settings);
  } catch (error) {
    if (error instanceof IntakeRefusal) return error.toAnswer();
    throw error;
  }
  let collectedBy: string;
  try {
    collectedBy = collectBodySchema.parse(JSON.parse(Buffer.from(input.body).toString('utf8'))).collectedBy;
  } catch {
    return errorAnswer(400, 'invalid_request', 'send {"collectedBy": "<who takes the pass to the user>"}', [{ path: 'collectedBy', message: 'required' }]);
  }
  const row = isRequestId(input.id) ? await deps.store.get(input.id) : undefined;
  if (!row) return errorAnswer(404, 'not_found', `no reset request has the id ${input.id.slice(0, 64)}`);
  if (!deps.passes) return errorAnswer(404, 'no_pass', 'this service has no TAP_SEALING_KEY, so it never keeps a pass to hand over');

  const collected = await deps.passes.collect(row.id);
  if (collected.outcome === 'none') {
    return errorAnswer(404, 'no_pass', 'no pass is waiting for this request: none was issued, or it was collected already');
  }
  const progress = new RequestProgress(row, deps);
  if (collected.outcome === 'expired') {
    await progress.audit({ action: 'pass-collect', outcome: 'expired', detail: `asked for by ${collectedBy}; the pass expired at ${collected.expiresAt} and was discarded` });
    await progress.save({});
    return errorAnswer(410, 'pass_expired', `the pass expired at ${collected.expiresAt}; send a new request for a new one`);
  }
  await progress.audit({ action: 'pass-collect', outcome: 'handed-over', detail: `collected by ${collectedBy}` });
  await progress.save({});
  return jsonAnswer(
    200,
    { id: row.id, temporaryAccessPass: collected.temporaryAccessPass, methodId: collected.methodId, expiresAt: collected.expiresAt },
    noStore,
  );
}
