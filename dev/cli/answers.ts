import { z } from 'zod';

/**
 * The parts of the app's answers the CLI, the demo and the bench rely on, checked on arrival so that a
 * changed API fails with a message instead of printing `undefined`. Other fields pass through.
 */

export const healthAnswerSchema = z.object({ status: z.string() }).passthrough();

export const acceptedAnswerSchema = z.object({ id: z.string(), status: z.string(), statusUrl: z.string() }).passthrough();

const rowErrorSchema = z.object({ row: z.number(), userPrincipalName: z.string(), code: z.string().optional(), message: z.string().optional() }).passthrough();

export const bulkAcceptedAnswerSchema = acceptedAnswerSchema.extend({
  dryRun: z.boolean(),
  ratePerMinute: z.number(),
  totals: z.object({ rows: z.number(), valid: z.number(), invalid: z.number() }),
  errors: z.array(rowErrorSchema).default([]),
});

const bulkItemSchema = z
  .object({
    row: z.number(),
    userPrincipalName: z.string(),
    status: z.string(),
    requestId: z.string().optional(),
    statusUrl: z.string().optional(),
    error: z.object({ code: z.string(), message: z.string().optional() }).optional(),
    reason: z.string().optional(),
    finishedAt: z.string().optional(),
  })
  .passthrough();

export const jobAnswerSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    statusReason: z.string().optional(),
    dryRun: z.boolean(),
    ticket: z.object({ system: z.string(), id: z.string(), url: z.string().optional() }),
    requestedBy: z.string(),
    options: z.object({ profile: z.string(), revokeSessions: z.boolean(), ratePerMinute: z.number(), notBefore: z.string().optional() }).passthrough(),
    totals: z.object({ rows: z.number(), valid: z.number(), invalid: z.number(), released: z.number(), finished: z.number(), percent: z.number() }),
    counts: z.record(z.string(), z.number()),
    startedAt: z.string().optional(),
    completedAt: z.string().optional(),
    items: z.array(bulkItemSchema),
    page: z.object({ offset: z.number(), limit: z.number(), total: z.number().optional(), next: z.string().optional() }).passthrough(),
    exportUrl: z.string(),
  })
  .passthrough();

/** What the CLI shows of a verification (shared/verification/verification-view.ts). */
export const verificationAnswerSchema = z
  .object({
    status: z.string(),
    methods: z.array(z.string()),
    expiresAt: z.string(),
    failures: z.number(),
    link: z.string().optional(),
    manager: z.object({ userPrincipalName: z.string() }).passthrough().optional(),
    evidence: z.object({ method: z.string(), who: z.string(), score: z.number().optional() }).passthrough().optional(),
    passShownTo: z.string().optional(),
  })
  .passthrough();

export const resetAnswerSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    verification: verificationAnswerSchema.optional(),
    statusReason: z.string().nullish(),
    target: z.object({ userPrincipalName: z.string().optional(), objectId: z.string().optional() }),
    completedAt: z.string().optional(),
    result: z
      .object({
        methods: z.array(z.object({ id: z.string().optional(), kind: z.string(), detail: z.string(), outcome: z.string(), isDefault: z.boolean().optional() }).passthrough()).optional(),
        // A dry run's plan: deletions in the order they would run (wave 0 first), and the default method
        // Graph would keep because other methods stay.
        plan: z
          .object({
            deletions: z.array(z.object({ id: z.string(), wave: z.number() }).passthrough()).default([]),
            defaultBlocked: z.object({ methodIds: z.array(z.string()).default([]), detail: z.string(), staying: z.array(z.string()).default([]) }).passthrough().nullish(),
          })
          .passthrough()
          .nullish(),
        revoke: z.object({ outcome: z.string() }).passthrough().optional(),
        warnings: z.array(z.string()).optional(),
      })
      .passthrough()
      // A request refused before any Graph work answers result: null.
      .nullish(),
  })
  .passthrough();

export type JobAnswer = z.infer<typeof jobAnswerSchema>;
export type ResetAnswer = z.infer<typeof resetAnswerSchema>;
