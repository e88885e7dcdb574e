import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TableServiceClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorageClients } from '../../shared/storage/clients';
import { probeStorage, STORAGE_PROBES } from '../../shared/storage/storage-probe';
import { useAzurite } from '../support/azurite';
import { startFaultProxy, type FaultProxy } from '../faults/fault-proxy';

/**
 * The health probe's storage calls, held to what the app's identity may do in Azure. The identity has
 * data roles only (infra/modules/storage.bicep); a call outside them is refused there with 403, and
 * /api/health would answer 503 for good, which Azurite (shared-key access, no RBAC) never shows. So this
 * test records every request the probe sends, names the Azure Storage operation each is, and looks the
 * operation's RBAC action up in the roles, both copied below from Microsoft's documentation.
 */

/**
 * The storage data roles infra assigns, as Microsoft defines them.
 * Source: learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage (ms.date 07/01/2026),
 * read 2026-12-07: "Storage Blob Data Owner", "Storage Queue Data Contributor", "Storage Table Data Contributor".
 */
const ROLES: Record<string, { id: string; actions: string[]; dataActions: string[] }> = {
  'Storage Blob Data Owner': {
    id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/*', 'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action'],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
  },
  'Storage Queue Data Contributor': {
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
    actions: [
      'Microsoft.Storage/storageAccounts/queueServices/queues/delete',
      'Microsoft.Storage/storageAccounts/queueServices/queues/read',
      'Microsoft.Storage/storageAccounts/queueServices/queues/write',
    ],
    dataActions: [
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete',
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read',
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/write',
      'Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action',
    ],
  },
  'Storage Table Data Contributor': {
    id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
    actions: [
      'Microsoft.Storage/storageAccounts/tableServices/tables/read',
      'Microsoft.Storage/storageAccounts/tableServices/tables/write',
      'Microsoft.Storage/storageAccounts/tableServices/tables/delete',
    ],
    dataActions: [
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/read',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/write',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/delete',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/add/action',
      'Microsoft.Storage/storageAccounts/tableServices/tables/entities/update/action',
    ],
  },
};

/**
 * The RBAC action Azure Storage checks per operation.
 * Source: learn.microsoft.com/rest/api/storageservices/authorize-with-azure-active-directory,
 * "Permissions for calling data operations" (Queue and Table service tables), read 2026-12-07.
 */
const OPERATION_ACTIONS: Record<string, string> = {
  'Get Queue Service Properties': 'Microsoft.Storage/storageAccounts/queueServices/read',
  'List Queues': 'Microsoft.Storage/storageAccounts/queueServices/queues/read',
  'Create Queue': 'Microsoft.Storage/storageAccounts/queueServices/queues/write',
  'Get Queue Metadata': 'Microsoft.Storage/storageAccounts/queueServices/queues/read',
  'Put Message': 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/add/action',
  'Get Messages': 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action',
  'Peek Messages': 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read',
  'Get Table Service Properties': 'Microsoft.Storage/storageAccounts/tableServices/read',
  'Query Tables': 'Microsoft.Storage/storageAccounts/tableServices/tables/read',
  'Create Table': 'Microsoft.Storage/storageAccounts/tableServices/tables/write',
  'Query Entities': 'Microsoft.Storage/storageAccounts/tableServices/tables/entities/read',
};

/** Which Azure Storage operation an Azurite-style request is (account name first in the path). */
function operationOf(service: 'queue' | 'table', method: string, url: string): string {
  const parsed = new URL(url, 'http://storage');
  const [, ...rest] = parsed.pathname.split('/').filter(Boolean); // the first segment is the account
  const query = parsed.searchParams;
  if (rest.length === 0 && query.get('restype') === 'service' && query.get('comp') === 'properties') {
    return service === 'queue' ? 'Get Queue Service Properties' : 'Get Table Service Properties';
  }
  if (service === 'queue') {
    if (rest.length === 0 && query.get('comp') === 'list') return 'List Queues';
    if (rest.length === 1 && method === 'PUT') return 'Create Queue';
    if (rest.length === 1 && query.get('comp') === 'metadata') return 'Get Queue Metadata';
    if (rest.length === 2 && rest[1] === 'messages') {
      if (method === 'POST') return 'Put Message';
      if (method === 'GET') return query.get('peekonly') === 'true' ? 'Peek Messages' : 'Get Messages';
    }
  } else {
    if (rest.length === 1 && rest[0] === 'Tables') return method === 'POST' ? 'Create Table' : 'Query Tables';
    if (rest.length === 1 && method === 'GET' && /\(.*\)$/.test(decodeURIComponent(rest[0]!))) return 'Query Entities';
  }
  return `unclassified ${service} ${method} ${parsed.pathname}${parsed.search}`;
}

/** Whether one of the roles allows the action (an action may be granted by a wildcard). */
function granted(action: string): string | undefined {
  const matches = (pattern: string) => pattern === action || (pattern.endsWith('/*') && action.startsWith(pattern.slice(0, -1)));
  return Object.entries(ROLES).find(([, role]) => [...role.actions, ...role.dataActions].some(matches))?.[0];
}

const azurite = useAzurite();
let queueProxy: FaultProxy;
let tableProxy: FaultProxy;
let proxied: string;

beforeAll(async () => {
  queueProxy = await startFaultProxy(`http://127.0.0.1:${azurite.running.ports.queue}`);
  tableProxy = await startFaultProxy(`http://127.0.0.1:${azurite.running.ports.table}`);
  proxied = azurite.connectionString
    .replace(/QueueEndpoint=http:\/\/127\.0\.0\.1:\d+/, `QueueEndpoint=${queueProxy.url}`)
    .replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, `TableEndpoint=${tableProxy.url}`);
});
afterAll(async () => {
  await queueProxy?.stop();
  await tableProxy?.stop();
});

const recorded = () => [
  ...queueProxy.seen.map((request) => operationOf('queue', request.method, request.url)),
  ...tableProxy.seen.map((request) => operationOf('table', request.method, request.url)),
];

describe('the health probe, against the roles the app holds', () => {
  it('the role ids copied here are the ones infra assigns', () => {
    const bicep = readFileSync(join(__dirname, '..', '..', 'infra', 'modules', 'storage.bicep'), 'utf8');
    const assigned = [...bicep.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g)].map((match) => match[1]).sort();
    expect(assigned).toEqual(Object.values(ROLES).map((role) => role.id).sort());
  });

  it('each call the probe names is allowed by a role the app holds', () => {
    for (const probe of STORAGE_PROBES) {
      expect(OPERATION_ACTIONS[probe.operation], probe.call).toBe(probe.action);
      expect(granted(probe.action), `${probe.call}: ${probe.action}`).toBeDefined();
    }
  });

  it('sends exactly the calls it names, each mapped to the role action that allows it, and no service-properties call', async () => {
    const storage = createStorageClients({ AzureWebJobsStorage: proxied } as Parameters<typeof createStorageClients>[0]);
    // Once on a fresh account (queue and table not made yet: 404 still counts as storage answering) and once after.
    await probeStorage(storage);
    await storage.queue('mfa-resets').createIfNotExists();
    queueProxy.seen.length = 0;
    tableProxy.seen.length = 0;
    await probeStorage(storage);

    const operations = recorded();
    expect(operations.sort()).toEqual(STORAGE_PROBES.map((probe) => probe.operation).sort());
    for (const operation of operations) {
      const action = OPERATION_ACTIONS[operation];
      expect(action, operation).toBeDefined();
      expect(granted(action!), `${operation} needs ${action}`).toBeDefined();
    }
    expect(operations.filter((operation) => operation.includes('Service Properties'))).toEqual([]);
  });

  it('would catch a service-properties call: no role the app holds allows it', async () => {
    queueProxy.seen.length = 0;
    tableProxy.seen.length = 0;
    await TableServiceClient.fromConnectionString(proxied, { allowInsecureConnection: true }).getProperties();
    expect(recorded()).toEqual(['Get Table Service Properties']);
    expect(granted(OPERATION_ACTIONS['Get Table Service Properties']!)).toBeUndefined();
    expect(granted(OPERATION_ACTIONS['Get Queue Service Properties']!)).toBeUndefined();
  });
});
