import { DEMO_CONSOLE_APPROVER_GROUP_ID, DEMO_CONSOLE_OPERATOR_GROUP_ID, DEMO_CONSOLE_READER_GROUP_ID, DEMO_PASS_COLLECTOR_GROUP_ID, demoTenant, parseTenantFile, SimDirectory } from '../../dev/graph-sim';
import { startLocalIdp, type RunningLocalIdp } from '../../dev/local-idp';
import { startSystem, type RunningSystem, type SystemOptions } from '../support/system';

export const AGENT = 'grady.archie@contoso.com';
export const READER = 'johanna.lorenz@contoso.com';
export const OUTSIDER = 'pradeep.gupta@contoso.com';
/** Service desk lead: approves a finish an agent (AGENT, also an operator) asked for. */
export const APPROVER = 'delia.dennis@contoso.com';

export interface ConsoleSystem {
  system: RunningSystem;
  idp: RunningLocalIdp;
  /** GET or POST a console API path (below /api/console/api) with a bearer token, or none. */
  call(path: string, token?: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: unknown; text: string }>;
  stop(): Promise<void>;
}

/** The whole system with the console on, its people signing in at the local stand-in identity provider. */
export async function startConsoleSystem(options: SystemOptions = {}): Promise<ConsoleSystem> {
  const idp = await startLocalIdp({ directory: new SimDirectory(parseTenantFile(demoTenant)) });
  const system = await startSystem({
    ...options,
    settings: {
      CONSOLE_TENANT_ID: idp.tenantId,
      CONSOLE_CLIENT_ID: idp.clientId,
      CONSOLE_AUTHORITY_HOST: idp.url,
      CONSOLE_READER_GROUP_ID: DEMO_CONSOLE_READER_GROUP_ID,
      PASS_COLLECTOR_GROUP_ID: DEMO_PASS_COLLECTOR_GROUP_ID,
      CONSOLE_OPERATOR_GROUP_ID: DEMO_CONSOLE_OPERATOR_GROUP_ID,
      CONSOLE_APPROVER_GROUP_ID: DEMO_CONSOLE_APPROVER_GROUP_ID,
      ...options.settings,
    },
  });
  return {
    system,
    idp,
    async call(path, token, init = {}) {
      const headers = new Headers(init.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      const response = await fetch(`${system.host.url}/api/console/api${path}`, { ...init, headers });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = undefined;
      }
      return { status: response.status, headers: response.headers, body, text };
    },
    async stop() {
      await system.stop();
      await idp.stop();
    },
  };
}
