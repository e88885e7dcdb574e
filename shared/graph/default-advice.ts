import { METHOD_KINDS, type MethodKind, type ResetProfile } from '../method-names';
import { inScope, METHOD_TYPES } from './catalogue';
import type { Plan } from './state';

/**
 * What to say when Graph keeps the user's default method. Graph's rule is read two ways: the default goes
 * as the last method (Microsoft's reset script, the password not counted), or never while any other
 * method is configured (its message read literally, the password counted). The engine cannot know which
 * applies before it asks, so it moves the default where it can, tries its delete last, and, when Graph
 * refuses, names what kept it (the blockers) and the one action that finishes the job, computed from
 * what actually remains:
 *  - methods this service could remove but the request's scope kept: the console's "Finish" on this
 *    request's page (an operator asks, a second person approves), a linked request on the same ticket
 *    with those kinds added. Not "send it again": a ticket asks for one reset of one user, and a
 *    delivery for a ticket whose request ended partial answers with that request (shared/intake);
 *  - only the password left, and Graph still refused: Graph applies the stricter reading, and no request
 *    here can finish it; the admin center's "Require re-register multifactor authentication" can;
 *  - methods this service cannot remove (a type it does not know, one Graph refused): the admin center too.
 */

export interface DefaultBlockers {
  /** What stays and keeps the default, masked, for people. */
  staying: string[];
  /** Kinds of staying methods a wider request would remove. */
  widen: MethodKind[];
  /** Staying methods no request here can remove (unknown types, deletions Graph refused). */
  stuck: string[];
}

export interface ResetScope {
  profile: ResetProfile;
  methods?: readonly MethodKind[];
}

/** What stays besides the password, from the plan and, after a run, the methods verification still found. */
export function defaultBlockers(plan: Plan, scope: ResetScope, remainingIds: readonly string[]): DefaultBlockers {
  const explicit = scope.methods && scope.methods.length > 0 ? scope.methods : undefined;
  const staying: string[] = [];
  const widen = new Set<MethodKind>();
  const stuck: string[] = [];
  for (const kept of plan.kept) {
    if (kept.kind === 'password') continue;
    staying.push(kept.detail);
    // Kept although its kind is in scope (a hardware token already deactivated, which stays assigned):
    // asking again would not remove it either.
    if (kept.kind === 'unknown' || inScope(kept.kind, scope.profile, explicit)) stuck.push(kept.detail);
    else widen.add(kept.kind);
  }
  for (const deletion of plan.deletions) {
    if (deletion.isDefault || !remainingIds.includes(deletion.id)) continue;
    staying.push(deletion.detail);
    stuck.push(deletion.detail);
  }
  return { staying, widen: [...widen], stuck };
}

/** The finishing sentence for a default Graph kept (or, in a dry run, would keep). */
export function finishAdvice(blockers: DefaultBlockers, scope: ResetScope, options: { dryRun?: boolean } = {}): string {
  if (blockers.staying.length === 0) {
    return 'Graph keeps a default method while any other method is registered, the password included, so no request to this service can remove it. To finish: use "Require re-register multifactor authentication" for this user in the Entra admin center.';
  }
  // What stays is named by the sentence this one follows; here, what can be done about it.
  if (blockers.stuck.length > 0) {
    return `This service cannot remove ${blockers.stuck.join(', ')}. To finish: use "Require re-register multifactor authentication" for this user in the Entra admin center.`;
  }
  const wider = widerMethods(blockers, scope);
  const added = blockers.widen.map((kind) => METHOD_TYPES[kind].label).join(', ');
  if (options.dryRun) {
    // A dry run is its own delivery: the real run may still ask for more.
    return `To end completed, send the real run with methods ${JSON.stringify(wider)}, which also removes the ${added}; sent as it is, it ends partial and its page in the operator console offers "Finish: also remove ${added}".`;
  }
  return `To finish: use "Finish: also remove ${added}" on this request's page in the operator console (an operator asks, a second person approves); it runs a linked request on the same ticket with methods ${JSON.stringify(wider)}.`;
}

/** The request's own method kinds and the blockers' kinds, in catalogue order: what a finishing request asks for. */
export function widerMethods(blockers: Pick<DefaultBlockers, 'widen'>, scope: ResetScope): MethodKind[] {
  const explicit = scope.methods && scope.methods.length > 0 ? scope.methods : undefined;
  return METHOD_KINDS.filter((kind) => inScope(kind, scope.profile, explicit) || blockers.widen.includes(kind));
}
