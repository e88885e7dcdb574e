// entra-mfa-reset on Azure: a Flex Consumption function app running as a user-assigned managed identity,
// keyless storage and Key Vault (behind private endpoints in the app's virtual network by default), Log
// Analytics + Application Insights with Entra auth.
// Compiled and linted in CI by infra/scripts/bicep.sh; test/infra/ checks what it would deploy.
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

@description('Most instances the app scales out to: Flex Consumption accepts 40 to 1,000. This is the outer bound of Graph concurrency: instances x 24 queue messages per instance (host.json batchSize 16 + newBatchThreshold 8) x GRAPH_MAX_CONCURRENCY; writes are paced by GRAPH_WRITE_BUDGET_PER_SECOND across all instances whatever this says.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

// ---------- application settings a deployer chooses (see docs/configuration.md) ----------

@description('GRAPH_BASE_URL: origin of Microsoft Graph. Change only for national clouds (for example https://graph.microsoft.us).')
param graphBaseUrl string = 'https://graph.microsoft.com'

@description('JIRA_TARGET_FIELD: the Jira issue field that holds the target user\'s UPN (for example customfield_10050).')
param jiraTargetField string = 'customfield_10050'

@description('SERVICENOW_TARGET_FIELD: the ServiceNow record field that holds the target user\'s UPN; dot paths allowed.')
param serviceNowTargetField string = 'u_target_upn'

@description('TENANT_DOMAINS: comma-separated domains of your tenant (for example contoso.com,contoso.onmicrosoft.com). Targets outside them are refused at intake. Empty: no domain check.')
param tenantDomains string = ''

@description('REQUIRE_APPROVAL: a reset needs an approval by a second person (neither the requester nor the target) from the ticket system\'s own approval record. On by default.')
param requireApproval bool = true

@description('SCHEDULE_APPROVAL_DAYS: a schedule\'s approval covers its runs this many days; later runs are refused (and its ticket told) until a PATCH names the approver again.')
@minValue(1)
@maxValue(366)
param scheduleApprovalDays int = 30

@description('REMEDIATION_GROUP_IDS: comma-separated object ids of the groups a schedule may take users out of after their reset (removeFromGroupAfterReset). Empty: no schedule removes anyone.')
param remediationGroupIds string = ''

@description('JIRA_PROJECT_KEYS: comma-separated Jira project keys whose issues a schedule may write notes to (each issue is looked up first). Empty: schedules write no Jira notes.')
param jiraProjectKeys string = ''

@description('SERVICENOW_TABLES: comma-separated ServiceNow tables whose records a schedule may write work notes to (each record is looked up first). Empty: schedules write no ServiceNow notes.')
param serviceNowTables string = ''

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

@description('BULK_CONFIRM_ABOVE: a bulk job that would reset more users than this (groups expanded first) needs confirmUsers equal to that number.')
@minValue(1)
param bulkConfirmAbove int = 100

@description('GRAPH_WRITE_BUDGET_PER_SECOND: directory writes per second the whole app sends to Graph (all instances together; bulk jobs and single resets share it).')
@minValue(1)
param graphWriteBudgetPerSecond int = 15

@description('RESET_LEASE_SECONDS: how long a worker holds a request without writing progress before another may take it over (a crashed worker\'s requests resume after this).')
@minValue(10)
param resetLeaseSeconds int = 120

// ---------- operator console (docs/console.md) ----------

@description('CONSOLE_CLIENT_ID: application (client) id of the console\'s app registration (docs/console.md gives the az commands). Empty: the console stays off.')
param consoleClientId string = ''

@description('CONSOLE_TENANT_ID: the tenant people sign in to. Empty: this deployment\'s tenant.')
param consoleTenantId string = ''

@description('CONSOLE_AUTHORITY_HOST: Entra authority people sign in at (for example https://login.microsoftonline.us for US Government). Empty: the login endpoint of the cloud this is deployed to.')
param consoleAuthorityHost string = ''

@description('CONSOLE_READER_GROUP_ID: object id of the group whose members may view the console. Empty: nobody.')
param consoleReaderGroupId string = ''

@description('PASS_COLLECTOR_GROUP_ID: object id of the group whose members may reveal Temporary Access Passes. Empty: nobody.')
param passCollectorGroupId string = ''

@description('CONSOLE_OPERATOR_GROUP_ID: object id of the group whose members may ask to finish a partial reset from the console. Empty: nobody.')
param consoleOperatorGroupId string = ''

@description('CONSOLE_APPROVER_GROUP_ID: object id of the group whose members may approve a finish another person asked for. Empty: nobody.')
param consoleApproverGroupId string = ''

@description('MACHINE_PASS_COLLECTION: keep the signed machine route that collects a pass. Off: passes go only to signed-in collectors.')
param machinePassCollection bool = false

// ---------- ticket write-back (docs/notes-on-the-ticket.md) ----------

@description('SERVICENOW_INSTANCE_URL: https origin of the ServiceNow instance work notes are written to. Empty: no ServiceNow write-back. Its secret (SERVICENOW_CLIENT_SECRET or SERVICENOW_PASSWORD) goes in Key Vault and is named in optionalSecrets.')
param serviceNowInstanceUrl string = ''

@description('SERVICENOW_CLIENT_ID: OAuth client id (System OAuth > Application Registry) for the client credentials grant. Empty: basic auth with SERVICENOW_USERNAME.')
param serviceNowClientId string = ''

@description('SERVICENOW_USERNAME: the integration user for basic auth (when no OAuth client is used).')
param serviceNowUsername string = ''

@description('JIRA_SITE_URL: https origin of the Jira Cloud site comments are written to (https://<site>.atlassian.net). Empty: no Jira write-back. JIRA_API_TOKEN goes in Key Vault and is named in optionalSecrets.')
param jiraSiteUrl string = ''

@description('JIRA_USER_EMAIL: e-mail address of the Atlassian account the API token belongs to.')
param jiraUserEmail string = ''

@description('FOLLOW_UP_HOURS: after a reset, watch the user\'s methods this long for a new registration.')
@minValue(1)
@maxValue(168)
param followUpHours int = 72

@description('FOLLOW_UP_INTERVAL_SECONDS: how often the follow-up looks at the user\'s methods.')
@minValue(60)
param followUpIntervalSeconds int = 900

@description('NOTIFY_SENDER_UPN: mailbox the user and their manager are told from after a reset (needs Mail.Send, restricted to this mailbox; docs/notes-on-the-ticket.md). Empty: no mail.')
param notifySenderUpn string = ''

@description('CALLBACK_ALLOWED_HOSTS: comma-separated host names a generic caller\'s callbackUrl may name. Empty: callbacks are refused.')
param callbackAllowedHosts string = ''

@description('VERIFICATION_REQUIRED: how the person proves who they are before anything is removed: none, verified-id (Entra Verified ID with Face Check), manager (the target\'s manager attests in the console), verified-id-or-manager (docs/verification.md).')
@allowed(['none', 'verified-id', 'manager', 'verified-id-or-manager'])
param verificationRequired string = 'verified-id-or-manager'

@description('VERIFICATION_STRICT_GROUP_IDS: comma-separated group object ids whose members must present a Verified ID whatever VERIFICATION_REQUIRED says.')
param verificationStrictGroupIds string = ''

@description('VERIFICATION_TTL_MINUTES: a verification not passed within this time ends the request rejected.')
@minValue(1)
@maxValue(1440)
param verificationTtlMinutes int = 30

@description('VERIFICATION_MAX_FAILURES: failed presentations allowed before the request ends rejected.')
@minValue(1)
@maxValue(10)
param verificationMaxFailures int = 3

@description('VERIFIED_ID_AUTHORITY: the verifier DID of the tenant\'s Verified ID service (did:web:...). Required while VERIFICATION_REQUIRED includes verified-id.')
param verifiedIdAuthority string = ''

@description('VERIFIED_ID_ACCEPTED_ISSUERS: comma-separated issuer DIDs whose VerifiedEmployee credentials are accepted (usually the same DID). Required while VERIFICATION_REQUIRED includes verified-id.')
param verifiedIdAcceptedIssuers string = ''

@description('VERIFIED_ID_FACECHECK_THRESHOLD: Face Check matchConfidenceThreshold, 50-100.')
@minValue(50)
@maxValue(100)
param verifiedIdFaceCheckThreshold int = 80

@description('CONSOLE_ATTESTATION_AUTH_CONTEXT: a Conditional Access authentication context id (c1-c99) a manager\'s sign-in must carry to attest. Empty: none required.')
param consoleAttestationAuthContext string = ''

// ---------- network ----------

@description('Private networking: storage and Key Vault accept traffic only through private endpoints in a virtual network the app is integrated with (public network access disabled on both). infra/scripts/init-secrets.sh opens the vault to its own caller for the minutes it needs and closes it again. Off: both keep public endpoints, guarded by Entra ID and RBAC alone.')
param privateNetworking bool = true

@description('Address space of the virtual network (private networking only). The app\'s integration subnet takes the first /24 of it (one address per instance), the private endpoints the next /27.')
param virtualNetworkAddressPrefix string = '10.70.0.0/16'

@description('Comma-separated IPv4 ranges (CIDR) allowed to call the function app, for example the egress ranges of your ServiceNow instance and of Atlassian (docs/deploy.md, "Inbound IP restrictions"). App Service access restrictions apply to every route of the app, so list every caller. Empty: any address may call (signatures and function keys still apply).')
param allowedInboundIpRanges string = ''

// ---------- monitoring and vault ----------

@description('Days Log Analytics keeps logs and Application Insights telemetry.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

@description('Comma-separated app settings of optional secrets to read from Key Vault, for example WEBHOOK_SECRET_JIRA_AUTOMATION (infra/app-resources.json marks them "optional"). Each listed one becomes a Key Vault reference; init-secrets.sh creates it if it is missing. Unlisted ones stay empty, so the app starts without them.')
#disable-next-line secure-secrets-in-params // a list of setting names, not a secret value
param optionalSecrets string = ''

@description('Key Vault purge protection. On: a deleted vault stays recoverable (and its name taken) for the retention period. Cannot be turned off once on.')
param keyVaultPurgeProtection bool = true

// 'a, b,,c' -> ['a', 'b', 'c']: list parameters are comma-separated text, as azd env values are.
func listOf(text string) array => filter(map(split(text, ','), item => trim(item)), item => !empty(item))

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = !empty(functionAppName) ? functionAppName : 'func-${resourceToken}'
var enabledOptionalSecrets = listOf(optionalSecrets)
// For example 'https://login.microsoftonline.com/'; the app drops the trailing slash itself.
var cloudLoginEndpoint = environment().authentication.loginEndpoint
var inboundRanges = listOf(allowedInboundIpRanges)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
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
    publicNetworkAccess: !privateNetworking
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
    writerPrincipalId: principalId
    writerPrincipalType: principalType
    enablePurgeProtection: keyVaultPurgeProtection
    publicNetworkAccess: !privateNetworking
  }
}

module network 'modules/network.bicep' = if (privateNetworking) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
    addressPrefix: virtualNetworkAddressPrefix
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionDays
    identityPrincipalId: identity.outputs.principalId
  }
}

// ---------- app settings: the one list ----------
// Every setting the app reads (shared/config.ts) and the host's own; test/infra/ compares the names with
// the schema. A plain value comes from a parameter above; a secret is a Key Vault reference (secret names,
// and how init-secrets.sh creates them, are in infra/app-resources.json). Not set on purpose:
// AzureWebJobsStorage (the connection-string form; the identity-based settings replace it), and
// FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION / WEBSITE_RUN_FROM_PACKAGE, which Flex
// Consumption takes from functionAppConfig and refuses as app settings.

var secrets = loadJsonContent('app-resources.json').keyVaultSecrets
var vaultName = keyVault.outputs.name

// A Key Vault reference, resolved by the platform with the app's user-assigned identity. One that cannot
// be resolved reaches the app as its literal text, which shared/config.ts refuses.
func keyVaultReference(vault string, secretName string) string =>
  '@Microsoft.KeyVault(VaultName=${vault};SecretName=${secretName})'

// An optional secret is read only when listed in optionalSecrets; otherwise the setting stays empty.
func optionalKeyVaultReference(vault string, secretName string, enabled bool) string =>
  enabled ? keyVaultReference(vault, secretName) : ''

var appSettings = {
  // host storage, identity-based
  AzureWebJobsStorage__accountName: storage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobServiceUri
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueServiceUri
  AzureWebJobsStorage__tableServiceUri: storage.outputs.tableServiceUri
  // host telemetry, sent with the identity
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  // the host streams request bodies to the worker (functions/index.ts) and refuses any over the largest
  // route's cap, the bulk CSV (shared/bulk/bulk-request.ts); each route refuses above its own cap while reading
  FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: string(2 * 1024 * 1024)
  // how the host starts the Node.js worker (the same arguments as npm start and the bench; why: app-resources.json)
  languageWorkers__node__arguments: loadJsonContent('app-resources.json').nodeArguments
  // Graph, fixed for Azure
  GRAPH_BASE_URL: graphBaseUrl
  GRAPH_AUTH: 'default'
  AZURE_CLIENT_ID: identity.outputs.clientId
  LOCAL_DEMO_MODE: 'false'
  // intake and guards
  JIRA_TARGET_FIELD: jiraTargetField
  SERVICENOW_TARGET_FIELD: serviceNowTargetField
  TENANT_DOMAINS: tenantDomains
  REQUIRE_APPROVAL: requireApproval ? 'true' : 'false'
  SCHEDULE_APPROVAL_DAYS: string(scheduleApprovalDays)
  REMEDIATION_GROUP_IDS: remediationGroupIds
  JIRA_PROJECT_KEYS: jiraProjectKeys
  SERVICENOW_TABLES: serviceNowTables
  PROTECTED_GROUP_IDS: protectedGroupIds
  BREAK_GLASS_UPNS: breakGlassUpns
  RESET_COOLDOWN_MAX: string(resetCooldownMax)
  RESET_COOLDOWN_MINUTES: string(resetCooldownMinutes)
  // Graph pacing and the worker
  GRAPH_MAX_CONCURRENCY: string(graphMaxConcurrency)
  GRAPH_MAX_INLINE_WAIT_SECONDS: string(graphMaxInlineWaitSeconds)
  BULK_RATE_PER_MINUTE: string(bulkRatePerMinute)
  BULK_CONFIRM_ABOVE: string(bulkConfirmAbove)
  GRAPH_WRITE_BUDGET_PER_SECOND: string(graphWriteBudgetPerSecond)
  RESET_LEASE_SECONDS: string(resetLeaseSeconds)
  // operator console: sign-in with Entra ID; off while no client id is given
  CONSOLE_CLIENT_ID: consoleClientId
  CONSOLE_TENANT_ID: empty(consoleClientId) ? '' : (empty(consoleTenantId) ? tenant().tenantId : consoleTenantId)
  CONSOLE_AUTHORITY_HOST: !empty(consoleAuthorityHost) ? consoleAuthorityHost : cloudLoginEndpoint
  CONSOLE_READER_GROUP_ID: consoleReaderGroupId
  PASS_COLLECTOR_GROUP_ID: passCollectorGroupId
  CONSOLE_OPERATOR_GROUP_ID: consoleOperatorGroupId
  CONSOLE_APPROVER_GROUP_ID: consoleApproverGroupId
  MACHINE_PASS_COLLECTION: machinePassCollection ? 'true' : 'false'
  // ticket write-back, follow-up and mail
  SERVICENOW_INSTANCE_URL: serviceNowInstanceUrl
  SERVICENOW_CLIENT_ID: serviceNowClientId
  SERVICENOW_USERNAME: serviceNowUsername
  JIRA_SITE_URL: jiraSiteUrl
  JIRA_USER_EMAIL: jiraUserEmail
  FOLLOW_UP_HOURS: string(followUpHours)
  FOLLOW_UP_INTERVAL_SECONDS: string(followUpIntervalSeconds)
  NOTIFY_SENDER_UPN: notifySenderUpn
  CALLBACK_ALLOWED_HOSTS: callbackAllowedHosts
  // verifying the person before the reset (docs/verification.md)
  REQUEST_MAX_AGE_HOURS: '24'
  VERIFICATION_REQUIRED: verificationRequired
  VERIFICATION_STRICT_GROUP_IDS: verificationStrictGroupIds
  VERIFICATION_TTL_MINUTES: string(verificationTtlMinutes)
  VERIFICATION_MAX_FAILURES: string(verificationMaxFailures)
  VERIFIED_ID_ENDPOINT: 'https://verifiedid.did.msidentity.com/v1.0'
  VERIFIED_ID_AUTHORITY: verifiedIdAuthority
  VERIFIED_ID_ACCEPTED_ISSUERS: verifiedIdAcceptedIssuers
  VERIFIED_ID_FACECHECK_THRESHOLD: string(verifiedIdFaceCheckThreshold)
  VERIFIED_ID_CLIENT_NAME: 'IT service desk MFA reset'
  CONSOLE_ATTESTATION_AUTH_CONTEXT: consoleAttestationAuthContext
  // secrets
  WEBHOOK_SECRET_JIRA: keyVaultReference(vaultName, secrets.WEBHOOK_SECRET_JIRA.secretName)
  WEBHOOK_SECRET_JIRA_AUTOMATION: optionalKeyVaultReference(
    vaultName,
    secrets.WEBHOOK_SECRET_JIRA_AUTOMATION.secretName,
    contains(enabledOptionalSecrets, 'WEBHOOK_SECRET_JIRA_AUTOMATION')
  )
  WEBHOOK_SECRET_SERVICENOW: keyVaultReference(vaultName, secrets.WEBHOOK_SECRET_SERVICENOW.secretName)
  WEBHOOK_SECRET_GENERIC: keyVaultReference(vaultName, secrets.WEBHOOK_SECRET_GENERIC.secretName)
  TAP_SEALING_KEY: keyVaultReference(vaultName, secrets.TAP_SEALING_KEY.secretName)
  INTAKE_MAC_KEY: keyVaultReference(vaultName, secrets.INTAKE_MAC_KEY.secretName)
  SERVICENOW_CLIENT_SECRET: optionalKeyVaultReference(vaultName, secrets.SERVICENOW_CLIENT_SECRET.secretName, contains(enabledOptionalSecrets, 'SERVICENOW_CLIENT_SECRET'))
  SERVICENOW_PASSWORD: optionalKeyVaultReference(vaultName, secrets.SERVICENOW_PASSWORD.secretName, contains(enabledOptionalSecrets, 'SERVICENOW_PASSWORD'))
  JIRA_API_TOKEN: optionalKeyVaultReference(vaultName, secrets.JIRA_API_TOKEN.secretName, contains(enabledOptionalSecrets, 'JIRA_API_TOKEN'))
  CALLBACK_SIGNING_SECRET: optionalKeyVaultReference(vaultName, secrets.CALLBACK_SIGNING_SECRET.secretName, contains(enabledOptionalSecrets, 'CALLBACK_SIGNING_SECRET'))
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionApp'
  scope: rg
  // It takes outputs of identity, storage, keyVault, monitoring and network, so it deploys after them
  // and their role assignments and private endpoints: the first start can reach what it needs.
  params: {
    name: appName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    virtualNetworkSubnetId: privateNetworking ? network!.outputs.appSubnetId : ''
    allowedInboundIpRanges: inboundRanges
    appSettings: appSettings
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
@description('Whether storage and Key Vault are reachable only through private endpoints (init-secrets.sh reads it).')
output PRIVATE_NETWORKING bool = privateNetworking
@description('With private networking, the one public address the app calls Graph and the ticket systems from (for their allowlists). Empty without it: the app\'s outbound addresses are then the platform\'s, shared and not fixed.')
output OUTBOUND_IP_ADDRESS string = privateNetworking ? network!.outputs.egressIpAddress : ''
@description('Object id of the managed identity\'s service principal: the principal Graph application roles are granted to.')
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
