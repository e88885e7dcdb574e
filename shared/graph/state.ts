import { z } from 'zod';
import { METHOD_KINDS, RESET_PROFILES } from '../method-names';

/**
 * What a reset has done so far, written after every step so that a re-delivered queue message resumes
 * instead of repeating finished work. It is plain JSON and holds no secrets: phone numbers and emails
 * are masked, and the Temporary Access Pass is never part of it.
 */

const kindSchema = z.union([z.enum(METHOD_KINDS), z.literal('password'), z.literal('unknown')]);

export const targetSchema = z.object({
  objectId: z.string(),
  userPrincipalName: z.string(),
  displayName: z.string().optional(),
  userType: z.string().optional(),
  /**
   * Every other address the directory knows the user by (mail, otherMails, proxyAddresses' SMTP
   * addresses), lower-cased: an approver named by any of them is the user themselves.
   */
  aliases: z.array(z.string()).optional(),
});
export type ResolvedTarget = z.infer<typeof targetSchema>;

export const snapshotMethodSchema = z.object({
  id: z.string(),
  kind: kindSchema,
  odataType: z.string(),
  /** Masked description: "mobile +1 555*****12", "Pixel 8", "a***@contoso.com". */
  detail: z.string(),
  phoneType: z.enum(['mobile', 'alternateMobile', 'office']).optional(),
  /** Hardware OATH: the token's `device.status` (available, assigned, activated, failedActivation). */
  deviceStatus: z.string().optional(),
});
export type SnapshotMethod = z.infer<typeof snapshotMethodSchema>;

export const snapshotSchema = z.object({
  takenAt: z.string(),
  methods: z.array(snapshotMethodSchema),
  /** userPreferredMethodForSecondaryAuthentication, or why it could not be read. */
  defaultMethod: z.object({
    preference: z.string().optional(),
    source: z.enum(['signInPreferences', 'unavailable']),
    note: z.string().optional(),
  }),
  /**
   * Hardware OATH tokens live in a beta-only collection with its own permission. `unavailable`: the
   * read was refused, so tokens may exist that the snapshot does not show; `not-read`: out of scope.
   */
  hardwareOath: z
    .object({ source: z.enum(['listed', 'unavailable', 'not-read']), note: z.string().optional() })
    .default({ source: 'not-read' }),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export const plannedDeletionSchema = z.object({
  id: z.string(),
  kind: z.enum(METHOD_KINDS),
  collection: z.string(),
  version: z.enum(['v1.0', 'beta']),
  /** `deactivate`: hardware OATH tokens are deactivated and stay assigned, as the admin center does. */
  action: z.enum(['delete', 'deactivate']).default('delete'),
  detail: z.string(),
  /** Deletions in the same wave may run at once; waves run in order. */
  wave: z.number().int(),
  isDefault: z.boolean(),
  why: z.string(),
});
export type PlannedDeletion = z.infer<typeof plannedDeletionSchema>;

export const keptMethodSchema = z.object({
  id: z.string(),
  kind: kindSchema,
  detail: z.string(),
  why: z.string(),
});

export const planSchema = z.object({
  profile: z.enum(RESET_PROFILES),
  methods: z.array(z.enum(METHOD_KINDS)).optional(),
  deletions: z.array(plannedDeletionSchema),
  kept: z.array(keptMethodSchema),
  /** Listed methods of types this engine does not know; reported, never silently dropped. */
  unknownTypes: z.array(z.string()),
  /**
   * Graph deletes the default method only when it is the last one. When methods stay after the reset,
   * the default is first moved (beta PATCH signInPreferences) to a method that stays and can be a
   * default; or, with both mobile phones going and the alternate the default, to the mobile so that
   * the alternate may go first.
   */
  defaultChange: z.object({ from: z.string(), to: z.string(), methodId: z.string(), detail: z.string(), why: z.string() }).optional(),
  /** The default cannot be moved to a method that stays: Graph will refuse to delete it while these stay. */
  defaultBlocked: z.object({ methodIds: z.array(z.string()), detail: z.string(), staying: z.array(z.string()) }).optional(),
});
export type Plan = z.infer<typeof planSchema>;

export const deletionProgressSchema = z.object({
  outcome: z.enum(['pending', 'deleted', 'deactivated', 'already-gone', 'failed', 'deferred']),
  attempts: z.number().int(),
  requestIds: z.array(z.string()),
  error: z.string().optional(),
});
export type DeletionProgress = z.infer<typeof deletionProgressSchema>;

export const stepEventSchema = z.object({
  step: z.enum(['resolve', 'guards', 'snapshot', 'policy', 'plan', 'defaultMethod', 'delete', 'verify', 'revoke', 'temporaryAccessPass']),
  at: z.string(),
  outcome: z.string(),
  methodId: z.string().optional(),
  requestId: z.string().optional(),
  detail: z.string().optional(),
});
export type StepEvent = z.infer<typeof stepEventSchema>;

export const resetStateSchema = z.object({
  version: z.literal(1),
  startedAt: z.string(),
  updatedAt: z.string(),
  target: targetSchema.optional(),
  guards: z
    .object({
      outcome: z.enum(['passed', 'rejected']),
      reason: z.string().optional(),
      code: z.string().optional(),
      /** The user is in a VERIFICATION_STRICT_GROUP_IDS group: only a Verified ID presentation verifies them. */
      strictVerification: z.boolean().optional(),
    })
    .optional(),
  snapshot: snapshotSchema.optional(),
  plan: planSchema.optional(),
  /** The tenant's Temporary Access Pass policy as read before anything changed (only when a pass is asked for). */
  tapPolicy: z
    .object({
      source: z.enum(['policy', 'unavailable']),
      state: z.string().optional(),
      minimumLifetimeInMinutes: z.number().optional(),
      maximumLifetimeInMinutes: z.number().optional(),
      defaultLifetimeInMinutes: z.number().optional(),
      isUsableOnce: z.boolean().optional(),
      /** Who may use a pass: `all_users`, group or user ids (lower case), as Graph lists them. */
      includeTargets: z.array(z.object({ id: z.string(), targetType: z.string() })).optional(),
      excludeTargets: z.array(z.object({ id: z.string(), targetType: z.string() })).optional(),
      note: z.string().optional(),
    })
    .optional(),
  /** The PATCH that moved the default method, when the plan needed one. */
  defaultChange: z
    .object({ outcome: z.enum(['done', 'failed']), at: z.string(), to: z.string(), requestId: z.string().optional(), error: z.string().optional() })
    .optional(),
  deletions: z.record(z.string(), deletionProgressSchema).default({}),
  /** Delete passes run: the plan's, then at most one more for what verification still found. */
  passes: z.number().int().default(0),
  verify: z
    .object({ at: z.string(), remaining: z.array(z.string()), pass: z.number().int() })
    .optional(),
  revoke: z
    .object({ outcome: z.enum(['done', 'failed']), at: z.string(), requestId: z.string().optional(), error: z.string().optional(), transient: z.boolean().optional() })
    .optional(),
  temporaryAccessPass: z
    .object({
      /** `unknown`: the create call got no answer; the pass may exist but its secret is lost. Never re-created blindly. */
      outcome: z.enum(['created', 'failed', 'unknown']),
      at: z.string(),
      methodId: z.string().optional(),
      requestId: z.string().optional(),
      lifetimeInMinutes: z.number().optional(),
      isUsableOnce: z.boolean().optional(),
      startDateTime: z.string().optional(),
      error: z.string().optional(),
      transient: z.boolean().optional(),
      /** What the tenant's policy changed in the request (lifetime clamped, one-time use forced). */
      adjusted: z.string().optional(),
    })
    .optional(),
  events: z.array(stepEventSchema).default([]),
});
export type ResetState = z.infer<typeof resetStateSchema>;

export function newState(now: Date): ResetState {
  const at = now.toISOString();
  return { version: 1, startedAt: at, updatedAt: at, deletions: {}, passes: 0, events: [] };
}
