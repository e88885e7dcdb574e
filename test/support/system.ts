import { join } from 'node:path';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { startGraphSimulator, type GraphSimulatorOptions, type RunningGraphSimulator } from '../../dev/graph-sim';
import { startLocalHost, type RunningLocalHost } from '../../dev/local-host/local-host';
import { functionDefinitions } from '../../functions/all';
import type { FunctionDefinition } from '../../functions/definition';
import type { QueueSettings } from '../../shared/host-json';
import { resetServices } from '../../shared/services';
import { eventually } from './eventually';
import { recordingLog } from './quiet-log';
import { secretSettings, signedHeaders, TEST_SECRETS } from './signing';

export const SYSTEM_SECRETS = {
  jira: TEST_SECRETS.jira,
  servicenow: TEST_SECRETS.servicenow,
  generic: TEST_SECRETS.generic,
  tapSealingKey: TEST_SECRETS.tapSealingKey,
  intakeMacKey: TEST_SECRETS.intakeMacKey,
};

export interface SystemOptions {
  graph?: GraphSimulatorOptions;
  settings?: Record<string, string>;
  queueSettings?: Partial<QueueSettings>;
  definitions?: readonly FunctionDefinition[];
  /** Run the timers too, at their own schedules (off by default: tests call the safety nets themselves). */
  timers?: boolean;
}

export interface RunningSystem {
  azurite: RunningAzurite;
  graph: RunningGraphSimulator;
  host: RunningLocalHost;
  log: ReturnType<typeof recordingLog>;
  /** POSTs a body to /api/resets[/source], signed as that source signs. */
  post(source: 'jira' | 'servicenow' | 'generic', body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: { id: string; status: string; statusUrl: string } }>;
  status(id: string): Promise<StatusBody>;
  /** Waits until the request reaches one of the statuses. */
  waitFor(id: string, statuses: string[], timeoutMs?: number): Promise<StatusBody>;
  restartHost(): Promise<void>;
  stop(): Promise<void>;
}

export interface StatusBody {
  id: string;
  status: string;
  statusReason?: string;
  result?: { status: string; methods?: { id: string; kind: string; outcome: string }[]; reason?: string; code?: string };
  audit?: { entries: { seq: number; action: string; outcome: string; graphRequestIds: string[] }[]; verified: boolean; problem?: string };
}

/**
 * The whole system in one process: a private Azurite, the Graph simulator and the local host serving
 * every function (timers off: tests call the sweeper themselves), with the environment pointed at them.
 */
export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const azurite = await startAzurite();
  const graph = await startGraphSimulator(options.graph);
  const settings: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    GRAPH_BASE_URL: graph.url,
    GRAPH_AUTH: 'none',
    ...secretSettings(),
    // Approval has tests of its own (REQUIRE_APPROVAL is on by default); these are about other things.
    REQUIRE_APPROVAL: 'false',
    JIRA_TARGET_FIELD: 'customfield_10050',
    SERVICENOW_TARGET_FIELD: 'u_target_upn',
    TENANT_DOMAINS: 'contoso.com',
    ...options.settings,
  };
  const previous = new Map(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);
  resetServices();

  const log = recordingLog();
  const startHost = () =>
    startLocalHost({
      definitions: options.definitions ?? functionDefinitions,
      port: 0,
      hostJsonPath: join(__dirname, '..', '..', 'host.json'),
      enable: { timers: options.timers ?? false },
      queueSettings: { visibilityTimeoutMs: 1000, maxPollingIntervalMs: 100, ...options.queueSettings },
      log,
    });
  let host = await startHost();

  const system: RunningSystem = {
    azurite,
    graph,
    get host() {
      return host;
    },
    log,
    async post(source, body, headers = {}) {
      const raw = JSON.stringify(body);
      const signature = signedHeaders(source, raw, { webhookId: headers['webhook-id'] });
      const path = source === 'generic' ? '/api/resets' : `/api/resets/${source}`;
      const response = await fetch(`${host.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signature, ...headers },
        body: raw,
      });
      return { status: response.status, body: (await response.json()) as { id: string; status: string; statusUrl: string } };
    },
    async status(id) {
      const response = await fetch(`${host.url}/api/resets/${id}`);
      if (response.status !== 200) throw new Error(`status ${id}: HTTP ${response.status}`);
      return (await response.json()) as StatusBody;
    },
    async waitFor(id, statuses, timeoutMs = 20_000) {
      return eventually(async () => {
        const body = await system.status(id);
        return statuses.includes(body.status) ? body : undefined;
      }, timeoutMs, 50);
    },
    async restartHost() {
      await host.stop();
      host = await startHost();
    },
    async stop() {
      await host.stop();
      await graph.stop();
      await azurite.stop();
      for (const [name, value] of previous) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      resetServices();
    },
  };
  return system;
}
