import { startJiraSim, startServiceNowSim, type RunningJiraSim, type RunningServiceNowSim } from '../../dev/ticket-sims';
import { startSystem, type RunningSystem, type StatusBody, type SystemOptions } from '../support/system';

export const SN_OAUTH = { clientId: 'mfa-reset-writeback', clientSecret: 'sn-client-secret-9f3c1e7a5b2d48f0a6c4e2b8' };
export const JIRA_ACCOUNT = { email: 'mfa-reset-bot@contoso.com', apiToken: 'jira-api-token-4d7a2c9e1f6b3a8d5c0e7f2a' };
export const NOTIFY_SENDER = 'it.notifications@contoso.com';

export interface TicketSystem {
  system: RunningSystem;
  sn: RunningServiceNowSim;
  jira: RunningJiraSim;
  stop(): Promise<void>;
}

/** The whole system with the ServiceNow and Jira stand-ins configured for write-back, mail on. */
export async function startTicketSystem(options: SystemOptions = {}): Promise<TicketSystem> {
  const sn = await startServiceNowSim({ oauth: SN_OAUTH });
  const jira = await startJiraSim({ account: JIRA_ACCOUNT, transcript: true });
  const system = await startSystem({
    ...options,
    settings: {
      SERVICENOW_INSTANCE_URL: sn.url,
      SERVICENOW_CLIENT_ID: SN_OAUTH.clientId,
      SERVICENOW_CLIENT_SECRET: SN_OAUTH.clientSecret,
      JIRA_SITE_URL: jira.url,
      JIRA_USER_EMAIL: JIRA_ACCOUNT.email,
      JIRA_API_TOKEN: JIRA_ACCOUNT.apiToken,
      NOTIFY_SENDER_UPN: NOTIFY_SENDER,
      FOLLOW_UP_INTERVAL_SECONDS: '1',
      FOLLOW_UP_HOURS: '1',
      RESET_COOLDOWN_MAX: '100',
      ...options.settings,
    },
  });
  return {
    system,
    sn,
    jira,
    stop: async () => {
      await system.stop();
      await sn.stop();
      await jira.stop();
    },
  };
}

export interface TicketEvent {
  state: string;
  channel: string;
  attempts: number;
  error?: string;
  remoteId?: string;
}

export type StatusWithTickets = StatusBody & {
  ticketUpdates: { events: Record<string, TicketEvent>; watch?: { ended?: string; checks: number } } | null;
};

export async function ticketStatus(system: RunningSystem, id: string): Promise<StatusWithTickets> {
  return (await system.status(id)) as StatusWithTickets;
}
