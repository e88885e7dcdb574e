// Flex Consumption (FC1, Linux) plan and the function app, Node 22, running as the user-assigned managed
// identity: storage, Key Vault references, Application Insights and Microsoft Graph all use it.
// HTTPS only, TLS 1.2 or later, and no basic (user name and password) publishing credentials for SCM or
// FTP: deployments authenticate with Entra ID (azd and az do). Flex Consumption offers no FTP(S) at all,
// and refuses the site properties and app settings Microsoft lists as deprecated for it (ftpsState among
// them); test/infra/compiled-infra.test.ts holds the compiled template against that list.

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

@description('URL of the blob container Flex Consumption deploys the app package from.')
param deploymentContainerUrl string

@description('Upper bound of instances the app scales out to (Flex Consumption: 40 to 1,000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Subnet of the app\'s virtual network integration (delegated to Microsoft.App/environments). Empty: none.')
param virtualNetworkSubnetId string = ''

@description('IPv4 ranges (CIDR) allowed to call the app; every other address gets 403 from the platform. Empty: no restriction.')
param allowedInboundIpRanges array = []

@description('The app settings (built in infra/main.bicep, the one list of them).')
param appSettings object

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

// Access restrictions match the caller's address for every route of the app. They do not apply to the
// SCM (deployment) site, which accepts Entra ID tokens only once basic credentials are off (below).
var inboundRules = [
  for (range, i) in allowedInboundIpRanges: {
    name: 'allowed-${i + 1}'
    action: 'Allow'
    priority: 100 + i
    ipAddress: range
  }
]

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
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      ipSecurityRestrictions: inboundRules
      ipSecurityRestrictionsDefaultAction: empty(allowedInboundIpRanges) ? 'Allow' : 'Deny'
      scmIpSecurityRestrictionsUseMain: false
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

// No publishing with a user name and password, for the SCM site (zip deploy) and for FTP.
resource noBasicScm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: { allow: false }
}

resource noBasicFtp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: { allow: false }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  // Ticket notes link to the request's console page (CONSOLE_BASE_URL): the site's own host name,
  // known only once the site exists, hence set here rather than with the other settings.
  properties: union(appSettings, { CONSOLE_BASE_URL: 'https://${site.properties.defaultHostName}' })
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
