// Private networking: a virtual network with the app's integration subnet (Flex Consumption delegates it
// to Microsoft.App/environments) and a subnet of private endpoints for the storage account's blob, queue
// and table services and for Key Vault, each with its private DNS zone linked to the network, so that the
// app's outbound calls to those names resolve to the private addresses.

@description('Name of the virtual network.')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource of the module.')
param tags object = {}

@description('Address space of the network: the integration subnet takes its first /24, the endpoints the next /27.')
param addressPrefix string

@description('Resource id of the storage account the app uses (blob, queue and table endpoints).')
param storageAccountId string

@description('Resource id of the Key Vault the app reads its secrets from.')
param keyVaultId string

var appSubnetPrefix = cidrSubnet(addressPrefix, 24, 0)
var endpointSubnetPrefix = cidrSubnet(addressPrefix, 27, 8)

// Private DNS zone names follow the cloud (environment()), as the public endpoint names do.
var storageSuffix = environment().suffixes.storage
// keyvaultDns is '.vault.azure.net' in the public cloud; its private link zone is privatelink.vaultcore.azure.net.
var keyVaultZone = 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'

var endpoints = [
  { name: 'blob', resourceId: storageAccountId, groupId: 'blob', zone: 'privatelink.blob.${storageSuffix}' }
  { name: 'queue', resourceId: storageAccountId, groupId: 'queue', zone: 'privatelink.queue.${storageSuffix}' }
  { name: 'table', resourceId: storageAccountId, groupId: 'table', zone: 'privatelink.table.${storageSuffix}' }
  { name: 'vault', resourceId: keyVaultId, groupId: 'vault', zone: keyVaultZone }
]

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: { serviceName: 'Microsoft.App/environments' }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: endpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }

  resource endpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for endpoint in endpoints: {
    name: endpoint.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (endpoint, i) in endpoints: {
    parent: zones[i]
    name: name
    location: 'global'
    tags: tags
    properties: {
      virtualNetwork: { id: vnet.id }
      registrationEnabled: false
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: 'pe-${endpoint.name}-${last(split(endpoint.resourceId, '/'))}'
    location: location
    tags: tags
    properties: {
      subnet: { id: vnet::endpointSubnet.id }
      privateLinkServiceConnections: [
        {
          name: endpoint.name
          properties: {
            privateLinkServiceId: endpoint.resourceId
            groupIds: [endpoint.groupId]
          }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.name
          properties: { privateDnsZoneId: zones[i].id }
        }
      ]
    }
  }
]

@description('Subnet the function app integrates with (virtualNetworkSubnetId).')
output appSubnetId string = vnet::appSubnet.id
