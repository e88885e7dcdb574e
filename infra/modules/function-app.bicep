// Flex Consumption (FC1, Linux) plan and the function app, Node 22, running as the user-assigned managed
// identity: storage, Key Vault references, Application Insights and Microsoft Graph all use it.

@description('Name of the function app; the API is https://<name>.azurewebsites.net/api.')
param name string

@description('Name of the Flex Consumption plan (one app per plan).')
param planName string

@description('Azure region.')
param location string

@description('Tags for the plan and the app (the app also gets azd-service-name).')
param tags object = {}

@description('Resource id of the user-assigned managed identity.')
param identityResourceId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Name of the storage account used for AzureWebJobsStorage and the app\'s tables and queue.')
param storageAccountName string

@description('Blob service URI of that account, without a trailing slash.')
param blobServiceUri string

@description('Queue service URI of that account, without a trailing slash.')
param queueServiceUri string

@description('Table service URI of that account, without a trailing slash.')
param tableServiceUri string

@description('URL of the blob container Flex Consumption deploys the app package from.')
param deploymentContainerUrl string

@description('Name of the Key Vault the webhook secrets are read from.')
param keyVaultName string

@description('Application Insights connection string (not a secret: local auth is disabled on the component).')
param applicationInsightsConnectionString string

@description('Upper bound of instances the app scales out to. It also bounds Graph concurrency: at most maximumInstanceCount x (queue batchSize + newBatchThreshold from host.json) x GRAPH_MAX_CONCURRENCY calls at once.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('GRAPH_BASE_URL: origin of Microsoft Graph (national clouds differ).')
param graphBaseUrl string

@description('JIRA_TARGET_FIELD: the Jira issue field that holds the target user\'s UPN.')
param jiraTargetField string

@description('SERVICENOW_TARGET_FIELD: the ServiceNow record field (dot paths allowed) that holds the target user\'s UPN.')
param serviceNowTargetField string

@description('TENANT_DOMAINS: comma-separated domains; targets outside them are refused at intake. Empty: no domain check.')
param tenantDomains string

@description('REQUIRE_APPROVAL: refuse requests that carry no approver.')
param requireApproval bool

@description('PROTECTED_GROUP_IDS: comma-separated group object ids whose members are never reset.')
param protectedGroupIds string

@description('BREAK_GLASS_UPNS: comma-separated emergency-access accounts that are never reset.')
param breakGlassUpns string

@description('RESET_COOLDOWN_MAX: at most this many resets of one user within RESET_COOLDOWN_MINUTES.')
@minValue(1)
param resetCooldownMax int

@description('RESET_COOLDOWN_MINUTES: the cooldown window.')
@minValue(1)
param resetCooldownMinutes int

@description('GRAPH_MAX_CONCURRENCY: Graph calls one reset makes at once.')
@minValue(1)
param graphMaxConcurrency int

@description('GRAPH_MAX_INLINE_WAIT_SECONDS: a longer Retry-After re-queues the request instead of waiting.')
@minValue(1)
param graphMaxInlineWaitSeconds int

@description('BULK_RATE_PER_MINUTE: default pace of bulk remediation, users per minute.')
@minValue(1)
param bulkRatePerMinute int

@description('GRAPH_WRITE_BUDGET_PER_SECOND: directory writes per second the whole app sends to Graph.')
@minValue(1)
param graphWriteBudgetPerSecond int

@description('RESET_LEASE_SECONDS: how long a worker holds a request without writing progress.')
@minValue(10)
param resetLeaseSeconds int

var appResources = loadJsonContent('../app-resources.json')

// Every setting the app reads (shared/config.ts) that is not a secret, plus the host's own settings.
// test/infra/app-settings.test.ts reads the keys of this object and of keyVaultSecrets in
// app-resources.json and compares them with the schema: keep one key per line.
// Not set on purpose: AzureWebJobsStorage (the connection-string form; identity-based settings below
// replace it), and FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION / WEBSITE_RUN_FROM_PACKAGE,
// which Flex Consumption takes from functionAppConfig and refuses as app settings.
var appSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: blobServiceUri
  AzureWebJobsStorage__queueServiceUri: queueServiceUri
  AzureWebJobsStorage__tableServiceUri: tableServiceUri
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  GRAPH_BASE_URL: graphBaseUrl
  GRAPH_AUTH: 'default'
  AZURE_CLIENT_ID: identityClientId
  LOCAL_DEMO_MODE: 'false'
  JIRA_TARGET_FIELD: jiraTargetField
  SERVICENOW_TARGET_FIELD: serviceNowTargetField
  TENANT_DOMAINS: tenantDomains
  REQUIRE_APPROVAL: requireApproval ? 'true' : 'false'
  PROTECTED_GROUP_IDS: protectedGroupIds
  BREAK_GLASS_UPNS: breakGlassUpns
  RESET_COOLDOWN_MAX: string(resetCooldownMax)
  RESET_COOLDOWN_MINUTES: string(resetCooldownMinutes)
  GRAPH_MAX_CONCURRENCY: string(graphMaxConcurrency)
  GRAPH_MAX_INLINE_WAIT_SECONDS: string(graphMaxInlineWaitSeconds)
  BULK_RATE_PER_MINUTE: string(bulkRatePerMinute)
  GRAPH_WRITE_BUDGET_PER_SECOND: string(graphWriteBudgetPerSecond)
  RESET_LEASE_SECONDS: string(resetLeaseSeconds)
}

// Secrets: Key Vault references resolved by the platform with the user-assigned identity
// (keyVaultReferenceIdentity below). A reference that cannot be resolved reaches the app as the
// literal "@Microsoft.KeyVault(...)" text, so init-secrets.sh makes sure every secret exists.
var keyVaultReferences = toObject(
  items(appResources.keyVaultSecrets),
  entry => entry.key,
  entry => '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${entry.value})'
)

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityResourceId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(appSettings, keyVaultReferences)
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
