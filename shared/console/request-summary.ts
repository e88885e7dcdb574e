import { displayName } from '../approvals/identity';
import type { StoredRequest } from '../requests/request-row';
import { kindName, refusalNextStep, storedResult } from '../tickets/note-text';
import { parseVerification } from '../verification/verification-state';
import type { finishView } from '../finish/finish-service';

/**
 * The top of a request's page: what happened, what is still registered and why, the one next step, and
 * who asked, approved and verified. Computed here from the stored result, so that the page leads with
 * the outcome instead of leaving a person to read it out of an audit trail.
 */

export type NextAction = 'finish-ask' | 'finish-approve' | 'finish-wait' | 'finish-linked' | 'verify' | 'reveal-pass' | 'follow' | 'none';

export interface RequestSummary {
  outcome: string;
  remains: { kind: string; detail: string; why: string; isDefault?: boolean }[];
  next: { text: string; action: NextAction; requestId?: string; requestStatus?: string };
  people: { askedBy: string; approvedBy?: string; verifiedBy?: string };
}

interface PassState {
  requested: boolean;
  waiting: boolean;
  canReveal: boolean;
  goesTo?: string;
  collected?: unknown;
}

/** Methods still registered after the reset, as the page's method table has them. */
interface MethodRow {
  kind: string;
  detail: string;
  outcome: string;
  after: string;
  isDefault?: boolean;
  reason?: string;
}

export function requestSummary(
  row: StoredRequest,
  status: string,
  methods: readonly MethodRow[],
  pass: PassState,
  finish: ReturnType<typeof finishView>,
  linkedStatus: string | undefined,
): RequestSummary {
  const result = storedResult(row);
  const reason = result?.reason ?? row.statusReason ?? '';
  const remains = status === 'planned' || status === 'unverified'
    ? []
    : methods
        .filter((m) => m.after === 'registered' && m.kind !== 'password' && (status === 'completed' || status === 'partial' || status === 'failed'))
        .map((m, _index, all) => ({
          kind: kindName(m.kind),
          detail: m.detail,
          why: m.outcome === 'kept' ? m.reason ?? "outside the reset's scope" : whyStill(m, all),
          ...(m.isDefault ? { isDefault: true } : {}),
        }));
  const verification = parseVerification(row.verification);
  const verifiedBy = verification?.evidence
    ? verification.evidence.method === 'manager'
      ? `${verification.evidence.who} (their manager)`
      : `${verification.evidence.who} (Verified ID, Face Check ${verification.evidence.score ?? ''})`.replace(' )', ')')
    : undefined;
  return {
    outcome: outcomeSentence(status, row, methods, result?.headline, reason),
    remains,
    next: nextStep(status, row, reason, result?.code, pass, finish, linkedStatus),
    people: { askedBy: displayName(row.requestedBy), ...(row.approvedBy ? { approvedBy: displayName(row.approvedBy) } : {}), ...(verifiedBy ? { verifiedBy } : {}) },
  };
}

function outcomeSentence(status: string, row: StoredRequest, methods: readonly MethodRow[], headline: string | undefined, reason: string): string {
  const removed = methods.filter((m) => m.after === 'removed').length;
  const deactivated = methods.filter((m) => m.outcome === 'deactivated').length;
  const gone = `${removed} method${removed === 1 ? '' : 's'} removed${deactivated ? `, ${deactivated} hardware token${deactivated === 1 ? '' : 's'} deactivated` : ''}`;
  switch (status) {
    case 'completed':
      return `Done: ${gone}; the user registers MFA again at their next sign-in.`;
    case 'partial': {
      const left = methods.filter((m) => m.after === 'registered' && m.outcome !== 'kept' && m.kind !== 'password');
      return `Partly done: ${gone}, but ${left.length > 0 ? left.map((m) => `${kindName(m.kind)} (${m.detail})${m.isDefault ? ', the default method,' : ''}`).join(', ') : 'not everything asked for'} ${left.length === 1 ? 'is' : 'are'} still registered.`;
    }
    case 'failed':
      return `Failed: ${firstSentence(reason) || 'the reset did not finish'}`;
    case 'rejected':
      return `Refused, nothing was changed: ${firstSentence(reason) || 'no reason recorded'}`;
    case 'planned':
      return `Dry run, nothing was changed: ${headline ?? 'see the methods below'}.`;
    case 'awaiting_verification':
      return 'Waiting for the user to prove who they are; nothing has been changed yet.';
    case 'accepted':
    case 'running':
      return `In progress (${status}${row.statusReason ? `: ${firstSentence(row.statusReason)}` : ''}).`;
    case 'unverified':
      return 'This request row fails its MAC check (it was changed in storage): nothing it says can be trusted, and nothing is done for it.';
    default:
      return status;
  }
}

function nextStep(
  status: string,
  row: StoredRequest,
  reason: string,
  code: string | undefined,
  pass: PassState,
  finish: ReturnType<typeof finishView>,
  linkedStatus: string | undefined,
): RequestSummary['next'] {
  if (status === 'unverified') return { text: 'Security must check who can write to the storage account.', action: 'none' };
  if (status === 'accepted' || status === 'running') return { text: 'Nothing to do yet: this page follows the request until it ends.', action: 'follow' };
  if (status === 'awaiting_verification') {
    return { text: 'Hand the user the verification link below (send it to their work mail, or read it to them on a call you made to a number from the directory); their manager may confirm it is them in the console instead.', action: 'verify' };
  }
  if (status === 'rejected') return { text: refusalNextStep(code, reason).replace(/^Next step: /, ''), action: 'none' };
  if (status === 'failed') return { text: 'Fix the cause named above and send the ticket again, or escalate to the identity team.', action: 'none' };
  if (status === 'planned') {
    const warning = storedResult(row)?.warnings?.find((text) => text.startsWith('A real run would end partial'));
    const advice = warning ? /To end completed, [^]*$/.exec(warning)?.[0] : undefined;
    return { text: advice ? `Nothing changed. The real run would end partial. ${advice}` : 'Nothing changed. Send the same request without dryRun to do it.', action: 'none' };
  }
  if (status === 'partial') {
    if (finish?.asked?.requestId) {
      return { text: `Being finished by linked request ${finish.asked.requestId}${linkedStatus ? ` (${linkedStatus})` : ''}, asked by ${finish.asked.askedBy.userPrincipalName} and approved by ${finish.asked.approvedBy?.userPrincipalName ?? 'an approver'}.`, action: 'finish-linked', requestId: finish.asked.requestId, ...(linkedStatus ? { requestStatus: linkedStatus } : {}) };
    }
    if (finish?.asked) {
      return {
        text: finish.canApprove
          ? `${finish.asked.askedBy.userPrincipalName} asked to finish this reset: also remove ${finish.asked.addsLabel}. Approve it to run a linked request on the same ticket.`
          : `${finish.asked.askedBy.userPrincipalName} asked to finish this reset (also remove ${finish.asked.addsLabel}); it waits for a second person in the approver group${finish.approveRefusal ? `, not you: ${finish.approveRefusal}` : ''}.`,
        action: finish.canApprove ? 'finish-approve' : 'finish-wait',
      };
    }
    if (finish?.offer.offered) {
      return {
        text: finish.canAsk
          ? `Ask for a linked request on this ticket that also removes ${finish.offer.addsLabel}, so that the default can go too. A second person in the approver group approves it before anything runs.`
          : `An operator can finish this from here (also remove ${finish.offer.addsLabel}), and a second person approves it${finish.askRefusal ? `; not you: ${finish.askRefusal}` : ''}.`,
        action: finish.canAsk ? 'finish-ask' : 'finish-wait',
      };
    }
    const advice = /To finish: [^]*$/.exec(reason)?.[0];
    return { text: advice ?? 'The identity team removes what is still registered in the Entra admin center, or sends the ticket again once the cause is fixed.', action: 'none' };
  }
  // completed
  if (pass.requested && pass.goesTo) return { text: `Nothing more to do here: ${pass.goesTo.replace(/;.*$/, '')}.`, action: 'none' };
  if (pass.requested && pass.waiting && pass.canReveal) return { text: 'Reveal the Temporary Access Pass once and give it to the user after checking who they are.', action: 'reveal-pass' };
  if (pass.requested && pass.waiting) return { text: 'A member of the collector group reveals the Temporary Access Pass once and gives it to the user.', action: 'none' };
  return { text: 'Nothing more to do: the user registers MFA again at their next sign-in.', action: 'none' };
}


/** Why a method in scope is still there, in a person's words: a default Graph kept is named with what kept it. */
function whyStill(method: MethodRow, all: readonly MethodRow[]): string {
  const reason = method.reason ?? 'still registered after the reset';
  if (method.isDefault && /default/i.test(reason)) {
    const others = all.filter((m) => m !== method && m.after === 'registered' && m.kind !== 'password').map((m) => kindName(m.kind));
    return others.length > 0
      ? `the default method: Graph deletes it only as the last method, and ${others.join(', ')} stay`
      : 'the default method: Graph kept it although no other method but the password stays';
  }
  return firstSentence(reason);
}

function firstSentence(text: string): string {
  const match = /^.*?[.;](\s|$)/.exec(text);
  return (match ? match[0] : text).trim();
}
