import type { Command } from 'commander';
import { signedCall, type ApiTarget } from './client';

interface Io {
  out(text: string): void;
}

interface CreateOptions {
  name: string;
  schedule: string;
  timeZone?: string;
  group?: string;
  risk?: string;
  removeFromGroup?: boolean;
  requestedBy?: string;
  approvedBy?: string;
  ticket?: string;
  ticketSystem: string;
  profile?: string;
  methods?: string;
  dryRun?: boolean;
  disabled?: boolean;
  maxUsers?: string;
}

const print = (io: Io, body: unknown) => io.out(`${JSON.stringify(body, null, 2)}\n`);

/** `schedule create|list|show|run|pause|resume|delete`: the /api/schedules routes, signed like any generic call. */
export function addScheduleCommands(program: Command, target: () => ApiTarget, io: Io, defaultRequester: () => string): void {
  const schedule = program.command('schedule').description('recurring scheduled remediation (docs/schedules.md)');
  schedule
    .command('create')
    .description('create a schedule from a group or from Identity Protection\'s risky users')
    .requiredOption('--name <name>', 'what the schedule is for')
    .requiredOption('--schedule <ncrontab>', 'six-field NCRONTAB, seconds first: "0 0 2 * * *" is 02:00 every day')
    .option('--time-zone <zone>', 'IANA time zone of the schedule (default UTC)')
    .option('--group <id>', 'reset the members of this group (object id)')
    .option('--risk <level>', 'reset users Identity Protection rates at this level or above: low, medium or high')
    .option('--remove-from-group', 'take each user whose reset completed out of the group')
    .option('--requested-by <who>', 'who asks (default: ENTRA_MFA_RESET_REQUESTED_BY or your user name)')
    .option('--approved-by <who>', 'who approved the schedule (a second person)')
    .option('--ticket <id>', 'the change or ticket the schedule belongs to')
    .option('--ticket-system <system>', 'servicenow, jira or another name', 'schedule')
    .option('--profile <profile>', 'portal (default) or all')
    .option('--methods <kinds>', 'reset only these methods, comma-separated (phone,microsoftAuthenticator,...), as a reset request\'s methods')
    .option('--dry-run', 'plan and report only')
    .option('--disabled', 'create it paused')
    .option('--max-users <n>', 'refuse a run of more users than this (default 100)')
    .action(async (options: CreateOptions) => {
      if ((options.group === undefined) === (options.risk === undefined)) throw new Error('give exactly one of --group or --risk');
      const body: Record<string, unknown> = {
        name: options.name,
        schedule: options.schedule,
        ...(options.timeZone ? { timeZone: options.timeZone } : {}),
        source: options.group ? { groupId: options.group } : { riskyUsers: { minimumRiskLevel: options.risk } },
        removeFromGroupAfterReset: options.removeFromGroup === true,
        requestedBy: options.requestedBy ?? defaultRequester(),
        ...(options.approvedBy ? { approvedBy: options.approvedBy } : {}),
        ...(options.ticket ? { ticket: { system: options.ticketSystem, id: options.ticket } } : {}),
        ...(options.profile ? { profile: options.profile } : {}),
        ...(options.methods ? { methods: options.methods.split(',').map((kind) => kind.trim()).filter((kind) => kind !== '') } : {}),
        dryRun: options.dryRun === true,
        enabled: options.disabled !== true,
        ...(options.maxUsers ? { maxUsersPerRun: Number(options.maxUsers) } : {}),
      };
      print(io, (await signedCall(target(), 'POST', 'schedules', body)).body);
    });
  schedule
    .command('list')
    .description('every schedule with its next run time')
    .action(async () => {
      const body = (await signedCall(target(), 'GET', 'schedules')).body as { value: { id: string; name: string; enabled: boolean; schedule: string; timeZone: string; nextRunTimes: string[] }[] };
      for (const item of body.value) io.out(`${item.id}  ${item.enabled ? 'enabled' : 'paused '}  ${item.schedule} (${item.timeZone})  next ${item.nextRunTimes[0] ?? '-'}  ${item.name}\n`);
      if (body.value.length === 0) io.out('no schedules\n');
    });
  schedule
    .command('show')
    .argument('<id>')
    .description('definition, next run times and runs')
    .action(async (id: string) => print(io, (await signedCall(target(), 'GET', `schedules/${id}`)).body));
  schedule
    .command('run')
    .argument('<id>')
    .description('run now (refused while a run is still going)')
    .action(async (id: string) => print(io, (await signedCall(target(), 'POST', `schedules/${id}/run`, {})).body));
  schedule
    .command('pause')
    .argument('<id>')
    .action(async (id: string) => print(io, (await signedCall(target(), 'PATCH', `schedules/${id}`, { enabled: false })).body));
  schedule
    .command('resume')
    .argument('<id>')
    .description('enable again; the next run is the next slot from now (a pause is not caught up)')
    .action(async (id: string) => print(io, (await signedCall(target(), 'PATCH', `schedules/${id}`, { enabled: true })).body));
  schedule
    .command('approve')
    .argument('<id>')
    .requiredOption('--approved-by <who>', 'who approves the schedule again (a second person)')
    .description('renew the approval (it lasts SCHEDULE_APPROVAL_DAYS; runs after that are refused until renewed)')
    .action(async (id: string, options: { approvedBy: string }) => print(io, (await signedCall(target(), 'PATCH', `schedules/${id}`, { approvedBy: options.approvedBy })).body));
  schedule
    .command('delete')
    .argument('<id>')
    .action(async (id: string) => print(io, (await signedCall(target(), 'DELETE', `schedules/${id}`)).body));
}
