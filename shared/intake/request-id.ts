import { createHash } from 'node:crypto';

/**
 * Request ids are deterministic: the same idempotency key always gives the same id, so a repeated
 * delivery finds the row of the first one. The id is a UUID (RFC 9562 version 8, "custom") built from
 * the first 128 bits of SHA-256 over a namespaced key; it reveals nothing of the key.
 *
 * Keys (all lower-cased where the source is case-insensitive):
 *   jira|delivery|<X-Atlassian-Webhook-Identifier>          a Jira admin webhook (same on its retries)
 *   jira|ticket|<ISSUE-KEY>|<target>                          Jira without that header (Automation)
 *   servicenow|ticket|<table>|<number>|<target>               ServiceNow
 *   generic|key|<Idempotency-Key header>                      canonical request with that header
 *   generic|ticket|<system>|<ticket id>|<target>              canonical request without it
 * where <target> is `upn:<upn>` or `oid:<object id>`.
 */
export function requestIdFor(idempotencyKey: string): string {
  const digest = createHash('sha256').update(`entra-mfa-reset/request/v1\n${idempotencyKey}`, 'utf8').digest();
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const idempotencyKeys = {
  jiraDelivery: (identifier: string) => `jira|delivery|${identifier}`,
  jiraTicket: (issueKey: string, target: string) => `jira|ticket|${issueKey.toUpperCase()}|${target}`,
  serviceNowTicket: (table: string, number: string, target: string) =>
    `servicenow|ticket|${table.toLowerCase()}|${number.toUpperCase()}|${target}`,
  genericKey: (key: string) => `generic|key|${key}`,
  genericTicket: (system: string, ticketId: string, target: string) => `generic|ticket|${system.toLowerCase()}|${ticketId}|${target}`,
};
