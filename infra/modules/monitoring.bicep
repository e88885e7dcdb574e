// Log Analytics and workspace-based Application Insights. Local (instrumentation key) auth is disabled, so
// the component accepts telemetry only from identities holding Monitoring Metrics Publisher on it: the app
// sends with its managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).

@description('Name of the Log Analytics workspace.')
param workspaceName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Azure region.')
param location string

@description('Tags for both resources.')
param tags object = {}

@description('Days the workspace keeps logs and telemetry.')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Principal id of the app\'s user-assigned managed identity; it gets Monitoring Metrics Publisher on the component.')
param identityPrincipalId string

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true // queries and ingestion with Entra ID only
    }
  }
}

resource component 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true // Entra authentication only
    RetentionInDays: retentionInDays
  }
}

resource publishTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(component.id, identityPrincipalId, monitoringMetricsPublisher)
  scope: component
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output applicationInsightsName string = component.name
// Not a secret: with local auth disabled the connection string alone cannot send telemetry.
output connectionString string = component.properties.ConnectionString
