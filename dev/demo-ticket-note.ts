import { z } from 'zod';

const statusSchema = z.object({
  ticket: z.object({ system: z.string(), id: z.string() }).passthrough(),
  ticketUpdates: z
    .object({ events: z.record(z.object({ state: z.string(), channel: z.string(), attempts: z.number(), remoteId: z.string().optional(), error: z.string().optional() }).passthrough()) })
    .passthrough()
    .nullable()
    .optional(),
});

/**
 * `npm run demo`, after the reset: waits for the outbox to post the outcome note (and the mails) and
 * prints where each went, from GET /api/resets/{id} (no key is needed under npm start).
 */
export async function followTicketNote(url: string, requestId: string, out: (text: string) => void, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/api/resets/${requestId}`).catch(() => undefined);
    const parsed = response?.ok ? statusSchema.safeParse(await response.json()) : undefined;
    const events = parsed?.success ? parsed.data.ticketUpdates?.events : undefined;
    const open = events ? Object.values(events).some((event) => ['pending', 'posting', 'retrying'].includes(event.state)) : true;
    if (parsed?.success && (!events || !open)) {
      if (!events) {
        out(`no note: ${parsed.data.ticket.system} is not a ticket system this app writes to (SERVICENOW_INSTANCE_URL, JIRA_SITE_URL)\n`);
        return;
      }
      for (const [name, event] of Object.entries(events)) {
        out(`${name.padEnd(13)} ${event.state} via ${event.channel}${event.remoteId ? ` (${event.remoteId})` : ''}${event.error ? `: ${event.error}` : ''}\n`);
      }
      return;
    }
    if (Date.now() > deadline) {
      out('the note has not been posted yet; GET /api/resets/<id> shows its progress under ticketUpdates\n');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
