import { z } from 'zod';
import { isRequestId } from '../requests/request-row';

/**
 * A message on queue mfa-resets: only the request id; the row is the source of truth. The id is
 * checked as an id before any storage call: anything else (`a/b#c?d`) would reach the table's URL and
 * come back as a storage error that looks like an outage.
 */
export const resetMessageSchema = z
  .object({ requestId: z.string().max(64).refine(isRequestId, 'is not a request id') })
  .strict();
export type ResetMessage = z.infer<typeof resetMessageSchema>;
