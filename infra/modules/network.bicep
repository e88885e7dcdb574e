// Private networking: a virtual network with the app's integration subnet (Flex Consumption delegates it
// to Microsoft.App/environments) and a subnet of private endpoints for the storage account's blob, queue
// and table services and for Key Vault, each with its private DNS zone linked to the network, so that the
// app's outbound calls to those names resolve to the private addresses.
// Everything else the app calls (Microsoft Graph, Entra ID, the ticket systems, Application Insights)
// leaves through a NAT gateway with one static public address: the subnets have no default outbound
// access, which Azure is retiring, and the ticket systems can allowlist that one address.

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

resource egressAddress 'Microsoft.Network/publicIPAddresses@2024-05-01' = {
  name: 'pip-${name}'
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: {
    publicIPAllocationMethod: 'Static'
    publicIPAddressVersion: 'IPv4'
  }
}

resource nat 'Microsoft.Network/natGateways@2024-05-01' = {
  name: 'nat-${name}'
  location: location
  tags: tags
  sku: { name: 'Standard' }
  properties: {
    publicIpAddresses: [{ id: egressAddress.id }]
    idleTimeoutInMinutes: 4
  }
}

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
          defaultOutboundAccess: false
          natGateway: { id: nat.id }
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
          defaultOutboundAccess: false
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

@description('The one public address the app\'s outbound calls come from.')
output egressIpAddress string = egressAddress.properties.ipAddress
