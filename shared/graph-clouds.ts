/**
 * The Microsoft Graph endpoints the app may send its managed identity's token to, one per national
 * cloud (learn.microsoft.com/graph/deployments). Each cloud has its own Entra authority and the token
 * scope follows from the Graph host; anything else (a typo, an attacker-chosen host) must never
 * receive a Graph token, so GRAPH_BASE_URL is refused unless it is one of these or a loopback
 * simulator with GRAPH_AUTH=none.
 */
export interface GraphCloud {
  name: string;
  graphOrigin: string;
  authorityHost: string;
  /**
   * What the engine uses that Graph's API reference ("national cloud deployments" on each page) does not
   * offer everywhere: beta hardwareOathMethods (list, deactivate) are global only; v1.0 Temporary Access
   * Pass creation and its policy are not in China.
   */
  offers: { hardwareOathMethods: boolean; temporaryAccessPass: boolean };
}

export const GRAPH_CLOUDS: readonly GraphCloud[] = [
  { name: 'global', graphOrigin: 'https://graph.microsoft.com', authorityHost: 'https://login.microsoftonline.com', offers: { hardwareOathMethods: true, temporaryAccessPass: true } },
  { name: 'US Government L4', graphOrigin: 'https://graph.microsoft.us', authorityHost: 'https://login.microsoftonline.us', offers: { hardwareOathMethods: false, temporaryAccessPass: true } },
  { name: 'US Government L5 (DOD)', graphOrigin: 'https://dod-graph.microsoft.us', authorityHost: 'https://login.microsoftonline.us', offers: { hardwareOathMethods: false, temporaryAccessPass: true } },
  { name: 'China (21Vianet)', graphOrigin: 'https://microsoftgraph.chinacloudapi.cn', authorityHost: 'https://login.chinacloudapi.cn', offers: { hardwareOathMethods: false, temporaryAccessPass: false } },
];

/** The cloud whose Graph origin this URL is (scheme, host and port must match exactly), if any. */
export function graphCloudOf(url: string): GraphCloud | undefined {
  let origin: string;
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) return undefined;
    origin = parsed.origin;
  } catch {
    return undefined;
  }
  return GRAPH_CLOUDS.find((cloud) => cloud.graphOrigin === origin);
}

/** The OAuth scope of a Graph origin: `<origin>/.default`. */
export function graphScopeOf(cloud: GraphCloud): string {
  return `${cloud.graphOrigin}/.default`;
}
