import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingNames } from '../../shared/config';
import { QUEUES, TABLES } from '../../shared/storage/names';

/**
 * Checks that need no Bicep compiler: the example settings file and infra/app-resources.json against the
 * code. What the templates deploy (app settings equal to the schema, Key Vault references, role
 * assignments, network) is checked on the compiler's output in compiled-infra.test.ts.
 */

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const appResources = JSON.parse(read('infra/app-resources.json')) as {
  keyVaultSecrets: Record<string, { secretName: string; create: string; optional?: boolean }>;
  tables: string[];
  queues: string[];
};
const schemaSettings = [...settingNames] as string[];

describe('local.settings.example.json', () => {
  const example = JSON.parse(read('local.settings.example.json')) as { Values: Record<string, string> };
  const listed = Object.keys(example.Values);

  it('lists every schema setting (the identity-based storage alternatives may stand in for each other)', () => {
    // The example uses the connection-string form for Azurite; the AzureWebJobsStorage__* names are the
    // identity-based alternative to it and are documented in docs/configuration.md.
    const alternatives = (name: string) => name.startsWith('AzureWebJobsStorage__');
    const missing = schemaSettings.filter((name) => !listed.includes(name) && !alternatives(name));
    expect(missing).toEqual([]);
    expect(listed.some((name) => name === 'AzureWebJobsStorage' || alternatives(name))).toBe(true);
  });
});

describe('infra/app-resources.json', () => {
  it('maps only settings the schema reads to Key Vault secrets', () => {
    expect(Object.keys(appResources.keyVaultSecrets).filter((name) => !schemaSettings.includes(name))).toEqual([]);
  });

  // Infra may create a name before the code that uses it lands; a name the code uses must be there.
  it('has every table', () => {
    expect(Object.values(TABLES).filter((name) => !appResources.tables.includes(name))).toEqual([]);
  });

  it('has every queue, the poison queue included', () => {
    expect(Object.values(QUEUES).filter((name) => !appResources.queues.includes(name))).toEqual([]);
  });

  it('has valid and distinct names', () => {
    for (const name of appResources.tables) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]{2,62}$/);
    for (const name of appResources.queues) expect(name).toMatch(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/);
    expect(new Set(appResources.tables).size).toBe(appResources.tables.length);
    expect(new Set(appResources.queues).size).toBe(appResources.queues.length);
  });
});

describe('how the Node.js worker starts', () => {
  const resources = JSON.parse(read('infra/app-resources.json')) as { nodeArguments: string };
  const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

  it('the bench runs the app with the arguments the Functions host gets in Azure, read from one file', () => {
    expect(resources.nodeArguments).toBe('--heap-growing-percent=50');
    expect(packageJson.scripts.start).toBe('node --import tsx dev/start.ts');
    expect(read('infra/main.bicep')).toMatch(/languageWorkers__node__arguments: loadJsonContent\('app-resources.json'\)\.nodeArguments/);
    expect(read('dev/bench/run.ts')).toMatch(/nodeArguments: workerNodeArguments\(ROOT\)/);
  });
});
