import type { Settings } from '../config';
import type { Logger } from '../log';
import { appGraph } from '../pacing/app-graph';
import { requestStores } from '../request-stores';
import { ResetQueue } from '../requests/reset-queue';
import type { Services } from '../services';
import { QUEUES } from '../storage/names';
import { JiraClient } from './jira-client';
import { ticketHook, type TicketHook } from './open-outbox';
import type { TicketDependencies } from './process-ticket-update';
import { ServiceNowClient } from './servicenow-client';

interface Clients {
  queue: ResetQueue;
  servicenow: ServiceNowClient | undefined;
  jira: JiraClient | undefined;
}

const built = new WeakMap<Services, Clients>();

/** Built once per Services: the OAuth token cache of ServiceNow lives as long as the process. */
function clientsOf(services: Services): Clients {
  let made = built.get(services);
  if (!made) {
    made = {
      // The same {requestId} message as mfa-resets, on the outbox's own queue.
      queue: new ResetQueue(services.storage.queue(QUEUES.ticketUpdates)),
      servicenow: serviceNowClient(services.settings),
      jira: jiraClient(services.settings),
    };
    built.set(services, made);
  }
  return made;
}

export function serviceNowClient(settings: Settings): ServiceNowClient | undefined {
  const instanceUrl = settings.SERVICENOW_INSTANCE_URL;
  if (!instanceUrl) return undefined;
  if (settings.SERVICENOW_CLIENT_ID && settings.SERVICENOW_CLIENT_SECRET) {
    return new ServiceNowClient({ instanceUrl, auth: { kind: 'oauth', clientId: settings.SERVICENOW_CLIENT_ID, clientSecret: settings.SERVICENOW_CLIENT_SECRET } });
  }
  if (settings.SERVICENOW_USERNAME && settings.SERVICENOW_PASSWORD) {
    return new ServiceNowClient({ instanceUrl, auth: { kind: 'basic', username: settings.SERVICENOW_USERNAME, password: settings.SERVICENOW_PASSWORD } });
  }
  return undefined;
}

export function jiraClient(settings: Settings): JiraClient | undefined {
  if (!settings.JIRA_SITE_URL || !settings.JIRA_USER_EMAIL || !settings.JIRA_API_TOKEN) return undefined;
  return new JiraClient({ siteUrl: settings.JIRA_SITE_URL, email: settings.JIRA_USER_EMAIL, apiToken: settings.JIRA_API_TOKEN });
}

export function ticketDependencies(services: Services, log: Logger): TicketDependencies {
  const stores = requestStores(services);
  const clients = clientsOf(services);
  return {
    store: stores.store,
    audit: stores.audit,
    integrity: stores.integrity,
    queue: clients.queue,
    graph: appGraph(services),
    servicenow: clients.servicenow,
    jira: clients.jira,
    settings: services.settings,
    log,
  };
}

/** What the worker calls when a request ends (see shared/worker/process-reset.ts). */
export function ticketHookFor(services: Services, log: Logger): TicketHook {
  return ticketHook(services.settings, clientsOf(services).queue, log);
}
