import { verificationPolicySchema } from '../verification/policy';
import { z } from 'zod';
import { MAX_BULK_USERS } from '../bulk/bulk-request';
import { RESET_PROFILES } from '../method-names';
import { canonicalRequestSchema, requesterSchema, ticketSchema } from '../requests/canonical-request';

/** The bodies of `POST /api/schedules` and `PATCH /api/schedules/{id}`. */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** C0 controls and DEL: a line break in a schedule's name would forge lines of the note it posts. */
const CONTROL = /[\u0000-\u001f\u007f]/;
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL.test(value), 'must not contain control characters (such as line breaks or tabs)');

/**
 * The schedule's ticket: an id, or `{system, id, url?}` as a reset request names it, and for a
 * ServiceNow record also its `sysId` and `table`, which a work note needs (shared/tickets).
 */
export const scheduleTicketSchema = z.union([
  text(128),
  ticketSchema.extend({
    sysId: z.string().trim().regex(/^[0-9a-f]{32}$/i, 'must be a sys_id (32 hexadecimal characters)').transform((id) => id.toLowerCase()).optional(),
    table: z.string().trim().regex(/^[a-z][a-z0-9_]{0,79}$/, 'must be a table name like change_request').optional(),
  }).strict(),
]);

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
export const DEFAULT_MAX_USERS_PER_RUN = 100;

export const scheduleSourceSchema = z.union([
  z.object({ groupId: z.string().trim().regex(GUID, 'must be a group object id (GUID)').transform((id) => id.toLowerCase()) }).strict(),
  z.object({ riskyUsers: z.object({ minimumRiskLevel: z.enum(RISK_LEVELS) }).strict() }).strict(),
]);
export type ScheduleSource = z.output<typeof scheduleSourceSchema>;

/** Which methods each request of a run resets: the same field, with the same checks, as a reset request's. */
export const methodsSchema = canonicalRequestSchema.shape.methods;

const definitionFields = {
  name: text(128),
  /** Six-field NCRONTAB, seconds first; checked with cron.ts after parsing. */
  schedule: text(128),
  timeZone: text(64).default('UTC'),
  source: scheduleSourceSchema,
  profile: z.enum(RESET_PROFILES).default('portal'),
  methods: methodsSchema,
  revokeSessions: z.boolean().default(true),
  /** Only with a group source: each user whose reset completed leaves the group. */
  removeFromGroupAfterReset: z.boolean().default(false),
  requestedBy: requesterSchema,
  approvedBy: text(256).optional(),
  ticket: scheduleTicketSchema.optional(),
  enabled: z.boolean().default(true),
  dryRun: z.boolean().default(false),
  /** Verify each person before their reset (schedules verify nobody unless asked; shared/verification/policy.ts). */
  verification: verificationPolicySchema.optional(),
  /** A run that finds more users than this resets nobody (a group edited by mistake). */
  maxUsersPerRun: z.number().int().min(1).max(MAX_BULK_USERS).default(DEFAULT_MAX_USERS_PER_RUN),
};

export const createScheduleSchema = z
  .object({ ...definitionFields, timestamp: z.unknown().optional() })
  .strict()
  .superRefine((body, ctx) => {
    if (body.removeFromGroupAfterReset && !('groupId' in body.source)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['removeFromGroupAfterReset'], message: 'only a group source can remove users from its group' });
    }
  });
export type CreateSchedule = z.output<typeof createScheduleSchema>;

/**
 * A change of any field. Changing whom or what it resets (source, profile, methods, group removal, a
 * dry run made real) needs a fresh approval: `approvedBy` in the same PATCH (schedule-api.ts).
 */
export const patchScheduleSchema = z
  .object({
    name: definitionFields.name.optional(),
    source: scheduleSourceSchema.optional(),
    schedule: definitionFields.schedule.optional(),
    timeZone: text(64).optional(),
    profile: z.enum(RESET_PROFILES).optional(),
    /** `null` goes back to the profile. */
    methods: methodsSchema.unwrap().nullable().optional(),
    revokeSessions: z.boolean().optional(),
    removeFromGroupAfterReset: z.boolean().optional(),
    requestedBy: requesterSchema.optional(),
    approvedBy: text(256).optional(),
    ticket: scheduleTicketSchema.optional(),
    enabled: z.boolean().optional(),
    dryRun: z.boolean().optional(),
    verification: verificationPolicySchema.optional(),
    maxUsersPerRun: z.number().int().min(1).max(MAX_BULK_USERS).optional(),
    timestamp: z.unknown().optional(),
  })
  .strict();
export type PatchSchedule = z.output<typeof patchScheduleSchema>;

/** `POST /api/schedules/{id}/run` and `DELETE`: a signed body naming who asks. */
export const actionSchema = z.object({ requestedBy: requesterSchema.optional(), timestamp: z.unknown().optional() }).strict();
