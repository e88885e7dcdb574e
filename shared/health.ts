import { isLoopbackUrl } from './config';
import type { Services } from './services';
import { appVersion } from './version';

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  storage: { reachable: boolean; where: string; error?: string };
  graph: { origin: string; kind: 'Microsoft Graph' | 'local simulator' | 'custom endpoint'; auth: string };
}

const STORAGE_PROBE_TIMEOUT_MS = 3000;

export async function checkHealth(services: Services): Promise<HealthReport> {
  const { settings, storage } = services;
  const storageProbe = await withTimeout(
    Promise.all([storage.tableService.getProperties(), storage.queueService.getProperties()]),
    STORAGE_PROBE_TIMEOUT_MS,
  ).then(
    () => ({ reachable: true, where: storage.description }),
    (error: unknown) => ({ reachable: false, where: storage.description, error: describeError(error) }),
  );

  const origin = settings.GRAPH_BASE_URL;
  const kind =
    new URL(origin).hostname === 'graph.microsoft.com'
      ? 'Microsoft Graph'
      : isLoopbackUrl(origin)
        ? 'local simulator'
        : 'custom endpoint';
  return {
    status: storageProbe.reachable ? 'ok' : 'degraded',
    version: appVersion,
    storage: storageProbe,
    graph: { origin, kind, auth: settings.GRAPH_AUTH === 'none' ? 'none (loopback only)' : 'DefaultAzureCredential' },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}
