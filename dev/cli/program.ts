import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { acceptedAnswerSchema, bulkAcceptedAnswerSchema, jobAnswerSchema, resetAnswerSchema, type JobAnswer, type ResetAnswer } from './answers';
import { ApiError, expectAnswer, getJson, getText, postBulkCsv, postJson, type ApiTarget } from './client';
import { addScheduleCommands } from './schedule-commands';
import { formatTable } from './table';
import { runningApiOrigin } from '../start-state';
import { clipAtWord } from '../../shared/clip-text';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Draw a live progress bar (a TTY); otherwise one progress line every few seconds. */
  tty: boolean;
  /** How often job and request status are polled. */
  pollMs?: number;
}

const FINAL_JOB = ['completed', 'failed'];
const FINAL_REQUEST = ['completed', 'partial', 'failed', 'rejected', 'planned'];

/**
 * `entra-mfa-reset`: submit and follow bulk jobs and single resets against a running app (npm start,
 * or Azure). Requests are signed with WEBHOOK_SECRET_GENERIC, like any other caller's.
 */
export function buildProgram(io: CliIo): Command {
  const program = new Command('entra-mfa-reset')
    .description('Reset Microsoft Entra ID MFA registrations through the entra-mfa-reset API')
    .addOption(
      new Option('--url <url>', 'the app, e.g. http://127.0.0.1:7071 or https://<app>.azurewebsites.net')
        .env('ENTRA_MFA_RESET_URL')
        .default(runningApiOrigin(io.env) ?? 'http://127.0.0.1:7071', 'the running npm start (.npm-start.json), else http://127.0.0.1:7071'),
    )
    .addOption(new Option('--secret <secret>', 'HMAC secret of the generic source (WEBHOOK_SECRET_GENERIC)').env('WEBHOOK_SECRET_GENERIC'))
    .addOption(new Option('--key <key>', 'function key, for the app in Azure').env('ENTRA_MFA_RESET_FUNCTION_KEY'))
    .configureOutput({ writeOut: (text) => io.out(text), writeErr: (text) => io.err(text) })
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES)
    .exitOverride();

  const target = (): ApiTarget => {
    const options = program.opts<{ url: string; secret?: string; key?: string }>();
    return { url: options.url, secret: options.secret || io.env.WEBHOOK_SECRET_GENERIC, functionKey: options.key };
  };
  // Who asks goes into the audit and onto the ticket: falling back to this machine's user (often
  // `root` in a container) is said out loud, so nobody mistakes it for a person's name.
  const defaultRequester = () => {
    if (io.env.ENTRA_MFA_RESET_REQUESTED_BY) return io.env.ENTRA_MFA_RESET_REQUESTED_BY;
    const user = safeUser();
    io.err(`warning: no --requested-by and no ENTRA_MFA_RESET_REQUESTED_BY: the request names this machine's user "${user}" as who asked; the audit and the ticket will say so\n`);
    return user;
  };

  addScheduleCommands(program, target, io, defaultRequester);

  const bulk = program.command('bulk').description('bulk remediation jobs');
  bulk
    .command('submit')
    .description('submit a CSV (userPrincipalName column) or a group, then follow the job to its end')
    .argument('[file]', 'CSV file with a userPrincipalName column (- for standard input)')
    .requiredOption('--ticket <id>', 'change or incident ticket, e.g. CHG0031337')
    .option('--ticket-system <name>', 'ticket system', 'bulk')
    .option('--ticket-url <url>', 'link to the ticket')
    .option('--group <objectId>', 'reset the transitive user members of this group instead of a CSV')
    .option('--requested-by <name>', 'who asks for it (default: ENTRA_MFA_RESET_REQUESTED_BY or your user name)')
    .option('--approved-by <name>', 'who approved it')
    .option('--reason <text>', 'why')
    .addOption(new Option('--profile <profile>', 'which methods: portal (as the admin center button) or all').choices(['portal', 'all']))
    .option('--no-revoke-sessions', 'do not revoke the users\' sign-in sessions')
    .option('--dry-run', 'plan every user and change nothing')
    .option('--rate <perMinute>', 'users released per minute (capped by BULK_RATE_PER_MINUTE)', positiveInt)
    .option('--not-before <time>', 'release nobody before this ISO-8601 time')
    .option('--confirm-users <count>', 'the number of users the job resets (groups counted after expansion); required above BULK_CONFIRM_ABOVE (100)', positiveInt)
    .option('--no-wait', 'print the job id and return')
    .action(async (file: string | undefined, options: BulkSubmitOptions) => {
      const api = target();
      const requestedBy = options.requestedBy ?? defaultRequester();
      let answer;
      if (options.group) {
        if (file) throw new InvalidArgumentError('give a CSV file or --group, not both');
        answer = await postJson(api, 'bulk', {
          ticket: options.ticketUrl || options.ticketSystem !== 'bulk' ? { system: options.ticketSystem, id: options.ticket, ...(options.ticketUrl ? { url: options.ticketUrl } : {}) } : options.ticket,
          requestedBy,
          groupId: options.group,
          ...(options.approvedBy ? { approvedBy: options.approvedBy } : {}),
          ...(options.reason ? { reason: options.reason } : {}),
          ...(options.profile ? { profile: options.profile } : {}),
          revokeSessions: options.revokeSessions,
          dryRun: options.dryRun === true,
          ...(options.rate ? { ratePerMinute: options.rate } : {}),
          ...(options.notBefore ? { notBefore: options.notBefore } : {}),
          ...(options.confirmUsers ? { confirmUsers: options.confirmUsers } : {}),
        }).catch(withConsentHint);
      } else {
        if (!file) throw new InvalidArgumentError('give a CSV file (or --group <objectId>)');
        const csv = file === '-' ? readFileSync(0) : readFileSync(file);
        answer = await postBulkCsv(api, csv, {
          ticket: options.ticket,
          ...(options.ticketSystem !== 'bulk' ? { ticketSystem: options.ticketSystem } : {}),
          ...(options.ticketUrl ? { ticketUrl: options.ticketUrl } : {}),
          requestedBy,
          ...(options.approvedBy ? { approvedBy: options.approvedBy } : {}),
          ...(options.reason ? { reason: options.reason } : {}),
          ...(options.profile ? { profile: options.profile } : {}),
          ...(options.revokeSessions === false ? { revokeSessions: 'false' } : {}),
          ...(options.dryRun ? { dryRun: 'true' } : {}),
          ...(options.rate ? { ratePerMinute: String(options.rate) } : {}),
          ...(options.notBefore ? { notBefore: options.notBefore } : {}),
          ...(options.confirmUsers ? { confirmUsers: String(options.confirmUsers) } : {}),
        }).catch(withConsentHint);
      }
      const body = expectAnswer(answer, bulkAcceptedAnswerSchema, 'the job submission');
      io.out(`${answer.status === 200 ? 'Job already submitted' : 'Job accepted'}: ${body.id}${body.dryRun ? ' (dry run: nothing will change)' : ''}\n`);
      io.out(`  ${body.totals.rows} rows, ${body.totals.valid} users to reset, ${body.totals.invalid} refused; ${body.ratePerMinute} users/min${body.notBefore ? `, not before ${body.notBefore}` : ''}\n`);
      for (const error of body.errors) io.out(`  row ${error.row}: ${error.userPrincipalName || '(empty)'}: ${error.code}: ${error.message}\n`);
      io.out(`  status: ${body.statusUrl}\n`);
      if (options.wait === false) return;
      const final = await followJob(api, body.id, io);
      printJob(final, io);
      if (final.status === 'failed' || (final.counts.failed ?? 0) > 0 || (final.counts.partial ?? 0) > 0) process.exitCode = 1;
    });

  bulk
    .command('status')
    .description('show a job\'s progress and per-user outcomes')
    .argument('<id>', 'job id')
    .option('--csv', 'print every user\'s outcome as CSV')
    .option('--all', 'list every user, not only those that did not complete')
    .action(async (id: string, options: { csv?: boolean; all?: boolean }) => {
      if (options.csv) {
        io.out(await getText(target(), `bulk/${id}`, { format: 'csv' }));
        return;
      }
      printJob(expectAnswer(await getJson(target(), `bulk/${id}`, { limit: '1000' }), jobAnswerSchema, 'the job status'), io, options.all === true);
    });

  program
    .command('reset')
    .description('reset one user\'s MFA registration and follow the request to its end')
    .argument('<upn>', 'the user\'s userPrincipalName')
    .requiredOption('--ticket <id>', 'the ticket')
    .option('--ticket-system <name>', 'ticket system', 'cli')
    .option('--requested-by <name>', 'who asks for it (default: ENTRA_MFA_RESET_REQUESTED_BY or your user name)')
    .option('--approved-by <name>', 'who approved it')
    .option('--reason <text>', 'why')
    .addOption(new Option('--profile <profile>', 'portal or all').choices(['portal', 'all']))
    .option('--no-revoke-sessions', 'do not revoke the user\'s sign-in sessions')
    .option('--dry-run', 'plan and change nothing')
    .option('--pass <minutes>', 'also issue a one-time Temporary Access Pass valid this long (10-43200); it is revealed once in the console, or shown to the verified person', passMinutes)
    .option('--no-wait', 'print the request id and return')
    .action(async (upn: string, options: ResetOptions & { pass?: number }) => {
      const api = target();
      // Each run of the command is a delivery of its own (a new webhook-id), signed or not: a dry run
      // and then the real run for the same ticket are two requests, never one conflicting with the other.
      const answer = await postJson(api, 'resets', {
        ticket: { system: options.ticketSystem, id: options.ticket },
        target: { userPrincipalName: upn },
        requestedBy: options.requestedBy ?? defaultRequester(),
        ...(options.approvedBy ? { approvedBy: options.approvedBy } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
        ...(options.profile ? { profile: options.profile } : {}),
        revokeSessions: options.revokeSessions,
        ...(options.pass ? { temporaryAccessPass: { lifetimeInMinutes: options.pass, isUsableOnce: true } } : {}),
        dryRun: options.dryRun === true,
      }, { webhookId: `msg_cli_${randomUUID().replace(/-/g, '')}` });
      const accepted = expectAnswer(answer, acceptedAnswerSchema, 'the reset request');
      io.out(`${answer.status === 200 ? 'Already requested' : 'Accepted'}: ${accepted.id}\n`);
      if (options.wait === false) return void io.out(`  follow it with: status ${accepted.id} --follow\n`);
      const started = Date.now();
      let told = false;
      const final = await poll(io, async () => {
        const body = expectAnswer(await getJson(api, `resets/${accepted.id}`), resetAnswerSchema, 'the reset status');
        if (body.status === 'awaiting_verification' && !told) {
          told = true;
          printVerificationWait(body, io);
        }
        return FINAL_REQUEST.includes(body.status) ? body : undefined;
      });
      printReset(final, io, Date.now() - started);
      if (final.status !== 'completed' && final.status !== 'planned') process.exitCode = 1;
    });

  program
    .command('status')
    .description('show one reset request by id; with --follow, wait until it ends')
    .argument('<id>', 'the request id (from the answer to POST /api/resets, or the console)')
    .option('-f, --follow', 'poll until the request ends, printing each change of status')
    .action(async (id: string, options: { follow?: boolean }) => {
      const api = target();
      const started = Date.now();
      const read = async () => expectAnswer(await getJson(api, `resets/${encodeURIComponent(id)}`), resetAnswerSchema, 'the reset status');
      let last = '';
      const final = options.follow
        ? await poll(io, async () => {
            const body = await read();
            if (body.status !== last && !FINAL_REQUEST.includes(body.status)) io.out(`  ${body.status}${body.statusReason ? ` (${body.statusReason})` : ''}\n`);
            last = body.status;
            return FINAL_REQUEST.includes(body.status) ? body : undefined;
          })
        : await read();
      printReset(final, io, Date.now() - started, options.follow === true);
      // A script can tell a finished, successful reset from anything else.
      if (final.status !== 'completed' && final.status !== 'planned') process.exitCode = 1;
    });

  return program;
}

/** Documented in docs/bulk.md as well; scripts rely on them. */
export const EXIT_CODES = `
Exit codes:
  0  reset/status: the request ended completed or planned (a dry run); bulk submit: the job ended and no user ended partial or failed
  1  reset/status: anything else (partial, failed, rejected, or still waiting); bulk submit: the job failed, or a user ended partial or failed
  2  the API refused the call or could not be reached (the message says why)
  3  the signature was refused (401): the CLI and the app need the same WEBHOOK_SECRET_GENERIC
`;

/** What `reset` and `bulk submit` share: the ticket, who asks, and the reset's options. */
interface ResetOptions {
  ticket: string;
  ticketSystem: string;
  requestedBy?: string;
  approvedBy?: string;
  reason?: string;
  profile?: string;
  revokeSessions: boolean;
  dryRun?: boolean;
  wait: boolean;
}

interface BulkSubmitOptions extends ResetOptions {
  ticketUrl?: string;
  group?: string;
  rate?: number;
  notBefore?: string;
  confirmUsers?: number;
}

/**
 * The service refused the job's size without a matching count: say how many it would reset and how to
 * go ahead, in the CLI's own words. Never confirms on its own: the person reads the number first.
 */
function withConsentHint(error: unknown): never {
  const refusal = error instanceof ApiError ? (error.body as { error?: { code?: string; details?: { wouldReset?: unknown } } } | undefined)?.error : undefined;
  if (refusal && (refusal.code === 'confirmation_required' || refusal.code === 'confirmation_mismatch') && typeof refusal.details?.wouldReset === 'number') {
    throw new Error(`${(error as ApiError).message}\n  This job would reset ${refusal.details.wouldReset} users. If that is meant, run the same command with --confirm-users ${refusal.details.wouldReset}.`);
  }
  throw error;
}

async function followJob(api: ApiTarget, id: string, io: CliIo): Promise<JobAnswer> {
  let bar: SingleBar | undefined;
  let lastLine = 0;
  try {
    return await poll(io, async () => {
      const body = expectAnswer(await getJson(api, `bulk/${id}`, { limit: '1' }), jobAnswerSchema, 'the job status');
      const total = Math.max(1, body.totals.valid);
      const finished = body.totals.finished;
      const payload = { state: body.status, counts: countsLine(body.counts) };
      if (io.tty) {
        if (!bar) {
          bar = new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} users | ETA {eta_formatted} | {state} | {counts}', hideCursor: true, clearOnComplete: false, etaBuffer: 50 });
          bar.start(total, finished, payload);
        }
        bar.setTotal(total);
        bar.update(finished, payload);
      } else if (FINAL_JOB.includes(body.status) || Date.now() - lastLine > 5000) {
        lastLine = Date.now();
        io.out(`  ${body.status} ${finished}/${body.totals.valid} users (${body.totals.percent}%) ${payload.counts}\n`);
      }
      return FINAL_JOB.includes(body.status) ? expectAnswer(await getJson(api, `bulk/${id}`, { limit: '1000' }), jobAnswerSchema, 'the job status') : undefined;
    });
  } finally {
    bar?.stop();
  }
}

/** While the person proves who they are: how, until when, and the link to hand them (nothing is written before). */
function printVerificationWait(body: ResetAnswer, io: CliIo): void {
  const v = body.verification;
  if (!v) return void io.out('  waiting for the user to be verified\n');
  const how = v.methods.map((m) => (m === 'verified-id' ? 'a Verified ID with Face Check' : `their manager${v.manager ? ` ${v.manager.userPrincipalName}` : ''} confirming in the console`)).join(' or ');
  io.out(`  waiting until ${v.expiresAt} for ${body.target.userPrincipalName ?? 'the user'} to prove who they are by ${how}; nothing is changed before\n`);
  if (v.link) io.out(`  hand the user this link (the first browser to open it is the only one shown the code and the pass):\n    ${v.link}\n`);
}

async function poll<T>(io: CliIo, check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      // A status read can fail while the app restarts: keep following, unless the job is unknown.
      if (error instanceof ApiError && error.status < 500) throw error;
      io.err(`  (status unavailable: ${error instanceof Error ? error.message : String(error)}; retrying)\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, io.pollMs ?? 1000));
  }
}

function countsLine(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, value]) => value > 0)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
}

function printJob(job: JobAnswer, io: CliIo, everyone = false): void {
  io.out(`\nJob ${job.id}: ${job.status}${job.statusReason ? ` (${job.statusReason})` : ''}${job.dryRun ? ' - dry run' : ''}\n`);
  io.out(`  ticket ${job.ticket.system} ${job.ticket.id}, requested by ${job.requestedBy}, ${job.options.ratePerMinute} users/min\n`);
  const elapsed = job.startedAt && job.completedAt ? `${((Date.parse(job.completedAt) - Date.parse(job.startedAt)) / 1000).toFixed(1)} s` : '';
  io.out(`\n${formatTable(['outcome', 'users'], Object.entries(job.counts).map(([name, value]) => [name, value]))}\n`);
  io.out(`  total ${job.totals.rows} rows${elapsed ? `, ${elapsed} from first release to end` : ''}\n`);
  const shown = job.items.filter((item) => everyone || !['completed', 'planned'].includes(item.status));
  if (shown.length > 0) {
    const listed = shown.slice(0, 50);
    io.out(`\n${formatTable(
      ['row', 'user', 'outcome', 'why'],
      listed.map((item) => [item.row, item.userPrincipalName, item.status, clip(item.error?.message ?? item.reason ?? '', 90)]),
    )}\n`);
    if (shown.length > 50) io.out(`  ... and ${shown.length - 50} more\n`);
    // The table cuts the reasons; what to do next is never cut.
    for (const item of listed) {
      const advice = /To (finish|end completed)[^]*$/.exec(item.reason ?? '')?.[0];
      if (advice) io.out(`  row ${item.row}, ${item.userPrincipalName}: ${advice}\n`);
    }
  }
  io.out(`\nEvery user's outcome as CSV: ${job.exportUrl} (or: bulk status ${job.id} --csv)\n`);
}

function printReset(request: ResetAnswer, io: CliIo, elapsedMs: number, waited = true): void {
  io.out(`\n${request.target.userPrincipalName ?? request.target.objectId}: ${request.status}${request.statusReason ? ` (${request.statusReason})` : ''}${waited ? ` after ${(elapsedMs / 1000).toFixed(1)} s` : ''}\n`);
  const methods = request.result?.methods ?? [];
  const plan = request.result?.plan;
  if (request.status === 'planned' && plan && methods.length > 0) {
    printPlan(methods, plan, io, request.result?.warnings ?? []);
  } else if (methods.length > 0) {
    io.out(`${formatTable(['method', 'detail', 'outcome'], methods.map((method) => [method.kind, method.detail, method.outcome + (method.isDefault ? ' (default)' : '')]))}\n`);
  }
  if (request.result?.revoke) io.out(`  sessions revoked: ${request.result.revoke.outcome}\n`);
}

type PlannedMethod = NonNullable<NonNullable<ResetAnswer['result']>['methods']>[number];
type Plan = NonNullable<NonNullable<ResetAnswer['result']>['plan']>;

/**
 * A dry run in the order the reset would run (the plan's waves: the default method last), then what it
 * keeps, and, when Graph would refuse to delete the default method because other methods stay, that the
 * reset would end partial: a dry run must not read better than the run it stands for.
 */
function printPlan(methods: readonly PlannedMethod[], plan: Plan, io: CliIo, warnings: readonly string[] = []): void {
  const step = new Map(plan.deletions.map((deletion, index) => [deletion.id, { index, wave: deletion.wave }]));
  const planned = methods
    .filter((method) => method.id !== undefined && step.has(method.id))
    .sort((a, b) => step.get(a.id!)!.index - step.get(b.id!)!.index);
  const others = methods.filter((method) => !planned.includes(method));
  // The default Graph would keep is listed as the real run would end it, not as "planned".
  const staysBlocked = (method: PlannedMethod) => method.id !== undefined && (plan.defaultBlocked?.methodIds ?? []).includes(method.id);
  const rows = [
    ...planned.map((method) => [String(step.get(method.id!)!.wave + 1), method.kind, method.detail, staysBlocked(method) ? 'would stay (default)' : method.outcome + (method.isDefault ? ' (default)' : '')]),
    ...others.map((method) => ['', method.kind, method.detail, method.outcome + (method.isDefault ? ' (default)' : '')]),
  ];
  io.out(`${formatTable(['step', 'method', 'detail', 'outcome'], rows)}\n`);
  const blocked = plan.defaultBlocked;
  const advice = warnings.map((text) => /To end completed, [^]*$/.exec(text)?.[0]).find(Boolean);
  if (blocked) {
    io.out(
      `  would stay: ${blocked.detail}, the default method: Graph deletes a default only when it is the last method, and ${blocked.staying.join(', ') || 'other methods'} would stay. ` +
        `This reset would end partial.${advice ? ` ${advice}` : ''}\n`,
    );
  }
}

const clip = clipAtWord;

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return parsed;
}

function passMinutes(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 10 || parsed > 43200) throw new InvalidArgumentError('must be whole minutes from 10 to 43200 (what Graph accepts)');
  return parsed;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}
