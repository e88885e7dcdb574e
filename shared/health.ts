import { isLoopbackUrl } from './config';
import type { Services } from './services';
import { appVersion } from './version';

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  storage: { reachable: boolean; where: string; error?: string };
  graph: {
    origin: string;
    kind: 'Microsoft Graph' | 'local simulator' | 'custom endpoint';
    auth: string;
    reachable: boolean;
    /** Why the probe failed: no answer, no token, or a refusal such as a missing permission. */
    error?: string;
  };
}

const PROBE_TIMEOUT_MS = 3000;
/** Anonymous health answers reuse one probe this long, so a flood of hits cannot spend the Graph budget. */
export const HEALTH_CACHE_MS = 30_000;

const cached = new WeakMap<Services, { at: number; report: Promise<HealthReport> }>();

/** The last probe if it is younger than `maxAgeMs`, else a new one (concurrent callers share it). */
export function cachedHealth(services: Services, maxAgeMs = HEALTH_CACHE_MS, now = Date.now()): Promise<HealthReport> {
  const last = cached.get(services);
  if (last && now - last.at < maxAgeMs) return last.report;
  const report = checkHealth(services);
  cached.set(services, { at: now, report });
  return report;
}

export async function checkHealth(services: Services): Promise<HealthReport> {
  const { settings, storage } = services;
  const storageProbe = await withTimeout(
    Promise.all([storage.tableService.getProperties(), storage.queueService.getProperties()]),
    PROBE_TIMEOUT_MS,
  ).then(
    () => ({ reachable: true, where: storage.description }),
    (error: unknown) => ({ reachable: false, where: storage.description, error: describeError(error) }),
  );

  const graphProbe = await probeGraph(services);
  const origin = settings.GRAPH_BASE_URL;
  const kind =
    new URL(origin).hostname === 'graph.microsoft.com'
      ? 'Microsoft Graph'
      : isLoopbackUrl(origin)
        ? 'local simulator'
        : 'custom endpoint';
  return {
    status: storageProbe.reachable && graphProbe.reachable ? 'ok' : 'degraded',
    version: appVersion,
    storage: storageProbe,
    graph: { origin, kind, auth: settings.GRAPH_AUTH === 'none' ? 'none (loopback only)' : 'DefaultAzureCredential', ...graphProbe },
  };
}

/**
 * One cheap read the app's Graph roles allow (User.Read.All): it proves the token, the permission and
 * the network at once, without touching anyone's methods.
 */
async function probeGraph(services: Services): Promise<{ reachable: boolean; error?: string }> {
  try {
    const response = await withTimeout(
      services.graph.send({ method: 'GET', version: 'v1.0', path: '/users?$top=1&$select=id' }),
      PROBE_TIMEOUT_MS,
    );
    if (response.status >= 200 && response.status < 300) return { reachable: true };
    const code = (response.body as { error?: { code?: unknown } } | undefined)?.error?.code;
    return { reachable: false, error: `HTTP ${response.status}${typeof code === 'string' ? ` ${code}` : ''}` };
  } catch (error) {
    return { reachable: false, error: describeError(error) };
  }
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
