import { randomBytes } from 'node:crypto';
import { basicCredentials, parseJsonBody, startSim, type RunningSim, type SimAnswer } from './sim-http';

export interface JournalEntry {
  element: 'work_notes' | 'comments';
  value: string;
  created_on: string;
  created_by: string;
}

export interface ServiceNowSimOptions {
  port?: number;
  /** OAuth client (System OAuth > Application Registry) the client credentials grant accepts. */
  oauth?: { clientId: string; clientSecret: string; tokenSeconds?: number };
  /** Integration user for basic auth. */
  basic?: { username: string; password: string };
  /** npm start: a PATCH on a record nobody created makes it (a real instance answers 404). */
  acceptUnknownRecords?: boolean;
}

export interface RunningServiceNowSim extends RunningSim {
  /** A task record to write to: `table/sys_id`. */
  addRecord(table: string, sysId: string, number: string): void;
  /** The record's journal (work notes and comments), oldest first. */
  journal(table: string, sysId: string): JournalEntry[];
  /** Every journal entry on every record. */
  allNotes(): (JournalEntry & { table: string; sysId: string; number: string })[];
  /** Invalidates every token issued so far (as when it expires). */
  expireTokens(): void;
}

const SN_TIME = (date: Date) => date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
const notAuthenticated: SimAnswer = { status: 401, body: { error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' } };

/**
 * A ServiceNow Table API stand-in: `POST /oauth_token.do` (client credentials grant, form-encoded),
 * basic or bearer auth, `PATCH /api/now/table/{table}/{sys_id}` where `work_notes` appends to the
 * record's journal, and `GET` of a record (with `sysparm_display_value=true` the work notes read as
 * the journal's text, newest first, as the instance shows them). Unknown records answer 404.
 */
export async function startServiceNowSim(options: ServiceNowSimOptions = {}): Promise<RunningServiceNowSim> {
  const records = new Map<string, { number: string; journal: JournalEntry[]; updatedOn: string }>();
  const tokens = new Map<string, number>();
  const key = (table: string, sysId: string) => `${table}/${sysId.toLowerCase()}`;

  const authOf = (header: string | undefined): { ok: boolean; auth: string; user: string } => {
    const bearer = /^Bearer\s+(.+)$/i.exec(header ?? '');
    if (bearer) {
      const until = tokens.get(bearer[1]!);
      return until !== undefined && until > Date.now() ? { ok: true, auth: 'bearer', user: 'oauth.integration' } : { ok: false, auth: 'wrong', user: '' };
    }
    const basic = basicCredentials(header);
    if (basic) {
      const ok = !!options.basic && basic.user === options.basic.username && basic.password === options.basic.password;
      return { ok, auth: ok ? 'basic' : 'wrong', user: basic.user };
    }
    return { ok: false, auth: 'none', user: '' };
  };

  const sim = await startSim(options.port ?? 0, (req) => {
    if (req.url.pathname === '/oauth_token.do' && req.method === 'POST') {
      const form = new URLSearchParams(req.body);
      const client = options.oauth;
      if (form.get('grant_type') !== 'client_credentials' || !client || form.get('client_id') !== client.clientId || form.get('client_secret') !== client.clientSecret) {
        return { auth: 'wrong', answer: { status: 401, body: { error_description: 'access_denied', error: 'server_error' } } };
      }
      const token = randomBytes(24).toString('base64url');
      const seconds = client.tokenSeconds ?? 1799;
      tokens.set(token, Date.now() + seconds * 1000);
      return { auth: 'client-credentials', answer: { status: 200, body: { access_token: token, scope: 'useraccount', token_type: 'Bearer', expires_in: seconds } } };
    }
    const match = /^\/api\/now\/table\/([a-z0-9_]+)\/([0-9a-f]{32})$/.exec(req.url.pathname);
    if (!match) return { auth: 'none', answer: { status: 400, body: { error: { message: 'Invalid table or path', detail: req.url.pathname.slice(0, 100) }, status: 'failure' } } };
    const who = authOf(req.headers.authorization);
    if (!who.ok) return { auth: who.auth, answer: notAuthenticated };
    const [, table, sysId] = match as unknown as [string, string, string];
    let record = records.get(key(table, sysId));
    if (!record && options.acceptUnknownRecords && req.method === 'PATCH') {
      record = { number: `${table.toUpperCase()}-${sysId.slice(0, 6)}`, journal: [], updatedOn: SN_TIME(new Date()) };
      records.set(key(table, sysId), record);
    }
    if (!record) return { auth: who.auth, answer: { status: 404, body: { error: { message: 'No Record found', detail: 'Record doesn\'t exist or ACL restricts the record retrieval' }, status: 'failure' } } };
    if (req.method === 'PATCH' || req.method === 'PUT') {
      const body = parseJsonBody(req.body);
      if (typeof body !== 'object' || body === null) return { auth: who.auth, answer: { status: 400, body: { error: { message: 'Exception while reading request', detail: 'The payload is not valid JSON.' }, status: 'failure' } } };
      const now = new Date();
      for (const element of ['work_notes', 'comments'] as const) {
        const value = (body as Record<string, unknown>)[element];
        if (typeof value === 'string' && value.trim() !== '') record.journal.push({ element, value, created_on: SN_TIME(now), created_by: who.user });
      }
      record.updatedOn = SN_TIME(now);
      return { auth: who.auth, answer: { status: 200, body: { result: fields(req.url, { sys_id: sysId, number: record.number, sys_updated_on: record.updatedOn }) } } };
    }
    if (req.method === 'GET') {
      const display = req.url.searchParams.get('sysparm_display_value') === 'true';
      const notes = display
        ? [...record.journal]
            .filter((entry) => entry.element === 'work_notes')
            .reverse()
            .map((entry) => `${entry.created_on} - ${entry.created_by} (Work notes)\n${entry.value}\n\n`)
            .join('')
        : '';
      return { auth: who.auth, answer: { status: 200, body: { result: fields(req.url, { sys_id: sysId, number: record.number, sys_updated_on: record.updatedOn, work_notes: notes }) } } };
    }
    return { auth: who.auth, answer: { status: 405, body: { error: { message: 'Method not Supported', detail: req.method }, status: 'failure' } } };
  });

  return {
    ...sim,
    addRecord: (table, sysId, number) => void records.set(key(table, sysId), { number, journal: [], updatedOn: SN_TIME(new Date()) }),
    journal: (table, sysId) => records.get(key(table, sysId))?.journal ?? [],
    allNotes: () => [...records.entries()].flatMap(([id, record]) => record.journal.map((entry) => ({ ...entry, table: id.split('/')[0]!, sysId: id.split('/')[1]!, number: record.number }))),
    expireTokens: () => tokens.clear(),
  };
}

/** sysparm_fields: only the fields asked for (all when none are named). */
function fields(url: URL, record: Record<string, string>): Record<string, string> {
  const asked = url.searchParams.get('sysparm_fields');
  if (!asked) return record;
  return Object.fromEntries(asked.split(',').map((name) => name.trim()).filter((name) => name in record).map((name) => [name, record[name]!]));
}
