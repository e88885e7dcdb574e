import { z } from 'zod';
import { expectBody, GraphCallError, type StepContext } from './context';
import { readAllPages } from './paging';
import { strictEncode } from './paths';
import { readRoleAssignments, readRoleEligibilities, type RoleGrant } from './privileged-reads';
import { knownRoleName } from './roles';

/**
 * Owners of privileged applications are privileged. An owner of a service principal, or of the app
 * registration behind one, can add a credential to it and sign in as the app, with every directory role
 * and application permission the app holds: a known path from a plain user to the tenant. The guard
 * therefore reads what the user owns (v1.0 GET /users/{id}/ownedObjects, cast to
 * microsoft.graph.servicePrincipal and microsoft.graph.application) and, for each service principal
 * found (an owned one, or the one an owned app registration has in this tenant), its directory roles
 * (unified RBAC, active and PIM-eligible, any role) and its app role assignments on Microsoft Graph,
 * whose values come from Microsoft Graph's own service principal (its appRoles), never from a list of
 * ids carried here.
 *
 * Permissions (application): User.Read.All for ownedObjects (older versions of its reference page list
 * it for applications; the generated table now says "Not supported": see docs/security.md), and
 * Application.Read.All for the application and service principal properties (without it Graph returns
 * them with limited information, no appId: the guard then fails closed) and for appRoleAssignments.
 * Every read that fails throws GraphCallError, which the guard turns into a refusal or a retry.
 */

/** Microsoft Graph's application id, the same in every tenant and cloud. */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/**
 * Microsoft Graph application permissions that let an app take over the tenant or its administrators,
 * directly or in one step. Named in docs/security.md; keep the two in step.
 */
export const HIGH_PRIVILEGE_GRAPH_PERMISSIONS: readonly { match: string | RegExp; why: string }[] = [
  { match: /^RoleManagement\.ReadWrite\./, why: 'assigns any directory role (RoleManagement.ReadWrite.Directory and its siblings)' },
  { match: /^RoleAssignmentSchedule\.ReadWrite\./, why: 'makes PIM role assignments' },
  { match: /^RoleEligibilitySchedule\.ReadWrite\./, why: 'makes PIM role eligibilities' },
  { match: 'Directory.ReadWrite.All', why: 'writes the directory' },
  { match: 'Application.ReadWrite.All', why: 'adds credentials to any app, privileged ones included' },
  { match: 'AppRoleAssignment.ReadWrite.All', why: 'grants itself any application permission' },
  { match: 'UserAuthenticationMethod.ReadWrite.All', why: "registers and removes anyone's methods, issues passes for administrators" },
  { match: /^UserAuthMethod-.+\.ReadWrite\.All$/, why: "the same, one method type at a time (UserAuthMethod-TAP.ReadWrite.All issues anyone's pass)" },
  { match: /^Policy\.ReadWrite\./, why: 'changes Conditional Access, authentication methods, consent and cross-tenant policies' },
  { match: 'Domain.ReadWrite.All', why: 'federates a domain, and signs in as its users' },
  { match: /^Privileged(Access|Assignment|Eligibility)(Schedule)?\.ReadWrite\.AzureADGroup$/, why: 'makes PIM for Groups assignments, role-assignable groups included' },
];

export function isHighPrivilegePermission(value: string): boolean {
  return HIGH_PRIVILEGE_GRAPH_PERMISSIONS.some(({ match }) => (typeof match === 'string' ? match === value : match.test(value)));
}

type Reader = Pick<StepContext, 'call' | 'graph'>;

const ownedSchema = z.object({ id: z.string().min(1), appId: z.string().nullish(), displayName: z.string().nullish() }).passthrough();
const assignmentSchema = z.object({ id: z.string().min(1), appRoleId: z.string().min(1), resourceId: z.string().min(1), resourceDisplayName: z.string().nullish() }).passthrough();
const resourceSchema = z
  .object({
    id: z.string().min(1),
    appId: z.string().nullish(),
    displayName: z.string().nullish(),
    appRoles: z.array(z.object({ id: z.string().min(1), value: z.string().nullish() }).passthrough()).nullish(),
  })
  .passthrough();

interface Candidate {
  id: string;
  /** How the user comes to control it, for the refusal: "… holds X" follows. */
  lead: string;
}

/**
 * What makes the user privileged through what they own, one line each; empty when nothing does. Users
 * who own no application or service principal cost two reads, sent with the guard's other reads.
 */
export async function privilegedOwnership(ctx: Reader, userId: string): Promise<string[]> {
  const user = strictEncode(userId);
  const select = '$select=id,appId,displayName';
  const [servicePrincipals, applications] = await Promise.all([
    readAllPages(ctx, { version: 'v1.0', path: `/users/${user}/ownedObjects/microsoft.graph.servicePrincipal?${select}` }, ownedSchema, 'Reading the service principals the user owns'),
    readAllPages(ctx, { version: 'v1.0', path: `/users/${user}/ownedObjects/microsoft.graph.application?${select}` }, ownedSchema, 'Reading the applications the user owns'),
  ]);
  if (servicePrincipals.length === 0 && applications.length === 0) return [];

  const candidates: Candidate[] = servicePrincipals.map((sp) => ({ id: sp.id.toLowerCase(), lead: `owner of service principal ${name(sp)}, which` }));
  const behindApps = await Promise.all(
    applications.map(async (app) => {
      if (!app.appId) {
        // Limited information: Graph hides an application's properties from an app without Application.Read.All.
        throw new GraphCallError(403, undefined, `Reading the applications the user owns: Graph gave no appId for application ${app.id} (grant Application.Read.All)`);
      }
      const found = await readAllPages(
        ctx,
        { version: 'v1.0', path: `/servicePrincipals?$filter=${strictEncode(`appId eq '${app.appId.replace(/'/g, "''")}'`)}&${select}` },
        ownedSchema,
        `Reading the service principal of application ${name(app)}`,
      );
      // An app registration without a service principal here holds nothing in this tenant.
      return found.map((sp) => ({ id: sp.id.toLowerCase(), lead: `owner of application ${name(app)}, whose service principal ${sp.id.toLowerCase()}` }));
    }),
  );
  candidates.push(...behindApps.flat());

  const seen = new Set<string>();
  const unique = candidates.filter((c) => (seen.has(c.lead) ? false : (seen.add(c.lead), true)));
  const holdings = await Promise.all(unique.map(async (candidate) => ({ candidate, ...(await holdingsOf(ctx, candidate.id)) })));

  const resources = new Map<string, Promise<z.output<typeof resourceSchema>>>();
  const resource = (id: string) => {
    if (!resources.has(id)) {
      resources.set(
        id,
        ctx
          .call({ method: 'GET', version: 'v1.0', path: `/servicePrincipals/${strictEncode(id)}?$select=id,appId,displayName,appRoles` })
          .then((response) => expectBody(response, resourceSchema, `Reading the application permissions service principal ${id} exposes`)),
      );
    }
    return resources.get(id)!;
  };

  // Each resource once, all side by side; one that cannot be read fails the guard closed.
  await Promise.all([...new Set(holdings.flatMap((h) => h.assignments.map((a) => a.resourceId.toLowerCase())))].map(resource));
  const findings: string[] = [];
  for (const { candidate, grants, assignments } of holdings) {
    const held: string[] = grants.map(describeGrant);
    for (const assignment of assignments) {
      const api = await resource(assignment.resourceId.toLowerCase());
      if ((api.appId ?? '').toLowerCase() !== MICROSOFT_GRAPH_APP_ID) continue;
      const value = api.appRoles?.find((role) => role.id.toLowerCase() === assignment.appRoleId.toLowerCase())?.value;
      if (value && isHighPrivilegePermission(value)) held.push(`the Microsoft Graph application permission ${value}`);
    }
    if (held.length > 0) findings.push(`${candidate.lead} holds ${[...new Set(held)].join(', ')}`);
  }
  return [...new Set(findings)];
}

async function holdingsOf(ctx: Reader, servicePrincipalId: string): Promise<{ grants: RoleGrant[]; assignments: z.output<typeof assignmentSchema>[] }> {
  const [active, eligible, assignments] = await Promise.all([
    readRoleAssignments(ctx, servicePrincipalId),
    readRoleEligibilities(ctx, servicePrincipalId),
    readAllPages(
      ctx,
      { version: 'v1.0', path: `/servicePrincipals/${strictEncode(servicePrincipalId)}/appRoleAssignments` },
      assignmentSchema,
      `Reading the application permissions of service principal ${servicePrincipalId}`,
    ),
  ]);
  return { grants: [...active, ...eligible], assignments };
}

function describeGrant(grant: RoleGrant): string {
  const role = grant.isBuiltIn === false ? `custom role ${grant.displayName ?? grant.roleDefinitionId}` : (grant.displayName ?? knownRoleName(grant.roleDefinitionId) ?? `role ${grant.roleDefinitionId}`);
  return `the directory role ${role} (${grant.kind === 'eligible' ? 'PIM-eligible' : 'active'})`;
}

function name(object: { id: string; displayName?: string | null }): string {
  return object.displayName ? `${object.displayName} (${object.id})` : object.id;
}
