import { join } from 'node:path';
import { z } from 'zod';
import { ApiError, signedCall, type ApiTarget } from './cli/client';
import { buildProgram } from './cli/program';
import { followTicketNote } from './demo-ticket-note';
import { DEMO_REREGISTRATION_GROUP_ID, DEMO_RISKY_UPN } from './graph-sim/demo-tenant';
import { applyLocalSettingsFile } from './local-settings';
import { runningApiOrigin } from './start-state';

/** The demo tenant's "All staff" group: more users than the over-cap schedule allows. */
const ALL_STAFF_GROUP_ID = '7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e';

const runSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    reason: z.string().optional(),
    bulkJobId: z.string().optional(),
    found: z.number(),
    planned: z.number(),
    alreadyReset: z.number(),
    removedFromGroup: z.number().optional(),
    counts: z.record(z.number()).optional(),
    noticeRequestId: z.string().optional(),
    ticketNotice: z.string().optional(),
  })
  .passthrough();
const shownSchema = z.object({ id: z.string(), name: z.string(), nextRunTimes: z.array(z.string()), runs: z.array(runSchema) }).passthrough();

export interface ScheduleDemoOptions {
  target: ApiTarget;
  out: (text: string) => void;
  /** How long to wait for a run to end (its bulk job, then the schedule releaser's next beat). */
  runTimeoutMs?: number;
  /** Tests: what the schedule releaser does (npm start wakes it on beats: every 30 seconds while a run is going). */
  tick?: () => Promise<unknown>;
  /** The Jira ticket the capped schedule tells (default SCHED-<time>; the stand-in under npm start takes any). */
  ticket?: string;
}

/**
 * `npm run demo:schedule`: scheduled remediation end to end against a running `npm start` and its
 * demo tenant, through the same CLI verbs an operator types (each printed before it runs): a nightly
 * group schedule resets both members of "MFA re-registration required" and takes them out of the
 * group, and a second run finds nobody; an hourly risky-users schedule resets the high-risk user once
 * and not on its second run; a schedule on "All staff" with maxUsersPerRun 2 resets nobody, says why,
 * and tells its Jira ticket (the local Jira stand-in).
 */
export async function runScheduleDemo(options: ScheduleDemoOptions): Promise<{ scheduleIds: string[] }> {
  const { target, out } = options;
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const cli = async (...args: string[]): Promise<unknown> => {
    out(`\n$ npm run cli -- ${args.map(quote).join(' ')}\n`);
    let printed = '';
    const program = buildProgram({ out: (text) => (printed += text), err: (text) => out(text), env: {}, tty: false });
    await program.parseAsync(['node', 'cli', '--url', target.url, ...(target.secret ? ['--secret', target.secret] : []), ...args]);
    out(printed);
    return JSON.parse(printed) as unknown;
  };
  const idOf = (body: unknown) => z.object({ id: z.string() }).parse(body).id;
  const runIdOf = (body: unknown) => z.object({ runId: z.string() }).parse(body).runId;
  const ended = async (scheduleId: string, runId: string) => {
    const started = Date.now();
    const deadline = started + (options.runTimeoutMs ?? 120_000);
    let said = started;
    for (;;) {
      await options.tick?.();
      const shown = shownSchema.parse((await signedCall(target, 'GET', `schedules/${scheduleId}`)).body);
      const run = shown.runs.find((candidate) => candidate.id === runId);
      if (run && run.status !== 'running') return run;
      // A run ends at the schedule timer's next tick (every 30 s under npm start): say what it waits for.
      if (Date.now() - said >= 5000) {
        said = Date.now();
        const counts = run?.counts ? Object.entries(run.counts).filter(([, n]) => n > 0).map(([name, n]) => `${name} ${n}`).join(', ') : '';
        out(`  ... run ${runId} ${run?.status ?? 'starting'}${counts ? ` (${counts})` : ''}, ${Math.round((Date.now() - started) / 1000)} s: it ends at the schedule timer's next tick (every 30 s under npm start)\n`);
      }
      if (Date.now() > deadline) throw new Error(`run ${runId} of schedule ${scheduleId} has not ended yet; see npm run cli -- schedule show ${scheduleId}`);
      await new Promise((resolve) => setTimeout(resolve, options.tick ? 250 : 1000));
    }
  };
  const summary = (run: z.output<typeof runSchema>) => {
    const handed = run.status === 'refused' ? `would have reset ${run.planned} (nobody was)` : `handed to the bulk job ${run.planned}`;
    out(`  run ${run.id}: ${run.status}; found ${run.found}, ${handed}, reset by this schedule already ${run.alreadyReset}`);
    if (run.counts) out(`; completed ${run.counts.completed ?? 0}, partial ${run.counts.partial ?? 0}, failed ${run.counts.failed ?? 0}`);
    if (run.removedFromGroup !== undefined) out(`; removed from the group ${run.removedFromGroup}`);
    out('\n');
    if (run.bulkJobId) out(`  bulk job: npm run cli -- bulk status ${run.bulkJobId}  (or GET /api/bulk/${run.bulkJobId})\n`);
    if (run.reason) out(`  reason: ${run.reason}\n`);
    if (run.ticketNotice) out(`  ticket: ${run.ticketNotice}\n`);
  };
  const runNow = async (scheduleId: string) => {
    const run = await ended(scheduleId, runIdOf(await cli('schedule', 'run', scheduleId)));
    summary(run);
    return run;
  };
  const common = ['--requested-by', 'soc@contoso.com', '--approved-by', 'lead@contoso.com'];

  out('1. Every night at 02:00 Amsterdam time, reset everyone in "MFA re-registration required" and take them out of the group.\n');
  const nightly = idOf(await cli('schedule', 'create', '--name', 'Nightly re-registration', '--schedule', '0 0 2 * * *', '--time-zone', 'Europe/Amsterdam', '--group', DEMO_REREGISTRATION_GROUP_ID, '--remove-from-group', ...common));
  await runNow(nightly);
  out('  A second run finds nobody: the completed users left the group.\n');
  await runNow(nightly);

  out(`\n2. Every hour, reset users Identity Protection rates high risk (${DEMO_RISKY_UPN}).\n`);
  const risky = idOf(await cli('schedule', 'create', '--name', 'High-risk users hourly', '--schedule', '0 0 * * * *', '--risk', 'high', ...common));
  await runNow(risky);
  out('  The second run leaves her alone: her risk has not been raised since this schedule reset her.\n');
  await runNow(risky);

  const ticket = options.ticket ?? `SCHED-${stamp}`;
  out(`\n3. A schedule on "All staff" capped at 2 users a run: the run resets nobody, says why, and tells Jira ticket ${ticket}.\n`);
  const capped = idOf(await cli('schedule', 'create', '--name', 'All staff (edited by mistake?)', '--schedule', '0 0 3 * * *', '--group', ALL_STAFF_GROUP_ID, '--max-users', '2', '--ticket', ticket, '--ticket-system', 'jira', ...common));
  const refusal = await runNow(capped);
  if (refusal.noticeRequestId) {
    out(`  the note on ${ticket}:\n`);
    await followTicketNote(target.url, refusal.noticeRequestId, (text) => out(`  ${text}`));
  }
  await cli('schedule', 'pause', capped);

  out(`\nAll three: npm run cli -- schedule list, or the console at ${target.url.replace(/\/$/, '')}/api/console/#/schedules\n`);
  return { scheduleIds: [nightly, risky, capped] };
}

const quote = (arg: string) => (/^[\w@.:/,=+-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`);

async function main(): Promise<void> {
  applyLocalSettingsFile(join(__dirname, '..', 'local.settings.json'));
  const url = process.env.ENTRA_MFA_RESET_URL ?? (process.env.PORT ? `http://127.0.0.1:${process.env.PORT}` : runningApiOrigin() ?? 'http://127.0.0.1:7071');
  const secret = process.env.WEBHOOK_SECRET_GENERIC || undefined;
  try {
    await runScheduleDemo({ target: { url, secret }, out: (text) => process.stdout.write(text) });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      process.stderr.write(`${error.message}\nGive the app and the demo the same WEBHOOK_SECRET_GENERIC (or put it in local.settings.json).\n`);
    } else if (error instanceof TypeError) {
      process.stderr.write(`No app answers at ${url}: start it first with \`npm start\` (or set ENTRA_MFA_RESET_URL).\n`);
    } else {
      process.stderr.write(`schedule demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
