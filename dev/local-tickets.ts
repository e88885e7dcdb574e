import { randomBytes } from 'node:crypto';
import { startJiraSim, startServiceNowSim, type RunningJiraSim, type RunningServiceNowSim } from './ticket-sims';

export interface LocalTickets {
  servicenow: RunningServiceNowSim | undefined;
  jira: RunningJiraSim | undefined;
  /** Banner lines. */
  lines: string[];
  stop(): Promise<void>;
}

/** What npm start lets schedules write notes to on its ticket stand-ins, unless set. */
export const DEMO_JIRA_PROJECT_KEYS = 'SCHED';
export const DEMO_SERVICENOW_TABLES = 'change_request,incident';

/** The mailbox npm start sends reset notices from in the demo tenant. */
export const DEMO_NOTIFY_SENDER = 'it.notifications@contoso.com';

/**
 * `npm start`: a ServiceNow and a Jira stand-in for the notes the app writes back, each unless a real
 * instance is configured (SERVICENOW_INSTANCE_URL, JIRA_SITE_URL). Their credentials are made per run
 * and handed to the app through the environment. With the demo tenant, reset notices are mailed from
 * its notifications mailbox unless NOTIFY_SENDER_UPN is set.
 */
export async function startLocalTickets(env: NodeJS.ProcessEnv, options: { demoTenant: boolean }): Promise<LocalTickets> {
  let servicenow: RunningServiceNowSim | undefined;
  let jira: RunningJiraSim | undefined;
  const lines: string[] = [];
  if (!env.SERVICENOW_INSTANCE_URL) {
    const clientId = `local-${randomBytes(8).toString('hex')}`;
    const clientSecret = randomBytes(24).toString('base64url');
    servicenow = await startServiceNowSim({ oauth: { clientId, clientSecret }, acceptUnknownRecords: true });
    Object.assign(env, { SERVICENOW_INSTANCE_URL: servicenow.url, SERVICENOW_CLIENT_ID: clientId, SERVICENOW_CLIENT_SECRET: clientSecret });
    // Schedules may note their change or incident records on the stand-in (each record is looked up first).
    if (!env.SERVICENOW_TABLES) env.SERVICENOW_TABLES = DEMO_SERVICENOW_TABLES;
    lines.push(`  servicenow ${servicenow.url}   (local Table API stand-in: OAuth client credentials, work notes; schedules may note tables ${env.SERVICENOW_TABLES})`);
  } else {
    lines.push(`  servicenow ${env.SERVICENOW_INSTANCE_URL} (work notes)`);
  }
  if (!env.JIRA_SITE_URL) {
    const apiToken = randomBytes(24).toString('base64url');
    const email = 'mfa-reset-bot@contoso.com';
    jira = await startJiraSim({ account: { email, apiToken }, acceptUnknownIssues: true, transcript: true });
    Object.assign(env, { JIRA_SITE_URL: jira.url, JIRA_USER_EMAIL: email, JIRA_API_TOKEN: apiToken });
    // npm run demo:schedule tells a SCHED issue; other projects stay closed to schedules.
    if (!env.JIRA_PROJECT_KEYS) env.JIRA_PROJECT_KEYS = DEMO_JIRA_PROJECT_KEYS;
    lines.push(`  jira       ${jira.url}   (local Jira Cloud comment stand-in: internal comments; schedules may note projects ${env.JIRA_PROJECT_KEYS})`);
  } else {
    lines.push(`  jira       ${env.JIRA_SITE_URL} (internal comments)`);
  }
  if (options.demoTenant && !env.NOTIFY_SENDER_UPN) env.NOTIFY_SENDER_UPN = DEMO_NOTIFY_SENDER;
  if (env.NOTIFY_SENDER_UPN) lines.push(`  mail       from ${env.NOTIFY_SENDER_UPN} to the user and their manager after a reset`);
  return {
    servicenow,
    jira,
    lines,
    stop: async () => {
      await servicenow?.stop();
      await jira?.stop();
    },
  };
}
