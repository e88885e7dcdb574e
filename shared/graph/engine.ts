import { graphCloudOf } from '../graph-clouds';
import type { MethodKind, ResetProfile } from '../method-names';
import { inScope } from './catalogue';
import { createStepContext, GraphCallError, type StepContext } from './context';
import { defaultBlockers, finishAdvice } from './default-advice';
import { executeDeletions } from './execute';
import { checkGuards, type GuardSettings } from './guards';
import { GraphNetworkError, type GraphTransport } from './http';
import { planReset } from './plan';
import { defaultRetryPolicy, RetryLaterError, type RetryPolicy } from './retry';
import { resolveTarget } from './resolve-target';
import { issueTemporaryAccessPass, revokeSessions, temporaryAccessPassRequestSchema } from './sessions';
import { fitToPolicy, passPolicyRefusal, readTapPolicy } from './tap-policy';
import { listMethods, takeSnapshot } from './snapshot';
import { newState, resetStateSchema, type Plan, type ResetState, type ResolvedTarget, type Snapshot, type SnapshotMethod, type StepEvent } from './state';

export interface ResetInput {
  target: { userPrincipalName?: string; objectId?: string };
  profile: ResetProfile;
  /** Explicit method kinds; when given, they replace the profile's scope. */
  methods?: MethodKind[];
  revokeSessions: boolean;
  temporaryAccessPass?: { lifetimeInMinutes?: number; isUsableOnce?: boolean };
  /**
   * Hardware OATH tokens: `deactivate` (the default, as the admin center's "Require re-register")
   * keeps the token assigned to the user; `unassign` deletes the method, returning the token to the
   * tenant's inventory, where an admin must assign it again.
   */
  hardwareOathAction?: 'deactivate' | 'unassign';
  dryRun: boolean;
}

export interface ResetOptions {
  guards: GuardSettings;
  /** Deletions sent at once (GRAPH_MAX_CONCURRENCY). */
  concurrency?: number;
  /** Send deletions as JSON $batch requests of at most 20. */
  useBatch?: boolean;
  /** A Retry-After longer than this ends the run with `retry-later` (GRAPH_MAX_INLINE_WAIT_SECONDS). */
  maxInlineWaitSeconds?: number;
  /** Attempts, backoff and clock; tests shorten them. */
  retry?: Partial<RetryPolicy>;
  /** The state a previous run left: finished steps are not repeated. */
  state?: ResetState;
  /** Called after every finished step with a copy of the state, strictly one call at a time; a throw stops the run. */
  onStep?: (state: ResetState, event: StepEvent) => Promise<void>;
  /**
   * Asked once per run after the plan and before the first write (after the guards' reads): verifying the
   * person (shared/verification). `wait` ends the run `awaiting-verification` with nothing written;
   * `refuse` ends it before any write of this run. Not asked on a dry run.
   */
  gate?: (state: ResetState) => Promise<GateDecision>;
}

export type GateDecision = { kind: 'proceed' } | { kind: 'wait'; reason: string } | { kind: 'refuse'; code: string; reason: string };

export type MethodOutcomeKind = 'deleted' | 'deactivated' | 'already-gone' | 'failed' | 'remaining' | 'kept' | 'planned';

export interface MethodOutcome {
  id: string;
  kind: SnapshotMethod['kind'];
  detail: string;
  outcome: MethodOutcomeKind;
  isDefault: boolean;
  reason?: string;
  /** Graph request-id of every write made for this method. */
  requestIds: string[];
}

export interface ResetReport {
  target?: ResolvedTarget;
  snapshot?: Snapshot;
  plan?: Plan;
  methods: MethodOutcome[];
  revoke?: ResetState['revoke'];
  /** What is known about an issued pass, without the pass itself. */
  temporaryAccessPass?: NonNullable<ResetState['temporaryAccessPass']> & { secretAvailable: boolean };
  /** request-id of every write Graph answered, in order. */
  requestIds: string[];
  warnings: string[];
  state: ResetState;
  /**
   * Secrets Graph shows once. Only ever here, in memory: hand it to the requester through a secure
   * channel and drop it. It is not in `state` and must never be logged or stored.
   */
  oneTimeSecrets?: { temporaryAccessPass?: string };
}

export type ResetResult =
  | ({ status: 'completed' } & ResetReport)
  | ({ status: 'partial'; reason: string } & ResetReport)
  /** `transient`: Graph was unavailable or did not answer, so the same request may succeed later. */
  | ({ status: 'failed'; reason: string; transient: boolean } & ResetReport)
  | ({ status: 'rejected'; reason: string; code: string } & ResetReport)
  | ({ status: 'planned' } & ResetReport)
  | ({ status: 'retry-later'; retryAt: string; reason: string } & ResetReport)
  /** Nothing written: the person must be verified first (ResetOptions.gate); the run resumes once they are. */
  | ({ status: 'awaiting-verification'; reason: string } & ResetReport);

/** The status part of a result, without the shared report fields. */
export type ResetConclusion = ResetResult extends infer R ? (R extends ResetResult ? Omit<R, keyof ResetReport> : never) : never;

/** The result without one-time secrets, fit for logs, audit rows and status pages. */
export function withoutSecrets<T extends ResetResult>(result: T): Omit<T, 'oneTimeSecrets'> {
  const { oneTimeSecrets: _secrets, ...rest } = result;
  return rest;
}

/**
 * One reset: resolve → guards → snapshot → plan → (dry run stops) → delete → verify (one more pass
 * for what remains) → revoke → Temporary Access Pass. Each step lands in `state` before the next
 * begins, and `onStep` sees it, so a re-delivered message resumes where this one stopped.
 */
export async function runReset(graph: GraphTransport, input: ResetInput, options: ResetOptions): Promise<ResetResult> {
  const policy = defaultRetryPolicy({
    ...(options.maxInlineWaitSeconds !== undefined ? { maxInlineWaitSeconds: options.maxInlineWaitSeconds } : {}),
    ...options.retry,
  });
  const state = options.state ? resetStateSchema.parse(structuredClone(options.state)) : newState(new Date(policy.now()));
  const ctx = createStepContext(graph, policy, state, options.onStep);
  let secret: string | undefined;

  const finish = async (result: ResetConclusion): Promise<ResetResult> => {
    await ctx.flush();
    return { ...report(state, input, secret), ...result } as ResetResult;
  };

  const tap = temporaryAccessPassRequestSchema.safeParse(input.temporaryAccessPass ?? {});
  if (!tap.success) {
    return finish({
      status: 'rejected',
      code: 'invalid-input',
      reason: `temporaryAccessPass.lifetimeInMinutes must be a whole number from 10 to 43200 (${tap.error.issues[0]?.message}).`,
    });
  }
  const wantsPass = input.temporaryAccessPass !== undefined;
  const cloud = graphCloudOf(graph.origin);
  if (wantsPass && cloud && !cloud.offers.temporaryAccessPass && !state.temporaryAccessPass) {
    // Removing the methods and then failing to issue the pass would lock the user out: refuse first.
    return finish({
      status: 'rejected',
      code: 'temporary-access-pass-unavailable',
      reason: `Microsoft Graph in the ${cloud.name} cloud offers no Temporary Access Pass API (v1.0), so the requested pass cannot be issued and nothing was changed. Send the request without a pass, and give the user another way to register again.`,
    });
  }

  try {
    // Persisting the resolved target (and whatever the caller does then, such as taking the user's lock)
    // runs side by side with the reads below; it must have succeeded before anything is written.
    let resolveRecorded: Promise<void> = Promise.resolve();
    // A resumed run (a redelivery, a throttled or deferred reset) trusts no stored verdict before it
    // writes again: the target is resolved again and must be the same user, and every guard runs again.
    const resumed = state.target !== undefined && state.guards?.outcome === 'passed' && !input.dryRun;
    if (resumed) {
      const again = await resolveTarget(ctx, input.target);
      const before = state.target!;
      if (!again.ok || again.target.objectId.toLowerCase() !== before.objectId.toLowerCase()) {
        const now = again.ok ? `${again.target.userPrincipalName} (${again.target.objectId})` : again.reason;
        const reason = `The user this reset started on, ${before.userPrincipalName} (${before.objectId}), is not the user the request names now: ${now}. Nothing more was changed; check the ticket and send a new request.`;
        state.guards = { outcome: 'rejected', code: 'target-changed', reason };
        await ctx.record({ step: 'resolve', outcome: 'rejected', detail: reason });
        return finish(stopBeforeWriting(state, 'target-changed', reason));
      }
      state.target = again.target;
    } else if (!state.target && !state.guards) {
      const resolved = await resolveTarget(ctx, input.target);
      if (!resolved.ok) {
        state.guards = { outcome: 'rejected', code: resolved.code, reason: resolved.reason };
        await ctx.record({ step: 'resolve', outcome: 'rejected', detail: resolved.reason });
        return finish({ status: 'rejected', code: resolved.code, reason: resolved.reason });
      }
      state.target = resolved.target;
      resolveRecorded = ctx.record({ step: 'resolve', outcome: 'resolved', detail: `${resolved.target.userPrincipalName} (${resolved.target.objectId})` });
    }
    if (state.guards?.outcome === 'rejected') {
      return finish({ status: 'rejected', code: state.guards.code ?? 'rejected', reason: state.guards.reason ?? 'refused by a guard' });
    }
    const target = state.target!;
    const hardwareOath = inScope('hardwareOath', input.profile, input.methods);

    // The guards' reads, the snapshot and the pass policy depend only on the object id: one round trip.
    // Nothing is written before the guards pass; a guard that cannot read fails closed whatever the
    // other reads answered, and a refused user's snapshot is dropped, never stored.
    const [recorded, guarded, snapshot, tapPolicy] = await Promise.allSettled([
      resolveRecorded,
      state.guards && !resumed ? Promise.resolve(undefined) : checkGuards(ctx, target, options.guards),
      state.snapshot ? Promise.resolve(state.snapshot) : takeSnapshot(ctx, target.objectId, { hardwareOath }),
      wantsPass && !state.tapPolicy && !input.dryRun ? readTapPolicy(ctx) : Promise.resolve(state.tapPolicy),
    ]);
    if (recorded.status === 'rejected') throw recorded.reason;
    if (guarded.status === 'rejected') throw guarded.reason;
    // A check on resume that passes again changes nothing and is not a step of its own (the worker's
    // `resume` audit row says the run resumed); one that refuses is recorded and ends the run.
    if (!state.guards || (resumed && !guarded.value!.ok)) {
      const guard = guarded.value!;
      state.guards = guard.ok ? { outcome: 'passed', ...(guard.strictVerification ? { strictVerification: true } : {}) } : { outcome: 'rejected', code: guard.code, reason: guard.reason };
      await ctx.record({ step: 'guards', outcome: state.guards.outcome, detail: guard.ok ? undefined : resumed ? `checked again on resume: ${guard.reason}` : guard.reason });
      if (!guard.ok) return finish(stopBeforeWriting(state, guard.code, guard.reason));
    }
    if (snapshot.status === 'rejected') throw snapshot.reason;
    if (tapPolicy.status === 'rejected') throw tapPolicy.reason;

    if (!state.snapshot) {
      state.snapshot = snapshot.value;
      await ctx.record({ step: 'snapshot', outcome: 'taken', detail: `${state.snapshot.methods.length} methods; default ${state.snapshot.defaultMethod.preference ?? 'unknown'}` });
    }
    if (wantsPass && !state.tapPolicy && tapPolicy.value) {
      state.tapPolicy = tapPolicy.value;
      await ctx.record({ step: 'policy', outcome: state.tapPolicy.source, detail: state.tapPolicy.note ?? describePolicy(state.tapPolicy) });
    }
    if (wantsPass && state.tapPolicy?.source === 'policy' && state.tapPolicy.state === 'disabled' && state.passes === 0) {
      // Removing the methods and then failing to issue the pass would lock the user out: refuse first.
      return finish({
        status: 'rejected',
        code: 'temporary-access-pass-disabled',
        reason: 'The tenant\'s Temporary Access Pass policy is disabled, so the requested pass cannot be issued and nothing was changed. Enable Temporary Access Pass in Entra ID (Authentication methods > Policies), or send the request without a pass.',
      });
    }
    // The user must be one the policy lets sign in with a pass, and the policy must have been readable.
    const passRefusal = wantsPass && state.passes === 0 ? await passPolicyRefusal(ctx, state.tapPolicy, target, guarded.status === 'fulfilled' && guarded.value?.ok ? guarded.value.groups : undefined) : undefined;
    if (passRefusal) return finish({ status: 'rejected', ...passRefusal });
    const pass = fitToPolicy(tap.data, state.tapPolicy);

    const planInput = {
      profile: input.profile,
      methods: input.methods,
      replaceTemporaryAccessPass: wantsPass,
      hardwareOathAction: input.hardwareOathAction ?? 'deactivate',
    };
    if (!state.plan) {
      state.plan = planReset(state.snapshot, planInput);
      await ctx.record({ step: 'plan', outcome: 'planned', detail: `${state.plan.deletions.length} to remove, ${state.plan.kept.length} kept` });
    }
    if (input.dryRun) return finish({ status: 'planned' });

    // The user proves who they are before anything is removed, revoked or issued.
    if (options.gate) {
      if (resumed && guarded.status === 'fulfilled' && guarded.value?.ok) {
        // A check on resume may find the user newly in a strict group: the verification it needs follows.
        state.guards = { ...state.guards!, strictVerification: guarded.value.strictVerification === true };
      }
      const decision = await options.gate(structuredClone(state));
      if (decision.kind === 'wait') {
        await ctx.flush();
        return finish({ status: 'awaiting-verification', reason: decision.reason });
      }
      if (decision.kind === 'refuse') return finish(stopBeforeWriting(state, decision.code, decision.reason));
    }

    const execution = { concurrency: options.concurrency ?? 4, useBatch: options.useBatch ?? false };
    if (state.passes === 0) {
      await executeDeletions(ctx, target.objectId, state.plan.deletions, execution, state.plan.defaultChange);
      state.passes = 1;
    }
    const revokeNeeded = () => input.revokeSessions && state.revoke?.outcome !== 'done';
    if (!state.verify || (state.verify.remaining.length > 0 && state.verify.pass < 2)) {
      // Verifying and revoking are independent: side by side. Should a second pass remove something,
      // the sessions are revoked again after it, so no sign-in made meanwhile with it survives.
      const revokedWithVerify = revokeNeeded();
      await Promise.all([verify(ctx, target.objectId, state.snapshot, planInput, hardwareOath), revokedWithVerify ? revokeSessions(ctx, target.objectId) : Promise.resolve()]);
      if (state.verify!.remaining.length > 0 && state.passes < 2) {
        const again = state.plan.deletions.filter((d) => state.verify!.remaining.includes(d.id));
        for (const deletion of again) {
          const progress = state.deletions[deletion.id];
          if (progress) progress.outcome = 'pending';
        }
        await executeDeletions(ctx, target.objectId, again, execution, state.plan.defaultChange);
        state.passes = 2;
        const removedInSecondPass = again.some((d) => ['deleted', 'deactivated'].includes(state.deletions[d.id]?.outcome ?? ''));
        await verify(ctx, target.objectId, state.snapshot, planInput, hardwareOath);
        // Sessions opened meanwhile with a method this pass removed are revoked too.
        if (input.revokeSessions && revokedWithVerify && removedInSecondPass) await revokeSessions(ctx, target.objectId);
      }
    }

    if (revokeNeeded()) await revokeSessions(ctx, target.objectId);

    if (wantsPass) {
      const previousTap = state.temporaryAccessPass;
      // A pass that may exist (`unknown`) or was created is never created again; a transient refusal is retried.
      if (!previousTap || (previousTap.outcome === 'failed' && previousTap.transient === true)) {
        const existing = state.snapshot.methods.filter((m) => m.kind === 'temporaryAccessPass').map((m) => m.id);
        secret = await issueTemporaryAccessPass(ctx, target.objectId, pass.request, existing, pass.adjusted);
      }
    }

    return finish(conclude(state, input));
  } catch (error) {
    if (error instanceof RetryLaterError) {
      await ctx.flush().catch(() => undefined);
      return finish({ status: 'retry-later', retryAt: error.retryAt.toISOString(), reason: `Graph asked to wait: ${error.reason}` });
    }
    if (error instanceof GraphCallError || error instanceof GraphNetworkError) {
      await ctx.flush().catch(() => undefined);
      const transient = error instanceof GraphNetworkError || error.status >= 500 || error.status === 429;
      return finish({ status: 'failed', reason: error.message, transient });
    }
    throw error;
  }
}

/**
 * A refusal before this run writes anything: `rejected` when no earlier run wrote either, otherwise
 * `partial`, since methods may already be gone (never a refusal that hides what was done).
 */
function stopBeforeWriting(state: ResetState, code: string, reason: string): ResetConclusion {
  const wrote =
    Object.values(state.deletions).some((d) => d.outcome === 'deleted' || d.outcome === 'deactivated') ||
    state.defaultChange?.outcome === 'done' ||
    state.revoke?.outcome === 'done' ||
    (state.temporaryAccessPass !== undefined && state.temporaryAccessPass.outcome !== 'failed');
  if (!wrote) return { status: 'rejected', code, reason };
  return { status: 'partial', reason: `Stopped part-way: ${reason} What an earlier run already changed stays changed; see the methods below.` };
}

function describePolicy(policy: NonNullable<ResetState['tapPolicy']>): string {
  return `Temporary Access Pass policy ${policy.state ?? 'state unknown'}, ${policy.minimumLifetimeInMinutes ?? '?'}–${policy.maximumLifetimeInMinutes ?? '?'} minutes${policy.isUsableOnce ? ', one-time use only' : ''}`;
}

/**
 * Lists again; whatever in scope is still there (planned, or registered since the snapshot) remains.
 * A deactivated hardware token is still listed (it stays assigned): it remains only while its device
 * still says `activated`. When the hardware tokens cannot be read, none of them counts as handled.
 */
async function verify(ctx: StepContext, objectId: string, snapshot: Snapshot, planInput: Parameters<typeof planReset>[1], hardwareOath: boolean): Promise<void> {
  const state = ctx.state;
  const listing = await listMethods(ctx, objectId, { hardwareOath });
  const now = listing.methods;
  const hardwareUnreadable = listing.hardwareOath.source === 'unavailable';
  const stillPlanned = state.plan!.deletions
    .filter((d) => {
      if (d.kind === 'hardwareOath' && hardwareUnreadable) return true;
      const listed = now.find((m) => m.id === d.id);
      if (!listed) return false;
      return d.action !== 'deactivate' || listed.deviceStatus === undefined || listed.deviceStatus === 'activated';
    })
    .map((d) => d.id);
  // A method registered meanwhile is in scope too: plan it with the same rules and add it.
  const newcomers = now.filter((m) => !snapshot.methods.some((s) => s.id === m.id));
  if (newcomers.length > 0) {
    const extra = planReset({ ...snapshot, methods: newcomers }, planInput).deletions;
    const lastWave = Math.max(-1, ...state.plan!.deletions.map((d) => d.wave));
    for (const deletion of extra) {
      state.plan!.deletions.push({ ...deletion, wave: lastWave + 1 + deletion.wave, why: 'registered after the snapshot' });
      state.snapshot!.methods.push(newcomers.find((m) => m.id === deletion.id)!);
      stillPlanned.push(deletion.id);
    }
  }
  if (hardwareUnreadable && state.snapshot!.hardwareOath.source !== 'unavailable') state.snapshot!.hardwareOath = listing.hardwareOath;
  state.verify = { at: ctx.now().toISOString(), remaining: stillPlanned, pass: state.passes };
  await ctx.record({ step: 'verify', outcome: stillPlanned.length === 0 ? 'clean' : 'remaining', detail: stillPlanned.length ? `${stillPlanned.length} still registered` : undefined });
}

function conclude(state: ResetState, input: ResetInput): ResetConclusion {
  const plan = state.plan!;
  const remaining = plan.deletions.filter((d) => state.verify?.remaining.includes(d.id));
  const unknownInScope = input.profile === 'all' && !(input.methods && input.methods.length) ? plan.unknownTypes : [];
  const hardwareUnread = state.snapshot?.hardwareOath.source === 'unavailable' ? state.snapshot.hardwareOath.note : undefined;
  if (remaining.length > 0 || unknownInScope.length > 0 || hardwareUnread) {
    const parts = remaining.map((d) => {
      const error = state.deletions[d.id]?.error;
      const blocked = d.isDefault && plan.defaultBlocked?.methodIds.includes(d.id);
      const stays = blocked ? ` while ${plan.defaultBlocked!.staying.join(', ')} stay` : '';
      const label = d.isDefault ? `${d.detail} (${d.kind}, the user's default method, id ${d.id})` : `${d.detail} (${d.kind}, id ${d.id})`;
      return `${label}${error ? `: ${error}${stays}` : ''}`;
    });
    if (unknownInScope.length) parts.push(`methods of unknown type ${unknownInScope.join(', ')} could not be removed`);
    const lead = remaining.length > 0 || unknownInScope.length > 0 ? `Still registered after ${state.passes} pass(es): ${parts.join('; ')}.` : '';
    const defaultLeft = remaining.some((d) => d.isDefault && state.deletions[d.id]?.error);
    const hardware = hardwareUnread ? ` Hardware OATH tokens are in scope but ${hardwareUnread}.` : '';
    const advice = defaultLeft ? ` ${finishAdvice(defaultBlockers(plan, input, state.verify?.remaining ?? []), input)}` : remaining.length > 0 ? ' The user may still be asked for these; remove them in the admin center or retry.' : '';
    return { status: 'partial', reason: `${lead}${hardware}${advice}`.trim() };
  }
  const tap = state.temporaryAccessPass;
  const passTransient = tap?.outcome === 'failed' && tap.transient === true;
  if (input.temporaryAccessPass && tap && tap.outcome !== 'created' && !passTransient) {
    const revoked = input.revokeSessions && state.revoke?.outcome !== 'done' ? ` Sign-in sessions were not revoked either (${state.revoke?.error ?? 'not attempted'}).` : '';
    return {
      status: 'partial',
      reason: `All methods in scope were removed, but no Temporary Access Pass was issued (${tap.error ?? tap.outcome}). The user may be unable to sign in to register again: issue a pass in the Entra admin center once the cause is fixed.${revoked}`,
    };
  }
  const problems: string[] = [];
  if (input.revokeSessions && state.revoke?.outcome !== 'done') problems.push(`sign-in sessions were not revoked (${state.revoke?.error ?? 'not attempted'})`);
  if (input.temporaryAccessPass && tap && tap.outcome !== 'created') problems.push(`no Temporary Access Pass was issued yet (${tap.error ?? tap.outcome})`);
  if (problems.length > 0) {
    const transient = (input.revokeSessions && state.revoke?.transient === true) || passTransient;
    return { status: 'failed', reason: `All methods in scope were removed, but ${problems.join(' and ')}.`, transient };
  }
  return { status: 'completed' };
}

/**
 * What a dry run says of a method it would remove. A default that Graph keeps while other methods stay
 * (plan.defaultBlocked) is not "would be deleted": the real run would end partial with it left.
 */
function dryRunReason(plan: ResetState['plan'], methodId: string): string {
  if (plan?.defaultBlocked?.methodIds.includes(methodId)) {
    return `would be tried last, but Graph keeps the default method while ${plan.defaultBlocked.staying.join(', ')} stay: a real run would end partial with it left (dry run)`;
  }
  return 'would be deleted (dry run)';
}

function report(state: ResetState, input: ResetInput, secret: string | undefined): ResetReport {
  const plan = state.plan;
  const methods: MethodOutcome[] = [];
  for (const method of state.snapshot?.methods ?? []) {
    const planned = plan?.deletions.find((d) => d.id === method.id);
    const kept = plan?.kept.find((k) => k.id === method.id);
    const progress = state.deletions[method.id];
    const requestIds = progress?.requestIds ?? [];
    if (!planned) {
      methods.push({ id: method.id, kind: method.kind, detail: method.detail, outcome: 'kept', isDefault: false, reason: kept?.why, requestIds });
      continue;
    }
    const base = { id: method.id, kind: method.kind, detail: method.detail, isDefault: planned.isDefault, requestIds };
    if (input.dryRun || !progress && !state.verify) {
      methods.push({ ...base, outcome: input.dryRun ? 'planned' : 'remaining', reason: input.dryRun ? dryRunReason(plan, method.id) : 'not yet deleted' });
    } else if (state.verify?.remaining.includes(method.id)) {
      methods.push({ ...base, outcome: progress?.outcome === 'failed' ? 'failed' : 'remaining', reason: progress?.error ?? 'still registered after deletion' });
    } else if (progress?.outcome === 'deleted' || progress?.outcome === 'deactivated') {
      methods.push({ ...base, outcome: progress.outcome });
    } else if (progress?.outcome === 'failed' && !state.verify) {
      methods.push({ ...base, outcome: 'failed', reason: progress.error });
    } else {
      methods.push({ ...base, outcome: 'already-gone' });
    }
  }
  const writes = new Set(['delete', 'defaultMethod', 'revoke', 'temporaryAccessPass']);
  const warnings: string[] = [];
  if (plan?.unknownTypes.length) warnings.push(`Unknown method types kept: ${plan.unknownTypes.join(', ')}`);
  if (state.snapshot?.defaultMethod.source === 'unavailable') warnings.push(state.snapshot.defaultMethod.note ?? 'default method unknown');
  if (state.snapshot?.hardwareOath.source === 'unavailable') warnings.push(state.snapshot.hardwareOath.note ?? 'hardware OATH tokens could not be read');
  if (state.tapPolicy?.source === 'unavailable' && state.tapPolicy.note) warnings.push(state.tapPolicy.note);
  if (state.temporaryAccessPass?.adjusted) warnings.push(`Temporary Access Pass: ${state.temporaryAccessPass.adjusted}`);
  if (input.dryRun && plan?.defaultBlocked) {
    warnings.push(`A real run would end partial: Graph keeps ${plan.defaultBlocked.detail} (the user's default method) while ${plan.defaultBlocked.staying.join(', ')} stay. ${finishAdvice(defaultBlockers(plan, input, []), input, { dryRun: true })}`);
  }
  if (input.dryRun && plan?.defaultChange) warnings.push(`A real run would first change the default method from ${plan.defaultChange.from} to ${plan.defaultChange.to} (${plan.defaultChange.detail}): ${plan.defaultChange.why}`);
  if (plan?.defaultChange && state.defaultChange?.outcome === 'done') warnings.push(`Default method changed from ${plan.defaultChange.from} to ${plan.defaultChange.to} (${plan.defaultChange.detail}) before it was removed: ${plan.defaultChange.why}`);
  return {
    ...(state.target ? { target: state.target } : {}),
    ...(state.snapshot ? { snapshot: state.snapshot } : {}),
    ...(plan ? { plan } : {}),
    methods,
    ...(state.revoke ? { revoke: state.revoke } : {}),
    ...(state.temporaryAccessPass ? { temporaryAccessPass: { ...state.temporaryAccessPass, secretAvailable: secret !== undefined } } : {}),
    requestIds: state.events.filter((e) => writes.has(e.step) && e.requestId).map((e) => e.requestId!),
    warnings,
    state: structuredClone(state),
    ...(secret !== undefined ? { oneTimeSecrets: { temporaryAccessPass: secret } } : {}),
  };
}
