import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { SimDirectory, type SimUser } from '../graph-sim/directory';
import { demoTenant } from '../graph-sim/demo-tenant';
import { parseTenantFile } from '../graph-sim/tenant-file';
import { CONSOLE_SCOPE } from '../../shared/console/authority';
import { signInPage } from './sign-in-page';

/** The console's app registration in the demo tenant (CONSOLE_CLIENT_ID under npm start). */
export const DEMO_CONSOLE_CLIENT_ID = 'c0a5011e-a99c-4e1d-8f00-0c0ffee00c0e';

export interface LocalIdpOptions {
  /** Whose users sign in: the Graph simulator's directory, or the demo tenant. */
  directory?: SimDirectory;
  clientId?: string;
  /** 0 or left out: a free port. */
  port?: number;
  /** Access token lifetime; Entra's default is 60-90 minutes. */
  tokenLifetimeSeconds?: number;
}

/** What a test may bend to forge a token this provider would never issue. */
export interface TokenOverrides {
  audience?: string;
  tenantId?: string;
  issuer?: string;
  scp?: string | null;
  azp?: string;
  /** Seconds from now; negative for a token that has already expired. */
  expiresIn?: number;
  groups?: string[];
  ver?: string;
  /** Sign with a key that is not published in the JWKS. */
  unpublishedKey?: boolean;
  /** Conditional Access authentication contexts the sign-in met (the `acrs` claim). */
  acrs?: string[];
}

export interface RunningLocalIdp {
  /** Use as CONSOLE_AUTHORITY_HOST. */
  url: string;
  tenantId: string;
  clientId: string;
  directory: SimDirectory;
  /** An access token for a user of the tenant, as the token endpoint would issue it (or bent by `overrides`). */
  issueToken(userPrincipalName: string, overrides?: TokenOverrides): Promise<string>;
  stop(): Promise<void>;
}

interface PendingCode {
  userId: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  nonce?: string;
  /** Authentication contexts the authorize request's `claims` asked for as essential (a step-up). */
  acrs?: string[];
  expiresAt: number;
}

/**
 * A local stand-in for the Microsoft identity platform, for one tenant: the v2.0 authorize and token
 * endpoints (authorization code with PKCE, as a single-page app uses them), the OpenID metadata and the
 * JWKS, at the same paths as login.microsoftonline.com/{tenant}. It issues v2.0 access tokens for the
 * directory's users with their groups, signed RS256 with a key made at start, so the console's own
 * validation (shared/console/token-validation.ts) runs unchanged locally and in tests. No passwords:
 * the sign-in page lets you pick a user. Loopback only.
 */
export async function startLocalIdp(options: LocalIdpOptions = {}): Promise<RunningLocalIdp> {
  const directory = options.directory ?? new SimDirectory(parseTenantFile(demoTenant));
  const tenantId = directory.tenantId.toLowerCase();
  const clientId = (options.clientId ?? DEMO_CONSOLE_CLIENT_ID).toLowerCase();
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const kid = randomBytes(8).toString('hex');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  // A key the JWKS does not publish, made only when a test asks for a token signed with it.
  let stray: Promise<{ privateKey: CryptoKey }> | undefined;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  const codes = new Map<string, PendingCode>();
  let origin = '';
  const issuer = () => `${origin}/${tenantId}/v2.0`;

  const sign = async (user: SimUser, overrides: TokenOverrides = {}, nonce?: string): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (overrides.expiresIn ?? lifetime);
    const claims: Record<string, unknown> = {
      ver: overrides.ver ?? '2.0',
      tid: overrides.tenantId ?? tenantId,
      oid: user.id,
      sub: createHash('sha256').update(`${user.id}:${clientId}`).digest('base64url'),
      azp: overrides.azp ?? clientId,
      azpacr: '0',
      preferred_username: user.userPrincipalName,
      name: user.displayName,
      groups: overrides.groups ?? directory.transitiveGroupIds(user),
      uti: randomBytes(12).toString('base64url'),
      ...(nonce ? { nonce } : {}),
      ...(overrides.acrs ? { acrs: overrides.acrs } : {}),
    };
    if (overrides.scp !== null) claims.scp = overrides.scp ?? CONSOLE_SCOPE;
    const key: CryptoKey = overrides.unpublishedKey ? (await (stray ??= generateKeyPair('RS256'))).privateKey : privateKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid })
      .setIssuer(overrides.issuer ?? issuer())
      .setAudience(overrides.audience ?? clientId)
      .setIssuedAt(Math.min(now, exp - 60))
      .setNotBefore(Math.min(now, exp - 60))
      .setExpirationTime(exp)
      .sign(key);
  };

  const server = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) json(res, 500, { error: 'server_error', error_description: error instanceof Error ? error.message : String(error) });
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0]?.toLowerCase() !== tenantId) return json(res, 400, { error: 'invalid_tenant', error_description: `this stand-in serves tenant ${tenantId} only` });
    const path = `/${parts.slice(1).join('/')}`;
    if (req.method === 'GET' && path === '/v2.0/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: issuer(),
        authorization_endpoint: `${origin}/${tenantId}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}/${tenantId}/oauth2/v2.0/token`,
        jwks_uri: `${origin}/${tenantId}/discovery/v2.0/keys`,
        response_types_supported: ['code'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        scopes_supported: ['openid', 'profile', 'offline_access'],
        tenant_region_scope: 'local',
      });
    }
    if (req.method === 'GET' && path === '/discovery/v2.0/keys') return json(res, 200, { keys: [jwk] });
    if (path === '/oauth2/v2.0/authorize') return authorize(req, res, url);
    if (req.method === 'POST' && path === '/oauth2/v2.0/token') return token(req, res);
    return json(res, 404, { error: 'not_found' });
  }

  async function authorize(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const params = req.method === 'POST' ? new URLSearchParams(await readBody(req)) : url.searchParams;
    const redirectUri = params.get('redirect_uri') ?? '';
    const problem =
      params.get('client_id')?.toLowerCase() !== clientId
        ? `unknown client_id; the console's app is ${clientId}`
        : params.get('response_type') !== 'code'
          ? 'response_type must be code'
          : params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')
            ? 'PKCE is required: code_challenge with code_challenge_method S256'
            : !isLoopbackRedirect(redirectUri)
              ? 'redirect_uri must be a loopback http URL of the console'
              : undefined;
    if (problem) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Sign-in refused: ${problem}`);
      return;
    }
    const chosen = params.get('login_hint');
    if (req.method !== 'POST' || !chosen) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" });
      res.end(signInPage(directory, params));
      return;
    }
    const user = directory.findUser(chosen);
    if (!user || user.userType === 'Guest' || !user.accountEnabled) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Sign-in refused: no such member of this tenant');
      return;
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      userId: user.id,
      clientId,
      redirectUri,
      challenge: params.get('code_challenge')!,
      scope: params.get('scope') ?? '',
      ...(params.get('nonce') ? { nonce: params.get('nonce')! } : {}),
      ...(requestedAcrs(params.get('claims')) ? { acrs: requestedAcrs(params.get('claims'))! } : {}),
      expiresAt: Date.now() + 60_000,
    });
    const target = new URL(redirectUri);
    target.searchParams.set('code', code);
    const state = params.get('state');
    if (state) target.searchParams.set('state', state);
    res.writeHead(302, { location: target.toString(), 'cache-control': 'no-store' });
    res.end();
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = corsHeaders(req);
    const form = new URLSearchParams(await readBody(req));
    const code = form.get('code') ?? '';
    const pending = codes.get(code);
    codes.delete(code); // one use, whatever happens next
    const verifier = form.get('code_verifier') ?? '';
    const fail = (description: string) => json(res, 400, { error: 'invalid_grant', error_description: description }, cors);
    if (form.get('grant_type') !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' }, cors);
    if (!pending || pending.expiresAt < Date.now()) return fail('the code is unknown, used or expired');
    if (form.get('client_id')?.toLowerCase() !== pending.clientId || form.get('redirect_uri') !== pending.redirectUri) return fail('client_id or redirect_uri differ from the authorization request');
    if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) return fail('code_verifier does not match the code_challenge');
    const user = directory.users.find((u) => u.id === pending.userId)!;
    // A step-up the authorize request asked for (claims challenge) is met here as Entra would after the
    // Conditional Access policy of that authentication context was satisfied.
    const accessToken = await sign(user, pending.acrs ? { acrs: pending.acrs } : {}, pending.nonce);
    return json(res, 200, { token_type: 'Bearer', access_token: accessToken, expires_in: lifetime, scope: pending.scope }, { ...cors, 'cache-control': 'no-store' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: origin,
    tenantId,
    clientId,
    directory,
    async issueToken(userPrincipalName, overrides) {
      const user = directory.findUser(userPrincipalName);
      if (!user) throw new Error(`local identity provider: no user ${userPrincipalName}`);
      return sign(user, overrides);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The authentication contexts a `claims` parameter asks for: {"access_token":{"acrs":{"essential":true,"value":"c1"}}}. */
function requestedAcrs(claims: string | null): string[] | undefined {
  if (!claims) return undefined;
  try {
    const parsed = JSON.parse(claims) as { access_token?: { acrs?: { value?: unknown; values?: unknown } } };
    const acrs = parsed.access_token?.acrs;
    const values = Array.isArray(acrs?.values) ? acrs.values : acrs?.value !== undefined ? [acrs.value] : [];
    const ids = values.filter((value): value is string => typeof value === 'string' && /^c\d{1,2}$/.test(value));
    return ids.length > 0 ? ids : undefined;
  } catch {
    return undefined;
  }
}

function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.pathname.startsWith('/api/console');
  } catch {
    return false;
  }
}

/** The token endpoint answers the console's page from another origin, as Entra does for SPA redirect URIs. */
function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  return origin && isLoopbackRedirect(`${origin}/api/console`) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
