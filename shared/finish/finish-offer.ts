import { METHOD_TYPES } from '../graph/catalogue';
import { defaultBlockers, widerMethods } from '../graph/default-advice';
import { resetStateSchema } from '../graph/state';
import type { MethodKind } from '../method-names';
import type { RequestRow } from '../requests/request-row';

/** Sources whose partial requests the console may finish: one user on one ticket. Schedules' notices reset nobody. */
const FINISHABLE_SOURCES: readonly RequestRow['source'][] = ['jira', 'servicenow', 'generic', 'bulk'];

export type FinishOffer =
  | {
      offered: true;
      /** What the linked request asks for: the request's own kinds and the blockers'. */
      methods: MethodKind[];
      adds: MethodKind[];
      /** "FIDO2 security key / passkey, email (self-service password reset)". */
      addsLabel: string;
      /** Masked details of what stays and keeps the default, and of the default. */
      staying: string[];
      kept: string;
    }
  | { offered: false; why: string };

/**
 * Whether a request that ended `partial` can be finished by a linked request with a wider method list,
 * computed from what the worker recorded (its plan and what verification still found), as the engine's
 * advice is: only when Graph kept the default method and everything that kept it is a kind this service
 * removes but the request's scope left out. Anything else (an unknown type, a deletion Graph refused,
 * only the password left) a wider request would not finish: that is the admin center's.
 */
export function finishOffer(row: RequestRow & { trusted?: boolean }): FinishOffer {
  if (row.trusted === false) return { offered: false, why: 'the request row fails its MAC check' };
  if (row.status !== 'partial') return { offered: false, why: `the request is ${row.status}, not partial` };
  if (row.dryRun) return { offered: false, why: 'a dry run changes nothing, so there is nothing to finish' };
  if (!FINISHABLE_SOURCES.includes(row.source)) return { offered: false, why: `requests from ${row.source} are not finished from the console` };
  let state;
  try {
    const parsed = resetStateSchema.safeParse(JSON.parse(row.engineState ?? 'null'));
    state = parsed.success ? parsed.data : undefined;
  } catch {
    state = undefined;
  }
  const plan = state?.plan;
  const remaining = state?.verify?.remaining ?? [];
  const defaultLeft = plan?.deletions.find((deletion) => deletion.isDefault && remaining.includes(deletion.id) && state?.deletions[deletion.id]?.error);
  if (!plan || !defaultLeft) return { offered: false, why: 'Graph did not keep the default method, so a wider request would not finish this one' };
  const scope = { profile: row.profile, ...(row.methods ? { methods: row.methods } : {}) };
  const blockers = defaultBlockers(plan, scope, remaining);
  if (blockers.staying.length === 0) return { offered: false, why: 'only the password stays and Graph still kept the default: no request to this service can remove it' };
  if (blockers.stuck.length > 0) return { offered: false, why: `this service cannot remove ${blockers.stuck.join(', ')}` };
  if (blockers.widen.length === 0) return { offered: false, why: 'nothing outside the request\'s scope kept the default' };
  return {
    offered: true,
    methods: widerMethods(blockers, scope),
    adds: blockers.widen,
    addsLabel: labels(blockers.widen),
    staying: blockers.staying,
    kept: defaultLeft.detail,
  };
}

export function labels(kinds: readonly MethodKind[]): string {
  return kinds.map((kind) => METHOD_TYPES[kind].label).join(', ');
}
