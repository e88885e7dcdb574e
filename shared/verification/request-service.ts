import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { isLoopbackUrl } from '../config';

/**
 * The Microsoft Entra Verified ID Request Service (learn.microsoft.com/entra/verified-id/
 * presentation-request-api): one call, createPresentationRequest, with an app-only token for the
 * service's resource `3db474b9-6a0c-4840-96ac-1fceb342124f` (VerifiableCredential.Create.PresentRequest).
 * A loopback endpoint (the local stand-in) gets no token, as a loopback Graph gets none.
 */
export const REQUEST_SERVICE_SCOPE = '3db474b9-6a0c-4840-96ac-1fceb342124f/.default';

export const presentationResponseSchema = z.object({
  requestId: z.string().min(1).max(200),
  url: z.string().min(1).max(4096),
  /** Unix seconds. */
  expiry: z.number(),
  qrCode: z.string().max(60_000).optional(),
});
export type PresentationResponse = z.infer<typeof presentationResponseSchema>;

const errorBodySchema = z
  .object({ error: z.object({ code: z.string().optional(), message: z.string().optional(), innererror: z.object({ code: z.string().optional(), message: z.string().optional(), target: z.string().optional() }).passthrough().optional() }).passthrough() })
  .passthrough();

/** The service answered with an error, or did not answer. `transient`: trying again later may work. */
export class RequestServiceError extends Error {
  constructor(message: string, readonly status: number | undefined, readonly transient: boolean) {
    super(message);
    this.name = 'RequestServiceError';
  }
}

export interface RequestService {
  createPresentationRequest(body: Record<string, unknown>): Promise<PresentationResponse>;
}

export interface RequestServiceSettings {
  VERIFIED_ID_ENDPOINT: string;
  AZURE_CLIENT_ID?: string;
}

export function createRequestService(settings: RequestServiceSettings, options: { credential?: TokenCredential; fetch?: typeof fetch; timeoutMs?: number } = {}): RequestService {
  const endpoint = settings.VERIFIED_ID_ENDPOINT.replace(/\/+$/, '');
  const loopback = isLoopbackUrl(endpoint);
  if (!loopback && new URL(endpoint).protocol !== 'https:') throw new Error(`VERIFIED_ID_ENDPOINT must be https, not ${endpoint}`);
  const credential = loopback ? undefined : (options.credential ?? new DefaultAzureCredential(settings.AZURE_CLIENT_ID ? { managedIdentityClientId: settings.AZURE_CLIENT_ID } : {}));
  const send = options.fetch ?? fetch;
  return {
    async createPresentationRequest(body) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (credential) {
        const token = await credential.getToken(REQUEST_SERVICE_SCOPE).catch((error: unknown) => {
          throw new RequestServiceError(`no token for the Verified ID Request Service: ${error instanceof Error ? error.message : String(error)}`, undefined, true);
        });
        if (!token) throw new RequestServiceError('no token for the Verified ID Request Service', undefined, true);
        headers.authorization = `Bearer ${token.token}`;
      }
      let response: Response;
      try {
        response = await send(`${endpoint}/verifiableCredentials/createPresentationRequest`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
          redirect: 'error',
        });
      } catch (error) {
        throw new RequestServiceError(`the Verified ID Request Service did not answer: ${error instanceof Error ? error.message : String(error)}`, undefined, true);
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!response.ok) {
        const parsed = errorBodySchema.safeParse(json);
        const error = parsed.success ? parsed.data.error : undefined;
        const detail = [error?.code, error?.message, error?.innererror?.target ? `(field ${error.innererror.target})` : undefined].filter(Boolean).join(': ');
        const transient = response.status >= 500 || response.status === 429 || response.status === 408;
        throw new RequestServiceError(`the Verified ID Request Service answered ${response.status}${detail ? ` ${detail.slice(0, 300)}` : ''}`, response.status, transient);
      }
      const parsed = presentationResponseSchema.safeParse(json);
      if (!parsed.success) {
        throw new RequestServiceError(`the Verified ID Request Service answered ${response.status} without requestId, url and expiry`, response.status, true);
      }
      return parsed.data;
    },
  };
}
