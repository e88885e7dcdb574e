import type { SimDirectory } from './graph-sim/directory';
import { startGraphSimulator } from './graph-sim/server';
import { loadTenantFile } from './graph-sim/tenant-file';
import type { LocalHostSettings } from './local-settings';

export interface LocalGraph {
  description: string;
  /** The simulator's directory: the local identity provider signs its users in. */
  directory: SimDirectory;
  stop(): Promise<void>;
}

/**
 * Decides which Graph `npm start` talks to. With GRAPH_BASE_URL set, that one (live Graph or another
 * endpoint) and nothing is started here. Otherwise the Graph simulator, seeded from GRAPH_SIM_TENANT
 * or the demo tenant, and the app is pointed at it without a token (allowed for loopback only).
 */
export async function startLocalGraph(env: NodeJS.ProcessEnv, local: LocalHostSettings): Promise<LocalGraph | undefined> {
  if (env.GRAPH_BASE_URL) return undefined;
  const tenant = local.GRAPH_SIM_TENANT ? loadTenantFile(local.GRAPH_SIM_TENANT) : undefined;
  const sim = await startGraphSimulator(tenant ? { tenant } : {});
  env.GRAPH_BASE_URL = sim.url;
  env.GRAPH_AUTH = 'none';
  const source = local.GRAPH_SIM_TENANT ? `tenant ${local.GRAPH_SIM_TENANT}` : 'demo tenant';
  return {
    directory: sim.tenant,
    description: `Graph simulator at ${sim.url}, ${source} ${sim.tenant.domains.join(', ')}, ${sim.tenant.users.length} users`,
    stop: () => sim.stop(),
  };
}
