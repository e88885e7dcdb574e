import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { startLocalHost, type RunningLocalHost } from '../../dev/local-host/local-host';
import { functionDefinitions } from '../../functions/all';
import { resetServices } from '../../shared/services';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { recordingLog } from '../support/quiet-log';
import { secretSettings, TEST_SECRETS } from '../support/signing';

export const SECRETS = { jira: TEST_SECRETS.jira, servicenow: TEST_SECRETS.servicenow, generic: TEST_SECRETS.generic };

/** Settings every intake test starts from; tests override single ones and call applySettings again. */
export function baseSettings(connectionString: string): Record<string, string> {
  return {
    AzureWebJobsStorage: connectionString,
    GRAPH_BASE_URL: 'http://127.0.0.1:4999',
    GRAPH_AUTH: 'none',
    ...secretSettings(),
    LOCAL_DEMO_MODE: 'false',
    JIRA_TARGET_FIELD: 'customfield_10050',
    SERVICENOW_TARGET_FIELD: 'u_target_upn',
    TENANT_DOMAINS: 'contoso.com,contoso.onmicrosoft.com',
    REQUIRE_APPROVAL: 'false',
  };
}

const MANAGED = [...Object.keys(baseSettings('')), 'WEBHOOK_SECRET_JIRA_AUTOMATION'];

export function applySettings(settings: Record<string, string>): void {
  for (const name of MANAGED) delete process.env[name];
  Object.assign(process.env, settings);
  resetServices();
}

export async function startIntakeHost(): Promise<RunningLocalHost & { log: ReturnType<typeof recordingLog> }> {
  const log = recordingLog();
  const host = await startLocalHost({
    definitions: functionDefinitions,
    port: 0,
    hostJsonPath: join(__dirname, '..', '..', 'host.json'),
    enable: { queues: false, timers: false },
    log,
  });
  return Object.assign(host, { log });
}

export function requestsTable(connectionString: string): TableClient {
  return TableClient.fromConnectionString(connectionString, TABLES.requests, { allowInsecureConnection: true });
}

export function resetsQueue(connectionString: string): QueueClient {
  return new QueueClient(connectionString, QUEUES.resets);
}

/** Every row of ResetRequests and every message on mfa-resets, decoded; empty when they do not exist yet. */
export async function stored(connectionString: string): Promise<{ rows: Record<string, unknown>[]; messages: unknown[] }> {
  const rows: Record<string, unknown>[] = [];
  try {
    for await (const row of requestsTable(connectionString).listEntities<Record<string, unknown>>()) rows.push(row);
  } catch (error) {
    if (!(error instanceof Error && /TableNotFound|404/.test(`${(error as { code?: string }).code ?? ''} ${(error as { statusCode?: number }).statusCode ?? ''}`))) throw error;
  }
  const messages: unknown[] = [];
  const queue = resetsQueue(connectionString);
  if (await queue.exists()) {
    const peeked = await queue.peekMessages({ numberOfMessages: 32 });
    for (const message of peeked.peekedMessageItems) {
      messages.push(JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')) as unknown);
    }
  }
  return { rows, messages };
}
