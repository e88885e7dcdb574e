import type { StorageClients } from './clients';
import { QUEUES, TABLES } from './names';

/**
 * The storage calls the health probe makes: each a data operation the app's identity is allowed by the
 * data roles infra gives it (Storage Queue Data Contributor, Storage Table Data Contributor), named
 * with the operation and the RBAC action Azure Storage checks for it. Service-level calls (Get Queue
 * or Table Service Properties) need `queueServices/read` and `tableServices/read`, which those roles
 * do not grant: a probe made of them would answer 503 for good in Azure.
 * test/health/storage-permissions.test.ts records what the probe sends and holds it to this list.
 */
export const STORAGE_PROBES = [
  {
    call: `peek one message of queue ${QUEUES.resets}`,
    operation: 'Peek Messages',
    action: 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read',
  },
  {
    call: `read one entity of table ${TABLES.requests}`,
    operation: 'Query Entities',
    action: 'Microsoft.Storage/storageAccounts/tableServices/tables/entities/read',
  },
] as const;

/**
 * Whether storage answers the app's identity: one message peeked and one entity read, side by side. A
 * queue or table that does not exist yet (404) still answered, with these credentials: the app makes
 * both on first use. Anything else (no answer, 403) is a failure, and its reason is returned.
 */
export async function probeStorage(storage: StorageClients, signal?: AbortSignal): Promise<void> {
  const peek = storage
    .queue(QUEUES.resets)
    .peekMessages({ numberOfMessages: 1, abortSignal: signal })
    .catch(notFoundIsAnAnswer);
  const read = (async () => {
    const pages = storage
      .table(TABLES.requests)
      .listEntities({ queryOptions: { select: ['PartitionKey'] }, abortSignal: signal })
      .byPage({ maxPageSize: 1 });
    await pages.next();
  })().catch(notFoundIsAnAnswer);
  await Promise.all([peek, read]);
}

function notFoundIsAnAnswer(error: unknown): undefined {
  if ((error as { statusCode?: unknown } | undefined)?.statusCode === 404) return undefined;
  throw error;
}
