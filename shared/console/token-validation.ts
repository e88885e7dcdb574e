import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { ConsoleAuthority } from './authority';

/** A person signed in to the console, as their access token names them. */
export interface Person {
  objectId: string;
  /** preferred_username (the UPN for work accounts); the object id when the token has none. */
  userPrincipalName: string;
  name?: string;
  /** Group object ids from the token's `groups` claim. */
  groups: string[];
  /** When the person signed in (auth_time, when the token carries it), how (amr), and the authentication contexts met (acrs). */
  authTime?: string;
  amr?: string[];
  acrs?: string[];
}

/** Why a token was refused; never the token itself. */
export class TokenRejected extends Error {
  constructor(
    readonly reason: string,
    /** The tenant's keys could not be read: nothing is known about the token, so it is refused (503, not 401). */
    readonly keysUnavailable = false,
  ) {
    super(reason);
    this.name = 'TokenRejected';
  }
}

const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);

/**
 * The claims of an Entra ID v2.0 access token the console relies on, after jose has checked signature,
 * issuer, audience and lifetime. `scp` is required: ID tokens (same audience when the console's SPA and
 * API share one registration) and app-only tokens (`roles`, no `scp`) have none, so neither passes.
 */
const claimsSchema = z.object({
  ver: z.literal('2.0', { errorMap: () => ({ message: 'is not a v2.0 access token (set requestedAccessTokenVersion to 2 in the app manifest)' }) }),
  tid: guid,
  oid: guid,
  scp: z.string().min(1),
  azp: z.string().optional(),
  preferred_username: z.string().max(256).optional(),
  name: z.string().max(256).optional(),
  groups: z.array(guid).max(1000).optional(),
  /** Present instead of `groups` when the person is in more groups than fit in a token (overage). */
  _claim_names: z.object({ groups: z.string().optional() }).passthrough().optional(),
  hasgroups: z.union([z.boolean(), z.literal('true')]).optional(),
  auth_time: z.number().int().positive().optional(),
  amr: z.array(z.string().max(40)).max(20).optional(),
  /** Conditional Access authentication contexts the sign-in satisfied (c1-c99). */
  acrs: z.array(z.string().max(10)).max(20).optional(),
});

/** Seconds of clock difference tolerated on exp/nbf/iat, as Microsoft's own middleware does (5 min is its default; less here). */
const CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Validates console access tokens on every call: RS256 signature against the tenant's published keys
 * (fetched and cached by jose, refetched when an unknown `kid` appears, as after a key rollover),
 * issuer of the configured tenant, audience of the console's app, expiry and not-before, the tenant
 * claim, the console's delegated scope, and the client the token was issued to.
 */
export class ConsoleTokenValidator {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    private readonly authority: ConsoleAuthority,
    keys?: JWTVerifyGetKey,
  ) {
    this.keys = keys ?? createRemoteJWKSet(new URL(authority.jwksUri), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 12 * 3600_000 });
  }

  async validate(token: string): Promise<Person> {
    let payload: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, this.keys, {
        issuer: this.authority.issuer,
        audience: [this.authority.clientId, `api://${this.authority.clientId}`],
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'nbf'],
      });
      payload = verified.payload as Record<string, unknown>;
    } catch (error) {
      const keysUnavailable = error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError);
      throw new TokenRejected(describeJoseError(error), keysUnavailable);
    }
    const parsed = claimsSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TokenRejected(`claim ${issue?.path.join('.') || '?'} ${issue?.message ?? 'is invalid'}`);
    }
    const claims = parsed.data;
    // The issuer already names the tenant; `tid` must agree, so that no token minted for another tenant passes.
    if (claims.tid.toLowerCase() !== this.authority.tenantId) throw new TokenRejected('the token is from another tenant');
    if (!claims.scp.split(' ').includes(this.authority.scope)) {
      throw new TokenRejected(`the token does not carry the console's permission ${this.authority.scope}`);
    }
    if (claims.azp !== undefined && claims.azp.toLowerCase() !== this.authority.clientId) {
      throw new TokenRejected('the token was issued to another application');
    }
    if (claims.groups === undefined && (claims._claim_names?.groups !== undefined || claims.hasgroups !== undefined)) {
      throw new TokenRejected(
        'the token names no groups because the person is in too many (group overage): set groupMembershipClaims to "ApplicationGroup" and assign the console groups to the app',
      );
    }
    return {
      objectId: claims.oid.toLowerCase(),
      userPrincipalName: claims.preferred_username ?? claims.oid.toLowerCase(),
      ...(claims.name ? { name: claims.name } : {}),
      groups: (claims.groups ?? []).map((id) => id.toLowerCase()),
      ...(claims.auth_time ? { authTime: new Date(claims.auth_time * 1000).toISOString() } : {}),
      ...(claims.amr ? { amr: claims.amr } : {}),
      ...(claims.acrs ? { acrs: claims.acrs } : {}),
    };
  }
}

function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} is not what the console accepts`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return "the token is not signed with one of the tenant's published keys";
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm the console does not accept';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'the token is malformed';
  if (error instanceof errors.JWKSTimeout) return "the tenant's signing keys could not be fetched in time";
  if (error instanceof errors.JOSEError) return `the token was refused (${error.code})`;
  return "the tenant's signing keys could not be read";
}
