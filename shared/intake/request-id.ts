/**
 * Idempotency keys: what decides whether two deliveries are the same request. Every part comes from
 * signed content (DESIGN section 5): no unsigned header decides a request's identity. The request id is
 * an HMAC of the key under INTAKE_MAC_KEY (RequestIntegrity.requestId), so the same key always finds
 * the same row and nobody without the key can compute an id.
 *
 *   generic|delivery|<webhook-id>                                    Standard Webhooks (signed id)
 *   jira|event|<issue id>|<event>|<timestamp>|<target>               Jira admin webhook (kept on Jira's retries)
 *   jira|automation|<ISSUE-KEY>|<timestamp or ->|<target>            Jira Automation (token, opt-in)
 *   servicenow|delivery|<table>|<sys_id>|<timestamp>|<target>        ServiceNow Business Rule
 *   bulk|job|<job id>|upn:<upn>                                      one user of a bulk job
 *   console|finish|<partial request id>                              the console's finish of a partial request (shared/finish)
 * where <target> is `upn:<upn>` or `oid:<object id>`.
 *
 * Ticket lineage (`ticketLineage`) groups every delivery for one ticket from one source: a new delivery
 * for a ticket whose request is still running or finished answers with that request; one whose request
 * failed starts a new attempt linked to it. The target is not part of it: a ticket's approval covers the
 * one user it was given for, so a delivery naming another user on the same ticket is refused
 * (approval_target_changed), never taken as a new request.
 */
export const idempotencyKeys = {
  genericDelivery: (webhookId: string) => `generic|delivery|${webhookId}`,
  jiraEvent: (issueId: string, event: string, timestamp: number, target: string) => `jira|event|${issueId}|${event}|${timestamp}|${target}`,
  jiraAutomation: (issueKey: string, timestamp: number | undefined, target: string) =>
    `jira|automation|${issueKey.toUpperCase()}|${timestamp ?? '-'}|${target}`,
  serviceNowDelivery: (table: string, sysId: string, timestamp: number, target: string) =>
    `servicenow|delivery|${table.toLowerCase()}|${sysId.toLowerCase()}|${timestamp}|${target}`,
  /**
   * LOCAL_DEMO_MODE only: an unsigned generic request without a webhook-id. A dry run is a delivery of
   * its own: the real run for the same ticket after it is a new request, not a conflicting repeat.
   */
  demoTicket: (system: string, ticketId: string, target: string, dryRun = false) => `generic|demo|${system.toLowerCase()}|${ticketId}|${target}${dryRun ? '|dry-run' : ''}`,
};

export function ticketLineage(source: string, system: string, ticketId: string): string {
  return `${source}|${system.toLowerCase()}|${ticketId.toUpperCase()}`;
}
