import { isLoopbackUrl } from './config';
import { graphCloudOf } from './graph-clouds';
import { assessRoles } from './graph/permission-needs';
import type { Services } from './services';
import { probeStorage } from './storage/storage-probe';
import { appVersion } from './version';

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  storage: { reachable: boolean; where: string; error?: string };
  graph: {
    origin: string;
    kind: 'Microsoft Graph' | 'local simulator' | 'custom endpoint';
    /** Which Microsoft cloud, for Microsoft Graph: global, US Government L4 or L5, China. */
    cloud?: string;
    auth: string;
    reachable: boolean;
    /** Why the probe failed: no answer, no token, or a refusal such as a missing permission. */
    error?: string;
    /** Application permissions whose probe read Graph refused. */
    missingPermissions?: string[];
    /** True but not a fault: what profile "all" would lack, how Mail.Send stands. Never makes the status degraded. */
    notes?: string[];
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
  // Data operations the app's storage roles allow (shared/storage/storage-probe.ts), not service properties.
  const storageProbe = await withTimeout(probeStorage(storage, AbortSignal.timeout(PROBE_TIMEOUT_MS)), PROBE_TIMEOUT_MS).then(
    () => ({ reachable: true, where: storage.description }),
    (error: unknown) => ({ reachable: false, where: storage.description, error: describeError(error) }),
  );

  const graphProbe = await probeGraph(services);
  const origin = settings.GRAPH_BASE_URL;
  const cloud = graphCloudOf(origin);
  const kind =
    cloud !== undefined
      ? 'Microsoft Graph'
      : isLoopbackUrl(origin)
        ? 'local simulator'
        : 'custom endpoint';
  return {
    status: storageProbe.reachable && graphProbe.reachable ? 'ok' : 'degraded',
    version: appVersion,
    storage: storageProbe,
    graph: { origin, kind, ...(cloud ? { cloud: cloud.name } : {}), auth: settings.GRAPH_AUTH === 'none' ? 'none (loopback only)' : 'DefaultAzureCredential', ...graphProbe },
  };
}

/**
 * One cheap read per permission family the reset needs, side by side: a refusal names the missing
 * application permission instead of a bare 403 (Graph's own refusal never names it). Reads only:
 * nobody's methods change. Write permissions no read can prove, so where the app has a token
 * (GRAPH_AUTH=default) its `roles` claim is checked against every need as well.
 */
const PERMISSION_PROBES = [
  { permission: 'User.Read.All', path: () => '/users?$top=1&$select=id' },
  { permission: 'UserAuthenticationMethod.ReadWrite.All (or .Read.All)', path: (userId: string) => `/users/${userId}/authentication/methods` },
  { permission: 'RoleManagement.Read.Directory', path: () => '/roleManagement/directory/roleAssignments?$top=1' },
  { permission: 'GroupMember.Read.All', path: (userId: string) => `/users/${userId}/transitiveMemberOf?$top=1` },
  { permission: 'Policy.Read.AuthenticationMethod', path: () => '/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass' },
  { permission: 'Application.Read.All', path: () => '/servicePrincipals?$top=1&$select=id' },
  { permission: 'AdministrativeUnit.Read.All', path: () => '/directory/administrativeUnits?$top=1&$select=id' },
] as const;

type GraphProbe = { reachable: boolean; error?: string; missingPermissions?: string[]; notes?: string[] };

async function probeGraph(services: Services): Promise<GraphProbe> {
  const [reads, roles] = await Promise.all([probeReads(services), probeRoles(services)]);
  const missing = [...new Set([...(reads.missingPermissions ?? []), ...(roles.missing ?? [])])];
  const errors = [reads.error, roles.error].filter((e): e is string => e !== undefined);
  const notes = roles.notes?.length ? { notes: roles.notes } : {};
  if (reads.reachable && missing.length === 0 && errors.length === 0) return { reachable: true, ...notes };
  return { reachable: false, ...(missing.length ? { missingPermissions: missing } : {}), ...(errors.length ? { error: errors.join('; ') } : {}), ...notes };
}

/** The token's app roles against every need; nothing to say without a token (the simulator). */
async function probeRoles(services: Services): Promise<{ missing?: string[]; error?: string; notes?: string[] }> {
  if (!services.graph.appRoles) return {};
  let roles: string[];
  try {
    roles = await withTimeout(services.graph.appRoles(), PROBE_TIMEOUT_MS);
  } catch (error) {
    return { error: `no Graph token: ${describeError(error)}` };
  }
  const { missing, notes } = assessRoles(roles, { notifySender: services.settings.NOTIFY_SENDER_UPN });
  if (missing.length === 0) return notes.length ? { notes } : {};
  return {
    missing: missing.map((m) => m.grant),
    error: `the app's token lacks ${missing.map((m) => `${m.grant} (${m.for})`).join(', ')}: grant them (infra/scripts/grant-graph-permissions.sh)`,
    ...(notes.length ? { notes } : {}),
  };
}

async function probeReads(services: Services): Promise<GraphProbe> {
  const get = (path: string) => withTimeout(services.graph.send({ method: 'GET', version: 'v1.0', path }), PROBE_TIMEOUT_MS);
  const explain = (response: { status: number; body: unknown }) => {
    const code = (response.body as { error?: { code?: unknown } } | undefined)?.error?.code;
    return `HTTP ${response.status}${typeof code === 'string' ? ` ${code}` : ''}`;
  };
  const refused = (status: number) => status === 401 || status === 403;
  try {
    const first = await get(PERMISSION_PROBES[0].path());
    if (first.status < 200 || first.status > 299) {
      const permission = PERMISSION_PROBES[0].permission;
      return refused(first.status)
        ? { reachable: false, missingPermissions: [permission], error: `Graph refused reads that need ${permission} (${explain(first)}): grant it (infra/scripts/grant-graph-permissions.sh)` }
        : { reachable: false, error: explain(first) };
    }
    const userId = (first.body as { value?: { id?: unknown }[] } | undefined)?.value?.[0]?.id;
    if (typeof userId !== 'string') return { reachable: true };
    const answers = await Promise.all(PERMISSION_PROBES.slice(1).map(async (probe) => ({ probe, response: await get(probe.path(encodeURIComponent(userId))) })));
    const missing = answers.filter((a) => refused(a.response.status)).map((a) => a.probe.permission);
    const failing = answers.filter((a) => a.response.status >= 500).map((a) => `${a.probe.permission}: ${explain(a.response)}`);
    if (missing.length === 0 && failing.length === 0) return { reachable: true };
    return {
      reachable: false,
      ...(missing.length ? { missingPermissions: missing } : {}),
      error: [missing.length ? `Graph refused reads that need ${missing.join(', ')}: grant them (infra/scripts/grant-graph-permissions.sh)` : '', ...failing].filter(Boolean).join('; '),
    };
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
