import type { ResetResult } from '../graph';

/**
 * What is stored as a request's `result` and shown by the status API: the engine's report without
 * its step state (stored apart as engineState) and without one-time secrets.
 */
export interface ResultSummary {
  status: string;
  headline: string;
  reason?: string;
  code?: string;
  target?: { objectId: string; userPrincipalName: string };
  methods?: { id: string; kind: string; detail: string; outcome: string; isDefault: boolean; reason?: string; requestIds: string[] }[];
  plan?: unknown;
  snapshot?: unknown;
  revoke?: unknown;
  temporaryAccessPass?: { outcome: string; methodId?: string; lifetimeInMinutes?: number; isUsableOnce?: boolean; startDateTime?: string };
  graphRequestIds?: string[];
  warnings?: string[];
}

export function summariseResult(result: ResetResult | { status: 'rejected'; code: string; reason: string }): ResultSummary {
  if (!('methods' in result)) {
    return { status: result.status, code: result.code, reason: result.reason, headline: result.reason };
  }
  const counts = new Map<string, number>();
  for (const method of result.methods) counts.set(method.outcome, (counts.get(method.outcome) ?? 0) + 1);
  const headline =
    [...counts.entries()].map(([outcome, count]) => `${count} ${outcome}`).join(', ') || 'no methods in scope';
  const tap = result.temporaryAccessPass;
  return {
    status: result.status,
    headline,
    ...('reason' in result ? { reason: result.reason } : {}),
    ...('code' in result ? { code: result.code } : {}),
    ...(result.target ? { target: { objectId: result.target.objectId, userPrincipalName: result.target.userPrincipalName } } : {}),
    methods: result.methods.map((method) => ({
      id: method.id,
      kind: method.kind,
      detail: method.detail,
      outcome: method.outcome,
      isDefault: method.isDefault,
      ...(method.reason ? { reason: method.reason } : {}),
      requestIds: method.requestIds,
    })),
    plan: result.plan,
    snapshot: result.snapshot,
    revoke: result.revoke,
    ...(tap
      ? {
          temporaryAccessPass: {
            outcome: tap.outcome,
            methodId: tap.methodId,
            lifetimeInMinutes: tap.lifetimeInMinutes,
            isUsableOnce: tap.isUsableOnce,
            startDateTime: tap.startDateTime,
          },
        }
      : {}),
    graphRequestIds: result.requestIds,
    warnings: result.warnings,
  };
}
