import { join } from 'node:path';
import { secretSettings, TEST_SECRETS } from '../support/signing';
import { functionDefinitions } from '../../functions/all';
import { startGraphSimulator, type GraphSimulatorOptions, type RunningGraphSimulator, type TenantFile } from '../../dev/graph-sim';
import { startLocalHost, type RunningLocalHost } from '../../dev/local-host/local-host';
import { bulkAcceptedAnswerSchema, jobAnswerSchema, type JobAnswer } from '../../dev/cli/answers';
import { expectAnswer, type ApiAnswer, type ApiTarget } from '../../dev/cli/client';
import { resetServices } from '../../shared/services';
import { recordingLog } from '../support/quiet-log';

export const SECRET = TEST_SECRETS.generic;
export const GROUP_ID = '3e1f0b6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b';
export const NESTED_GROUP_ID = '4f2a1c7b-2e3d-4f60-9b0c-1d2e3f4a5b6c';

export const upnOf = (index: number) => `bulk${String(index).padStart(4, '0')}@contoso.com`;

/**
 * A tenant of `count` ordinary users, each with a mobile phone and an Authenticator (the default):
 * three writes per reset in the portal profile (two deletions and the session revocation). Users
 * [groupFrom, groupFrom + groupSize) are in a group, the last fifth of those through a nested group.
 */
export function bulkTenant(count: number, options: { groupFrom?: number; groupSize?: number } = {}): TenantFile {
  const from = options.groupFrom ?? 0;
  const size = options.groupSize ?? 0;
  const nestedFrom = from + Math.floor(size * 0.8);
  return {
    tenantId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    displayName: 'Bulk test tenant',
    domains: ['contoso.com'],
    groups: [
      { id: GROUP_ID, displayName: 'Incident 42 users' },
      { id: NESTED_GROUP_ID, displayName: 'Incident 42 contractors', memberOf: ['Incident 42 users'] },
    ],
    users: Array.from({ length: count }, (_, index) => ({
      userPrincipalName: upnOf(index),
      displayName: `Bulk User ${index}`,
      groups: index >= from && index < from + size ? [index >= nestedFrom ? 'Incident 42 contractors' : 'Incident 42 users'] : [],
      defaultMethod: 'push' as const,
      methods: [
        { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555${String(index % 100000).padStart(5, '0')}` },
        { type: 'microsoftAuthenticator' as const, displayName: 'Phone', deviceTag: 'SoftwareTokenActivated' },
      ],
    })),
  };
}

export interface Pipeline {
  sim: RunningGraphSimulator;
  host: RunningLocalHost;
  /** The host's log lines and every invocation, by function, across restarts. */
  log: ReturnType<typeof recordingLog>;
  api: ApiTarget;
  /** Stops the local host (running invocations finish) and starts a new one on the same storage and Graph. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export function applyEnv(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) process.env[name] = value;
  resetServices();
}

/** The Graph simulator and the whole app (HTTP, queue workers, beats, the safety-net timer at its Azure schedule) on one Azurite. */
export async function startPipeline(connectionString: string, options: { tenant: TenantFile; sim?: Omit<GraphSimulatorOptions, 'tenant'>; env?: Record<string, string> }): Promise<Pipeline> {
  const sim = await startGraphSimulator({ tenant: options.tenant, ...options.sim });
  applyEnv({
    AzureWebJobsStorage: connectionString,
    GRAPH_BASE_URL: sim.url,
    GRAPH_AUTH: 'none',
    ...secretSettings(),
    // Approval has tests of its own (REQUIRE_APPROVAL is on by default); these are about other things.
    REQUIRE_APPROVAL: 'false',
    TENANT_DOMAINS: 'contoso.com',
    BULK_RATE_PER_MINUTE: '12000',
    GRAPH_WRITE_BUDGET_PER_SECOND: '2000',
    ...options.env,
  });
  const log = recordingLog();
  const start = () =>
    startLocalHost({
      definitions: functionDefinitions,
      port: 0,
      hostJsonPath: join(__dirname, '..', '..', 'host.json'),
      queueSettings: { visibilityTimeoutMs: 1000, maxPollingIntervalMs: 250, batchSize: 16, newBatchThreshold: 8 },
      log,
    });
  let host = await start();
  const pipeline: Pipeline = {
    sim,
    log,
    get host() {
      return host;
    },
    api: { url: host.url, secret: SECRET },
    async restart() {
      await host.stop();
      resetServices();
      host = await start();
      pipeline.api.url = host.url;
    },
    async stop() {
      await host.stop();
      await sim.stop();
    },
  };
  return pipeline;
}

/** DELETEs the simulator carried out, per user: how often each of their methods was removed. */
export function removalsByUser(sim: RunningGraphSimulator): Map<string, Map<string, number>> {
  const byUser = new Map<string, Map<string, number>>();
  for (const removal of sim.tenant.removals) {
    const methods = byUser.get(removal.userPrincipalName) ?? new Map<string, number>();
    methods.set(removal.methodId, (methods.get(removal.methodId) ?? 0) + 1);
    byUser.set(removal.userPrincipalName, methods);
  }
  return byUser;
}

/** A job submission's answer, checked. */
export const submittedJob = (answer: ApiAnswer) => expectAnswer(answer, bulkAcceptedAnswerSchema, 'a job submission');

/** A job status answer, checked. */
export const jobOf = (answer: ApiAnswer): JobAnswer => expectAnswer(answer, jobAnswerSchema, 'a job status');
