// Storage account for the Functions host (AzureWebJobsStorage), the app's tables and queue, and the
// Flex Consumption deployment container. Keys are disabled: every caller authenticates with Entra ID.
// With private networking the account has no public endpoint: the app reaches it through the private
// endpoints of modules/network.bicep, and the platform deploys the package through the app's integration.

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags for the account.')
param tags object = {}

@description('Principal id of the app\'s user-assigned managed identity; it gets blob, queue and table data roles.')
param identityPrincipalId string

@description('Public network access. False: only private endpoints reach the account (no public endpoint, no trusted-service bypass).')
param publicNetworkAccess bool = true

var appResources = loadJsonContent('../app-resources.json')

// Built-in role definition ids (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAcls: publicNetworkAccess
      ? { bypass: 'AzureServices', defaultAction: 'Allow' }
      : { bypass: 'None', defaultAction: 'Deny', ipRules: [], virtualNetworkRules: [] }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: appResources.deploymentContainer
  properties: { publicAccess: 'None' }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in appResources.tables: {
    parent: tableService
    name: table
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queue in appResources.queues: {
    parent: queueService
    name: queue
  }
]

resource dataRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in items(roles): {
    name: guid(account.id, identityPrincipalId, role.value)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
      principalId: identityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

output name string = account.name
output id string = account.id
// Built from the cloud's storage suffix rather than primaryEndpoints, which end in '/'.
output blobServiceUri string = 'https://${account.name}.blob.${environment().suffixes.storage}'
output queueServiceUri string = 'https://${account.name}.queue.${environment().suffixes.storage}'
output tableServiceUri string = 'https://${account.name}.table.${environment().suffixes.storage}'
output deploymentContainerUrl string = 'https://${account.name}.blob.${environment().suffixes.storage}/${appResources.deploymentContainer}'
