import { z } from 'zod';

/** A message on queue mfa-resets: only the request id; the row is the source of truth. */
export const resetMessageSchema = z.object({ requestId: z.string().min(1).max(64) }).strict();
export type ResetMessage = z.infer<typeof resetMessageSchema>;
