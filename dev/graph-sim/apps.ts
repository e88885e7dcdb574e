import { stableId, type ParsedTenantFile } from './tenant-file';

/**
 * The simulated tenant's app registrations and service principals, as far as the privileged-target guard
 * reads them: who owns them, and which Microsoft Graph application permissions a service principal holds
 * (its appRoleAssignments on Microsoft Graph's own service principal). Directory roles of a service
 * principal live in the RBAC model (rbac.ts), keyed by its object id like any principal.
 */

/** Microsoft Graph's application id, the same in every tenant. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface SimApplication {
  id: string;
  appId: string;
  displayName: string;
  ownerIds: string[];
}

export interface SimAppRole {
  id: string;
  value: string;
  displayName: string;
  allowedMemberTypes: string[];
}

export interface SimServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  ownerIds: string[];
  /** App roles this service principal exposes (Microsoft Graph's: its application permissions). */
  appRoles: SimAppRole[];
  /** App role assignments this service principal holds: resource service principal id and app role id. */
  assignments: { id: string; resourceId: string; appRoleId: string; createdDateTime: string }[];
}

/**
 * The Graph application permissions the simulator's Microsoft Graph service principal exposes. Ids are
 * the simulator's own (stable per value): the guard must learn them from the resource's appRoles, as it
 * would in a tenant, rather than from a list of ids it carries.
 */
const GRAPH_APP_ROLE_VALUES = [
  'User.Read.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'Application.Read.All',
  'Application.ReadWrite.All',
  'Application.ReadWrite.OwnedBy',
  'AppRoleAssignment.ReadWrite.All',
  'RoleManagement.Read.Directory',
  'RoleManagement.ReadWrite.Directory',
  'UserAuthenticationMethod.Read.All',
  'UserAuthenticationMethod.ReadWrite.All',
  'Policy.Read.All',
  'Policy.ReadWrite.ConditionalAccess',
  'Policy.ReadWrite.AuthenticationMethod',
  'Mail.Send',
  'Mail.Read',
  'GroupMember.Read.All',
  'Sites.Read.All',
];

export function graphAppRoles(extra: readonly string[] = []): SimAppRole[] {
  return [...new Set([...GRAPH_APP_ROLE_VALUES, ...extra])].map((value) => ({
    id: stableId('graphAppRole', value),
    value,
    displayName: value,
    allowedMemberTypes: ['Application'],
  }));
}

export class SimApps {
  readonly applications: SimApplication[] = [];
  readonly servicePrincipals: SimServicePrincipal[] = [];
  readonly graph: SimServicePrincipal;

  constructor(file: Pick<ParsedTenantFile, 'applications' | 'servicePrincipals'>, ownerId: (ref: string, what: string) => string) {
    const requested = file.servicePrincipals.flatMap((sp) => sp.graphPermissions);
    this.graph = {
      id: stableId('servicePrincipal', GRAPH_APP_ID),
      appId: GRAPH_APP_ID,
      displayName: 'Microsoft Graph',
      ownerIds: [],
      appRoles: graphAppRoles(requested),
      assignments: [],
    };
    this.servicePrincipals.push(this.graph);
    for (const app of file.applications) {
      this.applications.push({
        id: (app.id ?? stableId('application', app.displayName)).toLowerCase(),
        appId: (app.appId ?? stableId('appId', app.displayName)).toLowerCase(),
        displayName: app.displayName,
        ownerIds: app.owners.map((owner) => ownerId(owner, `application "${app.displayName}"`)),
      });
    }
    for (const sp of file.servicePrincipals) {
      const application = sp.application ? this.applications.find((a) => a.displayName.toLowerCase() === sp.application!.toLowerCase() || a.appId === sp.application!.toLowerCase()) : undefined;
      if (sp.application && !application) throw new Error(`Graph simulator tenant: service principal "${sp.displayName}" names unknown application "${sp.application}"`);
      const id = (sp.id ?? stableId('servicePrincipal', sp.displayName)).toLowerCase();
      this.servicePrincipals.push({
        id,
        appId: (application?.appId ?? sp.appId ?? stableId('appId', `sp:${sp.displayName}`)).toLowerCase(),
        displayName: sp.displayName,
        ownerIds: sp.owners.map((owner) => ownerId(owner, `service principal "${sp.displayName}"`)),
        appRoles: [],
        assignments: sp.graphPermissions.map((value) => {
          const role = this.graph.appRoles.find((r) => r.value === value)!;
          return { id: stableId('appRoleAssignment', id, role.id), resourceId: this.graph.id, appRoleId: role.id, createdDateTime: '2024-03-01T09:00:00Z' };
        }),
      });
    }
  }

  servicePrincipal(id: string): SimServicePrincipal | undefined {
    return this.servicePrincipals.find((sp) => sp.id === id.toLowerCase());
  }
}
