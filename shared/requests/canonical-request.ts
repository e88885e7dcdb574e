import { verificationPolicySchema, type VerificationPolicy } from '../verification/policy';
import { z } from 'zod';
import { METHOD_KINDS, RESET_PROFILES, type MethodKind, type ResetProfile } from '../method-names';

/**
 * The canonical reset request (DESIGN section 4). `POST /api/resets` takes it as is; the Jira and
 * ServiceNow adapters map their payloads onto it. Unknown fields are refused so that a typo
 * (`revokeSession`) is an error instead of a silently ignored option.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** C0 controls and DEL: a CR/LF in a ticket id or a name would forge log lines and notes. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_EXCEPT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL.test(value), 'must not contain control characters (such as line breaks or tabs)');

const TICKET_SHAPE = 'must be a ticket id such as "SR-1" or {"system": "servicenow", "id": "INC0012345", "url": "https://..."}';
const TARGET_SHAPE = 'must be an object: {"userPrincipalName": "adele.vance@contoso.com"} or {"objectId": "<the user\'s object id, a GUID>"}';

export const ticketSchema = z
  .object({
    /** Which ticket system the request comes from: `jira`, `servicenow`, or any other name. */
    system: text(64),
    id: text(128),
    url: z
      .string()
      .trim()
      .url('must be an absolute URL')
      .max(2048)
      .refine((value) => /^https?:\/\/[^\s]+$/i.test(value), 'must be an http(s) URL')
      .optional(),
  }, { invalid_type_error: TICKET_SHAPE, required_error: TICKET_SHAPE })
  .strict();

const ticketIdSchema = text(128);

/**
 * `ticket` as bulk jobs and schedules take it too: a plain id (system "manual") or the object. Chosen by
 * the value's type rather than as a union, so that the problems named are those of the form that was sent.
 */
export const ticketFieldSchema = z.unknown().transform((value, ctx): string | z.output<typeof ticketSchema> => {
  const parsed = typeof value === 'string' ? ticketIdSchema.safeParse(value) : ticketSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      for (const key of issue.keys) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [...issue.path, key], message: 'is not a known field' });
    } else ctx.addIssue({ code: z.ZodIssueCode.custom, path: issue.path, message: issue.message });
  }
  return z.NEVER;
});

export const targetSchema = z
  .object({
    userPrincipalName: z.string().trim().min(1, 'must not be empty').max(256, 'must be at most 256 characters').optional(),
    objectId: z.string().trim().regex(GUID, 'must be an object id (GUID)').optional(),
  }, { invalid_type_error: TARGET_SHAPE, required_error: TARGET_SHAPE })
  .strict()
  .superRefine((target, ctx) => {
    const given = [target.userPrincipalName, target.objectId].filter((value) => value !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'give exactly one of userPrincipalName or objectId' });
    }
  });

/** A requester given as a plain name (`"alice@contoso.com"`) or as `{ id?, name }`. */
export const requesterSchema = z.union([
  text(256),
  z.object({ id: text(256).optional(), name: text(256) }).strict(),
]);

export const temporaryAccessPassSchema = z
  .object({
    /** Graph accepts 10 to 43200 minutes. */
    lifetimeInMinutes: z.number().int().min(10).max(43200).optional(),
    isUsableOnce: z.boolean().optional(),
  })
  .strict();

export const canonicalRequestSchema = z
  .object({
    ticket: ticketFieldSchema,
    target: targetSchema,
    requestedBy: requesterSchema,
    approvedBy: text(256).optional(),
    reason: z
      .string()
      .trim()
      .max(2000, 'must be at most 2000 characters')
      .refine((value) => !CONTROL_EXCEPT_LINES.test(value), 'must not contain control characters other than line breaks and tabs')
      .optional(),
    profile: z.enum(RESET_PROFILES).default('portal'),
    methods: z
      .array(z.enum(METHOD_KINDS))
      .min(1, 'name at least one method, or leave methods out to use the profile')
      .max(METHOD_KINDS.length)
      .refine((methods) => new Set(methods).size === methods.length, 'must not repeat a method')
      .optional(),
    revokeSessions: z.boolean().default(true),
    temporaryAccessPass: temporaryAccessPassSchema.optional(),
    dryRun: z.boolean().default(false),
    /**
     * Where the outcome is posted (Standard Webhooks signed with CALLBACK_SIGNING_SECRET): https, on a
     * host in CALLBACK_ALLOWED_HOSTS (checked by the intake, and again before each post).
     */
    callbackUrl: z.string().trim().url('must be an absolute URL such as https://hooks.contoso.com/mfa-reset').max(2048, 'must be at most 2048 characters').optional(),
    /**
     * How the person must prove who they are before anything is removed: stricter than the service's
     * VERIFICATION_REQUIRED is honoured, looser is not (the service's setting then applies).
     */
    verification: verificationPolicySchema.optional(),
  })
  .strict();

export type CanonicalRequestInput = z.input<typeof canonicalRequestSchema>;
export type CanonicalRequest = z.output<typeof canonicalRequestSchema>;

export interface Requester {
  id?: string;
  name: string;
}

/** The request after defaults, with the requester in one shape; what the adapters produce. */
export interface NormalizedRequest {
  /** assignee: the ticket's assignee as an e-mail address, when the ticket system sent one (Jira, ServiceNow). */
  ticket: { system: string; id: string; url?: string; sysId?: string; table?: string; assignee?: string };
  target: { userPrincipalName: string; objectId?: undefined } | { objectId: string; userPrincipalName?: undefined };
  requestedBy: Requester;
  approvedBy?: string;
  reason?: string;
  profile: ResetProfile;
  methods?: MethodKind[];
  revokeSessions: boolean;
  temporaryAccessPass?: { lifetimeInMinutes?: number; isUsableOnce?: boolean };
  dryRun: boolean;
  /** Generic callers only: where the outcome is posted. */
  callbackUrl?: string;
  /** The verification the request asks for (shared/verification/policy.ts). */
  verification?: VerificationPolicy;
}

export function normalizeRequest(request: CanonicalRequest): NormalizedRequest {
  const target =
    request.target.objectId !== undefined
      ? { objectId: request.target.objectId.toLowerCase() }
      : { userPrincipalName: request.target.userPrincipalName! };
  const requestedBy = typeof request.requestedBy === 'string' ? { name: request.requestedBy } : request.requestedBy;
  return {
    ticket: typeof request.ticket === 'string' ? { system: 'manual', id: request.ticket } : request.ticket,
    target,
    requestedBy,
    approvedBy: request.approvedBy,
    reason: request.reason === '' ? undefined : request.reason,
    profile: request.profile,
    methods: request.methods,
    revokeSessions: request.revokeSessions,
    temporaryAccessPass: request.temporaryAccessPass,
    dryRun: request.dryRun,
    ...(request.callbackUrl !== undefined ? { callbackUrl: request.callbackUrl } : {}),
    ...(request.verification !== undefined ? { verification: request.verification } : {}),
  };
}

/** The target as one lower-case string, for idempotency keys and logs. */
export function targetKey(target: NormalizedRequest['target']): string {
  return target.objectId !== undefined ? `oid:${target.objectId.toLowerCase()}` : `upn:${target.userPrincipalName.toLowerCase()}`;
}
