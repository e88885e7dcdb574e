import { Command, InvalidArgumentError } from 'commander';
import { AuditLog } from '../shared/audit/audit-log';
import { verifyAuditTrails, type TrailSelection } from '../shared/audit/verify-trails';
import { settingsSchema } from '../shared/config';
import { RequestIntegrity } from '../shared/requests/request-integrity';
import { RequestStore } from '../shared/requests/request-store';
import { createStorageClients } from '../shared/storage/clients';
import { TABLES } from '../shared/storage/names';
import { applyLocalSettingsFile } from './local-settings';
import { defaultStateFile, readStartState } from './start-state';
import { join } from 'node:path';

/**
 * `npm run audit:verify -- --request <id> [--request <id>...]` or `-- --from 2026-11-01 --to 2026-12-01`:
 * checks the hash chains of ResetAudit, prints one line per request and exits 1 if any chain is broken.
 *
 * Which storage, so that it is never a guess: AzureWebJobsStorage (or the identity-based settings) set
 * in the shell; otherwise the running npm start's embedded Azurite, from the state file it writes;
 * otherwise local.settings.json. "UseDevelopmentStorage=true" alone is refused: Azurite on its default
 * ports may be another instance's.
 */
const storageNames = [
  'AzureWebJobsStorage',
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__tableServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AZURE_CLIENT_ID',
] as const;
const storageSchema = settingsSchema.innerType().pick(Object.fromEntries(storageNames.map((name) => [name, true])) as Record<(typeof storageNames)[number], true>);

class UsageError extends Error {}

interface Chosen {
  settings: Record<string, string | undefined>;
  source: string;
  /** INTAKE_MAC_KEY: the audit chain is keyed, and the request rows' MACs vouch for their heads. */
  intakeMacKey: string | undefined;
}

function chooseStorage(env: NodeJS.ProcessEnv): Chosen {
  const root = join(__dirname, '..');
  const given = (source: NodeJS.ProcessEnv) => storageNames.some((name) => name !== 'AZURE_CLIENT_ID' && source[name]);
  const pick = (source: NodeJS.ProcessEnv) => Object.fromEntries(storageNames.map((name) => [name, source[name] || undefined]));
  if (given(env)) return { settings: pick(env), source: 'AzureWebJobsStorage from the environment', intakeMacKey: env.INTAKE_MAC_KEY };
  const stateFile = env.LOCAL_STATE_FILE || defaultStateFile(root);
  const state = readStartState(stateFile);
  if (state?.storage.kind === 'embedded-azurite') {
    return {
      settings: { AzureWebJobsStorage: state.storage.connectionString },
      source: `the running npm start (pid ${state.pid}, ${state.api}): ${state.storage.description}`,
      intakeMacKey: env.INTAKE_MAC_KEY || state.storage.intakeMacKey,
    };
  }
  if (state) {
    throw new UsageError(`the running npm start (pid ${state.pid}) uses external storage: set the same AzureWebJobsStorage here and run again`);
  }
  const file: NodeJS.ProcessEnv = {};
  applyLocalSettingsFile(join(root, 'local.settings.json'), file);
  if (given(file) && !/^UseDevelopmentStorage=true/i.test(file.AzureWebJobsStorage ?? '')) {
    return { settings: pick(file), source: 'AzureWebJobsStorage from local.settings.json', intakeMacKey: env.INTAKE_MAC_KEY || file.INTAKE_MAC_KEY };
  }
  throw new UsageError(
    'no running npm start found (it writes .npm-start.json) and AzureWebJobsStorage is not set: start npm start in another terminal, ' +
      'or name the storage to check, e.g. AzureWebJobsStorage="<connection string>" npm run audit:verify -- --request <id>',
  );
}
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
    if (!options.request?.length && !options.from) throw new UsageError('give --request <id> or --from <date>');
    const chosen = chooseStorage(process.env);
    const parsed = storageSchema.safeParse(chosen.settings);
    if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; '));
    if (!chosen.intakeMacKey) {
      throw new UsageError(
        'INTAKE_MAC_KEY is not set: the audit chain is keyed, so it can be checked only with the key the app uses. ' +
          'For a deployment, read it from Key Vault first, e.g. INTAKE_MAC_KEY="$(az keyvault secret show --vault-name <vault> --name intake-mac-key --query value -o tsv)" npm run audit:verify -- ...',
      );
    }
    let integrity: RequestIntegrity;
    try {
      integrity = new RequestIntegrity(chosen.intakeMacKey);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const storage = createStorageClients(parsed.data);
    process.stderr.write(`checking ${storage.description}, ${chosen.source}\n`);
    const selection: TrailSelection = options.request?.length
      ? { requestIds: options.request }
      : { from: options.from!, to: options.to ?? new Date() };
    const results = await verifyAuditTrails(
      { audit: new AuditLog(storage.table(TABLES.audit), integrity.auditKey()), store: new RequestStore(storage.table(TABLES.requests), integrity) },
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
