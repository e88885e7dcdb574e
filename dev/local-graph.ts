import type { LocalHostSettings } from './local-settings';

export interface LocalGraph {
  description: string;
  stop(): Promise<void>;
}

/**
 * Decides which Graph `npm start` talks to. With GRAPH_BASE_URL set, that one (live Graph or another
 * endpoint) and nothing is started here.
 */
export async function startLocalGraph(env: NodeJS.ProcessEnv, _local: LocalHostSettings): Promise<LocalGraph | undefined> {
  if (env.GRAPH_BASE_URL) return undefined;
  env.GRAPH_BASE_URL = 'https://graph.microsoft.com';
  return undefined;
}
