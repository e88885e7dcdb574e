import type { PresentationRequestBody } from './request-schema';

export interface VerifiedIdSimOptions {
  /** 0/undefined: a free port on 127.0.0.1. */
  port?: number;
  /** The issuer DID the stand-in's credentials carry (default 'did:web:verifiedid.contoso.com'). */
  issuer?: string;
  /** When true, createPresentationRequest requires `Authorization: Bearer <anything non-empty>` (401 otherwise). Default false (loopback endpoints get no token). */
  requireToken?: boolean;
  /** Presentation request lifetime in seconds (the real service's `expiry`; default 300). */
  requestLifetimeSeconds?: number;
}

export type PresentScenario =
  /** The person named by the request's revocationId constraint presents their own VerifiedEmployee; Face Check passes (default score 92.5). */
  | { kind: 'self'; score?: number }
  /** A valid credential of another person (revocationId = that upn). */
  | { kind: 'someone-else'; upn: string; score?: number }
  /** The right person with a revoked credential. */
  | { kind: 'revoked' }
  /** Face Check under the request's threshold: presentation_error claimValidationError, no score (as documented). */
  | { kind: 'low-score'; score?: number }
  /** A credential from another issuer DID. */
  | { kind: 'other-issuer'; issuer: string }
  /** Any presentation_error (user declined, etc.). */
  | { kind: 'error'; code?: string; message?: string }
  /** Send exactly this callback body (tests of the app's callback checks); apiKey replaces the request's api-key header on it. */
  | { kind: 'raw'; body: Record<string, unknown>; apiKey?: string };

export type PresentationStatus = 'created' | 'retrieved' | 'verified' | 'error';

export interface SimPresentation {
  requestId: string;
  /** The request body as received: callback url, state and headers (the api-key) included. Never print it. */
  body: PresentationRequestBody;
  createdAt: string;
  expiresAt: string;
  status: PresentationStatus;
}

export interface VerifiedIdLogEntry {
  at: string;
  method: string;
  path: string;
  status: number;
  /** The parsed JSON body, with the values of callback.headers (api-key, Authorization) replaced by "[redacted]"; null when it was not JSON. */
  body: unknown;
  /** Whether an Authorization header came (never its value). */
  authorization: boolean;
}

export interface RunningVerifiedIdSim {
  /** Origin, e.g. http://127.0.0.1:43123. */
  url: string;
  /** `${url}/v1.0`: what VERIFIED_ID_ENDPOINT is set to. */
  endpoint: string;
  /** `${url}/wallet`: open presentation requests with a button per scenario (for people running npm start). */
  walletUrl: string;
  /** Every call made to the stand-in's API, in order. */
  requestLog: VerifiedIdLogEntry[];
  /** Open and finished presentation requests by requestId. */
  presentations: Map<string, SimPresentation>;
  /**
   * Acts as the person with Microsoft Authenticator: sends `request_retrieved` and then the outcome callback
   * to the request's callback.url with exactly the headers the request named; resolves with the HTTP statuses
   * the callback URL answered (0 where it could not be reached). Rejects for an unknown, expired or finished request.
   */
  present(requestId: string, scenario: PresentScenario): Promise<{ statuses: number[] }>;
  /** Sends one callback of the caller's making to the request's callback URL (replays, wrong api-keys): body, and the headers to send (default: the request's own). */
  sendCallback(requestId: string, body: Record<string, unknown>, headers?: Record<string, string>): Promise<number>;
  resetLog(): void;
  stop(): Promise<void>;
}
