import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { GRAPH_CLOUDS, graphCloudOf, graphScopeOf } from '../../shared/graph-clouds';
import { createGraphClient } from '../../shared/graph';

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
