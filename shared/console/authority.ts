import type { Settings } from '../config';

/**
 * Where the console's people sign in, as Microsoft identity platform v2.0 names it for one tenant:
 * `{authority host}/{tenant id}/...`. The same paths serve Entra ID and the local stand-in provider,
 * so the browser and the token validation never know which one they talk to.
 */
export interface ConsoleAuthority {
  tenantId: string;
  clientId: string;
  /** `iss` of the v2.0 access tokens the console accepts. */
  issuer: string;
  jwksUri: string;
  authorizeUrl: string;
  tokenUrl: string;
  /** The delegated permission the console's app registration exposes; an access token must carry it in `scp`. */
  scope: string;
  /** What the browser asks for: the console's scope, and openid/profile for the sign-in itself. */
  requestedScopes: string;
}

/** The delegated permission (scope) the console app registration exposes. */
export const CONSOLE_SCOPE = 'Console.Access';

export function consoleAuthority(settings: Settings): ConsoleAuthority | undefined {
  const tenantId = settings.CONSOLE_TENANT_ID?.toLowerCase();
  const clientId = settings.CONSOLE_CLIENT_ID?.toLowerCase();
  if (!tenantId || !clientId) return undefined;
  const base = `${settings.CONSOLE_AUTHORITY_HOST.replace(/\/+$/, '')}/${tenantId}`;
  return {
    tenantId,
    clientId,
    issuer: `${base}/v2.0`,
    jwksUri: `${base}/discovery/v2.0/keys`,
    authorizeUrl: `${base}/oauth2/v2.0/authorize`,
    tokenUrl: `${base}/oauth2/v2.0/token`,
    scope: CONSOLE_SCOPE,
    requestedScopes: `api://${clientId}/${CONSOLE_SCOPE} openid profile`,
  };
}
