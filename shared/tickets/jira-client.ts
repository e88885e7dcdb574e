import { z } from 'zod';
import { adfText, type AdfDocument } from './note-format';
import { callTicketSystem, type CallOutcome, type FetchLike } from './ticket-http';

export interface JiraClientOptions {
  /** The site origin from JIRA_SITE_URL (never from a webhook body). */
  siteUrl: string;
  email: string;
  apiToken: string;
  timeoutMs?: number;
  fetch?: FetchLike;
}

const ISSUE_KEY = /^[A-Z][A-Z0-9_]*-[1-9][0-9]*$/;
/** The comment property that names which outbox event a comment is. */
export const MARKER_PROPERTY = 'entra-mfa-reset';

const issueSchema = z.object({ key: z.string().min(1), fields: z.object({ project: z.object({ key: z.string().min(1) }).passthrough() }).passthrough() }).passthrough();
const commentSchema = z.object({ id: z.string().min(1), created: z.string().optional() }).passthrough();
const commentsSchema = z
  .object({
    comments: z.array(
      z
        .object({
          id: z.string(),
          body: z.unknown().optional(),
          jsdPublic: z.boolean().optional(),
          properties: z.array(z.object({ key: z.string(), value: z.unknown() }).passthrough()).optional(),
        })
        .passthrough(),
    ),
  })
  .passthrough();

/**
 * Jira Cloud REST v3 comments. `POST /rest/api/3/issue/{key}/comment` with an ADF body and the
 * `sd.public.comment` property `{internal: true}`: without it a Jira Service Management customer sees
 * the note on the portal. A second property names the outbox event, so that a comment whose answer was
 * lost is found again (`GET .../comment?expand=properties`) instead of being posted twice.
 * Basic auth with the account's e-mail address and an API token.
 */
export class JiraClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: JiraClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  get origin(): string {
    return this.options.siteUrl;
  }

  addInternalComment(issueKey: string, body: AdfDocument, marker: string): Promise<CallOutcome<{ id: string }>> {
    return callTicketSystem({
      system: 'Jira',
      url: `${this.issueUrl(issueKey)}/comment`,
      method: 'POST',
      headers: this.headers(true),
      body: JSON.stringify({
        body,
        properties: [
          { key: 'sd.public.comment', value: { internal: true } },
          { key: MARKER_PROPERTY, value: { marker } },
        ],
      }),
      schema: commentSchema,
      timeoutMs: this.timeoutMs,
      fetch: this.options.fetch,
    });
  }

  /**
   * The issue as the site knows it (`GET /rest/api/3/issue/{key}?fields=project`): its key and its
   * project's key. A moved issue answers under its new key, so callers compare both.
   */
  async getIssue(issueKey: string): Promise<CallOutcome<{ key: string; projectKey: string }>> {
    const answer = await callTicketSystem({
      system: 'Jira',
      url: `${this.issueUrl(issueKey)}?fields=project`,
      method: 'GET',
      headers: this.headers(false),
      schema: issueSchema,
      timeoutMs: this.timeoutMs,
      fetch: this.options.fetch,
    });
    return answer.kind === 'ok' ? { ...answer, body: { key: answer.body.key, projectKey: answer.body.fields.project.key } } : answer;
  }

  /** The id of a comment carrying `marker`, among the issue's latest 100, or undefined. */
  async findComment(issueKey: string, marker: string): Promise<CallOutcome<string | undefined>> {
    const answer = await callTicketSystem({
      system: 'Jira',
      url: `${this.issueUrl(issueKey)}/comment?expand=properties&orderBy=-created&maxResults=100`,
      method: 'GET',
      headers: this.headers(false),
      schema: commentsSchema,
      timeoutMs: this.timeoutMs,
      fetch: this.options.fetch,
    });
    if (answer.kind !== 'ok') return answer;
    // The property first; the reference line of the body too, since the comments list documents only
    // renderedBody for expand and a site may leave the properties out. Only an internal comment counts
    // by its text: a customer writes public ones, and must not be able to silence the note by quoting it.
    const found = answer.body.comments.find(
      (comment) =>
        (comment.properties ?? []).some((property) => property.key === MARKER_PROPERTY && isMarker(property.value, marker)) ||
        (comment.jsdPublic === false && adfText(comment.body).split('\n').some((line) => line.trim() === `Ref: ${marker}`)),
    );
    return { kind: 'ok', status: answer.status, body: found?.id };
  }

  private issueUrl(issueKey: string): string {
    const key = issueKey.toUpperCase();
    if (!ISSUE_KEY.test(key)) throw new Error(`not a Jira issue key: ${issueKey.slice(0, 40)}`);
    return `${this.options.siteUrl}/rest/api/3/issue/${key}`;
  }

  private headers(withBody: boolean): Record<string, string> {
    const credentials = Buffer.from(`${this.options.email}:${this.options.apiToken}`, 'utf8').toString('base64');
    return { authorization: `Basic ${credentials}`, accept: 'application/json', ...(withBody ? { 'content-type': 'application/json' } : {}) };
  }
}

function isMarker(value: unknown, marker: string): boolean {
  return typeof value === 'object' && value !== null && (value as { marker?: unknown }).marker === marker;
}
