import type { MethodKind, ResetProfile } from '../method-names';
import { inScope } from './catalogue';
import { createStepContext, GraphCallError, type StepContext } from './context';
import { executeDeletions } from './execute';
import { checkGuards, type GuardSettings } from './guards';
import { GraphNetworkError, type GraphTransport } from './http';
import { planReset } from './plan';
import { defaultRetryPolicy, RetryLaterError, type RetryPolicy } from './retry';
import { resolveTarget } from './resolve-target';
import { issueTemporaryAccessPass, revokeSessions, temporaryAccessPassRequestSchema } from './sessions';
import { listMethods, takeSnapshot } from './snapshot';
import { newState, resetStateSchema, type Plan, type ResetState, type ResolvedTarget, type Snapshot, type SnapshotMethod, type StepEvent } from './state';

export interface ResetInput {
  target: { userPrincipalName?: string; objectId?: string };
  profile: ResetProfile;
  /** Explicit method kinds; when given, they replace the profile's scope. */
  methods?: MethodKind[];
  revokeSessions: boolean;
  temporaryAccessPass?: { lifetimeInMinutes?: number; isUsableOnce?: boolean };
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
}

export type MethodOutcomeKind = 'deleted' | 'already-gone' | 'failed' | 'remaining' | 'kept' | 'planned';

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
  | ({ status: 'retry-later'; retryAt: string; reason: string } & ResetReport);

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

  try {
    if (!state.target && !state.guards) {
      const resolved = await resolveTarget(ctx, input.target);
      if (!resolved.ok) {
        state.guards = { outcome: 'rejected', code: resolved.code, reason: resolved.reason };
        await ctx.record({ step: 'resolve', outcome: 'rejected', detail: resolved.reason });
        return finish({ status: 'rejected', code: resolved.code, reason: resolved.reason });
      }
      state.target = resolved.target;
      await ctx.record({ step: 'resolve', outcome: 'resolved', detail: `${resolved.target.userPrincipalName} (${resolved.target.objectId})` });
    }
    if (state.guards?.outcome === 'rejected') {
      return finish({ status: 'rejected', code: state.guards.code ?? 'rejected', reason: state.guards.reason ?? 'refused by a guard' });
    }
    const target = state.target!;

    if (!state.guards) {
      const guard = await checkGuards(ctx, target, options.guards);
      state.guards = guard.ok ? { outcome: 'passed' } : { outcome: 'rejected', code: guard.code, reason: guard.reason };
      await ctx.record({ step: 'guards', outcome: state.guards.outcome, detail: guard.ok ? undefined : guard.reason });
      if (!guard.ok) return finish({ status: 'rejected', code: guard.code, reason: guard.reason });
    }

    const hardwareOath = inScope('hardwareOath', input.profile, input.methods);
    if (!state.snapshot) {
      state.snapshot = await takeSnapshot(ctx, target.objectId, { hardwareOath });
      await ctx.record({ step: 'snapshot', outcome: 'taken', detail: `${state.snapshot.methods.length} methods; default ${state.snapshot.defaultMethod.preference ?? 'unknown'}` });
    }

    const planInput = { profile: input.profile, methods: input.methods, replaceTemporaryAccessPass: input.temporaryAccessPass !== undefined };
    if (!state.plan) {
      state.plan = planReset(state.snapshot, planInput);
      await ctx.record({ step: 'plan', outcome: 'planned', detail: `${state.plan.deletions.length} to delete, ${state.plan.kept.length} kept` });
    }
    if (input.dryRun) return finish({ status: 'planned' });

    const execution = { concurrency: options.concurrency ?? 4, useBatch: options.useBatch ?? false };
    if (state.passes === 0) {
      await executeDeletions(ctx, target.objectId, state.plan.deletions, execution);
      state.passes = 1;
    }
    if (!state.verify || (state.verify.remaining.length > 0 && state.verify.pass < 2)) {
      await verify(ctx, target.objectId, state.snapshot, planInput, hardwareOath);
      if (state.verify!.remaining.length > 0 && state.passes < 2) {
        const again = state.plan.deletions.filter((d) => state.verify!.remaining.includes(d.id));
        for (const deletion of again) {
          const progress = state.deletions[deletion.id];
          if (progress) progress.outcome = 'pending';
        }
        await executeDeletions(ctx, target.objectId, again, execution);
        state.passes = 2;
        await verify(ctx, target.objectId, state.snapshot, planInput, hardwareOath);
      }
    }

    if (input.revokeSessions && state.revoke?.outcome !== 'done') await revokeSessions(ctx, target.objectId);

    if (tap.data.lifetimeInMinutes !== undefined || input.temporaryAccessPass) {
      const previousTap = state.temporaryAccessPass;
      // A pass that may exist (`unknown`) or was created is never created again; a transient refusal is retried.
      if (!previousTap || (previousTap.outcome === 'failed' && previousTap.transient === true)) {
        const existing = state.snapshot.methods.filter((m) => m.kind === 'temporaryAccessPass').map((m) => m.id);
        secret = await issueTemporaryAccessPass(ctx, target.objectId, tap.data, existing);
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

/** Lists again; whatever in scope is still there (planned, or registered since the snapshot) remains. */
async function verify(ctx: StepContext, objectId: string, snapshot: Snapshot, planInput: Parameters<typeof planReset>[1], hardwareOath: boolean): Promise<void> {
  const state = ctx.state;
  const now = await listMethods(ctx, objectId, { hardwareOath });
  const stillPlanned = state.plan!.deletions.filter((d) => now.some((m) => m.id === d.id)).map((d) => d.id);
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
  state.verify = { at: ctx.now().toISOString(), remaining: stillPlanned, pass: state.passes };
  await ctx.record({ step: 'verify', outcome: stillPlanned.length === 0 ? 'clean' : 'remaining', detail: stillPlanned.length ? `${stillPlanned.length} still registered` : undefined });
}

function conclude(state: ResetState, input: ResetInput): ResetConclusion {
  const plan = state.plan!;
  const remaining = plan.deletions.filter((d) => state.verify?.remaining.includes(d.id));
  const unknownInScope = input.profile === 'all' && !(input.methods && input.methods.length) ? plan.unknownTypes : [];
  if (remaining.length > 0 || unknownInScope.length > 0) {
    const parts = remaining.map((d) => {
      const error = state.deletions[d.id]?.error;
      return `${d.detail} (${d.kind}, id ${d.id})${error ? `: ${error}` : ''}`;
    });
    if (unknownInScope.length) parts.push(`methods of unknown type ${unknownInScope.join(', ')} could not be removed`);
    return { status: 'partial', reason: `Still registered after ${state.passes} pass(es): ${parts.join('; ')}. The user may still be asked for these; remove them in the admin center or retry.` };
  }
  const problems: string[] = [];
  if (input.revokeSessions && state.revoke?.outcome !== 'done') problems.push(`sign-in sessions were not revoked (${state.revoke?.error ?? 'not attempted'})`);
  const tap = state.temporaryAccessPass;
  if (input.temporaryAccessPass && tap && tap.outcome !== 'created') problems.push(`no Temporary Access Pass was issued (${tap.error ?? tap.outcome})`);
  if (problems.length > 0) {
    const transient = (input.revokeSessions && state.revoke?.transient === true) || tap?.outcome === 'failed' && tap.transient === true;
    return { status: 'failed', reason: `All methods in scope were removed, but ${problems.join(' and ')}.`, transient };
  }
  return { status: 'completed' };
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
      methods.push({ ...base, outcome: input.dryRun ? 'planned' : 'remaining', reason: input.dryRun ? 'would be deleted (dry run)' : 'not yet deleted' });
    } else if (state.verify?.remaining.includes(method.id)) {
      methods.push({ ...base, outcome: progress?.outcome === 'failed' ? 'failed' : 'remaining', reason: progress?.error ?? 'still registered after deletion' });
    } else if (progress?.outcome === 'deleted') {
      methods.push({ ...base, outcome: 'deleted' });
    } else if (progress?.outcome === 'failed' && !state.verify) {
      methods.push({ ...base, outcome: 'failed', reason: progress.error });
    } else {
      methods.push({ ...base, outcome: 'already-gone' });
    }
  }
  const writes = new Set(['delete', 'revoke', 'temporaryAccessPass']);
  const warnings: string[] = [];
  if (plan?.unknownTypes.length) warnings.push(`Unknown method types kept: ${plan.unknownTypes.join(', ')}`);
  if (state.snapshot?.defaultMethod.source === 'unavailable') warnings.push(state.snapshot.defaultMethod.note ?? 'default method unknown');
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
