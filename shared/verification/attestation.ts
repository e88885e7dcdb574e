import { errorAnswer, jsonAnswer, type HttpAnswer } from '../http/answer';
import type { GraphTransport } from '../graph/http';
import type { Logger } from '../log';
import type { RequestStores } from '../request-stores';
import { isRequestId, type StoredRequest } from '../requests/request-row';
import { LeaseLostError, RequestProgress } from '../worker/request-progress';
import type { Person } from '../console/token-validation';
import { readManager } from './manager-lookup';
import { methodsOf } from './policy';
import { revealToVerifiedPerson } from './verified-pass';
import { evidenceFacts, parseVerification, type Verification } from './verification-state';
import type { TicketHook } from '../tickets/open-outbox';

const NO_STORE = { 'cache-control': 'no-store' };

export interface AttestationDependencies extends Pick<RequestStores, 'store' | 'audit' | 'queue' | 'passes'> {
  settings: { CONSOLE_ATTESTATION_AUTH_CONTEXT?: string };
  /** The directory is asked again at attestation time: only the target's current manager may attest. */
  graph: GraphTransport;
  /** The ticket outbox: a note when the manager attests. */
  tickets?: TicketHook;
  log: Logger;
  now?: () => Date;
}

export type AttestationAction = 'view' | 'attest' | 'pass';

/**
 * Manager attestation (DESIGN 5a), for people whose phone and wallet are gone: the target's manager
 * signs in to the console (its own token checks) and confirms they verified the person, for example
 * on a video call. Only the target's *current* manager by object id (read from Graph now, not from the
 * request) may, never the requester or the target; where CONSOLE_ATTESTATION_AUTH_CONTEXT is set, the
 * sign-in must carry that authentication context in `acrs`. The manager's object id, sign-in time,
 * `amr` and `acrs` are recorded as evidence; a requested pass is shown to them once, in the console.
 */
export async function managerAttestation(id: string, person: Person, action: AttestationAction, deps: AttestationDependencies): Promise<HttpAnswer> {
  const notFound = errorAnswer(404, 'not_found', 'no request waits for your attestation under this id', undefined, NO_STORE);
  if (!isRequestId(id)) return notFound;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const row = await deps.store.get(id);
    const verification = row?.trusted ? parseVerification(row.verification) : undefined;
    if (!row || !verification || !verification.manager || !methodsOf(verification.policy).includes('manager')) return notFound;
    const refusal = await whoMayAttest(row, verification, person, deps);
    if (refusal) return refusal;
    try {
      if (action === 'pass') {
        if (verification.evidence?.method !== 'manager' || verification.evidence.objectId !== person.objectId) {
          return errorAnswer(403, 'not_the_attester', 'the pass is shown only to the person who verified the user', undefined, NO_STORE);
        }
        return await revealToVerifiedPerson(row, verification, `${person.userPrincipalName} (object id ${person.objectId}), the manager who attested, in the console`, deps);
      }
      if (action === 'attest') return await attest(row, verification, person, deps);
      return jsonAnswer(200, attestationView(row, verification), NO_STORE);
    } catch (error) {
      if (error instanceof LeaseLostError) continue;
      throw error;
    }
  }
  return errorAnswer(503, 'busy', 'the request kept changing; try again', undefined, { ...NO_STORE, 'retry-after': '2' });
}

/** The signed-in person is the target's current manager, and neither the requester nor the target. */
async function whoMayAttest(row: StoredRequest, verification: Verification, person: Person, deps: AttestationDependencies): Promise<HttpAnswer | undefined> {
  const me = person.objectId.toLowerCase();
  const upn = person.userPrincipalName.toLowerCase();
  if (me === verification.targetObjectId || upn === verification.targetUpn.toLowerCase()) {
    return errorAnswer(403, 'attestation_by_target', 'you cannot vouch for yourself', undefined, NO_STORE);
  }
  const requester = [row.requestedBy, row.requestedById].filter((v): v is string => !!v).map((v) => v.toLowerCase());
  if (requester.includes(upn) || requester.includes(me)) {
    return errorAnswer(403, 'attestation_by_requester', 'you asked for this reset, so you cannot also vouch for the user', undefined, NO_STORE);
  }
  let current;
  try {
    current = await readManager(deps.graph, verification.targetObjectId);
  } catch (error) {
    deps.log.warn('attestation: the manager could not be read', { requestId: row.id, cause: error instanceof Error ? error.message : String(error) });
    return errorAnswer(503, 'directory_unavailable', "the user's manager cannot be read from the directory right now; try again shortly", undefined, { ...NO_STORE, 'retry-after': '10' });
  }
  if (!current.found || current.objectId !== me) {
    return errorAnswer(403, 'not_the_manager', `only ${verification.targetUpn}'s current manager in the directory may vouch for them, and that is not you`, undefined, NO_STORE);
  }
  return undefined;
}

async function attest(row: StoredRequest, verification: Verification, person: Person, deps: AttestationDependencies): Promise<HttpAnswer> {
  const now = (deps.now ?? (() => new Date()))();
  if (row.status !== 'awaiting_verification' || verification.status !== 'pending') {
    return errorAnswer(409, 'not_waiting', `this request is not waiting for verification (${verification.status})`, undefined, NO_STORE);
  }
  if (now.getTime() > Date.parse(verification.expiresAt)) {
    return errorAnswer(409, 'verification_expired', `the time to verify ran out at ${verification.expiresAt}; nothing was changed`, undefined, NO_STORE);
  }
  const context = deps.settings.CONSOLE_ATTESTATION_AUTH_CONTEXT;
  if (context && !(person.acrs ?? []).includes(context)) {
    // Entra's claims challenge (learn.microsoft.com/entra/identity-platform/developer-guide-conditional-access-authentication-context).
    const claims = Buffer.from(JSON.stringify({ access_token: { acrs: { essential: true, value: context } } })).toString('base64');
    return errorAnswer(401, 'auth_context_required', `attesting needs a sign-in that meets the authentication context ${context}; sign in again`, { claims }, {
      ...NO_STORE,
      'www-authenticate': `Bearer error="insufficient_claims", claims="${claims}"`,
    });
  }
  const evidence = {
    method: 'manager' as const,
    at: now.toISOString(),
    who: person.userPrincipalName,
    objectId: person.objectId.toLowerCase(),
    ...(person.authTime ? { authTime: person.authTime } : {}),
    ...(person.amr ? { amr: person.amr } : {}),
    ...(person.acrs ? { acrs: person.acrs } : {}),
  };
  const progress = new RequestProgress(row, deps);
  await progress.audit({
    action: 'verification',
    outcome: 'passed',
    detail: `${person.userPrincipalName} (object id ${evidence.objectId}), ${verification.targetUpn}'s manager, attested that they verified the person; signed in ${person.authTime ?? 'at an unknown time'}${person.amr ? `, amr ${person.amr.join('+')}` : ''}${person.acrs?.length ? `, acrs ${person.acrs.join(',')}` : ''}`,
  });
  const next: Verification = { ...verification, status: 'passed', evidence };
  const json = JSON.stringify(next);
  const saved = await progress.save((current) => ({ verification: json, ...deps.tickets?.fieldsOnVerification({ ...current, verification: json }, 'verification-passed', evidenceFacts(next)) }));
  if (saved.ticketDueAt) await deps.tickets?.notify(saved);
  await deps.queue.send(row.id).catch((error: unknown) => {
    deps.log.warn('attestation recorded, but the worker was not woken; the sweeper will find the request', { requestId: row.id, cause: error instanceof Error ? error.message : String(error) });
  });
  return jsonAnswer(200, attestationView(saved, next), NO_STORE);
}

function attestationView(row: StoredRequest, verification: Verification) {
  return {
    id: row.id,
    ticket: `${row.ticketSystem} ${row.ticketId}`,
    user: verification.targetUpn,
    requestedBy: row.requestedBy,
    reason: row.reason,
    status: row.status,
    verification: { status: verification.status, expiresAt: verification.expiresAt, evidence: verification.evidence ? { method: verification.evidence.method, who: verification.evidence.who, at: verification.evidence.at } : undefined },
    pass: row.temporaryAccessPass === undefined ? 'none' : verification.passShownAt ? 'shown' : verification.evidence?.method === 'manager' && ['completed', 'partial'].includes(row.status) ? 'ready' : 'not-yet',
  };
}
