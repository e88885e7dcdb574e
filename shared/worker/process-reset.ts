import { randomUUID } from 'node:crypto';
import { resetStateSchema, runReset, type ResetResult, type ResetState } from '../graph';
import { approvalNamesRequester } from '../approvals/identity';
import { VerificationGate } from '../verification/gate';
import { parseVerification, workerHasWork } from '../verification/verification-state';
import { withWriteHooks } from '../pacing/write-hooks';
import { FINAL_STATUSES, type RequestStatus, type StoredRequest } from '../requests/request-row';
import { LeaseLostError, RequestProgress } from './request-progress';
import { resetMessageSchema } from './reset-message';
import { logFieldsOf } from './request-view';
import { summariseResult } from './result-summary';
import { Claim } from './claim';
import { leaseMs, type WorkerDependencies } from './worker-dependencies';
import { resolveOpenIntents, writeGuard } from './write-guard';

export interface Delivery {
  /** How often the queue has handed out this message, this time included. */
  dequeueCount: number;
  /** host.json's maxDequeueCount: the try after which the message goes to the poison queue. */
  maxDequeueCount: number;
}

export type WorkerOutcome =
  | 'malformed'
  | 'missing'
  | 'already-finished'
  | 'held-elsewhere'
  | 'deferred'
  | 'lost-race'
  | 'waiting-for-user'
  | 'retry-later'
  /** Nothing written: the person must prove who they are first (shared/verification). */
  | 'awaiting-verification'
  | RequestStatus;

/** A failure the queue should retry: thrown after the request was left ready to resume. */
export class TransientResetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientResetError';
  }
}

/**
 * Handles one message of queue mfa-resets: claims the request (accepted → running, ETag), applies the
 * guards that need stored state, runs the Graph engine with every finished step persisted and audited,
 * and ends the request in an honest status. A duplicate message finds the request taken or finished
 * and does nothing; a re-delivered one resumes from the persisted step state.
 */
export async function processResetMessage(message: unknown, delivery: Delivery, deps: WorkerDependencies): Promise<WorkerOutcome> {
  const parsed = resetMessageSchema.safeParse(message);
  if (!parsed.success) {
    deps.log.error('reset message is not {requestId}; dropped', { dequeueCount: delivery.dequeueCount });
    return 'malformed';
  }
  const requestId = parsed.data.requestId;
  const row = await deps.store.get(requestId);
  if (!row) {
    deps.log.warn('reset message names no stored request; dropped', { requestId });
    return 'missing';
  }
  const now = Date.now();
  // Nothing stored steers the worker unless the app wrote it: both MACs are checked before anything
  // else, the status included, so a row set back from a final status (or forged as one) is caught too.
  if (!row.trusted) {
    if (row.status === 'rejected' && row.statusReason?.startsWith(UNAUTHENTICATED)) return 'already-finished';
    return refuseUnauthenticated(new RequestProgress(row, deps, { quarantine: true }), deps);
  }
  if (FINAL_STATUSES.includes(row.status)) return 'already-finished';
  // Waiting for the person: only a message that finds something to do (verified, failed, expired, a new
  // code asked for) claims the request; a stray one changes nothing.
  if (row.status === 'awaiting_verification' && !workerHasWork(parseVerification(row.verification), deps.settings.VERIFICATION_MAX_FAILURES, new Date(now))) {
    return 'awaiting-verification';
  }
  const leaseUntil = row.leaseUntil ? Date.parse(row.leaseUntil) : 0;
  if (row.status === 'running' && leaseUntil > now) {
    // Either a duplicate, or a redelivery after the holder died: look again when the lease runs out,
    // so a dead worker's request resumes then instead of waiting for the sweeper.
    await deps.queue.send(row.id, secondsUntil(new Date(leaseUntil)));
    deps.log.info('request is held by another worker; looking again when its lease ends', logFieldsOf(row));
    return 'held-elsewhere';
  }
  // Deferred (throttled, or waiting for another reset of the user): its own delayed message comes later.
  if (row.status === 'accepted' && leaseUntil > now + 5000) return 'deferred';

  const progress = new RequestProgress(row, deps);
  const claim = new Claim(progress, deps, row.attempts + 1);
  try {
    if (row.attempts === 0 && row.engineState === undefined && now - Date.parse(row.createdAt) > maxAgeMs(deps)) {
      return await refuseExpired(progress, claim, deps);
    }
    return await runClaimed(progress, claim, delivery, deps);
  } catch (error) {
    if (error instanceof LeaseLostError) {
      deps.log.warn(claim.isMade ? 'another worker took the request over; stopping' : 'another worker claimed the request first; stopping', { requestId });
      return 'lost-race';
    }
    return await handleCrash(progress, claim, delivery, deps, error);
  }
}

const UNAUTHENTICATED = 'unauthenticated_row';

/**
 * A row whose MACs do not verify was not written by this app as it is now: someone with storage write
 * access made it, or changed a field since (a target, a guard outcome, a status set back from final,
 * a result). Nothing is done for it, not even a Graph read, and nothing it names is trusted: no ticket
 * note, no mail. It ends `rejected` with reason unauthenticated_row and an audit entry, so the attempt
 * is visible; its forged progress is dropped.
 */
async function refuseUnauthenticated(progress: RequestProgress, deps: WorkerDependencies): Promise<WorkerOutcome> {
  const reason = `${UNAUTHENTICATED}: this request row was not written by this service as it is now (its MAC does not verify), so nothing was done; check who can write to the storage account`;
  deps.log.error('request row refused: its MAC does not verify', logFieldsOf(progress.current));
  try {
    await progress.audit({ action: 'finish', outcome: 'rejected', detail: reason });
    await progress.save({
      status: 'rejected',
      statusReason: reason,
      engineState: undefined,
      result: JSON.stringify(summariseResult({ status: 'rejected', code: UNAUTHENTICATED, reason })),
      leaseUntil: undefined,
      ticketUpdates: undefined,
      ticketDueAt: undefined,
      completedAt: new Date().toISOString(),
    });
    return 'rejected';
  } catch (error) {
    if (error instanceof LeaseLostError) return 'lost-race';
    throw error;
  }
}

/**
 * A request that waited longer than REQUEST_MAX_AGE_HOURS without starting (a lost message found late,
 * or a row brought back from long ago) is refused before any Graph call: the approval it carries is old.
 */
async function refuseExpired(progress: RequestProgress, claim: Claim, deps: WorkerDependencies): Promise<WorkerOutcome> {
  const hours = deps.settings.REQUEST_MAX_AGE_HOURS;
  const reason = `request_expired: this request was stored at ${progress.current.createdAt} and had not started within REQUEST_MAX_AGE_HOURS (${hours} h), so nothing was done; if the user still needs a reset, send the ticket again`;
  return finish(progress, claim, deps, undefined, { status: 'rejected', statusReason: reason }, { status: 'rejected', code: 'request_expired', reason });
}

function maxAgeMs(deps: Pick<WorkerDependencies, 'settings'>): number {
  return deps.settings.REQUEST_MAX_AGE_HOURS * 3_600_000;
}

/** A refusal that needs stored state; ends the request `rejected`. */
class StatefulRefusal extends Error {
  constructor(readonly code: string, reason: string) {
    super(reason);
    this.name = 'StatefulRefusal';
  }
}

/** Another reset of the same user holds its lock until `until`. */
class UserBusy extends Error {
  constructor(readonly heldBy: string, readonly until: Date) {
    super(`another reset of the same user (${heldBy}) is running; this one waits until it ends`);
    this.name = 'UserBusy';
  }
}

async function runClaimed(progress: RequestProgress, claim: Claim, delivery: Delivery, deps: WorkerDependencies): Promise<WorkerOutcome> {
  const row = progress.current;
  const fields = logFieldsOf(row);
  const firstRun = row.engineState === undefined;
  // Noted: written once the claim has landed, with the run's first write or its end.
  progress.note({
    action: firstRun ? 'start' : 'resume',
    outcome: 'running',
    detail: `attempt ${claim.attempt}, delivery ${delivery.dequeueCount} of ${delivery.maxDequeueCount}${firstRun ? '' : '; the target is resolved and every guard checked again before anything more is written'}`,
  });
  // The run writes its trail behind the request's audit fence: a first run creates it, a later one
  // takes it on what it read with the trail. Reading the trail, a later run also settles any write whose
  // intent was audited but not its outcome (the last run died in between) with what Graph says now,
  // before this run sends anything.
  const holder = `attempt ${claim.attempt} ${randomUUID()}`;
  if (claim.attempt > 1) await resolveOpenIntents(progress, deps, holder);
  else progress.holdFence({ holder });

  const refusal = firstRun ? offlineRefusal(row, deps) : undefined;
  if (refusal) {
    return finish(progress, claim, deps, undefined, { status: 'rejected', statusReason: refusal.reason }, { status: 'rejected', code: refusal.code, reason: refusal.reason });
  }

  // The user is known by object id once resolved, whatever form the ticket named them in: the lock and
  // the cooldown are keyed by it. Both are settled before the first write (the snapshot comes first),
  // in one conditional write that also records this run in the user's history (target-guard.ts).
  let userKey: string | undefined;
  let userObjectId: string | undefined;
  let userLockUntil = 0;
  const holdUser = async (objectId: string, beforeAnyWrite: boolean) => {
    const key = userKeyFor(objectId);
    const until = new Date(Date.now() + leaseMs(deps));
    const lock =
      userKey === key
        ? await deps.targets.renew(key, row.id, until)
        : await deps.targets.acquire(key, row.id, until, {
            record: !row.dryRun,
            // Counted under the lock: two requests for one user cannot both see the count below the limit.
            ...(beforeAnyWrite ? { cooldown: { since: new Date(Date.now() - deps.settings.RESET_COOLDOWN_MINUTES * 60_000), max: deps.settings.RESET_COOLDOWN_MAX } } : {}),
          });
    if (!lock.ok) {
      if ('recentResets' in lock) throw new StatefulRefusal('cooldown', cooldownReason(lock.recentResets, deps));
      throw new UserBusy(lock.heldBy, lock.until);
    }
    userKey = key;
    userObjectId = objectId;
    userLockUntil = until.getTime();
  };

  const previous = row.engineState ? parseState(row.engineState) : undefined;
  const gate = new VerificationGate(row, { settings: deps.settings, graph: deps.graph, requestService: deps.requestService, secrets: deps.secrets });
  const guard = writeGuard(progress, deps, {
    ensureClaimed: () => claim.ensure(),
    renewal: () => claim.state(),
    // The user's lock is renewed before a write too, not only between steps: one step (retries, token
    // waits) can outlast half the lease, and a lapsed lock lets another reset of the user start.
    holdUser: async () => {
      if (userObjectId && userLockUntil - Date.now() < leaseMs(deps) / 2) await holdUser(userObjectId, false);
    },
  });
  /** Whether this user's history keeps this run: it may have changed their methods. */
  const touched = (state: ResetState | undefined, status?: string) => status === 'completed' || status === 'partial' || removedAny(state) || guard.unanswered() > 0;
  let result: ResetResult;
  try {
    if (!row.dryRun && previous?.target) await holdUser(previous.target.objectId, !previous.snapshot);
    result = await runReset(
      // Every write: a bounded token wait, the claim and the lease, and its intent audited before it leaves.
      withWriteHooks(deps.graph, guard),
      {
        target: row.targetObjectId ? { objectId: row.targetObjectId } : { userPrincipalName: row.targetUpn },
        profile: row.profile,
        methods: row.methods,
        revokeSessions: row.revokeSessions,
        temporaryAccessPass: row.temporaryAccessPass,
        dryRun: row.dryRun,
      },
      {
        guards: {
          protectedGroupIds: deps.settings.PROTECTED_GROUP_IDS,
          breakGlassUpns: deps.settings.BREAK_GLASS_UPNS,
          tenantDomains: deps.settings.TENANT_DOMAINS,
          approvedBy: row.approvedBy,
          strictVerificationGroupIds: deps.settings.VERIFICATION_STRICT_GROUP_IDS,
        },
        // The request is claimed before the person may be asked to prove who they are, and so before
        // any write: the claim carries the snapshot and the plan.
        gate: async (state) => {
          claim.stage(state);
          await claim.ensure();
          return gate.decide(state);
        },
        concurrency: deps.settings.GRAPH_MAX_CONCURRENCY,
        maxInlineWaitSeconds: inlineWaitSeconds(deps),
        ...deps.engine,
        state: previous,
        onStep: async (state, event) => {
          // Each step is noted for the trail and kept for the next save; both are written with the
          // next write's intent or the run's end, not one round trip per step.
          progress.note({
            action: event.methodId ? `${event.step} ${event.methodId}` : event.step,
            outcome: event.outcome,
            detail: event.detail,
            graphRequestIds: event.requestId ? [event.requestId] : [],
          });
          claim.stage(state);
          if (row.dryRun || !state.target) return;
          if (!userKey) await holdUser(state.target.objectId, !state.snapshot);
          // Renewed only at half-life, not at every step.
          else if (userLockUntil - Date.now() < leaseMs(deps) / 2) await holdUser(state.target.objectId, false);
        },
      },
    );
  } catch (error) {
    if (error instanceof StatefulRefusal) {
      return finish(progress, claim, deps, userKey, { status: 'rejected', statusReason: error.message }, { status: 'rejected', code: error.code, reason: error.message });
    }
    if (error instanceof UserBusy) {
      await claim.ensure();
      progress.note({ action: 'wait', outcome: 'deferred', detail: error.message });
      await progress.save({ status: 'accepted', statusReason: error.message, leaseUntil: error.until.toISOString(), ...claim.state() });
      await deps.queue.send(row.id, secondsUntil(error.until));
      deps.log.info('deferred: user busy', { ...fields, heldBy: error.heldBy });
      return 'waiting-for-user';
    }
    throw error;
  }
  await claim.ensure();

  const pass = result.oneTimeSecrets?.temporaryAccessPass;
  if (pass && deps.passes) {
    // Graph shows the pass once: it waits sealed until the requester collects it, and is never logged.
    const issued = result.temporaryAccessPass;
    const startsAt = issued?.startDateTime ? Date.parse(issued.startDateTime) : Date.now();
    const expiresAt = new Date(startsAt + (issued?.lifetimeInMinutes ?? 60) * 60_000);
    // A new pass voids the user's earlier sealed ones (Graph deleted them when it issued this one).
    const voided = await deps.passes.keep(row.id, { value: pass, methodId: issued?.methodId, expiresAt, userId: result.target?.objectId });
    if (voided.length > 0) progress.note({ action: 'pass-supersede', outcome: 'voided', detail: `earlier passes of this user voided: request ${voided.join(', request ')}` });
    progress.note({ action: 'pass-sealed', outcome: 'waiting', detail: `sealed until a member of the collector group reveals it once in the console (Reveal pass on this request's page), before ${expiresAt.toISOString()}` });
  }

  const verification = gate.current ? { verification: JSON.stringify(gate.current) } : {};
  const release = async () => {
    if (userKey) await deps.targets.release(userKey, row.id, touched(result.state) ? { keep: true, at: new Date() } : { keep: false });
  };
  if (result.status === 'awaiting-verification') return awaitVerification(progress, deps, release, result, gate, verification);

  if (result.status === 'retry-later') {
    const reason = `Graph is throttling; resumes at ${result.retryAt} (${result.reason})`;
    progress.note({ action: 'defer', outcome: 'retry-later', detail: reason });
    await progress.save({ status: 'accepted', statusReason: reason, engineState: JSON.stringify(result.state), leaseUntil: result.retryAt, ...verification });
    await release();
    await deps.queue.send(row.id, secondsUntil(new Date(result.retryAt)));
    deps.log.warn('throttled: re-queued for later', { ...fields, retryAt: result.retryAt });
    return 'retry-later';
  }

  if (result.status === 'failed' && result.transient && delivery.dequeueCount < delivery.maxDequeueCount) {
    progress.note({ action: 'attempt', outcome: 'failed', detail: `${result.reason}; the queue retries` });
    await progress.save({ engineState: JSON.stringify(result.state), statusReason: `attempt ${progress.current.attempts} failed: ${result.reason}`, leaseUntil: new Date().toISOString() });
    await release();
    throw new TransientResetError(result.reason);
  }

  let verificationFailed: { user: string; reason: string } | undefined;
  for (const event of gate.events) {
    if (event.kind !== 'ended') continue;
    progress.note({ action: 'verification', outcome: 'refused', detail: event.reason });
    verificationFailed = { user: gate.current?.targetUpn ?? '', reason: event.reason };
  }
  return finish(progress, claim, deps, userKey, { status: result.status, statusReason: 'reason' in result ? result.reason : undefined, engineState: JSON.stringify(result.state), ...verification }, result, verificationFailed, touched(result.state, result.status));
}

/** Whether the state shows a method this request removed or deactivated. */
function removedAny(state: ResetState | undefined): boolean {
  return Object.values(state?.deletions ?? {}).some((deletion) => deletion.outcome === 'deleted' || deletion.outcome === 'deactivated');
}

/**
 * The person must prove who they are before anything is written: the request waits in
 * `awaiting_verification`, holding no lease on the user, with its verification saved (MAC'd with the
 * row) and a message due when it expires. The callback route or the manager's attestation wakes it.
 */
async function awaitVerification(
  progress: RequestProgress,
  deps: WorkerDependencies,
  /** Lets the user's lock go, if this run took it. */
  release: () => Promise<void>,
  result: Extract<ResetResult, { status: 'awaiting-verification' }>,
  gate: VerificationGate,
  verification: { verification?: string },
): Promise<WorkerOutcome> {
  const current = gate.current!;
  for (const event of gate.events) {
    if (event.kind === 'started') {
      const offered = [current.verifiedIdUnavailable ? undefined : current.policy.includes('verified-id') ? 'Verified ID with Face Check' : undefined, current.manager ? `attestation by their manager ${current.manager.userPrincipalName}` : undefined].filter(Boolean);
      progress.note({ action: 'verification', outcome: 'requested', detail: `${current.targetUpn} must prove who they are by ${offered.join(' or ')} before ${current.expiresAt}; nothing is written until then${current.managerUnavailable ? ` (manager attestation not offered: ${current.managerUnavailable})` : ''}` });
    }
    if (event.kind === 'presentation') {
      progress.note({ action: 'verification presentation', outcome: 'sent', detail: `presentation request ${event.attempt} sent to the Verified ID Request Service, open until ${event.expiresAt}` });
    }
  }
  const started = gate.events.some((event) => event.kind === 'started');
  const offered = [current.verifiedIdUnavailable ? undefined : current.policy.includes('verified-id') ? 'a Verified ID with Face Check' : undefined, current.manager ? 'their manager confirming in the console' : undefined].filter(Boolean).join(' or ');
  const waiting = { status: 'awaiting_verification' as const, statusReason: result.reason, engineState: JSON.stringify(result.state), leaseUntil: current.expiresAt, ...verification };
  const saved = await progress.save((row) => {
    if (!started || !deps.tickets) return waiting;
    const next = { ...row, ...waiting };
    let told = deps.tickets.fieldsOnVerification(next, 'verification-requested', { user: current.targetUpn, methods: offered, expiresAt: current.expiresAt, ...(current.manager ? { manager: current.manager.userPrincipalName } : {}) });
    if (current.manager) told = { ...told, ...deps.tickets.fieldsOnVerification({ ...next, ...told }, 'mail-manager-attest', { expiresAt: current.expiresAt }) };
    return { ...waiting, ...told };
  });
  if (started && saved.ticketDueAt) await deps.tickets?.notify(saved);
  await release();
  // The expiry is checked by a message of its own; the sweeper is the net if it is lost.
  await deps.queue.send(progress.current.id, secondsUntil(new Date(Date.parse(current.expiresAt) + 1000)));
  deps.log.info('awaiting verification', { ...logFieldsOf(progress.current), expiresAt: current.expiresAt });
  return 'awaiting-verification';
}

/** Refusals decided from the request and the settings alone: approval, and a pass that could not be handed over. */
function offlineRefusal(row: StoredRequest, deps: WorkerDependencies): { code: string; reason: string } | undefined {
  if (deps.settings.REQUIRE_APPROVAL && !row.approvedBy) {
    return {
      code: 'approval-missing',
      reason: 'this service requires an approver (REQUIRE_APPROVAL) and the request names none; approve the ticket and send it again',
    };
  }
  // The intake and the bulk and schedule APIs refuse this already; every source meets it here again.
  if (row.approvedBy && approvalNamesRequester(row.approvedBy, [row.requestedBy, row.requestedById])) {
    return {
      code: 'self-approval',
      reason: `${row.approvedBy} both asked for and approved this reset; an approval must come from a second person`,
    };
  }
  if (row.temporaryAccessPass && !deps.passes) {
    return {
      code: 'pass-handover-unavailable',
      reason: 'a Temporary Access Pass was asked for, but this service has no TAP_SEALING_KEY to keep it safely until it is collected; set one, or ask without a pass',
    };
  }
  return undefined;
}

/** Too many resets of one user in the window: repeated resets can mean someone is talking the desk into them. */
function cooldownReason(recent: number, deps: Pick<WorkerDependencies, 'settings'>): string {
  return `this user's MFA was already reset ${recent} times in the last ${deps.settings.RESET_COOLDOWN_MINUTES} minutes (limit ${deps.settings.RESET_COOLDOWN_MAX}); repeated resets can mean social engineering, so a person must look at this ticket`;
}

type FinalStatus = Exclude<ResetResult['status'], 'retry-later' | 'awaiting-verification'>;

async function finish(
  progress: RequestProgress,
  claim: Claim,
  deps: WorkerDependencies,
  /** The user's lock and cooldown key, when this run took the lock. */
  userKey: string | undefined,
  changes: { status: FinalStatus; statusReason?: string; engineState?: string; verification?: string },
  result: ResetResult | { status: 'rejected'; code: string; reason: string },
  /** The verification ended the request: the ticket hears why in a note of its own, in the same write. */
  verificationFailed?: { user: string; reason: string },
  /** The run may have changed the user's methods: its row in the user's history stays. */
  touched = changes.status === 'completed' || changes.status === 'partial',
): Promise<WorkerOutcome> {
  const row = progress.current;
  // A run that ends before anything was written (a refusal) claims the request first all the same, so
  // that of two deliveries only one writes its ending.
  await claim.ensure();
  const completedAt = new Date();
  const summary = summariseResult(result);
  progress.note({ action: 'finish', outcome: changes.status, detail: changes.statusReason ?? summary.headline });
  const final = { ...changes, result: JSON.stringify(summary), leaseUntil: undefined, completedAt: completedAt.toISOString() };
  // The trail's last rows, then the final status (naming them as the trail's head); the ticket outbox
  // opens in the same write, and the note itself never holds up Graph work.
  await progress.save((current) => {
    const told = verificationFailed ? (deps.tickets?.fieldsOnVerification({ ...current, ...final }, 'verification-failed', verificationFailed) ?? {}) : {};
    return { ...final, ...told, ...deps.tickets?.fieldsOnFinish({ ...current, ...final, ...told }) };
  });
  await deps.tickets?.notify(progress.current);
  // The lock goes and the user's history settles in one write.
  if (userKey) await deps.targets.release(userKey, row.id, touched ? { keep: true, at: completedAt } : { keep: false });
  const log = changes.status === 'completed' || changes.status === 'planned' ? deps.log.info : deps.log.warn;
  log(`reset ${changes.status}`, { ...logFieldsOf(progress.current), reason: changes.statusReason });
  return changes.status;
}

/**
 * The invocation failed outside the engine's own handling (storage, a bug, a crash injected by a test).
 * The request is left resumable and the queue retries; on the last try it ends `failed` with the cause.
 */
async function handleCrash(progress: RequestProgress, claim: Claim, delivery: Delivery, deps: WorkerDependencies, error: unknown): Promise<WorkerOutcome> {
  const cause = error instanceof Error ? error.message : String(error);
  const fields = logFieldsOf(progress.current);
  if (error instanceof TransientResetError) throw error;
  if (delivery.dequeueCount >= delivery.maxDequeueCount) {
    try {
      await claim.ensure();
      const reason = `failed on the last of ${delivery.maxDequeueCount} tries: ${cause}`;
      progress.note({ action: 'finish', outcome: 'failed', detail: reason });
      const final = { status: 'failed' as const, statusReason: reason, leaseUntil: undefined, completedAt: new Date().toISOString(), ...claim.state() };
      await progress.save({ ...final, ...deps.tickets?.fieldsOnFinish({ ...progress.current, ...final }) });
      await deps.tickets?.notify(progress.current);
      const objectId = progress.current.engineState ? parseState(progress.current.engineState).target?.objectId : undefined;
      // What the run did to the user is not known: its history row stays and counts.
      if (objectId) await deps.targets.release(userKeyFor(objectId), progress.current.id, { keep: true, at: new Date() }).catch(() => undefined);
      deps.log.error('reset failed on its last try', { ...fields, cause });
      return 'failed';
    } catch {
      // Storage itself is down: the message goes to the poison queue, whose handler marks the request.
    }
  } else if (claim.isMade) {
    // Let the next delivery take over at once instead of waiting for the lease to run out; what this run
    // noted and did so far is kept for it.
    await progress
      .save({ statusReason: `attempt ${progress.current.attempts} failed: ${cause}`, leaseUntil: new Date().toISOString(), ...claim.state() })
      .catch(() => undefined);
  } else {
    // Not claimed: this run wrote nothing (no Graph write, no audit row); only the cause is kept.
    await progress.saveAhead({ statusReason: `attempt ${claim.attempt} failed before it started: ${cause}` }).catch(() => undefined);
  }
  deps.log.warn('reset attempt failed; the queue retries', { ...fields, cause, dequeueCount: delivery.dequeueCount });
  throw error;
}

/**
 * The longest one Retry-After or backoff is slept through inside the invocation: the setting, but never
 * more than a quarter of the lease, so a pause always ends well inside the lease the last write or step
 * renewed (a longer one re-queues the reset instead), whatever the two settings say.
 */
function inlineWaitSeconds(deps: Pick<WorkerDependencies, 'settings'>): number {
  return Math.min(deps.settings.GRAPH_MAX_INLINE_WAIT_SECONDS, Math.floor(deps.settings.RESET_LEASE_SECONDS / 4));
}

/** The per-user lock and cooldown key: the object id, stable across renames and however the ticket named the user. */
function userKeyFor(objectId: string): string {
  return `oid:${objectId.toLowerCase()}`;
}

function parseState(json: string): ResetState {
  return resetStateSchema.parse(JSON.parse(json));
}

function secondsUntil(when: Date): number {
  return Math.max(1, Math.ceil((when.getTime() - Date.now()) / 1000));
}
