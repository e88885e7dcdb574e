import { adfText } from '../../shared/tickets/note-format';
import { basicCredentials, parseJsonBody, startSim, type RunningSim } from './sim-http';

export interface SimComment {
  id: string;
  body: unknown;
  /** Plain text of the ADF body, for assertions. */
  text: string;
  /** What a Jira Service Management customer would see: false when `sd.public.comment` says internal. */
  jsdPublic: boolean;
  properties: { key: string; value: unknown }[];
  author: string;
  created: string;
}

export interface JiraSimOptions {
  port?: number;
  /** The account (e-mail) and API token basic auth accepts. */
  account: { email: string; apiToken: string };
  /** npm start: a comment on an issue nobody created makes it (a real site answers 404). */
  acceptUnknownIssues?: boolean;
  /**
   * npm start: `GET /_stand-in/issue/{key}/comments` answers the issue's comments as text, without
   * credentials, so that `npm run demo` can show the note (the per-run API token stays in npm start).
   * Not a Jira route; off in tests.
   */
  transcript?: boolean;
  /** Tests: answer the comments list without properties even when asked to expand them. */
  omitListProperties?: boolean;
}

export interface RunningJiraSim extends RunningSim {
  addIssue(key: string): void;
  comments(key: string): SimComment[];
  allComments(): (SimComment & { issue: string })[];
}

const ISSUE = /^\/rest\/api\/3\/issue\/([A-Z][A-Z0-9_]*-[1-9][0-9]*)\/comment$/;
const ISSUE_ITSELF = /^\/rest\/api\/3\/issue\/([A-Z][A-Z0-9_]*-[1-9][0-9]*)$/;
const TRANSCRIPT = /^\/_stand-in\/issue\/([A-Z][A-Z0-9_]*-[1-9][0-9]*)\/comments$/;

/**
 * A Jira Cloud REST v3 stand-in for issue comments: basic auth (e-mail + API token), `POST
 * /rest/api/3/issue/{key}/comment` with an ADF body and entity properties (201), `GET` of the
 * comments (properties only with `expand=properties`), and `GET /rest/api/3/issue/{key}` (its project). A body that is not an ADF document answers 400,
 * an unknown issue 404, missing or wrong credentials 401, as Jira does.
 */
export async function startJiraSim(options: JiraSimOptions): Promise<RunningJiraSim> {
  const issues = new Map<string, SimComment[]>();
  let nextId = 10000;
  const sim = await startSim(options.port ?? 0, (req) => {
    const transcript = options.transcript && req.method === 'GET' ? TRANSCRIPT.exec(req.url.pathname) : null;
    if (transcript) {
      const list = issues.get(transcript[1]!) ?? [];
      return { auth: 'none', answer: { status: 200, body: { comments: list.map((c) => ({ id: c.id, created: c.created, author: c.author, internal: !c.jsdPublic, text: c.text })) } } };
    }
    const match = ISSUE.exec(req.url.pathname);
    const credentials = basicCredentials(req.headers.authorization);
    const ok = !!credentials && credentials.user === options.account.email && credentials.password === options.account.apiToken;
    const auth = !credentials ? 'none' : ok ? 'basic' : 'wrong';
    if (!ok) return { auth, answer: { status: 401, body: 'Client must be authenticated to access this resource.' } };
    const itself = req.method === 'GET' ? ISSUE_ITSELF.exec(req.url.pathname) : null;
    if (itself) {
      // GET /rest/api/3/issue/{key}: the issue with the fields asked for (here: its project).
      const key = itself[1]!;
      if (!issues.has(key) && options.acceptUnknownIssues) issues.set(key, []);
      if (!issues.has(key)) return { auth, answer: { status: 404, body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} } } };
      return { auth, answer: { status: 200, body: { id: String(10000 + [...issues.keys()].indexOf(key)), key, self: `${sim.url}${req.url.pathname}`, fields: { project: { key: key.split('-')[0] } } } } };
    }
    if (!match) return { auth, answer: { status: 404, body: { errorMessages: ['Not found.'], errors: {} } } };
    const key = match[1]!;
    let comments = issues.get(key);
    if (!comments && options.acceptUnknownIssues && req.method === 'POST') {
      comments = [];
      issues.set(key, comments);
    }
    if (!comments) return { auth, answer: { status: 404, body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} } } };
    if (req.method === 'POST') {
      const body = parseJsonBody(req.body) as { body?: unknown; properties?: unknown } | undefined;
      const doc = body?.body as { type?: unknown; version?: unknown; content?: unknown } | undefined;
      if (!doc || doc.type !== 'doc' || doc.version !== 1 || !Array.isArray(doc.content)) {
        return { auth, answer: { status: 400, body: { errorMessages: [], errors: { comment: 'Comment body is not valid Atlassian Document Format.' } } } };
      }
      const properties = Array.isArray(body?.properties)
        ? (body.properties as unknown[]).filter((p): p is { key: string; value: unknown } => typeof p === 'object' && p !== null && typeof (p as { key?: unknown }).key === 'string')
        : [];
      const internal = properties.some((p) => p.key === 'sd.public.comment' && (p.value as { internal?: unknown } | null)?.internal === true);
      const comment: SimComment = { id: String(nextId++), body: doc, text: adfText(doc), jsdPublic: !internal, properties, author: credentials.user, created: new Date().toISOString() };
      comments.push(comment);
      return { auth, answer: { status: 201, body: { self: `${sim.url}${req.url.pathname}/${comment.id}`, id: comment.id, body: doc, created: comment.created, updated: comment.created, jsdPublic: comment.jsdPublic } } };
    }
    if (req.method === 'GET') {
      const expand = !options.omitListProperties && (req.url.searchParams.get('expand') ?? '').split(',').includes('properties');
      const newestFirst = req.url.searchParams.get('orderBy') === '-created';
      const max = Math.min(100, Number(req.url.searchParams.get('maxResults') ?? 50) || 50);
      const ordered = newestFirst ? [...comments].reverse() : comments;
      return {
        auth,
        answer: {
          status: 200,
          body: {
            startAt: 0,
            maxResults: max,
            total: comments.length,
            comments: ordered.slice(0, max).map((c) => ({ id: c.id, body: c.body, created: c.created, jsdPublic: c.jsdPublic, ...(expand ? { properties: c.properties } : {}) })),
          },
        },
      };
    }
    return { auth, answer: { status: 405, body: { errorMessages: ['Method not allowed'], errors: {} } } };
  });
  return {
    ...sim,
    addIssue: (key) => void (issues.has(key) || issues.set(key, [])),
    comments: (key) => issues.get(key) ?? [],
    allComments: () => [...issues.entries()].flatMap(([issue, list]) => list.map((c) => ({ ...c, issue }))),
  };
}
