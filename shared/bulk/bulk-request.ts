import { parse as parseCsvText } from 'csv-parse';
import { z } from 'zod';
import { RESET_PROFILES } from '../method-names';
import { verificationPolicySchema } from '../verification/policy';
import { canonicalRequestSchema, requesterSchema, ticketSchema } from '../requests/canonical-request';
import { badRequest, IntakeRefusal } from '../http/answer';
import { schemaError } from '../intake/adapter';

/**
 * A bulk remediation job, as JSON (`users` or `groupId`) or as CSV with a `userPrincipalName` column
 * and the options as query parameters or `X-Bulk-*` headers. Both forms end in the same schema.
 */

export const MAX_BULK_USERS = 10_000;
/** 10,000 rows of long UPNs and a few more columns. */
export const MAX_BULK_BODY_BYTES = 2 * 1024 * 1024;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

export const bulkRequestSchema = z
  .object({
    /** A ticket id (`"CHG0031337"`) or `{system, id, url?}`. */
    ticket: z.union([text(128), ticketSchema]),
    requestedBy: requesterSchema,
    approvedBy: text(256).optional(),
    reason: z.string().trim().max(2000, 'must be at most 2000 characters').optional(),
    /** Each entry is checked on its own: a bad one is reported on its row, not fatal to the job. */
    users: z.array(z.string().max(1024, 'must be at most 1024 characters')).min(1, 'must name at least one user').max(MAX_BULK_USERS, `must name at most ${MAX_BULK_USERS} users`).optional(),
    groupId: z.string().trim().regex(GUID, 'must be a group object id (GUID)').optional(),
    profile: z.enum(RESET_PROFILES).default('portal'),
    /** Which methods to reset, exactly as in a single reset request (the profile when left out). */
    methods: canonicalRequestSchema.shape.methods,
    revokeSessions: z.boolean().default(true),
    dryRun: z.boolean().default(false),
    /** Verify each person before their reset (off for bulk jobs unless asked; shared/verification/policy.ts). */
    verification: verificationPolicySchema.optional(),
    /** Users released per minute; at most BULK_RATE_PER_MINUTE, which is also the default. */
    ratePerMinute: z.number().int().min(1, 'must be at least 1').max(100_000).optional(),
    /** No user is released before this time. */
    notBefore: z.string().datetime({ offset: true, message: 'must be an ISO-8601 time with an offset, like 2025-03-01T22:00:00Z' }).optional(),
    /** The number of users the job resets, stated by the caller: required above BULK_CONFIRM_ABOVE (bulk-consent.ts). */
    confirmUsers: z.number().int().min(1, 'must be at least 1').max(MAX_BULK_USERS, `must be at most ${MAX_BULK_USERS}`).optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    if ((request.users === undefined) === (request.groupId === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['users'], message: 'give exactly one of users or groupId' });
    }
  });

export type BulkRequest = z.output<typeof bulkRequestSchema>;

export interface ParsedBulk {
  request: BulkRequest;
  /** The users as listed, with their source row numbers (1-based; CSV rows count the header as row 1). */
  rows: { row: number; value: string }[];
  kind: 'users' | 'csv' | 'group';
}

export function parseBulkJson(body: Record<string, unknown>): ParsedBulk {
  const { timestamp: _signedTime, ...rest } = body;
  const parsed = bulkRequestSchema.safeParse(rest);
  if (!parsed.success) throw schemaError(parsed.error.issues);
  const request = parsed.data;
  return {
    request,
    rows: (request.users ?? []).map((value, index) => ({ row: index + 1, value })),
    kind: request.groupId ? 'group' : 'users',
  };
}

/** Options of a CSV job, by name; query parameters first, then `X-Bulk-<Name>` headers. */
export const CSV_OPTIONS = [
  'ticket',
  'ticketSystem',
  'ticketUrl',
  'requestedBy',
  'approvedBy',
  'reason',
  'profile',
  'revokeSessions',
  'dryRun',
  'verification',
  'ratePerMinute',
  'notBefore',
  'confirmUsers',
] as const;
export type CsvOption = (typeof CSV_OPTIONS)[number];

export function csvOptionHeader(name: CsvOption): string {
  return `x-bulk-${name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** The options a CSV request carries, read from its query string and headers. */
export function readCsvOptions(query: URLSearchParams, headers: { get(name: string): string | null | undefined }): Partial<Record<CsvOption, string>> {
  const options: Partial<Record<CsvOption, string>> = {};
  for (const name of CSV_OPTIONS) {
    const value = query.get(name) ?? headers.get(csvOptionHeader(name)) ?? undefined;
    if (value !== undefined && value !== null && value.trim() !== '') options[name] = value.trim();
  }
  return options;
}

/**
 * What the signature of a CSV job covers: its options (they travel outside the body) and the body.
 * `entra-mfa-reset/bulk-csv/v1`, a newline, the options sorted by name as `name=value` (values
 * percent-encoded) joined with `&`, a newline, then the CSV bytes.
 */
export function csvSigningPayload(options: Partial<Record<CsvOption, string>>, body: Uint8Array): Uint8Array {
  const canonical = Object.entries(options)
    .filter(([, value]) => value !== undefined && value !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${encodeURIComponent(value!)}`)
    .join('&');
  const head = Buffer.from(`entra-mfa-reset/bulk-csv/v1\n${canonical}\n`, 'utf8');
  return Buffer.concat([head, Buffer.from(body)]);
}

export async function parseBulkCsv(body: Uint8Array, options: Partial<Record<CsvOption, string>>): Promise<ParsedBulk> {
  const records = await readCsv(body);
  const header = records[0];
  if (!header) throw badRequest('the CSV is empty: it needs a header row with a userPrincipalName column', [{ path: '(csv)', message: 'is empty' }]);
  const column = header.findIndex((name) => name.trim().replace(/^\uFEFF/, '').toLowerCase() === 'userprincipalname');
  if (column < 0) {
    throw badRequest('the CSV has no userPrincipalName column in its header row', [
      { path: '(csv) row 1', message: `has columns ${header.map((name) => `"${name.slice(0, 40)}"`).join(', ') || 'none'}; one must be userPrincipalName` },
    ]);
  }
  const rows: { row: number; value: string }[] = [];
  records.slice(1).forEach((record, index) => {
    if (record.every((cell) => cell.trim() === '')) return; // blank lines
    rows.push({ row: index + 2, value: record[column] ?? '' });
  });
  if (rows.length > MAX_BULK_USERS) {
    throw badRequest(`the CSV has ${rows.length} rows; a job takes at most ${MAX_BULK_USERS}`, [{ path: '(csv)', message: `has more than ${MAX_BULK_USERS} rows` }]);
  }
  if (rows.length === 0) throw badRequest('the CSV lists no users', [{ path: '(csv)', message: 'has a header but no rows' }]);

  const candidate: Record<string, unknown> = {
    ticket: options.ticketSystem || options.ticketUrl ? { system: options.ticketSystem ?? 'bulk', id: options.ticket, ...(options.ticketUrl ? { url: options.ticketUrl } : {}) } : options.ticket,
    requestedBy: options.requestedBy,
    approvedBy: options.approvedBy,
    reason: options.reason,
    profile: options.profile,
    revokeSessions: booleanOption(options.revokeSessions, 'revokeSessions'),
    dryRun: booleanOption(options.dryRun, 'dryRun'),
    verification: options.verification,
    ratePerMinute: options.ratePerMinute === undefined ? undefined : Number(options.ratePerMinute),
    notBefore: options.notBefore,
    confirmUsers: options.confirmUsers === undefined ? undefined : wholeNumberOption(options.confirmUsers, 'confirmUsers'),
    users: rows.map((row) => row.value),
  };
  for (const key of Object.keys(candidate)) if (candidate[key] === undefined) delete candidate[key];
  const parsed = bulkRequestSchema.safeParse(candidate);
  if (!parsed.success) throw schemaError(parsed.error.issues.filter((issue) => issue.path[0] !== 'users' || issue.path.length === 1));
  return { request: parsed.data, rows, kind: 'csv' };
}

function booleanOption(value: string | undefined, name: string): boolean | string | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (['true', '1', 'yes'].includes(lower)) return true;
  if (['false', '0', 'no'].includes(lower)) return false;
  throw badRequest(`${name} must be true or false`, [{ path: name, message: 'must be true or false' }]);
}

/** A count given as text: digits only, so "500 users" or "5e2" is an error rather than a guess. */
function wholeNumberOption(value: string, name: string): number {
  if (!/^[0-9]{1,7}$/.test(value)) throw badRequest(`${name} must be a whole number`, [{ path: name, message: 'must be a whole number' }]);
  return Number(value);
}

function readCsv(body: Uint8Array): Promise<string[][]> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return Promise.reject(new IntakeRefusal(400, 'invalid_csv', 'the CSV is not valid UTF-8'));
  }
  return new Promise((resolve, reject) => {
    parseCsvText(
      text,
      { bom: true, relax_column_count: true, skip_empty_lines: true, trim: true, max_record_size: 64 * 1024 },
      (error, records: string[][] | undefined) => {
        if (error) reject(new IntakeRefusal(400, 'invalid_csv', `the CSV cannot be read: ${error.message.slice(0, 200)}`));
        else resolve(records ?? []);
      },
    );
  });
}
