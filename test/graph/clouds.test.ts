import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { GRAPH_CLOUDS, graphCloudOf, graphScopeOf } from '../../shared/graph-clouds';
import { createGraphClient, runReset } from '../../shared/graph';
import type { GraphRequest } from '../../shared/graph/http';
import { noGuards, useSimulator } from './helpers';

/** learn.microsoft.com/graph/deployments: each national cloud's Graph host, its token scope and its Entra authority. */
const expected = [
  { base: 'https://graph.microsoft.com', scope: 'https://graph.microsoft.com/.default', authority: 'https://login.microsoftonline.com' },
  { base: 'https://graph.microsoft.us', scope: 'https://graph.microsoft.us/.default', authority: 'https://login.microsoftonline.us' },
  { base: 'https://dod-graph.microsoft.us', scope: 'https://dod-graph.microsoft.us/.default', authority: 'https://login.microsoftonline.us' },
  { base: 'https://microsoftgraph.chinacloudapi.cn', scope: 'https://microsoftgraph.chinacloudapi.cn/.default', authority: 'https://login.chinacloudapi.cn' },
];

/** Records the scopes asked for and answers no token, so no request leaves the machine. */
class RecordingCredential implements TokenCredential {
  readonly scopes: string[][] = [];
  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    this.scopes.push([scopes].flat());
    throw new Error('no token in tests');
  }
}

describe('token scope and authority follow GRAPH_BASE_URL', () => {
  it('knows every national cloud', () => {
    expect(GRAPH_CLOUDS.map((cloud) => cloud.graphOrigin).sort()).toEqual(expected.map((e) => e.base).sort());
  });

  for (const cloud of expected) {
    it(`${cloud.base}: scope ${cloud.scope}, authority ${cloud.authority}`, async () => {
      const found = graphCloudOf(`${cloud.base}/`);
      expect(found?.authorityHost).toBe(cloud.authority);
      expect(graphScopeOf(found!)).toBe(cloud.scope);
      const credential = new RecordingCredential();
      const graph = createGraphClient({ GRAPH_BASE_URL: cloud.base, GRAPH_AUTH: 'default' }, { credential });
      await graph.send({ method: 'GET', version: 'v1.0', path: '/users?$top=1' }).catch(() => undefined);
      expect(credential.scopes).toEqual([[cloud.scope]]);
    });
  }

  it('sends no token to a host that is not Microsoft Graph (typo, look-alike, credentials in the URL)', () => {
    for (const base of ['https://graph.microsoft.com.evil.example', 'http://graph.microsoft.com', 'https://user:pw@graph.microsoft.com', 'https://graph.microsoft.de']) {
      expect(graphCloudOf(base), base).toBeUndefined();
      expect(() => createGraphClient({ GRAPH_BASE_URL: base, GRAPH_AUTH: 'default' }, { credential: new RecordingCredential() }), base).toThrow(/not a Microsoft Graph endpoint/);
    }
  });
});

describe('what a cloud does not offer', () => {
  const transport = (origin: string) => {
    const sent: GraphRequest[] = [];
    return {
      sent,
      graph: {
        origin,
        async send(request: GraphRequest) {
          sent.push(request);
          return { status: 404, requestId: 'r', retryAfterSeconds: undefined, body: { error: { code: 'Request_ResourceNotFound', message: 'not here' } } };
        },
      },
    };
  };
  const input = { target: { userPrincipalName: 'someone@contoso.com' }, profile: 'portal' as const, revokeSessions: true, dryRun: false, temporaryAccessPass: {} };

  it('China (21Vianet) has no v1.0 Temporary Access Pass API: a request for a pass is refused before any call, so nothing is removed', async () => {
    const china = transport('https://microsoftgraph.chinacloudapi.cn');
    const result = await runReset(china.graph, input, { guards: noGuards });
    expect(result).toMatchObject({ status: 'rejected', code: 'temporary-access-pass-unavailable' });
    expect(result.status === 'rejected' && result.reason).toMatch(/China \(21Vianet\) cloud offers no Temporary Access Pass API.*nothing was changed/);
    expect(china.sent).toEqual([]);
    // Without a pass the same request goes ahead (here: to Graph's answer that the user does not exist).
    const without = await runReset(china.graph, { ...input, temporaryAccessPass: undefined }, { guards: noGuards });
    expect(without.status).not.toBe('completed');
    expect(china.sent.length).toBeGreaterThan(0);
  });

  const sim = useSimulator({
    tenant: { domains: ['contoso.com'], users: [{ userPrincipalName: 'someone@contoso.com', methods: [{ type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550160' }] }] },
  });
  /** The simulator behind a national cloud's origin: what the engine decides from the origin shows. */
  const behind = (origin: string) => {
    const client = createGraphClient({ GRAPH_BASE_URL: sim.sim.url, GRAPH_AUTH: 'none' });
    return { origin, send: (request: GraphRequest) => client.send(request) };
  };

  it('US Government offers passes, not hardware OATH tokens: the pass is issued, the tokens are not asked for, and the reset says so (partial)', async () => {
    sim.sim.resetLog();
    const result = await runReset(behind('https://graph.microsoft.us'), input, { guards: noGuards });
    expect(result.status).toBe('partial');
    expect(result.status === 'partial' && result.reason).toMatch(/hardware OATH tokens could not be read: Graph offers beta hardwareOathMethods in the global cloud only.*US Government L4/);
    expect(result.temporaryAccessPass?.outcome).toBe('created');
    expect(sim.sim.requestLog.some((e) => e.url.includes('hardwareOathMethods'))).toBe(false);
    expect(sim.sim.tenant.methodsOf('someone@contoso.com').map((m) => m.kind).sort()).toEqual(['password', 'temporaryAccessPass']);
  });

  it('hardware OATH tokens are global only, Temporary Access Pass everywhere but China, as the API reference says', () => {
    expect(Object.fromEntries(GRAPH_CLOUDS.map((c) => [c.name, c.offers]))).toEqual({
      global: { hardwareOathMethods: true, temporaryAccessPass: true },
      'US Government L4': { hardwareOathMethods: false, temporaryAccessPass: true },
      'US Government L5 (DOD)': { hardwareOathMethods: false, temporaryAccessPass: true },
      'China (21Vianet)': { hardwareOathMethods: false, temporaryAccessPass: false },
    });
  });
});
