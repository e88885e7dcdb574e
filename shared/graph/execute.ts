import { METHOD_TYPES } from './catalogue';
import type { StepContext } from './context';
import { GraphNetworkError, type GraphResponse } from './http';
import { backoffSeconds, pause, RETRYABLE_STATUSES, RetryLaterError } from './retry';
import { batchResponseSchema, graphErrorText } from './schemas';
import type { DeletionProgress, Plan, PlannedDeletion } from './state';

export interface ExecuteOptions {
  /** Deletions one reset sends at once. */
  concurrency: number;
  /** Send each wave as JSON $batch requests (at most 20 each) instead of single calls. */
  useBatch: boolean;
}

export const MAX_BATCH = 20;

const FINISHED = new Set<DeletionProgress['outcome']>(['deleted', 'deactivated', 'already-gone']);

/** Graph's refusal to delete the default method while others remain (a 400 badRequest). */
export function isDefaultRefusal(status: number, body: unknown): boolean {
  return status === 400 && /default/i.test(graphErrorText(body) ?? '');
}

/**
 * Deletes the given methods wave by wave. A method already deleted (in this run or a previous one,
 * per the state) is never sent again. A default-method refusal is retried once after everything else.
 * Throws RetryLaterError when Graph asks for a longer pause; progress so far is in the state.
 */
export async function executeDeletions(
  ctx: StepContext,
  objectId: string,
  deletions: PlannedDeletion[],
  options: ExecuteOptions,
  defaultChange?: Plan['defaultChange'],
): Promise<void> {
  const todo = deletions.filter((d) => !FINISHED.has(ctx.state.deletions[d.id]?.outcome ?? 'pending'));
  if (defaultChange && todo.length > 0 && ctx.state.defaultChange?.outcome !== 'done') await changeDefault(ctx, objectId, defaultChange);
  const waves = [...new Set(todo.map((d) => d.wave))].sort((a, b) => a - b);
  for (const wave of waves) {
    await runWave(ctx, objectId, todo.filter((d) => d.wave === wave), options);
  }
  const deferred = todo.filter((d) => ctx.state.deletions[d.id]?.outcome === 'deferred');
  for (const deletion of deferred) {
    // Everything else has gone by now; one at a time, since each may be the last default-capable method.
    await runWave(ctx, objectId, [deletion], { ...options, useBatch: false }, true);
  }
}

async function runWave(ctx: StepContext, objectId: string, wave: PlannedDeletion[], options: ExecuteOptions, finalTry = false): Promise<void> {
  // A delete that may need a second form (see byRef) goes on its own, where its answer can be read first.
  const batchable = options.useBatch ? wave.filter((d) => !byRef(d)) : [];
  const single = options.useBatch ? wave.filter((d) => byRef(d)) : wave;
  if (batchable.length > 1) {
    for (const version of ['v1.0', 'beta'] as const) {
      const same = batchable.filter((d) => d.version === version);
      for (let index = 0; index < same.length; index += MAX_BATCH) {
        await deleteInBatch(ctx, objectId, same.slice(index, index + MAX_BATCH), finalTry);
      }
    }
  } else {
    single.push(...batchable);
  }
  await pool(single, Math.max(1, options.concurrency), (deletion) => deleteOne(ctx, objectId, deletion, finalTry));
}

/** Deleted at the documented `$ref` form first (external authentication methods). */
function byRef(deletion: PlannedDeletion): boolean {
  return deletion.action === 'delete' && METHOD_TYPES[deletion.kind].deleteByRef === true;
}

type RemovalForm = 'item' | 'ref';

/**
 * DELETE on the typed collection (the item, its `$ref`, or for a singleton such as QR code + PIN the
 * property itself), or for a hardware token the beta `deactivate` action (it stays assigned).
 */
function removal(objectId: string, deletion: PlannedDeletion, form: RemovalForm = byRef(deletion) ? 'ref' : 'item'): { method: 'DELETE' | 'POST'; path: string } {
  const collection = `/users/${objectId}/authentication/${deletion.collection}`;
  if (METHOD_TYPES[deletion.kind].singleton) return { method: 'DELETE', path: collection };
  const path = `${collection}/${encodeURIComponent(deletion.id)}`;
  if (deletion.action === 'deactivate') return { method: 'POST', path: `${path}/deactivate` };
  return { method: 'DELETE', path: form === 'ref' ? `${path}/$ref` : path };
}

/** Graph's answers to a path it does not know: the router's 400, 404, or 405 for a method the path does not take. */
function unknownPath(status: number): boolean {
  return status === 400 || status === 404 || status === 405;
}

/**
 * Moves the default method before the deletions (beta PATCH signInPreferences → 204). A PATCH is
 * safe to repeat. A refusal is recorded and the deletions go on: the default then stays, and the
 * result says so.
 */
async function changeDefault(ctx: StepContext, objectId: string, change: NonNullable<Plan['defaultChange']>): Promise<void> {
  const at = () => ctx.now().toISOString();
  let response: GraphResponse;
  try {
    response = await ctx.call({
      method: 'PATCH',
      version: 'beta',
      path: `/users/${objectId}/authentication/signInPreferences`,
      body: { userPreferredMethodForSecondaryAuthentication: change.to },
    });
  } catch (error) {
    if (!(error instanceof GraphNetworkError)) throw error;
    ctx.state.defaultChange = { outcome: 'failed', at: at(), to: change.to, error: `no answer from Graph: ${error.message}` };
    await ctx.record({ step: 'defaultMethod', outcome: 'failed', detail: ctx.state.defaultChange.error });
    return;
  }
  const ok = response.status >= 200 && response.status < 300;
  ctx.state.defaultChange = {
    outcome: ok ? 'done' : 'failed',
    at: at(),
    to: change.to,
    ...(response.requestId ? { requestId: response.requestId } : {}),
    ...(ok ? {} : { error: graphErrorText(response.body) ?? `HTTP ${response.status}` }),
  };
  await ctx.record({
    step: 'defaultMethod',
    outcome: ctx.state.defaultChange.outcome,
    requestId: response.requestId,
    detail: ok ? `default ${change.from} → ${change.to} (${change.detail}): ${change.why}` : `default not changed to ${change.to}: ${ctx.state.defaultChange.error}`,
  });
}

function progressOf(ctx: StepContext, id: string): DeletionProgress {
  const existing = ctx.state.deletions[id];
  if (existing) return existing;
  const fresh: DeletionProgress = { outcome: 'pending', attempts: 0, requestIds: [] };
  ctx.state.deletions[id] = fresh;
  return fresh;
}

async function deleteOne(ctx: StepContext, objectId: string, deletion: PlannedDeletion, finalTry: boolean): Promise<void> {
  const progress = progressOf(ctx, deletion.id);
  progress.attempts += 1;
  let response: GraphResponse;
  let form: RemovalForm | undefined;
  try {
    response = await ctx.call({ ...removal(objectId, deletion), version: deletion.version });
    if (byRef(deletion)) {
      form = 'ref';
      // The documented `$ref` form answered as a path Graph does not know: the item path, once, and the
      // audit says which form Graph took.
      if (unknownPath(response.status) && !isDefaultRefusal(response.status, response.body)) {
        const first = response;
        if (first.requestId) progress.requestIds.push(first.requestId);
        await ctx.record({
          step: 'delete',
          outcome: 'retrying',
          methodId: deletion.id,
          ...(first.requestId ? { requestId: first.requestId } : {}),
          detail: `${deletion.kind} ${deletion.detail}: DELETE …/${deletion.collection}/{id}/$ref (the documented form) answered ${graphErrorText(first.body) ?? `HTTP ${first.status}`}; trying the item path`,
        });
        const second = await ctx.call({ ...removal(objectId, deletion, 'item'), version: deletion.version });
        // The item path is not taken either, and the $ref form had said "not found": the method is gone.
        const gone = first.status === 404 && unknownPath(second.status) && second.status !== 404;
        response = gone ? { ...first, requestId: second.requestId } : second;
        form = gone ? 'ref' : 'item';
      }
    }
  } catch (error) {
    if (error instanceof GraphNetworkError) {
      return settle(ctx, deletion, progress, 'failed', undefined, `no answer from Graph: ${error.message}`);
    }
    throw error;
  }
  return settleFromStatus(ctx, deletion, progress, response.status, response.requestId, response.body, finalTry, form);
}

async function settleFromStatus(
  ctx: StepContext,
  deletion: PlannedDeletion,
  progress: DeletionProgress,
  status: number,
  requestId: string | undefined,
  body: unknown,
  finalTry: boolean,
  form?: RemovalForm,
): Promise<void> {
  const how = form === 'ref' ? 'DELETE on its $ref (the documented form)' : form === 'item' ? 'DELETE on the item path (the $ref form was not taken)' : undefined;
  if (status === 204 || status === 200) return settle(ctx, deletion, progress, deletion.action === 'deactivate' ? 'deactivated' : 'deleted', requestId, undefined, how);
  // Gone already: removed by the user, another run, or a lost answer to our own earlier DELETE.
  if (status === 404) return settle(ctx, deletion, progress, 'already-gone', requestId, undefined, how);
  if (isDefaultRefusal(status, body)) {
    if (!finalTry) return settle(ctx, deletion, progress, 'deferred', requestId, graphErrorText(body));
    return settle(
      ctx,
      deletion,
      progress,
      'failed',
      requestId,
      `Graph refused to delete the user's default method while other methods are registered (${graphErrorText(body) ?? status})`,
    );
  }
  return settle(ctx, deletion, progress, 'failed', requestId, graphErrorText(body) ?? `HTTP ${status}`, how);
}

async function settle(
  ctx: StepContext,
  deletion: PlannedDeletion,
  progress: DeletionProgress,
  outcome: DeletionProgress['outcome'],
  requestId: string | undefined,
  error?: string,
  how?: string,
): Promise<void> {
  progress.outcome = outcome;
  if (requestId) progress.requestIds.push(requestId);
  if (error) progress.error = error;
  else delete progress.error;
  await ctx.record({
    step: 'delete',
    outcome,
    methodId: deletion.id,
    ...(requestId ? { requestId } : {}),
    detail: `${deletion.kind} ${deletion.detail}${error ? `: ${error}` : ''}${how ? ` (${how})` : ''}`,
  });
}

/**
 * One wave as $batch requests. Graph answers 200 even when inner requests fail and throttles each
 * inner request on its own; the SDK does not retry inside a batch, so throttled ones are re-batched here.
 */
async function deleteInBatch(ctx: StepContext, objectId: string, chunk: PlannedDeletion[], finalTry: boolean): Promise<void> {
  let pending = chunk;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const byId = new Map(pending.map((d, index) => [String(index + 1), d]));
    for (const deletion of pending) progressOf(ctx, deletion.id).attempts += 1;
    let response: GraphResponse;
    try {
      response = await ctx.call({
        method: 'POST',
        version: pending[0]!.version,
        path: '/$batch',
        body: { requests: [...byId].map(([id, d]) => ({ id, method: removal(objectId, d).method, url: removal(objectId, d).path })) },
      });
    } catch (error) {
      if (!(error instanceof GraphNetworkError)) throw error;
      for (const deletion of pending) await settle(ctx, deletion, progressOf(ctx, deletion.id), 'failed', undefined, `no answer from Graph: ${error.message}`);
      return;
    }
    const parsed = batchResponseSchema.safeParse(response.body);
    if (response.status !== 200 || !parsed.success) {
      const why = graphErrorText(response.body) ?? `$batch answered HTTP ${response.status}`;
      for (const deletion of pending) await settle(ctx, deletion, progressOf(ctx, deletion.id), 'failed', response.requestId, why);
      return;
    }
    const again: PlannedDeletion[] = [];
    let wait = 0;
    let throttledWhy = '';
    for (const [id, deletion] of byId) {
      const inner = parsed.data.responses.find((r) => r.id === id);
      const progress = progressOf(ctx, deletion.id);
      if (!inner) {
        await settle(ctx, deletion, progress, 'failed', response.requestId, '$batch answer had no response for this request');
        continue;
      }
      const innerRequestId = header(inner.headers, 'request-id') ?? response.requestId;
      if (RETRYABLE_STATUSES.has(inner.status)) {
        const retryAfter = Number(header(inner.headers, 'retry-after'));
        wait = Math.max(wait, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * (1 + Math.random() * 0.2) : backoffSeconds(ctx.policy, attempt));
        throttledWhy = `inner DELETE in $batch answered ${inner.status}`;
        again.push(deletion);
        continue;
      }
      await settleFromStatus(ctx, deletion, progress, inner.status, innerRequestId, inner.body, finalTry);
    }
    if (again.length > 0 && attempt >= ctx.policy.maxAttempts) {
      throw new RetryLaterError(new Date(ctx.policy.now() + Math.max(wait, 1) * 1000), `${throttledWhy} after ${attempt} attempts`);
    }
    if (again.length > 0) await pause(wait, ctx.policy, throttledWhy);
    pending = again;
  }
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? headers[key] : undefined;
}

/** Runs tasks with at most `limit` at once; after a RetryLaterError no new task starts. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let stop: unknown;
  const worker = async () => {
    while (stop === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        stop ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (stop !== undefined) throw stop;
}
