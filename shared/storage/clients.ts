import { TableClient } from '@azure/data-tables';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from '../config';

/**
 * Where the app's tables and queues live, built once from AzureWebJobsStorage or its identity-based
 * form. Only table and queue clients: the app's identity holds data roles, which allow no
 * service-level call (shared/storage/storage-probe.ts).
 */
export interface StorageClients {
  table(name: string): TableClient;
  queue(name: string): QueueClient;
  /** A line for banners and the health answer; never holds a key. */
  description: string;
}

/** Only the storage settings: audit:verify builds clients without the intake's keys. */
export type StorageSettings = Pick<
  Settings,
  | 'AzureWebJobsStorage'
  | 'AzureWebJobsStorage__accountName'
  | 'AzureWebJobsStorage__tableServiceUri'
  | 'AzureWebJobsStorage__queueServiceUri'
  | 'AzureWebJobsStorage__clientId'
  | 'AZURE_CLIENT_ID'
>;

export function createStorageClients(settings: StorageSettings): StorageClients {
  const connectionString = settings.AzureWebJobsStorage;
  if (connectionString) return fromConnectionString(connectionString);

  const account = settings.AzureWebJobsStorage__accountName;
  const tableUri = settings.AzureWebJobsStorage__tableServiceUri ?? `https://${account}.table.core.windows.net`;
  const queueUri = settings.AzureWebJobsStorage__queueServiceUri ?? `https://${account}.queue.core.windows.net`;
  const credential: TokenCredential = new DefaultAzureCredential({
    managedIdentityClientId: settings.AzureWebJobsStorage__clientId ?? settings.AZURE_CLIENT_ID,
  });
  const queueService = new QueueServiceClient(queueUri, credential);
  return {
    table: memoise((name) => new TableClient(tableUri, name, credential)),
    queue: memoise((name) => queueService.getQueueClient(name)),
    description: `${new URL(tableUri).host} (managed identity)`,
  };
}

function fromConnectionString(connectionString: string): StorageClients {
  // Azurite and other local emulators speak plain HTTP; the SDK refuses that unless told.
  const allowInsecureConnection = /DefaultEndpointsProtocol=http;|UseDevelopmentStorage=true|=http:\/\//i.test(
    connectionString,
  );
  const queueService = QueueServiceClient.fromConnectionString(connectionString);
  return {
    table: memoise((name) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection })),
    queue: memoise((name) => queueService.getQueueClient(name)),
    description: describeConnectionString(connectionString, queueService.url),
  };
}

function describeConnectionString(connectionString: string, queueUrl: string): string {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return 'local storage emulator (UseDevelopmentStorage=true)';
  const url = new URL(queueUrl);
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost'
    ? `local storage emulator at ${url.host}`
    : `${url.host} (connection string)`;
}

function memoise<T>(create: (name: string) => T): (name: string) => T {
  const made = new Map<string, T>();
  return (name) => {
    let client = made.get(name);
    if (!client) {
      client = create(name);
      made.set(name, client);
    }
    return client;
  };
}

/** Queue messages travel Base64-encoded, as the Functions queue extension expects by default. */
export function encodeQueueMessage(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
}
