import { afterAll, beforeAll } from 'vitest';
import { startGraphSimulator, type GraphSimulatorOptions, type RunningGraphSimulator } from '../../dev/graph-sim';
import { createGraphClient, runReset, type ResetInput, type ResetOptions, type ResetResult } from '../../shared/graph';

/** Starts a simulator for the calling test file on a free port and stops it afterwards. */
export function useSimulator(options: GraphSimulatorOptions = {}): { readonly sim: RunningGraphSimulator } {
  let running: RunningGraphSimulator | undefined;
  beforeAll(async () => {
    running = await startGraphSimulator(options);
  });
  afterAll(async () => {
    await running?.stop();
  });
  return {
    get sim() {
      if (!running) throw new Error('simulator not started yet');
      return running;
    },
  };
}

export const noGuards = { protectedGroupIds: [], breakGlassUpns: [], tenantDomains: [] };

/** Short backoff so fault storms finish quickly; Retry-After values still come from the simulator. */
export const fastRetry = { baseDelayMs: 5, maxAttempts: 10 };

export function reset(
  sim: RunningGraphSimulator,
  input: Partial<ResetInput> & Pick<ResetInput, 'target'>,
  options: Partial<ResetOptions> = {},
): Promise<ResetResult> {
  const graph = createGraphClient({ GRAPH_BASE_URL: sim.url, GRAPH_AUTH: 'none' });
  return runReset(
    graph,
    { profile: 'portal', revokeSessions: false, dryRun: false, ...input },
    { guards: noGuards, retry: fastRetry, ...options },
  );
}

export function writesTo(sim: RunningGraphSimulator, userId: string) {
  return sim.requestLog.filter((entry) => entry.write && entry.url.includes(userId));
}

/** Removals per (user, method): a method removed twice shows a count of 2. */
export function removalCounts(sim: RunningGraphSimulator): Map<string, number> {
  const counts = new Map<string, number>();
  for (const removal of sim.tenant.removals) {
    const key = `${removal.userId}/${removal.methodId}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
