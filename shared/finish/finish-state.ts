import { z } from 'zod';
import { METHOD_KINDS } from '../method-names';

/**
 * Finishing a partial reset from the console, kept on the partial request's row (property `finish`,
 * JSON, covered by the row's state MAC): what an operator asked for and, once a second person approved,
 * who and which linked request that made. Nothing here acts on its own: the linked request is a request
 * row of its own, MAC'd like any other, and only the approval creates it.
 */

const isoTime = z.string().datetime({ offset: true });

const personSchema = z.object({
  userPrincipalName: z.string().min(1).max(256),
  objectId: z.string().min(1).max(64),
  name: z.string().max(256).optional(),
});
export type FinishPerson = z.infer<typeof personSchema>;

export const finishStateSchema = z.object({
  version: z.literal(1),
  /** The linked request's method kinds: the partial request's own and those that kept the default. */
  methods: z.array(z.enum(METHOD_KINDS)).min(1),
  /** The kinds added, for people: "FIDO2 security key / passkey, email (self-service password reset)". */
  adds: z.array(z.enum(METHOD_KINDS)).min(1),
  /** The masked details of what stayed and kept the default, and of the default itself. */
  staying: z.array(z.string().max(300)).max(50),
  kept: z.string().max(300),
  askedBy: personSchema,
  askedAt: isoTime,
  approvedBy: personSchema.optional(),
  approvedAt: isoTime.optional(),
  /** The linked request the approval created. */
  requestId: z.string().optional(),
});
export type FinishState = z.infer<typeof finishStateSchema>;

/** The stored JSON, or undefined when the row has none or it does not parse (then nothing is offered to approve). */
export function parseFinish(json: string | undefined): FinishState | undefined {
  if (!json) return undefined;
  try {
    const parsed = finishStateSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
