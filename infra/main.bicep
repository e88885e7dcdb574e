// entra-mfa-reset on Azure: a Flex Consumption function app running as a user-assigned managed identity,
// keyless storage, Key Vault for the webhook secrets, Log Analytics + Application Insights with Entra auth.
// `azd up` deploys it (azure.yaml); `az deployment sub create -f infra/main.bicep -l <region>` works too.
// Microsoft Graph permissions are granted afterwards by infra/scripts/grant-graph-permissions.sh: an ARM
// deployment cannot grant Entra application roles.

targetScope = 'subscription'

// ---------- environment ----------

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd: AZURE_ENV_NAME). Resource names are derived from it, the subscription and the region.')
param environmentName string

@minLength(1)
@description('Azure region for all resources; it must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Resource group to create or reuse. Empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Function app name (globally unique host name). Empty: func-<token>.')
param functionAppName string = ''

@description('Object id of the person or group deploying (azd: AZURE_PRINCIPAL_ID). It is made Key Vault Secrets Officer so that it can set the webhook secrets. Empty: nobody.')
param principalId string = ''

@description('Type of principalId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param principalType string = 'User'

// ---------- scale ----------

@description('Most instances the app scales out to (Flex Consumption has accepted no value below 40 so far; the platform refuses what it does not support). This is the outer bound of Graph concurrency: instances x 12 queue messages per instance (host.json batchSize 8 + newBatchThreshold 4) x GRAPH_MAX_CONCURRENCY.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

// ---------- application settings a deployer chooses (see README "Configuration") ----------

@description('GRAPH_BASE_URL: origin of Microsoft Graph. Change only for national clouds (for example https://graph.microsoft.us).')
param graphBaseUrl string = 'https://graph.microsoft.com'

@description('JIRA_TARGET_FIELD: the Jira issue field that holds the target user\'s UPN (for example customfield_10050).')
param jiraTargetField string = 'customfield_10050'

@description('SERVICENOW_TARGET_FIELD: the ServiceNow record field that holds the target user\'s UPN; dot paths allowed.')
param serviceNowTargetField string = 'u_target_upn'

@description('TENANT_DOMAINS: comma-separated domains of your tenant (for example contoso.com,contoso.onmicrosoft.com). Targets outside them are refused at intake. Empty: no domain check.')
param tenantDomains string = ''

@description('REQUIRE_APPROVAL: refuse requests that name no approver.')
param requireApproval bool = false

@description('PROTECTED_GROUP_IDS: comma-separated object ids of groups whose members are never reset.')
param protectedGroupIds string = ''

@description('BREAK_GLASS_UPNS: comma-separated UPNs of emergency-access accounts that are never reset.')
param breakGlassUpns string = ''

@description('RESET_COOLDOWN_MAX: at most this many resets of one user within RESET_COOLDOWN_MINUTES; the next is refused.')
@minValue(1)
param resetCooldownMax int = 3

@description('RESET_COOLDOWN_MINUTES: length of the cooldown window in minutes.')
@minValue(1)
param resetCooldownMinutes int = 1440

@description('GRAPH_MAX_CONCURRENCY: Graph calls one reset makes at once.')
@minValue(1)
param graphMaxConcurrency int = 4

@description('GRAPH_MAX_INLINE_WAIT_SECONDS: a Graph Retry-After longer than this re-queues the request instead of waiting.')
@minValue(1)
param graphMaxInlineWaitSeconds int = 10

@description('BULK_RATE_PER_MINUTE: default pace of bulk remediation, in users released per minute.')
@minValue(1)
param bulkRatePerMinute int = 600

@description('GRAPH_WRITE_BUDGET_PER_SECOND: directory writes per second the whole app sends to Graph (all instances together; bulk jobs and single resets share it).')
@minValue(1)
param graphWriteBudgetPerSecond int = 20

@description('RESET_LEASE_SECONDS: how long a worker holds a request without writing progress before another may take it over (a crashed worker\'s requests resume after this).')
@minValue(10)
param resetLeaseSeconds int = 120

// ---------- monitoring and vault ----------

@description('Days Log Analytics keeps logs and Application Insights telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

@description('Key Vault purge protection. On: a deleted vault stays recoverable (and its name taken) for the retention period. Cannot be turned off once on.')
param keyVaultPurgeProtection bool = true

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = !empty(functionAppName) ? functionAppName : 'func-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

// The one identity of the app: storage, Key Vault references, App Insights and Microsoft Graph.
module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
    secretsOfficerPrincipalId: principalId
    secretsOfficerPrincipalType: principalType
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.11.1' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: 'log-${resourceToken}'
    location: location
    tags: tags
    dataRetention: logRetentionDays
  }
}

module appInsights 'br/public:avm/res/insights/component:0.6.0' = {
  name: 'appInsights'
  scope: rg
  params: {
    name: 'appi-${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true // Entra authentication only
  }
}

module monitoringAccess 'modules/monitoring-access.bicep' = {
  name: 'monitoringAccess'
  scope: rg
  params: {
    applicationInsightsName: appInsights.outputs.name
    identityPrincipalId: identity.outputs.principalId
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionApp'
  scope: rg
  // Role assignments first, so that the first start can reach storage, Key Vault and App Insights.
  dependsOn: [
    storage
    keyVault
    monitoringAccess
  ]
  params: {
    name: appName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobServiceUri: storage.outputs.blobServiceUri
    queueServiceUri: storage.outputs.queueServiceUri
    tableServiceUri: storage.outputs.tableServiceUri
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    keyVaultName: keyVault.outputs.name
    applicationInsightsConnectionString: appInsights.outputs.connectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    graphBaseUrl: graphBaseUrl
    jiraTargetField: jiraTargetField
    serviceNowTargetField: serviceNowTargetField
    tenantDomains: tenantDomains
    requireApproval: requireApproval
    protectedGroupIds: protectedGroupIds
    breakGlassUpns: breakGlassUpns
    resetCooldownMax: resetCooldownMax
    resetCooldownMinutes: resetCooldownMinutes
    graphMaxConcurrency: graphMaxConcurrency
    graphMaxInlineWaitSeconds: graphMaxInlineWaitSeconds
    bulkRatePerMinute: bulkRatePerMinute
    graphWriteBudgetPerSecond: graphWriteBudgetPerSecond
    resetLeaseSeconds: resetLeaseSeconds
  }
}

// azd stores these in .azure/<env>/.env; the scripts under infra/scripts read them from there.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
@description('Base URL of the function app; the API is under /api.')
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
@description('Object id of the managed identity\'s service principal: the principal Graph application roles are granted to.')
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = appInsights.outputs.connectionString
