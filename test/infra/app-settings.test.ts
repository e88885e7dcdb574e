import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingNames } from '../../shared/config';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { objectLiteralKeys, params, variableObjectKeys } from './bicep-text';

/**
 * The settings the app reads (the zod schema in shared/config.ts) and the app settings infra/ sets must be
 * the same set. Infra sets them in two places, both read here:
 *   - `var appSettings = { ... }` in infra/modules/function-app.bicep (plain values), and
 *   - `keyVaultSecrets` in infra/app-resources.json (Key Vault references built from that map).
 * The only differences allowed are the two lists below, each with its reason.
 */

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const functionAppBicep = read('infra/modules/function-app.bicep');
const mainBicep = read('infra/main.bicep');
const appResources = JSON.parse(read('infra/app-resources.json')) as {
  keyVaultSecrets: Record<string, string>;
  tables: string[];
  queues: string[];
  deploymentContainer: string;
};

/** Read by the schema, deliberately not set by infra: Azure uses the identity-based form instead. */
const SCHEMA_ONLY: Record<string, string> = {
  AzureWebJobsStorage:
    'the connection-string form (account key or Azurite); in Azure the account has shared keys disabled and ' +
    'the AzureWebJobsStorage__* identity-based settings take its place',
};

/** Set by infra for the Functions host, not read by the app's schema. */
const HOST_ONLY: Record<string, string> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'where the Functions host sends telemetry',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'makes the host authenticate to Application Insights with the managed identity',
};

/** Flex Consumption takes these from functionAppConfig and refuses them as app settings. */
const REFUSED_ON_FLEX = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
];

/** A schema setting whose name says it holds a secret must come from Key Vault. */
const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY)/;

const plainSettings = variableObjectKeys(functionAppBicep, 'appSettings');
const keyVaultSettings = Object.keys(appResources.keyVaultSecrets);
const infraSettings = [...plainSettings, ...keyVaultSettings];
const schemaSettings = [...settingNames] as string[];

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

describe('app settings: shared/config.ts and infra/ set the same names', () => {
  it('reads a plausible number of settings from both sides', () => {
    expect(schemaSettings.length).toBeGreaterThan(10);
    expect(plainSettings.length).toBeGreaterThan(10);
  });

  it('infra sets every setting the schema reads (except the documented schema-only ones)', () => {
    const missing = schemaSettings.filter((name) => !infraSettings.includes(name) && !(name in SCHEMA_ONLY));
    expect(missing, 'add these to appSettings in infra/modules/function-app.bicep or keyVaultSecrets in infra/app-resources.json').toEqual([]);
  });

  it('infra sets nothing the schema does not read (except the documented host-only ones)', () => {
    const unknown = infraSettings.filter((name) => !schemaSettings.includes(name) && !(name in HOST_ONLY));
    expect(unknown, 'add these to shared/config.ts or remove them from infra').toEqual([]);
  });

  it('the two sets are equal once the documented exceptions are applied', () => {
    const fromSchema = sorted([...schemaSettings.filter((name) => !(name in SCHEMA_ONLY)), ...Object.keys(HOST_ONLY)]);
    expect(sorted(infraSettings)).toEqual(fromSchema);
  });

  it('the exceptions are still needed: each schema-only name is in the schema and each host-only name is not', () => {
    for (const name of Object.keys(SCHEMA_ONLY)) {
      expect(schemaSettings).toContain(name);
      expect(infraSettings).not.toContain(name);
    }
    for (const name of Object.keys(HOST_ONLY)) {
      expect(schemaSettings).not.toContain(name);
      expect(infraSettings).toContain(name);
    }
  });

  it('storage is identity-based: account name, managed identity credential and client id are set', () => {
    for (const name of ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId']) {
      expect(plainSettings).toContain(name);
    }
    expect(functionAppBicep).toMatch(/AzureWebJobsStorage__credential:\s*'managedidentity'/);
  });

  it('sets no app setting twice and none that Flex Consumption refuses', () => {
    expect(infraSettings.length).toBe(new Set(infraSettings).size);
    expect(infraSettings.filter((name) => REFUSED_ON_FLEX.includes(name))).toEqual([]);
  });

  it('the demo and loopback-only switches are fixed for Azure', () => {
    expect(functionAppBicep).toMatch(/LOCAL_DEMO_MODE:\s*'false'/);
    expect(functionAppBicep).toMatch(/GRAPH_AUTH:\s*'default'/);
  });
});

describe('secrets come from Key Vault', () => {
  it('every secret-looking schema setting is a Key Vault reference, not a plain value', () => {
    const secretSettings = schemaSettings.filter((name) => SECRET_NAME.test(name));
    expect(secretSettings.length).toBeGreaterThan(0);
    expect(sorted(secretSettings.filter((name) => !keyVaultSettings.includes(name)))).toEqual([]);
    expect(plainSettings.filter((name) => keyVaultSettings.includes(name))).toEqual([]);
  });

  it('secret names are valid Key Vault names and distinct', () => {
    const names = Object.values(appResources.keyVaultSecrets);
    for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z-]{1,127}$/);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the references use the Key Vault reference syntax and the app resolves them with its user-assigned identity', () => {
    expect(functionAppBicep).toContain("'@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${entry.value})'");
    expect(functionAppBicep).toMatch(/keyVaultReferenceIdentity:\s*identityResourceId/);
  });
});

describe('infra creates the storage shared/storage/names.ts names', () => {
  // Infra may create a name before the code that uses it lands; a name the code uses must be there.
  it('every table', () => {
    expect(Object.values(TABLES).filter((name) => !appResources.tables.includes(name))).toEqual([]);
  });

  it('every queue, the poison queue included', () => {
    expect(Object.values(QUEUES).filter((name) => !appResources.queues.includes(name))).toEqual([]);
  });

  it('valid and distinct names', () => {
    for (const name of appResources.tables) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]{2,62}$/);
    for (const name of appResources.queues) expect(name).toMatch(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/);
    expect(new Set(appResources.tables).size).toBe(appResources.tables.length);
    expect(new Set(appResources.queues).size).toBe(appResources.queues.length);
  });
});

describe('local.settings.example.json', () => {
  const example = JSON.parse(read('local.settings.example.json')) as { Values: Record<string, string> };
  const listed = Object.keys(example.Values);

  it('lists every schema setting (the identity-based storage alternatives may stand in for each other)', () => {
    // The example uses the connection-string form for Azurite; the AzureWebJobsStorage__* names are the
    // identity-based alternative to it and are documented in the README's configuration table.
    const alternatives = (name: string) => name.startsWith('AzureWebJobsStorage__');
    const missing = schemaSettings.filter((name) => !listed.includes(name) && !alternatives(name));
    expect(missing).toEqual([]);
    expect(listed.some((name) => name === 'AzureWebJobsStorage' || alternatives(name))).toBe(true);
  });
});

describe('infra/main.bicep parameters', () => {
  const mainParams = params(mainBicep);
  const moduleParams = params(functionAppBicep);

  it('every parameter has a description', () => {
    const undocumented = [...mainParams, ...moduleParams]
      .filter((param) => !param.decorators.some((decorator) => decorator.startsWith('@description(')))
      .map((param) => param.name);
    expect(undocumented).toEqual([]);
  });

  it('main.parameters.json gives values only to declared parameters, and every required one', () => {
    const file = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, unknown> };
    const declared = mainParams.map((param) => param.name);
    expect(Object.keys(file.parameters).filter((name) => !declared.includes(name))).toEqual([]);
    const required = mainParams.filter((param) => !param.hasDefault).map((param) => param.name);
    expect(required.filter((name) => !(name in file.parameters))).toEqual([]);
  });

  it('the function app module is given every parameter it declares', () => {
    const call = /module functionApp 'modules\/function-app\.bicep' = \{/.exec(mainBicep);
    expect(call).not.toBeNull();
    const body = mainBicep.slice(call!.index);
    const paramsBlock = /\n  params: \{/.exec(body);
    expect(paramsBlock).not.toBeNull();
    const given = objectLiteralKeys(body, paramsBlock!.index + paramsBlock![0].length - 1);
    const required = moduleParams.filter((param) => !param.hasDefault).map((param) => param.name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
    expect(given.filter((name) => !moduleParams.some((param) => param.name === name))).toEqual([]);
  });

  it('bounds scale-out and runs Node 22 on Flex Consumption', () => {
    const max = mainParams.find((param) => param.name === 'maximumInstanceCount');
    expect(max?.decorators).toContain('@maxValue(1000)');
    expect(mainBicep).toMatch(/param maximumInstanceCount int = \d+/);
    expect(functionAppBicep).toMatch(/name: 'FC1'[\s\S]*tier: 'FlexConsumption'/);
    expect(functionAppBicep).toMatch(/runtime: \{\s*name: 'node'\s*version: '22'\s*\}/);
    expect(functionAppBicep).toMatch(/type: 'UserAssignedIdentity'/);
  });

  it('outputs the function URL', () => {
    expect(mainBicep).toMatch(/^output FUNCTION_APP_URL string = 'https:\/\/\$\{functionApp\.outputs\.defaultHostName\}'/m);
  });
});
