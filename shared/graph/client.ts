import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { AuthenticationHandler, Client, HTTPMessageHandler, ResponseType, type Middleware } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials';
import { decodeJwt } from 'jose';
import { z } from 'zod';
import { isLoopbackUrl } from '../config';
import { graphCloudOf, graphScopeOf } from '../graph-clouds';
import { GraphNetworkError, parseRetryAfter, type GraphRequest, type GraphResponse, type GraphTransport } from './http';

export interface GraphClientSettings {
  GRAPH_BASE_URL: string;
  GRAPH_AUTH: 'default' | 'none';
  AZURE_CLIENT_ID?: string;
}

export interface GraphClientOptions {
  /** Overrides DefaultAzureCredential (tests, or a credential built elsewhere). */
  credential?: TokenCredential;
  /** Per-request time limit; a request that takes longer counts as unanswered. */
  timeoutMs?: number;
}

export type GraphClient = GraphTransport & {
  /**
   * The application permissions (app roles) in the token this client sends, read from its `roles`
   * claim; undefined without a token (GRAPH_AUTH=none, the simulator). For the health probe only: it
   * proves write permissions that no harmless read can.
   */
  appRoles?(): Promise<string[]>;
};

const rolesClaim = z.object({ roles: z.array(z.string()).optional() }).passthrough();

/** Authentication-method calls may take up to 60 s at Graph; aborting sooner makes needless ambiguous outcomes. */
export const GRAPH_CALL_TIMEOUT_MS = 65_000;

/**
 * A Graph transport on @microsoft/microsoft-graph-client. The SDK's default chain is replaced by
 * authentication + HTTP only: its RetryHandler would replay a Temporary Access Pass creation and
 * sleep through any Retry-After, and it does not look inside $batch answers, so retries live in retry.ts.
 */
export function createGraphClient(settings: GraphClientSettings, options: GraphClientOptions = {}): GraphClient {
  const origin = settings.GRAPH_BASE_URL.replace(/\/+$/, '');
  const host = new URL(origin).hostname;
  if (settings.GRAPH_AUTH === 'none' && !isLoopbackUrl(origin)) {
    throw new Error(`GRAPH_AUTH=none is accepted only for a loopback GRAPH_BASE_URL, not ${origin}`);
  }

  const http = new HTTPMessageHandler();
  const middleware: Middleware[] = [];
  let appRoles: (() => Promise<string[]>) | undefined;
  if (settings.GRAPH_AUTH === 'default') {
    // The token goes only to a Microsoft Graph host, and its scope and authority follow that host's cloud.
    const cloud = graphCloudOf(origin);
    if (!cloud) throw new Error(`GRAPH_BASE_URL ${origin} is not a Microsoft Graph endpoint; no token is sent there`);
    const credential =
      options.credential ??
      new DefaultAzureCredential({
        authorityHost: cloud.authorityHost,
        ...(settings.AZURE_CLIENT_ID ? { managedIdentityClientId: settings.AZURE_CLIENT_ID } : {}),
      });
    const scopes = [graphScopeOf(cloud)];
    middleware.push(new AuthenticationHandler(new TokenCredentialAuthenticationProvider(credential, { scopes })));
    appRoles = async () => {
      // The same (cached) token the requests carry. Its signature is Graph's to check; reading our own
      // token's claims to report on ourselves needs no verification, and the token itself goes nowhere.
      const token = await credential.getToken(scopes).catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message.split('\n')[0] : String(error)}${credentialHint(error)}`);
      });
      if (!token) throw new Error('no token for Microsoft Graph');
      return rolesClaim.parse(decodeJwt(token.token)).roles ?? [];
    };
  }
  middleware.push(http);

  const client = Client.initWithMiddleware({
    baseUrl: origin,
    middleware,
    // The SDK only attaches the token for graph.microsoft.com unless told about other hosts.
    customHosts: new Set([host]),
  });
  const timeoutMs = options.timeoutMs ?? GRAPH_CALL_TIMEOUT_MS;

  return {
    origin,
    ...(appRoles ? { appRoles } : {}),
    async send(request: GraphRequest): Promise<GraphResponse> {
      let call = client
        .api(request.path)
        .version(request.version)
        .responseType(ResponseType.RAW)
        .option('signal', AbortSignal.timeout(timeoutMs));
      if (request.headers) call = call.headers(request.headers);

      let raw: unknown;
      try {
        switch (request.method) {
          case 'GET':
            raw = await call.get();
            break;
          case 'DELETE':
            raw = await call.delete();
            break;
          case 'POST':
            raw = await call.post(request.body ?? {});
            break;
          case 'PATCH':
            raw = await call.patch(request.body ?? {});
            break;
        }
      } catch (error) {
        throw new GraphNetworkError(describeFailure(error), request);
      }
      if (!(raw instanceof Response)) throw new GraphNetworkError('the Graph client returned no HTTP response', request);
      return readResponse(raw);
    },
  };
}

async function readResponse(response: Response): Promise<GraphResponse> {
  const text = await response.text();
  let body: unknown;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return {
    status: response.status,
    requestId: response.headers.get('request-id') ?? response.headers.get('client-request-id') ?? undefined,
    retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
    body,
  };
}

function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no answer in time (${error.message})`;
    const hint = credentialHint(error);
    // The credential's message runs over many lines (one per credential tried): its first line and the hint say it.
    if (hint) return `${error.message.split('\n')[0]}${hint}`;
    return `${error.message}${detail}`;
  }
  return String(error);
}

/**
 * DefaultAzureCredential's own words ("ChainedTokenCredential authentication failed") say nothing a
 * person can act on; when no identity could sign in, say which ones it looks for.
 */
export function credentialHint(error: unknown): string {
  // The Graph client rethrows the credential's error as its own: the name may be gone, the words stay.
  const names = ['AggregateAuthenticationError', 'CredentialUnavailableError', 'AuthenticationRequiredError'];
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  const byName = [error, cause].some((e) => e instanceof Error && names.includes(e.name));
  if (!byName && !(error instanceof Error && /ChainedTokenCredential authentication failed/.test(error.message))) return '';
  return (
    ' (DefaultAzureCredential found no identity to sign in with: in Azure, the managed identity named by AZURE_CLIENT_ID; ' +
    'on this machine, an app registration in AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, see docs/local-tenant.md)'
  );
}
