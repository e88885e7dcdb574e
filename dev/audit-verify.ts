import { Command, InvalidArgumentError } from 'commander';
import { AuditLog } from '../shared/audit/audit-log';
import { verifyAuditTrails, type TrailSelection } from '../shared/audit/verify-trails';
import { loadSettings } from '../shared/config';
import { RequestStore } from '../shared/requests/request-store';
import { createStorageClients } from '../shared/storage/clients';
import { TABLES } from '../shared/storage/names';
import { applyLocalSettingsFile } from './local-settings';
import { join } from 'node:path';

/**
 * `npm run audit:verify -- --request <id> [--request <id>...]` or `-- --from 2026-11-01 --to 2026-12-01`:
 * checks the hash chains of ResetAudit against the storage named by AzureWebJobsStorage (or the
 * identity-based settings), prints one line per request and exits 1 if any chain is broken.
 */
function parseDate(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`not a date: ${value}`);
  return date;
}

const program = new Command('audit-verify')
  .description('Verify the tamper-evident audit trail of reset requests')
  .option('-r, --request <id...>', 'request ids to verify')
  .option('--from <date>', 'verify every request with audit rows from this time (ISO date)', parseDate)
  .option('--to <date>', 'up to this time (default: now)', parseDate)
  .action(async (options: { request?: string[]; from?: Date; to?: Date }) => {
    applyLocalSettingsFile(join(__dirname, '..', 'local.settings.json'));
    const storage = createStorageClients(loadSettings());
    if (!options.request?.length && !options.from) throw new InvalidArgumentError('give --request <id> or --from <date>');
    const selection: TrailSelection = options.request?.length
      ? { requestIds: options.request }
      : { from: options.from!, to: options.to ?? new Date() };
    const results = await verifyAuditTrails(
      { audit: new AuditLog(storage.table(TABLES.audit)), store: new RequestStore(storage.table(TABLES.requests)) },
      selection,
    );
    for (const result of results) {
      process.stdout.write(result.ok ? `ok      ${result.requestId}  ${result.rows} rows\n` : `BROKEN  ${result.requestId}  ${result.problem}\n`);
    }
    const broken = results.filter((result) => !result.ok).length;
    process.stdout.write(`${results.length} verified, ${broken} broken\n`);
    process.exitCode = broken > 0 ? 1 : 0;
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
});
