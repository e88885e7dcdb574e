import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import type { StartState } from '../../dev/start-state';
import { TABLES } from '../../shared/storage/names';
import { useAzurite } from '../support/azurite';
import { TEST_SECRETS } from '../support/signing';

const root = join(__dirname, '..', '..');

/** audit:verify must check the storage the user means, never whichever Azurite answers on the default ports. */
describe('npm run audit:verify picks its storage unambiguously', () => {
  const azurite = useAzurite();
  const run = (env: NodeJS.ProcessEnv) => {
    const clean: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const name of Object.keys(clean)) if (name.startsWith('AzureWebJobsStorage') && !(name in env)) delete clean[name];
    return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'dev', 'audit-verify.ts'), '--from', new Date(Date.now() - 3600_000).toISOString()], {
      cwd: root,
      env: clean,
      encoding: 'utf8',
    });
  };

  it('refuses without a running npm start or an explicit AzureWebJobsStorage, and says how', () => {
    const result = run({ LOCAL_STATE_FILE: join(mkdtempSync(join(tmpdir(), 'verify-')), 'none.json') });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no running npm start found/);
    expect(result.stderr).toMatch(/AzureWebJobsStorage="<connection string>" npm run audit:verify/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads the running npm start state file, and ignores one whose process has ended', async () => {
    for (const table of [TABLES.audit, TABLES.requests]) {
      await TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true }).createTable();
    }
    const dir = mkdtempSync(join(tmpdir(), 'verify-'));
    const stateFile = join(dir, 'state.json');
    const state = (pid: number): StartState => ({
      pid,
      api: 'http://127.0.0.1:7071/api',
      storage: { kind: 'embedded-azurite', connectionString: azurite.connectionString, description: 'embedded Azurite', intakeMacKey: TEST_SECRETS.intakeMacKey },
    });
    // This test's own process stands in for a live npm start.
    writeFileSync(stateFile, JSON.stringify(state(process.pid)));
    const live = run({ LOCAL_STATE_FILE: stateFile });
    expect(live.stderr).toContain(`the running npm start (pid ${process.pid}`);
    expect(live.stdout).toMatch(/0 verified, 0 broken/);
    expect(live.status).toBe(0);

    // A stale file (its npm start was killed) must not be trusted: 2^22 is above Linux's pid limit default.
    writeFileSync(stateFile, JSON.stringify(state(4_194_304 + 7)));
    expect(run({ LOCAL_STATE_FILE: stateFile }).stderr).toMatch(/no running npm start found/);

    // An explicit setting wins over the state file.
    // An explicit setting wins over the state file; the key must come with it, since the chain is keyed.
    const keyless = run({ LOCAL_STATE_FILE: stateFile, AzureWebJobsStorage: azurite.connectionString, INTAKE_MAC_KEY: '' });
    expect(keyless.status).toBe(2);
    expect(keyless.stderr).toMatch(/INTAKE_MAC_KEY is not set: the audit chain is keyed/);
    const explicit = run({ LOCAL_STATE_FILE: stateFile, AzureWebJobsStorage: azurite.connectionString, INTAKE_MAC_KEY: TEST_SECRETS.intakeMacKey });
    expect(explicit.stderr).toContain('AzureWebJobsStorage from the environment');
    expect(explicit.status).toBe(0);
  }, 60_000);
});
