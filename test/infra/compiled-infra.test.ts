import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { settingNames } from '../../shared/config';
import { QUEUES, TABLES } from '../../shared/storage/names';
import { all, bicepUnavailable, compileInfra, one, prop, root, type Compiled, type SnapshotResource } from './bicep';

/**
 * What infra/main.bicep deploys, read from the real Bicep compiler's output (infra/scripts/bicep.sh):
 * the compiled ARM template, and `bicep snapshot` of it under two parameter sets, the azd defaults and
 * the opposite choices. Skipped where the compiler cannot run (no dotnet); CI has dotnet and fails
 * instead of skipping.
 */

const appResources = JSON.parse(readFileSync(join(root, 'infra', 'app-resources.json'), 'utf8')) as {
  keyVaultSecrets: Record<string, { secretName: string; create: string; optional?: boolean }>;
  tables: string[];
  queues: string[];
};
const secretEntries = Object.entries(appResources.keyVaultSecrets);
const optionalSettings = secretEntries.filter(([, entry]) => entry.optional).map(([setting]) => setting);

const deployer = '11111111-2222-3333-4444-555555555555';
const parameterSets = {
  // What `azd up` deploys when nothing is chosen (main.parameters.json passes the same defaults).
  defaults: { environmentName: 'ci', location: 'westeurope', principalId: deployer },
  // Every choice the other way round.
  opposite: {
    environmentName: 'ci-open',
    location: 'westeurope',
    principalId: '',
    privateNetworking: false,
    allowedInboundIpRanges: '203.0.113.0/24, 198.51.100.7/32,',
    optionalSecrets: optionalSettings.join(','),
  },
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
  languageWorkers__node__arguments: 'the Node.js arguments the host starts the worker with (infra/app-resources.json nodeArguments)',
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: 'the host refuses bodies over the largest route cap before the worker streams them (functions/index.ts)',
};

/**
 * What Flex Consumption deprecates, copied from Microsoft's list: "In the Flex Consumption plan, these
 * site properties and application settings are deprecated and shouldn't be used when creating function
 * app resources." Source: learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations
 * (ms.date 12/22/2025), read 2026-12-07. Some are refused outright: a site carrying siteConfig.ftpsState
 * gets 400 "The following site configuration properties (Site.SiteConfig.FtpsState, ...) for Flex
 * Consumption sites is invalid".
 */
const FLEX_DEPRECATED_SETTINGS = [
  'ENABLE_ORYX_BUILD',
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'FUNCTIONS_MAX_HTTP_CONCURRENCY',
  'FUNCTIONS_WORKER_PROCESS_COUNT',
  'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTOVERVNET',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_DNS_SERVER',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
  'WEBSITE_VNET_ROUTE_ALL',
];
/** Microsoft writes these as `properties.X`; they are site properties or site configuration (siteConfig) properties. */
const FLEX_DEPRECATED_PROPERTIES = [
  'alwaysOn',
  'containerSize',
  'dnsConfiguration',
  'ftpsState',
  'isReserved',
  'IsXenon',
  'javaVersion',
  'LinuxFxVersion',
  'netFrameworkVersion',
  'powerShellVersion',
  'functionAppScaleLimit',
  'preWarmedInstanceCount',
  'use32BitWorkerProcess',
  'vnetBackupRestoreEnabled',
  'vnetContentShareEnabled',
  'vnetImagePullEnabled',
  'vnetRouteAllEnabled',
  'windowsFxVersion',
];

/** A schema setting whose name says it holds a secret or a key must come from Key Vault. */
const SECRET_NAME = /(SECRET|TOKEN|PASSWORD|API_KEY|PRIVATE_KEY|_KEY$)/;

const roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
};

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
const unavailable = bicepUnavailable();

if (unavailable && process.env.CI) {
  // CI has dotnet: a missing compiler there is a broken pipeline, not a reason to skip.
  describe('compiled infra', () => {
    it('runs the Bicep compiler', () => {
      throw new Error(`CI cannot run the Bicep compiler: ${unavailable}`);
    });
  });
}

describe.skipIf(unavailable !== undefined)(`compiled infra${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let compiled: Compiled;
  let defaults: SnapshotResource[];
  let opposite: SnapshotResource[];

  beforeAll(async () => {
    compiled = await compileInfra(parameterSets);
    defaults = compiled.snapshots.defaults!;
    opposite = compiled.snapshots.opposite!;
  }, 300_000);

  const appSettingsOf = (resources: SnapshotResource[]) =>
    one(resources, 'Microsoft.Web/sites/config', '/appsettings').properties as Record<string, unknown>;
  const identityOf = (resources: SnapshotResource[]) => one(resources, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  /** How the snapshot writes a deployment-time property of the identity. */
  const identityReference = (resources: SnapshotResource[], property: 'principalId' | 'clientId') =>
    `[reference('${identityOf(resources).id}', '${identityOf(resources).apiVersion}').${property}]`;

  describe('the compiler', () => {
    it('built, linted and snapshot the template with no error and no warning', () => {
      expect(compiled.output).toMatch(/Bicep CLI version 0\.49\.2/);
      expect(compiled.output).not.toMatch(/: (Error|Warning) /);
      expect(compiled.template.$schema).toContain('subscriptionDeploymentTemplate.json');
    });

    it('uses no module from a registry (the deployment must not depend on one being reachable)', () => {
      const text = JSON.stringify(compiled.template);
      expect(text).not.toMatch(/br:|br\/public|mcr\.microsoft\.com/);
    });
  });

  describe('app settings: shared/config.ts and infra set the same names', () => {
    it('infra sets every setting the schema reads (except the documented schema-only ones), and nothing else but the host-only ones', () => {
      const infra = Object.keys(appSettingsOf(defaults));
      const schema = settingNames as string[];
      const missing = schema.filter((name) => !infra.includes(name) && !(name in SCHEMA_ONLY));
      expect(missing, 'add these to the app settings list in infra/main.bicep (secrets: also infra/app-resources.json)').toEqual([]);
      const unknown = infra.filter((name) => !schema.includes(name) && !(name in HOST_ONLY));
      expect(unknown, 'add these to shared/config.ts or remove them from infra').toEqual([]);
      expect(sorted(infra)).toEqual(sorted([...schema.filter((name) => !(name in SCHEMA_ONLY)), ...Object.keys(HOST_ONLY)]));
    });

    it('the exceptions are still needed', () => {
      const infra = Object.keys(appSettingsOf(defaults));
      for (const name of Object.keys(SCHEMA_ONLY)) {
        expect(settingNames).toContain(name);
        expect(infra).not.toContain(name);
      }
      for (const name of Object.keys(HOST_ONLY)) {
        expect(settingNames).not.toContain(name);
        expect(infra).toContain(name);
      }
    });

    it('the same names whatever the parameters', () => {
      expect(sorted(Object.keys(appSettingsOf(opposite)))).toEqual(sorted(Object.keys(appSettingsOf(defaults))));
    });

    it('storage is identity-based, with the user-assigned identity and the account the template creates', () => {
      const settings = appSettingsOf(defaults);
      const account = one(defaults, 'Microsoft.Storage/storageAccounts');
      expect(settings.AzureWebJobsStorage__accountName).toBe(account.name);
      expect(settings.AzureWebJobsStorage__credential).toBe('managedidentity');
      expect(settings.AzureWebJobsStorage__clientId).toBe(identityReference(defaults, 'clientId'));
      for (const service of ['blob', 'queue', 'table']) {
        expect(String(settings[`AzureWebJobsStorage__${service}ServiceUri`])).toContain(`'https://{0}.${service}.{1}', '${account.name}'`);
      }
      expect(prop(one(defaults, 'Microsoft.Storage/storageAccounts'), 'allowSharedKeyAccess')).toBe(false);
    });

    it('Graph runs as the identity; the demo and loopback-only switches are off', () => {
      const settings = appSettingsOf(defaults);
      expect(settings.AZURE_CLIENT_ID).toBe(identityReference(defaults, 'clientId'));
      expect(settings.GRAPH_AUTH).toBe('default');
      expect(settings.LOCAL_DEMO_MODE).toBe('false');
      expect(settings.GRAPH_BASE_URL).toBe('https://graph.microsoft.com');
      expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toContain("'ClientId={0};Authorization=AAD'");
    });

    it('plain values are their parameters\' defaults, as strings', () => {
      const settings = appSettingsOf(defaults);
      const params = compiled.template.parameters;
      const wired: Record<string, string> = {
        REQUIRE_APPROVAL: 'requireApproval',
        RESET_COOLDOWN_MAX: 'resetCooldownMax',
        RESET_COOLDOWN_MINUTES: 'resetCooldownMinutes',
        GRAPH_WRITE_BUDGET_PER_SECOND: 'graphWriteBudgetPerSecond',
        RESET_LEASE_SECONDS: 'resetLeaseSeconds',
        BULK_RATE_PER_MINUTE: 'bulkRatePerMinute',
        JIRA_TARGET_FIELD: 'jiraTargetField',
      };
      for (const [setting, param] of Object.entries(wired)) {
        expect(params[param], param).toHaveProperty('defaultValue');
        expect(settings[setting], setting).toBe(String(params[param]!.defaultValue));
      }
      for (const [name, value] of Object.entries(settings)) expect(typeof value, name).toBe('string');
    });
  });

  describe('secrets come from Key Vault', () => {
    const reference = (resources: SnapshotResource[], secretName: string) =>
      `@Microsoft.KeyVault(VaultName=${one(resources, 'Microsoft.KeyVault/vaults').name};SecretName=${secretName})`;

    it('every secret-looking schema setting is in the Key Vault map, and the map names only schema settings', () => {
      const secretSettings = (settingNames as string[]).filter((name) => SECRET_NAME.test(name));
      expect(secretSettings.length).toBeGreaterThan(3);
      expect(secretSettings.filter((name) => !(name in appResources.keyVaultSecrets))).toEqual([]);
      expect(secretEntries.map(([setting]) => setting).filter((name) => !(settingNames as string[]).includes(name))).toEqual([]);
    });

    it('each mapped setting is a reference to its own secret in the vault the template creates (optional ones empty by default)', () => {
      const settings = appSettingsOf(defaults);
      for (const [setting, entry] of secretEntries) {
        expect(settings[setting], setting).toBe(entry.optional ? '' : reference(defaults, entry.secretName));
      }
    });

    it('optional secrets listed in optionalSecrets become references too', () => {
      expect(optionalSettings).toContain('WEBHOOK_SECRET_JIRA_AUTOMATION');
      const settings = appSettingsOf(opposite);
      for (const [setting, entry] of secretEntries) expect(settings[setting], setting).toBe(reference(opposite, entry.secretName));
    });

    it('no other setting is a Key Vault reference, and no setting holds a literal secret', () => {
      for (const resources of [defaults, opposite]) {
        for (const [name, value] of Object.entries(appSettingsOf(resources))) {
          if (!(name in appResources.keyVaultSecrets)) expect(String(value), name).not.toContain('@Microsoft.KeyVault');
        }
      }
    });

    it('the platform resolves the references with the user-assigned identity', () => {
      expect(prop(one(defaults, 'Microsoft.Web/sites'), 'keyVaultReferenceIdentity')).toBe(identityOf(defaults).id);
    });

    it('secret names are valid Key Vault names, distinct, and say how init-secrets.sh creates them', () => {
      const names = secretEntries.map(([, entry]) => entry.secretName);
      for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z-]{1,127}$/);
      expect(new Set(names).size).toBe(names.length);
      for (const [setting, entry] of secretEntries) expect(['hex32', 'base64-32', 'whsec32', 'byAdmin'], setting).toContain(entry.create);
      expect(appResources.keyVaultSecrets.WEBHOOK_SECRET_GENERIC?.create).toBe('whsec32');
      expect(appResources.keyVaultSecrets.TAP_SEALING_KEY?.create).toBe('base64-32');
      expect(appResources.keyVaultSecrets.INTAKE_MAC_KEY?.create).toBe('base64-32');
    });

    it('the vault uses Azure RBAC, soft delete and purge protection', () => {
      const vault = one(defaults, 'Microsoft.KeyVault/vaults');
      expect(prop(vault, 'enableRbacAuthorization')).toBe(true);
      expect(prop(vault, 'enableSoftDelete')).toBe(true);
      expect(prop(vault, 'enablePurgeProtection')).toBe(true);
    });
  });

  describe('role assignments', () => {
    /** [scope resource type, role id, principal] of every role assignment, sorted. */
    function assignments(resources: SnapshotResource[]) {
      return all(resources, 'Microsoft.Authorization/roleAssignments')
        .map((assignment) => {
          const scope = /^\[extensionResourceId\('([^']+)'/.exec(assignment.id)?.[1] ?? assignment.id.split('/providers/Microsoft.Authorization/')[0]!;
          const scopeResource = resources.find((r) => r.id === scope);
          const roleId = String(prop(assignment, 'roleDefinitionId')).split('/').pop()!;
          return `${scopeResource?.type ?? `unknown scope ${scope}`} ${roleId} ${String(prop(assignment, 'principalId'))} ${String(prop(assignment, 'principalType'))}`;
        })
        .sort();
    }

    it('the identity holds exactly the data roles it needs, on exactly those resources; the deployer may write secrets', () => {
      const app = `${identityReference(defaults, 'principalId')} ServicePrincipal`;
      expect(assignments(defaults)).toEqual(
        [
          `Microsoft.Storage/storageAccounts ${roles.storageBlobDataOwner} ${app}`,
          `Microsoft.Storage/storageAccounts ${roles.storageQueueDataContributor} ${app}`,
          `Microsoft.Storage/storageAccounts ${roles.storageTableDataContributor} ${app}`,
          `Microsoft.KeyVault/vaults ${roles.keyVaultSecretsUser} ${app}`,
          `Microsoft.KeyVault/vaults ${roles.keyVaultSecretsOfficer} ${deployer} User`,
          `Microsoft.Insights/components ${roles.monitoringMetricsPublisher} ${app}`,
        ].sort(),
      );
    });

    it('without a deployer principal nobody is made Secrets Officer', () => {
      expect(assignments(opposite).filter((line) => line.includes(roles.keyVaultSecretsOfficer))).toEqual([]);
      expect(assignments(opposite)).toHaveLength(5);
    });
  });

  describe('network: private by default', () => {
    it('storage and Key Vault have no public endpoint and no trusted-service bypass', () => {
      for (const type of ['Microsoft.Storage/storageAccounts', 'Microsoft.KeyVault/vaults']) {
        const resource = one(defaults, type);
        expect(prop(resource, 'publicNetworkAccess'), type).toBe('Disabled');
        expect(prop(resource, 'networkAcls'), type).toEqual({ bypass: 'None', defaultAction: 'Deny', ipRules: [], virtualNetworkRules: [] });
      }
    });

    it('private endpoints for blob, queue, table and vault, each in a linked private DNS zone', () => {
      const account = one(defaults, 'Microsoft.Storage/storageAccounts');
      const vault = one(defaults, 'Microsoft.KeyVault/vaults');
      const vnet = one(defaults, 'Microsoft.Network/virtualNetworks');
      const endpoints = all(defaults, 'Microsoft.Network/privateEndpoints').map((endpoint) => {
        const [connection] = prop(endpoint, 'privateLinkServiceConnections') as { properties: { privateLinkServiceId: string; groupIds: string[] } }[];
        expect(String(prop(endpoint, 'subnet', 'id'))).toBe(`${vnet.id}/subnets/private-endpoints`);
        return `${connection!.properties.privateLinkServiceId} ${connection!.properties.groupIds.join(',')}`;
      });
      expect(endpoints.sort()).toEqual([`${account.id} blob`, `${account.id} queue`, `${account.id} table`, `${vault.id} vault`].sort());
      expect(all(defaults, 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups')).toHaveLength(4);
      const zones = all(defaults, 'Microsoft.Network/privateDnsZones').map((zone) => zone.name);
      expect(zones).toHaveLength(4);
      for (const service of ['blob', 'queue', 'table']) expect(zones).toContain(`[format('privatelink.${service}.{0}', environment().suffixes.storage)]`);
      const links = all(defaults, 'Microsoft.Network/privateDnsZones/virtualNetworkLinks');
      expect(links).toHaveLength(4);
      for (const link of links) expect(prop(link, 'virtualNetwork', 'id')).toBe(vnet.id);
    });

    it('the app is integrated with a subnet delegated to Flex Consumption', () => {
      const vnet = one(defaults, 'Microsoft.Network/virtualNetworks');
      const subnets = prop(vnet, 'subnets') as { name: string; properties: { addressPrefix: string; delegations?: { properties: { serviceName: string } }[] } }[];
      const app = subnets.find((subnet) => subnet.name === 'app');
      expect(app?.properties.delegations?.map((d) => d.properties.serviceName)).toEqual(['Microsoft.App/environments']);
      expect(app?.properties.addressPrefix).toBe('10.70.0.0/24');
      expect(prop(one(defaults, 'Microsoft.Web/sites'), 'virtualNetworkSubnetId')).toBe(`${vnet.id}/subnets/app`);
    });

    it('outbound calls leave through a NAT gateway with one static address, not default outbound access', () => {
      const vnet = one(defaults, 'Microsoft.Network/virtualNetworks');
      const nat = one(defaults, 'Microsoft.Network/natGateways');
      const address = one(defaults, 'Microsoft.Network/publicIPAddresses');
      expect(prop(address, 'publicIPAllocationMethod')).toBe('Static');
      expect(prop(nat, 'publicIpAddresses')).toEqual([{ id: address.id }]);
      const subnets = prop(vnet, 'subnets') as { name: string; properties: { defaultOutboundAccess?: boolean; natGateway?: { id: string } } }[];
      for (const subnet of subnets) expect(subnet.properties.defaultOutboundAccess, subnet.name).toBe(false);
      expect(subnets.find((subnet) => subnet.name === 'app')?.properties.natGateway).toEqual({ id: nat.id });
      expect(compiled.template.outputs).toHaveProperty('OUTBOUND_IP_ADDRESS');
    });

    it('with privateNetworking false there is no network and both keep their public endpoints', () => {
      expect(opposite.filter((r) => r.type.startsWith('Microsoft.Network/'))).toEqual([]);
      expect(prop(one(opposite, 'Microsoft.Storage/storageAccounts'), 'publicNetworkAccess')).toBe('Enabled');
      expect(prop(one(opposite, 'Microsoft.KeyVault/vaults'), 'publicNetworkAccess')).toBe('Enabled');
      expect(prop(one(opposite, 'Microsoft.Web/sites'), 'virtualNetworkSubnetId') ?? null).toBeNull();
    });
  });

  describe('Flex Consumption: nothing it deprecates', () => {
    const lower = (names: readonly string[]) => names.map((name) => name.toLowerCase());

    it('no site property or site configuration property on Microsoft\'s deprecation list, whatever the parameters', () => {
      for (const resources of [defaults, opposite]) {
        const site = one(resources, 'Microsoft.Web/sites');
        const siteConfig = (prop(site, 'siteConfig') ?? {}) as Record<string, unknown>;
        const webConfigs = all(resources, 'Microsoft.Web/sites/config').filter((config) => config.name.endsWith('/web'));
        const used = [...Object.keys(site.properties ?? {}), ...Object.keys(siteConfig), ...webConfigs.flatMap((config) => Object.keys(config.properties ?? {}))];
        expect(used.filter((name) => lower(FLEX_DEPRECATED_PROPERTIES).includes(name.toLowerCase()))).toEqual([]);
      }
    });

    it('no app setting on the list, whatever the parameters (and none in siteConfig.appSettings either)', () => {
      for (const resources of [defaults, opposite]) {
        const names = Object.keys(appSettingsOf(resources));
        expect(names.filter((name) => lower(FLEX_DEPRECATED_SETTINGS).includes(name.toLowerCase()))).toEqual([]);
        expect(prop(one(resources, 'Microsoft.Web/sites'), 'siteConfig', 'appSettings')).toBeUndefined();
      }
    });

    it('nor anywhere in the compiled template under another spelling', () => {
      const text = JSON.stringify(compiled.template).toLowerCase();
      for (const name of [...FLEX_DEPRECATED_SETTINGS, ...FLEX_DEPRECATED_PROPERTIES]) expect(text.includes(`"${name.toLowerCase()}"`), name).toBe(false);
    });
  });

  describe('the function app', () => {
    it('HTTPS only, TLS 1.2 or later for the app and its SCM site', () => {
      const site = one(defaults, 'Microsoft.Web/sites');
      expect(prop(site, 'httpsOnly')).toBe(true);
      expect(prop(site, 'siteConfig', 'minTlsVersion')).toBe('1.2');
      expect(prop(site, 'siteConfig', 'scmMinTlsVersion')).toBe('1.2');
    });

    it('basic publishing credentials are disabled for SCM and FTP', () => {
      const policies = all(defaults, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
      expect(policies.map((policy) => policy.name.split('/').pop()).sort()).toEqual(['ftp', 'scm']);
      for (const policy of policies) expect(prop(policy, 'allow')).toBe(false);
    });

    it('runs Node 22 on Flex Consumption, deploys with the identity, and bounds scale-out', () => {
      const plan = one(defaults, 'Microsoft.Web/serverfarms');
      expect(plan.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
      const site = one(defaults, 'Microsoft.Web/sites');
      expect(prop(site, 'functionAppConfig', 'runtime')).toEqual({ name: 'node', version: '22' });
      expect(prop(site, 'functionAppConfig', 'deployment', 'storage', 'authentication')).toEqual({
        type: 'UserAssignedIdentity',
        userAssignedIdentityResourceId: identityOf(defaults).id,
      });
      expect(prop(site, 'functionAppConfig', 'scaleAndConcurrency', 'maximumInstanceCount')).toBe(40);
      // Flex Consumption accepts 40 to 1,000: a smaller value is refused by the compiler, not by Azure.
      expect(compiled.template.parameters.maximumInstanceCount?.minValue).toBe(40);
      expect(compiled.template.parameters.maximumInstanceCount?.maxValue).toBe(1000);
      const module = compiled.template.resources.functionApp as { properties: { template: { parameters: Record<string, { minValue?: number; maxValue?: number }> } } };
      expect(module.properties.template.parameters.maximumInstanceCount).toMatchObject({ minValue: 40, maxValue: 1000 });
    });

    it('says what host.json says about the queue messages one instance takes at once', () => {
      const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8')) as { extensions: { queues: { batchSize: number; newBatchThreshold: number } } };
      const { batchSize, newBatchThreshold } = host.extensions.queues;
      const description = compiled.template.parameters.maximumInstanceCount?.metadata?.description ?? '';
      expect(description).toContain(`instances x ${batchSize + newBatchThreshold} queue messages per instance (host.json batchSize ${batchSize} + newBatchThreshold ${newBatchThreshold})`);
      const deploy = readFileSync(join(root, 'docs', 'deploy.md'), 'utf8').replace(/\s+/g, ' ');
      expect(deploy).toContain(`instances × ${batchSize + newBatchThreshold} queue messages per instance (\`batchSize\` ${batchSize} + \`newBatchThreshold\` ${newBatchThreshold} in \`host.json\`)`);
    });

    it('without allowed ranges any address may call; with them, only those ranges', () => {
      const open = one(defaults, 'Microsoft.Web/sites');
      expect(prop(open, 'siteConfig', 'ipSecurityRestrictions')).toEqual([]);
      expect(prop(open, 'siteConfig', 'ipSecurityRestrictionsDefaultAction')).toBe('Allow');
      const restricted = one(opposite, 'Microsoft.Web/sites');
      expect(prop(restricted, 'siteConfig', 'ipSecurityRestrictionsDefaultAction')).toBe('Deny');
      const rules = prop(restricted, 'siteConfig', 'ipSecurityRestrictions') as { action: string; ipAddress: string }[];
      expect(rules.map((rule) => `${rule.action} ${rule.ipAddress}`)).toEqual(['Allow 203.0.113.0/24', 'Allow 198.51.100.7/32']);
      // The deployment (SCM) site keeps its own, unrestricted list: it accepts only Entra ID tokens.
      expect(prop(restricted, 'siteConfig', 'scmIpSecurityRestrictionsUseMain')).toBe(false);
    });
  });

  describe('resource providers', () => {
    const listed = (JSON.parse(readFileSync(join(root, 'infra', 'app-resources.json'), 'utf8')) as { resourceProviders: string[] }).resourceProviders;
    /** Registered in every subscription: nothing to register. */
    const ALWAYS = ['Microsoft.Resources', 'Microsoft.Authorization'];

    it('the preprovision hook registers the namespace of every resource type deployed, whatever the parameters', () => {
      const namespaces = new Set([...defaults, ...opposite].map((resource) => resource.type.split('/')[0]!));
      expect([...namespaces].filter((namespace) => !listed.includes(namespace) && !ALWAYS.includes(namespace))).toEqual([]);
    });

    it('and Microsoft.App, which the app subnet is delegated to and no deployment registers', () => {
      const vnet = one(defaults, 'Microsoft.Network/virtualNetworks');
      const subnets = prop(vnet, 'subnets') as { properties: { delegations?: { properties: { serviceName: string } }[] } }[];
      const delegated = subnets.flatMap((subnet) => subnet.properties.delegations ?? []).map((d) => d.properties.serviceName.split('/')[0]!);
      expect(delegated).toEqual(['Microsoft.App']);
      for (const namespace of delegated) expect(listed).toContain(namespace);
    });
  });

  describe('storage names', () => {
    it('creates every table and queue shared/storage/names.ts names, and the deployment container', () => {
      const tables = all(defaults, 'Microsoft.Storage/storageAccounts/tableServices/tables').map((t) => t.name.split('/').pop());
      const queues = all(defaults, 'Microsoft.Storage/storageAccounts/queueServices/queues').map((q) => q.name.split('/').pop());
      expect(Object.values(TABLES).filter((name) => !tables.includes(name))).toEqual([]);
      expect(Object.values(QUEUES).filter((name) => !queues.includes(name))).toEqual([]);
      const container = one(defaults, 'Microsoft.Storage/storageAccounts/blobServices/containers');
      expect(prop(container, 'publicAccess')).toBe('None');
    });
  });

  describe('parameters and outputs', () => {
    it('every parameter of the template and of its modules has a description', () => {
      const undocumented: string[] = [];
      const visit = (template: Record<string, unknown>, where: string) => {
        const params = (template.parameters ?? {}) as Record<string, { metadata?: { description?: string } }>;
        for (const [name, param] of Object.entries(params)) if (!param.metadata?.description) undocumented.push(`${where}.${name}`);
        for (const [symbol, resource] of Object.entries((template.resources ?? {}) as Record<string, Record<string, unknown>>)) {
          const nested = (resource.properties as { template?: Record<string, unknown> } | undefined)?.template;
          if (resource.type === 'Microsoft.Resources/deployments' && nested) visit(nested, symbol);
        }
      };
      visit(compiled.template, 'main');
      expect(undocumented).toEqual([]);
    });

    it('main.parameters.json gives values only to declared parameters, and to every required one', () => {
      const file = JSON.parse(readFileSync(join(root, 'infra', 'main.parameters.json'), 'utf8')) as { parameters: Record<string, unknown> };
      const declared = Object.keys(compiled.template.parameters);
      expect(Object.keys(file.parameters).filter((name) => !declared.includes(name))).toEqual([]);
      const required = Object.entries(compiled.template.parameters).filter(([, param]) => !('defaultValue' in param)).map(([name]) => name);
      expect(required.filter((name) => !(name in file.parameters))).toEqual([]);
    });

    it('outputs what azd and the scripts read', () => {
      for (const name of [
        'FUNCTION_APP_URL',
        'API_BASE_URL',
        'AZURE_FUNCTION_APP_NAME',
        'AZURE_RESOURCE_GROUP',
        'AZURE_KEY_VAULT_NAME',
        'MANAGED_IDENTITY_PRINCIPAL_ID',
        'PRIVATE_NETWORKING',
      ]) {
        expect(compiled.template.outputs, name).toHaveProperty(name);
      }
    });
  });
});
