import { z } from 'zod';
import { runningJiraStandIn } from './start-state';

const transcriptSchema = z.object({ comments: z.array(z.object({ id: z.string(), author: z.string(), internal: z.boolean(), text: z.string() })) });

const statusSchema = z.object({
  status: z.string(),
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
export async function followTicketNote(url: string, requestId: string, out: (text: string) => void, timeoutMs = 20_000, jiraStandIn = runningJiraStandIn()): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/api/resets/${requestId}`).catch(() => undefined);
    const parsed = response?.ok ? statusSchema.safeParse(await response.json()) : undefined;
    const events = parsed?.success ? parsed.data.ticketUpdates?.events : undefined;
    const open = events ? Object.values(events).some((event) => ['pending', 'posting', 'retrying'].includes(event.state)) : true;
    // The outbox opens with the final status: until then there is nothing to tell yet.
    const final = parsed?.success && !['accepted', 'running'].includes(parsed.data.status);
    if (parsed?.success && final && (!events || !open)) {
      if (!events) {
        out(`no note: notes go only to a Jira issue or ServiceNow record whose own webhook asked (SERVICENOW_INSTANCE_URL, JIRA_SITE_URL), not to ${parsed.data.ticket.system} ${parsed.data.ticket.id}\n`);
        return;
      }
      for (const [name, event] of Object.entries(events)) {
        out(`${name.padEnd(13)} ${event.state} via ${event.channel}${event.remoteId ? ` (${event.remoteId})` : ''}${event.error ? `: ${event.error}` : ''}\n`);
      }
      if (events.outcome?.state === 'posted' && events.outcome.channel === 'jira') await printJiraNote(parsed.data.ticket.id, jiraStandIn, out);
      return;
    }
    if (Date.now() > deadline) {
      out('the note has not been posted yet; GET /api/resets/<id> shows its progress under ticketUpdates\n');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** The comments on the issue, as the local Jira stand-in of npm start holds them (a real site: open the issue). */
async function printJiraNote(issue: string, standIn: string | undefined, out: (text: string) => void): Promise<void> {
  if (!standIn) return;
  const response = await fetch(`${standIn}/_stand-in/issue/${encodeURIComponent(issue)}/comments`).catch(() => undefined);
  const parsed = response?.ok ? transcriptSchema.safeParse(await response.json()) : undefined;
  if (!parsed?.success) return;
  for (const comment of parsed.data.comments) {
    out(`\n${issue} comment ${comment.id} by ${comment.author} (${comment.internal ? 'internal: agents only' : 'PUBLIC: the customer sees it'}):\n`);
    out(`${comment.text.split('\n').map((line) => `  | ${line}`).join('\n')}\n`);
  }
}
