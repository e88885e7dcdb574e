// Key Vault for the app's secrets (infra/app-resources.json). Access is by Azure RBAC only: the app's
// identity may read secrets, the deployer (optional) may write them. Secret values are never part of a
// deployment: infra/scripts/init-secrets.sh creates any that are missing, and an admin can replace them
// with `az keyvault secret set`. With private networking the vault has no public endpoint: the platform
// resolves the app's Key Vault references through the app's virtual network integration and the private
// endpoint of modules/network.bicep. Each deployment resets the firewall to this state, so a rule that
// init-secrets.sh added for itself and failed to remove does not outlive the next `azd provision`.

@description('Name of the vault (3-24 letters, digits and hyphens, globally unique).')
param name string

@description('Azure region.')
param location string

@description('Tags for the vault.')
param tags object = {}

@description('Principal id of the app\'s user-assigned managed identity; it gets Key Vault Secrets User.')
param identityPrincipalId string

@description('Object id of a user or group that may set secrets (Key Vault Secrets Officer). Empty: none.')
param writerPrincipalId string = ''

@description('Type of writerPrincipalId.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param writerPrincipalType string = 'User'

@description('Purge protection: a deleted vault and its secrets can be recovered but not purged during the retention period. It cannot be turned off again once on.')
param enablePurgeProtection bool = true

@description('Days a deleted vault or secret is kept recoverable (7-90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Public network access. False: only private endpoints reach the vault (no public endpoint, no trusted-service bypass).')
param publicNetworkAccess bool = true

var roles = {
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // ARM accepts only true or an absent property here.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAcls: publicNetworkAccess
      ? { bypass: 'AzureServices', defaultAction: 'Allow', ipRules: [], virtualNetworkRules: [] }
      : { bypass: 'None', defaultAction: 'Deny', ipRules: [], virtualNetworkRules: [] }
  }
}

resource appReadsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityPrincipalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource officerWritesSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(writerPrincipalId)) {
  name: guid(vault.id, writerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: writerPrincipalId
    principalType: writerPrincipalType
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
