import { z } from 'zod';
import { passGoesToVerifiedPerson } from '../verification/pass-routing';
import type { Settings } from '../config';
import { errorAnswer, IntakeRefusal, jsonAnswer, type HttpAnswer } from '../http/answer';
import { parseSignedJson } from '../http/signed-json';
import { authenticate, type Authentication, type HeaderLookup } from '../intake/signature';
import { isRequestId } from '../requests/request-row';
import type { RequestStores } from '../request-stores';
import { supersededAnswer, supersededDetail } from './superseded';
import { RequestProgress } from '../worker/request-progress';

const collectBodySchema = z
  .object({
    /** The request whose pass is collected: inside the signed bytes, so one signature fits one request. */
    requestId: z.string().trim().min(1).max(64),
    collectedBy: z
      .string()
      .trim()
      .min(1)
      .max(256)
      .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), 'must not contain control characters'),
  })
  .strict();

export interface CollectInput {
  id: string;
  body: Uint8Array;
  headers: HeaderLookup;
}

/**
 * `POST /api/resets/{id}/temporary-access-pass`: hands the sealed pass to the caller once. Signed as
 * Standard Webhooks like every generic route, over `{"requestId": "<id>", "collectedBy": "..."}`: the
 * request id must match the route, and each webhook-id acts once, so a captured collection can neither
 * be replayed nor pointed at another request. The audit names who collected it. A second call finds
 * nothing: the pass is not kept after it has been handed over.
 */
export async function collectTemporaryAccessPass(
  input: CollectInput,
  deps: Pick<RequestStores, 'store' | 'audit' | 'passes' | 'index' | 'integrity'> & { settings: Settings; now?: () => Date },
): Promise<HttpAnswer> {
  const noStore = { 'cache-control': 'no-store' };
  // Whoever holds the generic secret could collect any pass here; by default a pass goes only to a
  // signed-in collector in the console, who the audit then names.
  if (!deps.settings.MACHINE_PASS_COLLECTION) {
    return errorAnswer(404, 'machine_pass_collection_off', 'passes are handed to a signed-in member of the collector group in the console (Reveal pass on the request page); MACHINE_PASS_COLLECTION=true keeps this signed route', undefined, noStore);
  }
  const now = (deps.now ?? (() => new Date()))();
  let auth: Authentication;
  try {
    auth = authenticate('generic', input.body, input.headers, deps.settings, now);
  } catch (error) {
    if (error instanceof IntakeRefusal) return error.toAnswer(noStore);
    throw error;
  }
  let parsed: z.infer<typeof collectBodySchema>;
  try {
    parsed = collectBodySchema.parse(parseSignedJson(input.body));
  } catch (error) {
    if (error instanceof IntakeRefusal && error.code === 'duplicate_key') return error.toAnswer(noStore);
    return errorAnswer(
      400,
      'invalid_request',
      'send {"requestId": "<the id in the URL>", "collectedBy": "<who takes the pass to the user>"}, signed as Standard Webhooks',
      [{ path: '(body)', message: 'must be {"requestId", "collectedBy"}' }],
      noStore,
    );
  }
  if (parsed.requestId.toLowerCase() !== input.id.toLowerCase()) {
    return errorAnswer(401, 'signature_not_for_this_request', 'the signed body names another request than the URL: a collection is signed for one request only', undefined, noStore);
  }
  const collectedBy = parsed.collectedBy;
  // Each signed collection acts once: a replay within the signature's tolerance finds it used.
  if (auth.mode === 'standard-webhooks') {
    try {
      const fresh = await deps.index.useOnce(deps.integrity.indexKey('pass-collection', auth.webhookId), {
        requestId: input.id.toLowerCase(),
        expiresAt: new Date(now.getTime() + 15 * 60 * 1000).toISOString(),
      });
      if (!fresh) {
        return errorAnswer(401, 'replayed', `webhook-id ${auth.webhookId.slice(0, 64)} was used already: every collection needs a new webhook-id and signature`, undefined, noStore);
      }
    } catch {
      return errorAnswer(503, 'storage_unavailable', 'whether this collection was used before cannot be checked right now; nothing was handed over, try again later', undefined, { ...noStore, 'retry-after': '10' });
    }
  }
  const row = isRequestId(input.id) ? await deps.store.get(input.id) : undefined;
  if (!row) return errorAnswer(404, 'not_found', `no reset request has the id ${input.id.slice(0, 64)}`);
  const refusal = passGoesToVerifiedPerson(row, deps.settings);
  if (refusal) return errorAnswer(403, 'pass_goes_to_verified_person', refusal, undefined, noStore);
  if (!deps.passes) return errorAnswer(404, 'no_pass', 'this service has no TAP_SEALING_KEY, so it never keeps a pass to hand over');

  const collected = await deps.passes.collect(row.id);
  if (collected.outcome === 'none') {
    return errorAnswer(404, 'no_pass', 'no pass is waiting for this request: none was issued, or it was collected already');
  }
  const progress = new RequestProgress(row, deps);
  if (collected.outcome === 'superseded') {
    await progress.audit({ action: 'pass-collect', outcome: 'superseded', detail: supersededDetail(collectedBy, collected) });
    await progress.save({});
    return supersededAnswer(collected, noStore);
  }
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
