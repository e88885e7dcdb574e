import { z } from 'zod';
import { failure, type StepContext } from './context';
import { GraphNetworkError, type GraphResponse } from './http';
import { pause, backoffSeconds } from './retry';
import { authenticationMethodSchema, collectionSchema, graphErrorText, temporaryAccessPassCreatedSchema } from './schemas';

/** Invalidates refresh tokens and session cookies, so sign-ins made with the old methods end. */
export async function revokeSessions(ctx: StepContext, objectId: string): Promise<void> {
  const at = () => ctx.now().toISOString();
  let response: GraphResponse;
  try {
    // Revoking twice is harmless, so lost answers are retried.
    response = await ctx.call({ method: 'POST', version: 'v1.0', path: `/users/${objectId}/revokeSignInSessions` }, { idempotent: true });
  } catch (error) {
    if (!(error instanceof GraphNetworkError)) throw error;
    ctx.state.revoke = { outcome: 'failed', at: at(), error: `no answer from Graph: ${error.message}`, transient: true };
    await ctx.record({ step: 'revoke', outcome: 'failed', detail: ctx.state.revoke.error });
    return;
  }
  if (response.status >= 200 && response.status < 300) {
    ctx.state.revoke = { outcome: 'done', at: at(), ...(response.requestId ? { requestId: response.requestId } : {}) };
  } else {
    ctx.state.revoke = {
      outcome: 'failed',
      at: at(),
      error: failure(response, 'Revoking sign-in sessions').message,
      transient: response.status >= 500 || response.status === 429,
      ...(response.requestId ? { requestId: response.requestId } : {}),
    };
  }
  await ctx.record({ step: 'revoke', outcome: ctx.state.revoke.outcome, requestId: response.requestId, detail: ctx.state.revoke.error });
}

export interface TemporaryAccessPassRequest {
  lifetimeInMinutes?: number;
  isUsableOnce?: boolean;
}

export const TAP_LIFETIME = { min: 10, max: 43200 } as const;

/**
 * Creates a Temporary Access Pass and returns its secret, which Graph shows in this one answer only.
 * Graph replaces a pass the user already holds.
 * The secret goes back to the caller in memory and nowhere else. The create call is never replayed
 * blindly: after a lost answer or a 503 the user's passes are listed first, and a pass that appeared
 * meanwhile is reported as `unknown` (it exists, its secret is lost) instead of creating a second one.
 */
export async function issueTemporaryAccessPass(
  ctx: StepContext,
  objectId: string,
  request: TemporaryAccessPassRequest,
  existingPassIds: readonly string[],
  /** What the tenant's policy changed in the request, kept with the outcome so the result says it. */
  adjusted?: string,
): Promise<string | undefined> {
  const note = adjusted ? { adjusted } : {};
  const at = () => ctx.now().toISOString();
  const body = {
    ...(request.lifetimeInMinutes !== undefined ? { lifetimeInMinutes: request.lifetimeInMinutes } : {}),
    ...(request.isUsableOnce !== undefined ? { isUsableOnce: request.isUsableOnce } : {}),
  };
  for (let attempt = 1; ; attempt += 1) {
    let response: GraphResponse | undefined;
    let lost: string | undefined;
    try {
      response = await ctx.call(
        { method: 'POST', version: 'v1.0', path: `/users/${objectId}/authentication/temporaryAccessPassMethods`, body },
        { idempotent: false },
      );
    } catch (error) {
      if (!(error instanceof GraphNetworkError)) throw error;
      lost = `no answer from Graph: ${error.message}`;
    }
    if (response && (response.status === 201 || response.status === 200)) {
      const parsed = temporaryAccessPassCreatedSchema.safeParse(response.body);
      if (!parsed.success) {
        ctx.state.temporaryAccessPass = { outcome: 'unknown', at: at(), requestId: response.requestId, error: 'Graph created a pass but its answer was not understood', ...note };
        await ctx.record({ step: 'temporaryAccessPass', outcome: 'unknown', requestId: response.requestId, detail: ctx.state.temporaryAccessPass.error });
        return undefined;
      }
      const created = parsed.data;
      ctx.state.temporaryAccessPass = {
        outcome: 'created',
        at: at(),
        methodId: created.id,
        ...(response.requestId ? { requestId: response.requestId } : {}),
        ...(created.lifetimeInMinutes != null ? { lifetimeInMinutes: created.lifetimeInMinutes } : {}),
        ...(created.isUsableOnce != null ? { isUsableOnce: created.isUsableOnce } : {}),
        ...(created.startDateTime ? { startDateTime: created.startDateTime } : {}),
        ...note,
      };
      await ctx.record({ step: 'temporaryAccessPass', outcome: 'created', requestId: response.requestId, methodId: created.id });
      return created.temporaryAccessPass;
    }
    const ambiguous = lost !== undefined || response?.status === 503 || response?.status === 504;
    if (!ambiguous || attempt >= ctx.policy.maxAttempts) {
      const error = lost ?? (response ? `${graphErrorText(response.body) ?? `HTTP ${response.status}`}` : 'no answer');
      ctx.state.temporaryAccessPass = {
        outcome: ambiguous ? 'unknown' : 'failed',
        at: at(),
        ...(response?.requestId ? { requestId: response.requestId } : {}),
        error,
        transient: response !== undefined && (response.status >= 500 || response.status === 429),
        ...note,
      };
      await ctx.record({ step: 'temporaryAccessPass', outcome: ctx.state.temporaryAccessPass.outcome, requestId: response?.requestId, detail: error });
      return undefined;
    }
    if (await passAppeared(ctx, objectId, existingPassIds)) {
      const error = 'the create call got no clear answer and a pass now exists: its secret cannot be shown again. Delete it and issue a new one.';
      ctx.state.temporaryAccessPass = { outcome: 'unknown', at: at(), error, ...note };
      await ctx.record({ step: 'temporaryAccessPass', outcome: 'unknown', detail: error });
      return undefined;
    }
    await pause(response?.retryAfterSeconds ?? backoffSeconds(ctx.policy, attempt), ctx.policy, `creating a Temporary Access Pass: ${lost ?? `answered ${response?.status}`}`);
  }
}

async function passAppeared(ctx: StepContext, objectId: string, existing: readonly string[]): Promise<boolean> {
  const response = await ctx.call({ method: 'GET', version: 'v1.0', path: `/users/${objectId}/authentication/temporaryAccessPassMethods` });
  const parsed = collectionSchema(authenticationMethodSchema.partial({ '@odata.type': true })).safeParse(response.body);
  if (response.status !== 200 || !parsed.success) return true; // cannot tell: assume it may exist, never create a second
  return parsed.data.value.some((pass) => !existing.includes(pass.id));
}

export const temporaryAccessPassRequestSchema = z.object({
  lifetimeInMinutes: z.number().int().min(TAP_LIFETIME.min).max(TAP_LIFETIME.max).optional(),
  isUsableOnce: z.boolean().optional(),
});
