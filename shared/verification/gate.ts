import type { Settings } from '../config';
import type { GateDecision, ResetState } from '../graph';
import type { GraphTransport } from '../graph/http';
import type { RequestRow } from '../requests/request-row';
import { readManager } from './manager-lookup';
import { effectivePolicy, methodsOf, type VerificationMethod } from './policy';
import { presentationRequestBody } from './presentation-request';
import { RequestServiceError, type RequestService } from './request-service';
import type { VerificationSecrets } from './verification-secrets';
import { needsNewAttempt, parseVerification, type Verification } from './verification-state';

export type GateSettings = Pick<
  Settings,
  | 'VERIFICATION_REQUIRED'
  | 'VERIFICATION_TTL_MINUTES'
  | 'VERIFICATION_MAX_FAILURES'
  | 'VERIFIED_ID_AUTHORITY'
  | 'VERIFIED_ID_ACCEPTED_ISSUERS'
  | 'VERIFIED_ID_FACECHECK_THRESHOLD'
  | 'VERIFIED_ID_CLIENT_NAME'
  | 'CONSOLE_BASE_URL'
  | 'NOTIFY_SENDER_UPN'
>;

export interface GateDependencies {
  settings: GateSettings;
  /** The app's paced Graph client: the manager is read from the directory when the gate starts. */
  graph: GraphTransport;
  requestService: RequestService | undefined;
  secrets: VerificationSecrets;
  now?: () => Date;
}

/** What the gate did in this run, for the worker to save, audit and tell the ticket. */
export type GateEvent =
  | { kind: 'started'; verification: Verification }
  | { kind: 'presentation'; attempt: number; expiresAt: string }
  | { kind: 'ended'; code: string; reason: string };

/**
 * The verification gate of one worker run (DESIGN 5a): after the guards and the plan, before the first
 * write. The policy is the strictest of VERIFICATION_REQUIRED, what the request asked for and the
 * strict groups (batch jobs only when they ask). The first time it waits it records the verification on
 * the request (what the worker saves with `awaiting_verification`), sends exactly one presentation
 * request to the Verified ID Request Service when Verified ID may be used, and reads the target's
 * manager when they may attest. It passes only on evidence recorded for this same user; an expired or
 * too-often-failed verification refuses, before anything is written.
 */
export class VerificationGate {
  private verification: Verification | undefined;
  readonly events: GateEvent[] = [];

  constructor(
    private readonly row: RequestRow,
    private readonly deps: GateDependencies,
  ) {
    this.verification = parseVerification(row.verification);
  }

  /** The verification as it stands after this run (undefined: none was needed). */
  get current(): Verification | undefined {
    return this.verification;
  }

  readonly decide = async (state: ResetState): Promise<GateDecision> => {
    const now = (this.deps.now ?? (() => new Date()))();
    const target = state.target!;
    const policy = effectivePolicy({
      setting: this.deps.settings.VERIFICATION_REQUIRED,
      asked: this.row.verificationAsked,
      batch: this.row.source === 'bulk' || this.row.source === 'schedule',
      strictMember: state.guards?.strictVerification === true,
      dryRun: this.row.dryRun,
    });
    const methods = methodsOf(policy);
    if (methods.length === 0) return { kind: 'proceed' };

    let v = this.verification;
    if (v && v.targetObjectId.toLowerCase() !== target.objectId.toLowerCase()) {
      return this.end('verification_target_mismatch', `The verification on this request was for another user (${v.targetUpn}); nothing was changed. Send a new request.`);
    }
    if (v?.status === 'passed') {
      // A policy that became stricter since (the user joined a strict group) needs evidence of that method.
      if (methods.includes(v.evidence!.method)) return { kind: 'proceed' };
      return this.end('verification_insufficient', `${target.userPrincipalName} was verified by ${v.evidence!.method}, but now needs ${methods.join(' or ')} (VERIFICATION_STRICT_GROUP_IDS); nothing was changed. Send a new request.`);
    }
    if (v?.status === 'failed') return this.end('verification_failed', failedReason(v));
    if (v?.status === 'expired') return this.end('verification_expired', expiredReason(v));
    if (v && now.getTime() > Date.parse(v.expiresAt)) {
      this.verification = { ...v, status: 'expired' };
      return this.end('verification_expired', expiredReason(v));
    }
    if (v && v.failures >= this.deps.settings.VERIFICATION_MAX_FAILURES) {
      this.verification = { ...v, status: 'failed' };
      return this.end('verification_failed', failedReason(v));
    }

    if (!v) {
      v = {
        version: 1,
        policy,
        status: 'pending',
        targetObjectId: target.objectId.toLowerCase(),
        targetUpn: target.userPrincipalName,
        startedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + this.deps.settings.VERIFICATION_TTL_MINUTES * 60_000).toISOString(),
        failures: 0,
        failureReasons: [],
        attempts: [],
      };
      if (methods.includes('manager')) v = await this.withManager(v);
      const offered = this.offered(v, methods);
      if (offered.length === 0) {
        this.verification = v;
        return this.end('verification_unavailable', `${target.userPrincipalName} must be verified by ${policy === 'manager' ? 'their manager' : policy}, but ${v.managerUnavailable ?? 'no method is available'}; nothing was changed.`);
      }
      this.verification = v;
      this.events.push({ kind: 'started', verification: v });
    }

    if (needsNewAttempt(v, this.offered(v, methods), now)) {
      try {
        v = await this.newAttempt(v, now);
        this.verification = v;
      } catch (error) {
        if (error instanceof RequestServiceError && !error.transient) {
          const withoutVerifiedId = { ...v, verifiedIdUnavailable: error.message.slice(0, 500) };
          this.verification = withoutVerifiedId;
          if (this.offered(withoutVerifiedId, methods).includes('manager')) {
            return { kind: 'wait', reason: `Verified ID could not be started (${error.message}); the manager may attest` };
          }
          return this.end('verification_unavailable', `Verified ID could not be started: ${error.message}. Nothing was changed; check VERIFIED_ID_AUTHORITY, VERIFIED_ID_ACCEPTED_ISSUERS and the app's VerifiableCredential.Create.PresentRequest permission (docs/verification.md).`);
        }
        throw error;
      }
    }
    return { kind: 'wait', reason: waitingReason(this.verification!, this.offered(this.verification!, methods)) };
  };

  /** The methods this verification can still pass by: Verified ID unless the service refused it, the manager when known. */
  private offered(v: Verification, methods: readonly VerificationMethod[]): VerificationMethod[] {
    return methods.filter((method) => (method === 'manager' ? v.manager !== undefined : v.verifiedIdUnavailable === undefined));
  }

  private async withManager(v: Verification): Promise<Verification> {
    if (!this.deps.settings.NOTIFY_SENDER_UPN) {
      return { ...v, managerUnavailable: 'no mailbox is set up to tell the manager (NOTIFY_SENDER_UPN)' };
    }
    const manager = await readManager(this.deps.graph, v.targetObjectId);
    if (!manager.found) return { ...v, managerUnavailable: manager.reason };
    const requester = [this.row.requestedBy, this.row.requestedById].filter(Boolean).map((value) => value!.toLowerCase());
    if (requester.includes(manager.userPrincipalName.toLowerCase()) || requester.includes(manager.objectId)) {
      return { ...v, managerUnavailable: 'the manager is the person who asked for the reset, and cannot also vouch for the user' };
    }
    return { ...v, manager: { objectId: manager.objectId, userPrincipalName: manager.userPrincipalName, ...(manager.displayName ? { displayName: manager.displayName } : {}) } };
  }

  private async newAttempt(v: Verification, now: Date): Promise<Verification> {
    if (!this.deps.requestService) throw new RequestServiceError('Verified ID is not configured (VERIFIED_ID_AUTHORITY)', 400, false);
    const n = v.attempts.length + 1;
    const body = presentationRequestBody(this.deps.settings, {
      ticket: `${this.row.ticketSystem} ${this.row.ticketId}`,
      targetUpn: v.targetUpn,
      state: this.deps.secrets.callbackState(this.row.id, n),
      apiKey: this.deps.secrets.apiKey(this.row.id, n),
    });
    const answer = await this.deps.requestService.createPresentationRequest(body);
    const expiresAt = new Date(Math.min(answer.expiry * 1000, Date.parse(v.expiresAt))).toISOString();
    this.events.push({ kind: 'presentation', attempt: n, expiresAt });
    // Only the newest QR code is kept: the older ones are dead links.
    const older = v.attempts.map(({ qrCode: _old, ...attempt }) => (attempt.status === 'created' || attempt.status === 'retrieved' ? { ...attempt, status: 'failed' as const, finishedAt: now.toISOString(), reason: attempt.reason ?? 'replaced by a new code' } : attempt));
    return {
      ...v,
      attempts: [
        ...older,
        { n, serviceRequestId: answer.requestId, createdAt: now.toISOString(), expiresAt, url: answer.url, ...(answer.qrCode ? { qrCode: answer.qrCode } : {}), status: 'created' },
      ],
    };
  }

  private end(code: string, reason: string): GateDecision {
    this.events.push({ kind: 'ended', code, reason });
    return { kind: 'refuse', code, reason };
  }
}

function failedReason(v: Verification): string {
  return `${v.targetUpn} could not be verified: ${v.failures} failed presentation(s) (VERIFICATION_MAX_FAILURES)${v.failureReasons.length ? `, last: ${v.failureReasons[v.failureReasons.length - 1]}` : ''}. Nothing was changed. If the caller is really the user, raise a new ticket; repeated failures can mean someone else is trying.`;
}

function expiredReason(v: Verification): string {
  return `${v.targetUpn} was not verified before ${v.expiresAt} (VERIFICATION_TTL_MINUTES); nothing was changed. Send a new request when the user is ready to verify.`;
}

function waitingReason(v: Verification, methods: readonly VerificationMethod[]): string {
  const how = methods.map((method) => (method === 'verified-id' ? 'presenting their Verified ID with Face Check' : `their manager ${v.manager?.userPrincipalName ?? ''} attesting in the console`.replace(/ +/g, ' ')));
  return `waiting until ${v.expiresAt} for ${v.targetUpn} to be verified by ${how.join(' or ')}`;
}
