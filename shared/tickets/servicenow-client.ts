import { z } from 'zod';
import { callTicketSystem, type CallOutcome, type FetchLike } from './ticket-http';

export type ServiceNowAuth =
  | { kind: 'oauth'; clientId: string; clientSecret: string }
  | { kind: 'basic'; username: string; password: string };

export interface ServiceNowClientOptions {
  /** The instance origin from SERVICENOW_INSTANCE_URL (never from a webhook body). */
  instanceUrl: string;
  auth: ServiceNowAuth;
  timeoutMs?: number;
  fetch?: FetchLike;
}

const TABLE = /^[a-z][a-z0-9_]{0,79}$/;
const SYS_ID = /^[0-9a-f]{32}$/;

// docs.servicenow.com, OAuth tokens: a JSON answer with access_token and expires_in (seconds).
const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.union([z.number(), z.string()]).optional(), token_type: z.string().optional() });
// Table API: `{result: {...record}}`; with sysparm_display_value=true journal fields come back as their text.
const recordSchema = z.object({ result: z.object({ sys_id: z.string().optional(), sys_updated_on: z.string().optional(), work_notes: z.string().optional() }).passthrough() });

/**
 * ServiceNow Table API: work notes on a task record (`PATCH /api/now/table/{table}/{sys_id}` with
 * `work_notes`, the internal journal the requester does not see), and a read of the record's work
 * notes to find one already posted. Auth: OAuth client credentials at `/oauth_token.do` (the token is
 * cached until shortly before it expires, and fetched again once on a 401) or basic auth.
 */
export class ServiceNowClient {
  private token: { value: string; expiresAt: number } | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: ServiceNowClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  get origin(): string {
    return this.options.instanceUrl;
  }

  /** Appends a work note; the answer names the record's sys_updated_on, kept as what was posted. */
  addWorkNote(table: string, sysId: string, text: string): Promise<CallOutcome<{ updatedOn: string | undefined }>> {
    return this.withAuth(async (authorization) => {
      const answer = await callTicketSystem({
        system: 'ServiceNow',
        url: `${this.recordUrl(table, sysId)}?sysparm_fields=sys_id,sys_updated_on&sysparm_input_display_value=false`,
        method: 'PATCH',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ work_notes: text }),
        schema: recordSchema,
        timeoutMs: this.timeoutMs,
        fetch: this.options.fetch,
      });
      return answer.kind === 'ok' ? { ...answer, body: { updatedOn: answer.body.result.sys_updated_on } } : answer;
    });
  }

  /** The record, if it exists (`GET /api/now/table/{table}/{sys_id}`): its sys_id and number. */
  getRecord(table: string, sysId: string): Promise<CallOutcome<{ sysId: string | undefined; number: string | undefined }>> {
    return this.withAuth(async (authorization) => {
      const answer = await callTicketSystem({
        system: 'ServiceNow',
        url: `${this.recordUrl(table, sysId)}?sysparm_fields=sys_id,number`,
        method: 'GET',
        headers: { authorization, accept: 'application/json' },
        schema: recordSchema,
        timeoutMs: this.timeoutMs,
        fetch: this.options.fetch,
      });
      if (answer.kind !== 'ok') return answer;
      const number = answer.body.result.number;
      return { ...answer, body: { sysId: answer.body.result.sys_id, number: typeof number === 'string' ? number : undefined } };
    });
  }

  /** Whether a work note holding `marker` is on the record already. */
  hasWorkNote(table: string, sysId: string, marker: string): Promise<CallOutcome<boolean>> {
    return this.withAuth(async (authorization) => {
      const answer = await callTicketSystem({
        system: 'ServiceNow',
        url: `${this.recordUrl(table, sysId)}?sysparm_fields=work_notes&sysparm_display_value=true`,
        method: 'GET',
        headers: { authorization, accept: 'application/json' },
        schema: recordSchema,
        timeoutMs: this.timeoutMs,
        fetch: this.options.fetch,
      });
      return answer.kind === 'ok' ? { ...answer, body: (answer.body.result.work_notes ?? '').includes(marker) } : answer;
    });
  }

  private recordUrl(table: string, sysId: string): string {
    // Both come from the intake-MAC'd row; checked again because they become part of a URL.
    if (!TABLE.test(table)) throw new Error(`not a ServiceNow table name: ${table.slice(0, 80)}`);
    if (!SYS_ID.test(sysId.toLowerCase())) throw new Error('not a ServiceNow sys_id');
    return `${this.options.instanceUrl}/api/now/table/${table}/${sysId.toLowerCase()}`;
  }

  private async withAuth<T>(call: (authorization: string) => Promise<CallOutcome<T>>): Promise<CallOutcome<T>> {
    const auth = this.options.auth;
    if (auth.kind === 'basic') {
      return call(`Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`);
    }
    const first = await this.bearer(false);
    if (first.kind !== 'ok') return first;
    const answer = await call(`Bearer ${first.body}`);
    // An expired or revoked token: one fresh token, then the answer stands.
    if (answer.kind !== 'refused' || answer.status !== 401) return answer;
    const fresh = await this.bearer(true);
    if (fresh.kind !== 'ok') return fresh;
    return call(`Bearer ${fresh.body}`);
  }

  private async bearer(renew: boolean): Promise<CallOutcome<string>> {
    const auth = this.options.auth;
    if (auth.kind !== 'oauth') throw new Error('not an OAuth client');
    if (!renew && this.token && this.token.expiresAt > Date.now()) return { kind: 'ok', status: 200, body: this.token.value };
    this.token = undefined;
    const answer = await callTicketSystem({
      system: 'ServiceNow OAuth (oauth_token.do)',
      url: `${this.options.instanceUrl}/oauth_token.do`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: auth.clientId, client_secret: auth.clientSecret }).toString(),
      schema: tokenSchema,
      timeoutMs: this.timeoutMs,
      fetch: this.options.fetch,
    });
    // A token request is safe to repeat: never "uncertain".
    if (answer.kind === 'retry') return { ...answer, uncertain: false };
    if (answer.kind === 'refused') return answer;
    const seconds = Number(answer.body.expires_in ?? 1800);
    this.token = { value: answer.body.access_token, expiresAt: Date.now() + Math.max(30, (Number.isFinite(seconds) ? seconds : 1800) - 60) * 1000 };
    return { kind: 'ok', status: answer.status, body: this.token.value };
  }
}
