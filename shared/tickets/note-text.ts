import { z } from 'zod';
import type { RequestRow } from '../requests/request-row';
import { scrub, type Note } from './note-format';
import { markerOf, type EventRecord, type OutboxEvent } from './outbox-state';

/**
 * What a note says. Made from the request's stored result (masked method details, never a pass or a
 * secret: the result holds none), so that the same event always gives the same text, however often
 * it is retried.
 */

const methodSchema = z.object({ id: z.string(), kind: z.string(), detail: z.string(), outcome: z.string(), reason: z.string().optional() }).passthrough();
export const resultSchema = z
  .object({
    status: z.string(),
    headline: z.string().optional(),
    reason: z.string().optional(),
    code: z.string().optional(),
    target: z.object({ objectId: z.string(), userPrincipalName: z.string() }).optional(),
    methods: z.array(methodSchema).optional(),
    revoke: z.object({ outcome: z.string(), error: z.string().optional() }).passthrough().optional(),
    temporaryAccessPass: z
      .object({ outcome: z.string(), methodId: z.string().optional(), lifetimeInMinutes: z.number().optional(), isUsableOnce: z.boolean().optional() })
      .passthrough()
      .optional(),
    warnings: z.array(z.string()).optional(),
  })
  .passthrough();
export type StoredResult = z.infer<typeof resultSchema>;

export function storedResult(row: Pick<RequestRow, 'result'>): StoredResult | undefined {
  if (!row.result) return undefined;
  try {
    const parsed = resultSchema.safeParse(JSON.parse(row.result));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const KIND_NAMES: Record<string, string> = {
  phone: 'phone',
  microsoftAuthenticator: 'Microsoft Authenticator',
  softwareOath: 'software OATH token',
  hardwareOath: 'hardware OATH token',
  fido2: 'FIDO2 security key',
  windowsHelloForBusiness: 'Windows Hello for Business',
  email: 'email',
  temporaryAccessPass: 'Temporary Access Pass',
  platformCredential: 'platform credential',
  externalAuthentication: 'external method',
  qrCodePin: 'QR code + PIN',
  password: 'password',
};

export function kindName(kind: string): string {
  return KIND_NAMES[kind] ?? kind;
}

const describeMethod = (method: { kind: string; detail: string }) => {
  const detail = scrub(method.detail);
  const name = kindName(method.kind);
  return detail && detail !== method.kind && detail !== name ? `${name} (${detail})` : name;
};

const OUTCOME_WORDS: Record<string, string> = {
  completed: 'Completed: the user registers MFA again at next sign-in',
  partial: 'PARTIAL: not everything asked for was done',
  failed: 'FAILED: the reset did not finish',
  rejected: 'REFUSED: nothing was changed',
  planned: 'Dry run: nothing was changed',
};

/** What a person should do next after a refusal, by the guard's code. */
const NEXT_STEPS: Record<string, string> = {
  'privileged-target': 'Next step: route this ticket to a Privileged Authentication Administrator (identity team); this service never resets administrators.',
  'break-glass': 'Next step: route this ticket to the identity team; emergency access accounts are never reset by this service.',
  'break-glass-unresolved': 'Next step: the identity team must fix BREAK_GLASS_UPNS; no reset runs until every entry resolves.',
  'protected-group': 'Next step: route this ticket to a Privileged Authentication Administrator; members of protected groups are reset by hand.',
  guest: "Next step: this service does not reset guests. A guest's MFA registered in this tenant is reset by an administrator here (\"Require re-register multifactor authentication\" in the Entra admin center); MFA the guest brings from their home organisation is reset there, by their own service desk.",
  'approval-missing': 'Next step: have a second person approve the ticket, then send it again.',
  'approval-by-target': 'Next step: the person being reset cannot approve their own reset; have someone else approve the ticket.',
  'self-approval': 'Next step: the requester cannot approve their own request; have someone else approve the ticket.',
  cooldown: 'Next step: a person must look at this ticket: repeated resets of one user can mean someone is impersonating them.',
  'user-not-found': 'Next step: check the sign-in name (UPN) in the ticket and send it again.',
  'domain-outside-tenant': "Next step: check the sign-in name: its domain is not one of this organisation's.",
  'guard-unverifiable': 'Next step: send the ticket again later; if it keeps failing, the identity team must check the app\'s Graph permissions.',
  unauthenticated_row: 'Next step: security must check who can write to the storage account.',
  'pass-handover-unavailable': 'Next step: ask without a Temporary Access Pass, or have the service configured with TAP_SEALING_KEY.',
  'restricted-administrative-unit': 'Next step: route this ticket to an administrator scoped to the restricted management administrative unit named above; no application may change its members.',
  'temporary-access-pass-not-targeted': "Next step: have the identity team add the user (or a group they are in) to the Temporary Access Pass policy's targets, or send the ticket again without a pass.",
  'temporary-access-pass-policy-unreadable': 'Next step: the identity team must grant the app Policy.Read.AuthenticationMethod, or send the ticket again without a pass.',
  'temporary-access-pass-disabled': 'Next step: send the ticket again without a pass, or have the identity team enable Temporary Access Pass.',
};

export function refusalNextStep(code: string | undefined, reason: string | undefined): string {
  if (code && NEXT_STEPS[code]) return NEXT_STEPS[code]!;
  if (reason && /privileged|administrator/i.test(reason)) return NEXT_STEPS['privileged-target']!;
  return 'Next step: read the reason above, fix what it names, and send the ticket again.';
}

function header(row: RequestRow, title: string): string {
  return `MFA reset ${title} (request ${row.id})`;
}

function targetName(row: RequestRow, result: StoredResult | undefined): string {
  return result?.target?.userPrincipalName ?? row.targetUpn ?? row.targetObjectId ?? 'the user';
}

/**
 * Where a person sees the whole record: a link to the request's page in the operator console when the
 * app knows where people reach it (CONSOLE_BASE_URL), else the console searched by ticket. The page asks
 * for Entra sign-in, so the link gives nothing to whoever reads the ticket without the reader group.
 */
function detailsLine(row: RequestRow, consoleBaseUrl: string | undefined): string {
  if (consoleBaseUrl) return `Full record and audit trail: ${consoleRequestLink(consoleBaseUrl, row.id)} (operator console, Entra sign-in)`;
  return `Full record and audit trail: the operator console (search ${row.ticketId}) or GET /api/resets/${row.id}`;
}

export function consoleRequestLink(consoleBaseUrl: string, requestId: string): string {
  return `${consoleBaseUrl.replace(/\/+$/, '')}/api/console/#/requests/${encodeURIComponent(requestId)}`;
}

/** A schedule's run that reset nobody (shared/schedules/schedule-notice.ts): what happened, why, what to do. */
function scheduleNotice(row: RequestRow, result: StoredResult | undefined, consoleBaseUrl: string | undefined): Note {
  const facts = z.object({ id: z.string(), name: z.string(), runId: z.string(), found: z.number().optional() }).safeParse(result?.schedule);
  const schedule = facts.success ? facts.data : undefined;
  const lines = [
    'Outcome: REFUSED: this run reset nobody; nothing was changed.',
    `Schedule: "${scrub(schedule?.name ?? 'unknown')}" (${schedule?.id ?? 'unknown'}), run ${schedule?.runId ?? 'unknown'}. Requested by ${row.requestedBy}${row.approvedBy ? `, approved by ${row.approvedBy}` : ''}.`,
    `Reason: ${scrub(result?.reason ?? row.statusReason ?? 'not recorded')}`,
    result?.code === 'max_users_exceeded'
      ? 'Next step: check the source for a mistaken edit; if the number is right, raise maxUsersPerRun (PATCH /api/schedules/{id}) and run it again. Later runs are refused the same way until then.'
      : 'Next step: read the reason above and fix what it names.',
    consoleBaseUrl
      ? `Full record: ${consoleBaseUrl.replace(/\/+$/, '')}/api/console/#/schedules (operator console, Entra sign-in), and GET /api/schedules/${schedule?.id ?? '{id}'}`
      : `Full record: GET /api/schedules/${schedule?.id ?? '{id}'} (its runs) or the operator console's Schedules, and GET /api/resets/${row.id}`,
  ];
  return { title: `Scheduled MFA reset run refused (request ${row.id})`, lines, marker: markerOf(row.id, 'outcome') };
}

export function outcomeNote(row: RequestRow, consoleBaseUrl?: string): Note {
  const result = storedResult(row);
  if (row.source === 'schedule') return scheduleNotice(row, result, consoleBaseUrl);
  const status = row.status;
  const lines: string[] = [];
  lines.push(`Outcome: ${OUTCOME_WORDS[status] ?? status}.`);
  // Names come from the ticket (a portal customer chooses their own display name): masked like details.
  lines.push(`User: ${targetName(row, result)}. Requested by ${scrub(row.requestedBy)}${row.approvedBy ? `, approved by ${scrub(row.approvedBy)}` : ''}.`);

  if (status === 'rejected') {
    lines.push(`Reason: ${scrub(result?.reason ?? row.statusReason ?? 'not recorded')}`);
    lines.push(refusalNextStep(result?.code, result?.reason ?? row.statusReason));
    lines.push(detailsLine(row, consoleBaseUrl));
    return { title: header(row, 'refused'), lines, marker: markerOf(row.id, 'outcome') };
  }

  const methods = result?.methods ?? [];
  const removed = methods.filter((method) => method.outcome === 'deleted' || method.outcome === 'already-gone');
  const deactivated = methods.filter((method) => method.outcome === 'deactivated');
  const planned = methods.filter((method) => method.outcome === 'planned');
  const remaining = methods.filter((method) => method.outcome === 'remaining' || method.outcome === 'failed');
  const kept = methods.filter((method) => method.outcome === 'kept' && method.kind !== 'password');

  if (status === 'planned') {
    // A default Graph would keep while other methods stay is not "would remove": the real run ends partial with it.
    const wouldStay = planned.filter((method) => /^would be tried last, but Graph keeps the default/.test(method.reason ?? ''));
    const wouldGo = planned.filter((method) => !wouldStay.includes(method));
    lines.push(`Would remove: ${wouldGo.length > 0 ? wouldGo.map(describeMethod).join(', ') : 'nothing (no methods in scope)'}.`);
    if (wouldStay.length > 0) lines.push(`Would stay: ${wouldStay.map(describeMethod).join(', ')}, the default method: Graph keeps it while other methods stay, so the real run would end partial.`);
  } else {
    lines.push(`Methods removed: ${removed.length > 0 ? removed.map(describeMethod).join(', ') : 'none'}.`);
    if (deactivated.length > 0) lines.push(`Hardware tokens deactivated (still assigned to the user): ${deactivated.map(describeMethod).join(', ')}.`);
  }
  if (remaining.length > 0) {
    lines.push(`Still registered although in scope: ${remaining.map((method) => `${describeMethod(method)}${method.reason ? `: ${scrub(method.reason)}` : ''}`).join('; ')}.`);
  }
  if (kept.length > 0) lines.push(`Kept (outside the reset's scope): ${kept.map(describeMethod).join(', ')}.`);
  if (status === 'partial' || status === 'failed') lines.push(`Why: ${scrub(result?.reason ?? row.statusReason ?? 'not recorded')}`);

  if (status !== 'planned') {
    if (!row.revokeSessions) lines.push('Sign-in sessions: not revoked (not asked for).');
    else if (result?.revoke?.outcome === 'done') lines.push('Sign-in sessions: revoked; the user signs in again everywhere.');
    else lines.push(`Sign-in sessions: NOT revoked${result?.revoke?.error ? ` (${scrub(result.revoke.error)})` : ''}.`);
  }

  const pass = result?.temporaryAccessPass;
  if (row.temporaryAccessPass) {
    if (pass?.outcome === 'created') {
      lines.push(
        `Temporary Access Pass: issued${pass.lifetimeInMinutes ? `, valid ${pass.lifetimeInMinutes} minutes` : ''}${pass.isUsableOnce ? ', usable once' : ''}. ` +
          (row.verification
            ? 'It is shown once to the verified person (on their verification page, or to the manager who attested), never to an agent; it is never written here.'
            : 'An authorised agent reveals it once in the operator console (Reveal pass) and gives it to the user after checking who they are; it is never written here.'),
      );
    } else {
      lines.push(`Temporary Access Pass: NOT issued${pass?.outcome ? ` (${pass.outcome})` : ''}.`);
    }
  }
  if (status === 'failed') lines.push('Next step: fix the cause named above and send the ticket again, or escalate to the identity team.');
  if (status === 'partial') lines.push(partialNextStep(result?.reason ?? row.statusReason ?? ''));
  lines.push(detailsLine(row, consoleBaseUrl));
  const titles: Record<string, string> = { completed: 'completed', partial: 'partly done', failed: 'failed', planned: 'dry run' };
  return { title: header(row, titles[status] ?? status), lines, marker: markerOf(row.id, 'outcome') };
}

/** The next step of a partial reset, from what its reason says remains: the console's finish, the admin center, or a retry. */
function partialNextStep(reason: string): string {
  const finish = /use "(Finish: also remove [^"]+)"/.exec(reason)?.[1];
  if (finish) return `Next step: finish it in the operator console: on the request's page an operator presses "${finish}" and a second person approves it; a linked request on this ticket then removes them and the default.`;
  if (/Require re-register multifactor authentication/.test(reason)) return 'Next step: an administrator uses "Require re-register multifactor authentication" for this user in the Entra admin center; no request to this service can remove what is left.';
  return 'Next step: the identity team removes what is still registered in the Entra admin center, or sends the ticket again once the cause is fixed.';
}

export function followUpNote(row: RequestRow, record: EventRecord): Note {
  const facts = record.facts ?? {};
  const lines: string[] = [];
  if (facts.newMethod) lines.push(`The user registered a new sign-in method: ${scrub(facts.newMethod)}${facts.registeredAt ? ` at ${facts.registeredAt}` : ''}.`);
  if (facts.passUsed) lines.push(`The Temporary Access Pass was used${facts.passUsed !== 'yes' ? ` (${facts.passUsed})` : ''}.`);
  lines.push('If the user did not do this themselves, treat the account as compromised: reset again and contact security.');
  return { title: header(row, 'follow-up: the user registered again'), lines, marker: markerOf(row.id, 'follow-up') };
}

export function followUpClosedNote(row: RequestRow, record: EventRecord): Note {
  const hours = record.facts?.hours ?? '72';
  return {
    title: header(row, `follow-up: no new method within ${hours} hours`),
    lines: [
      `No new MFA method was registered within ${hours} hours of the reset, and the watch has ended.`,
      'The user may still be unable to sign in: contact them; if someone else asked for this reset, contact security.',
    ],
    marker: markerOf(row.id, 'follow-up-closed'),
  };
}

/**
 * Notes while the person is being verified: asked for (how, until when), passed (method, Face Check
 * score or the attesting manager, when) or failed (why). Made from the facts fixed when the event was
 * opened. Never the verification link: the ticket may be read by the caller, and the link is for the
 * person, handed over by the agent from the console or the status answer.
 */
export function verificationNote(event: 'verification-requested' | 'verification-passed' | 'verification-failed', row: RequestRow, record: EventRecord, consoleBaseUrl?: string): Note {
  const facts = record.facts ?? {};
  const user = facts.user ?? row.targetUpn ?? row.targetObjectId ?? 'the user';
  const lines: string[] = [];
  if (event === 'verification-requested') {
    lines.push(`Before anything is changed, ${user} must prove who they are by ${facts.methods ?? 'the configured method'}, before ${facts.expiresAt ?? 'the deadline'}.`);
    lines.push('Hand the user the verification link from the request page in the operator console (not by reading it to a caller you have not called back). Only continue if the user asked for this.');
    if (facts.manager) lines.push(`Their manager ${facts.manager} was asked to confirm it is them, in the console.`);
    lines.push(detailsLine(row, consoleBaseUrl));
    return { title: header(row, 'waiting for the user to verify'), lines, marker: markerOf(row.id, event) };
  }
  if (event === 'verification-passed') {
    lines.push(facts.method === 'manager' ? `Verified by their manager ${facts.who ?? ''}, who signed in and attested at ${facts.at ?? ''}.` : `Verified with a Verified ID (VerifiedEmployee from ${facts.issuer ?? 'an accepted issuer'}) and Face Check ${facts.score ?? ''} at ${facts.at ?? ''}, presented by ${facts.who ?? user}.`);
    lines.push('The reset now goes ahead.');
    return { title: header(row, 'the user was verified'), lines, marker: markerOf(row.id, event) };
  }
  lines.push(`${user} was not verified: ${scrub(facts.reason ?? 'no reason recorded')}`);
  lines.push('Nothing was changed. Repeated failures can mean someone else is trying: call the user back on a number from the directory before raising a new ticket.');
  return { title: header(row, 'verification failed'), lines, marker: markerOf(row.id, event) };
}

/**
 * Notes as a partial reset is finished from the console: an operator asked (what the linked request
 * would also remove, and that nothing runs before a second person approves), then an approver approved
 * (the linked request's id and link). Made from facts fixed when the event was opened.
 */
export function finishNote(event: 'finish-asked' | 'finish-approved', row: RequestRow, record: EventRecord, consoleBaseUrl?: string): Note {
  const facts = record.facts ?? {};
  const user = row.targetUpn ?? row.targetObjectId ?? 'the user';
  const lines: string[] = [];
  if (event === 'finish-asked') {
    lines.push(`${facts.operator ?? 'An operator'} asked in the operator console to finish this reset of ${user}: a linked request on this ticket would also remove ${scrub(facts.adds ?? 'the methods that kept the default')}, which kept ${scrub(facts.kept ?? 'the default method')} registered.`);
    lines.push('Nothing runs until a second person (a member of the console\'s approver group, not the one who asked, the user or the original requester) approves it there.');
    lines.push(detailsLine(row, consoleBaseUrl));
    return { title: header(row, 'finish asked'), lines, marker: markerOf(row.id, event) };
  }
  lines.push(`${facts.approver ?? 'An approver'} approved the finish ${facts.operator ?? 'an operator'} asked for. Request ${facts.requestId ?? ''} resets ${user} again on this ticket, also removing ${scrub(facts.adds ?? 'the methods that kept the default')}.`);
  lines.push('It goes through the same checks as any request (and, where this service verifies people, the user proves who they are again first); its outcome is noted here when it ends.');
  if (facts.requestId) lines.push(consoleBaseUrl ? `The new request: ${consoleRequestLink(consoleBaseUrl, facts.requestId)} (operator console, Entra sign-in)` : `The new request: GET /api/resets/${facts.requestId}`);
  return { title: header(row, 'finish approved'), lines, marker: markerOf(row.id, event) };
}

export function noteFor(event: OutboxEvent, row: RequestRow, record: EventRecord, consoleBaseUrl?: string): Note {
  if (event === 'finish-asked' || event === 'finish-approved') return finishNote(event, row, record, consoleBaseUrl);
  if (event === 'verification-requested' || event === 'verification-passed' || event === 'verification-failed') return verificationNote(event, row, record, consoleBaseUrl);
  if (event === 'follow-up') return followUpNote(row, record);
  if (event === 'follow-up-closed') return followUpClosedNote(row, record);
  return outcomeNote(row, consoleBaseUrl);
}
