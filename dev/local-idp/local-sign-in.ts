import type { SimDirectory } from '../graph-sim/directory';
import { DEMO_CONSOLE_APPROVER_GROUP_ID, DEMO_CONSOLE_OPERATOR_GROUP_ID, DEMO_CONSOLE_READER_GROUP_ID, DEMO_PASS_COLLECTOR_GROUP_ID } from '../graph-sim/demo-tenant';
import { startLocalIdp, type RunningLocalIdp } from './idp';

/**
 * `npm start`: unless CONSOLE_TENANT_ID points at a real tenant, the console's people sign in at the
 * local stand-in identity provider, for the simulator's users, and the console settings point at it.
 * Group settings already given are kept; otherwise the demo tenant's four console groups.
 */
export async function startLocalSignIn(env: NodeJS.ProcessEnv, directory: SimDirectory | undefined): Promise<RunningLocalIdp | undefined> {
  if (env.CONSOLE_TENANT_ID || env.CONSOLE_CLIENT_ID) return undefined;
  const idp = await startLocalIdp(directory ? { directory } : {});
  env.CONSOLE_TENANT_ID = idp.tenantId;
  env.CONSOLE_CLIENT_ID = idp.clientId;
  env.CONSOLE_AUTHORITY_HOST = idp.url;
  env.CONSOLE_READER_GROUP_ID ||= DEMO_CONSOLE_READER_GROUP_ID;
  env.PASS_COLLECTOR_GROUP_ID ||= DEMO_PASS_COLLECTOR_GROUP_ID;
  env.CONSOLE_OPERATOR_GROUP_ID ||= DEMO_CONSOLE_OPERATOR_GROUP_ID;
  env.CONSOLE_APPROVER_GROUP_ID ||= DEMO_CONSOLE_APPROVER_GROUP_ID;
  return idp;
}
