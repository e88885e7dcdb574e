import { describe, expect, it } from 'vitest';
import { startGraphSimulator, type TenantFile } from '../../dev/graph-sim';
import { createGraphClient, runReset, type GraphTransport, type ResetResult } from '../../shared/graph';
import { isHighPrivilegePermission } from '../../shared/graph/owned-apps';
import { fastRetry, noGuards, useSimulator } from './helpers';

/**
 * Owners of privileged applications are privileged: an owner of a service principal, or of the app
 * registration behind one, can add a credential and sign in as the app. The guard reads what the user
 * owns (ownedObjects, cast to servicePrincipal and application), and for each service principal its
 * directory roles (active or PIM-eligible, any role) and its Microsoft Graph application permissions,
 * named from Graph's own service principal. Such a user is refused like an administrator, with zero
 * writes; a failed read refuses (or retries) too.
 */

const phone = (n: number) => [
  { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555509${String(n).padStart(2, '0')}` },
  { type: 'microsoftAuthenticator' as const, displayName: `Phone ${n}` },
];

const tenant: TenantFile = {
  domains: ['contoso.com'],
  applications: [
    { displayName: 'Payroll sync', owners: ['app.owner@contoso.com'] },
    { displayName: 'Orphan app', owners: ['orphan.owner@contoso.com'] },
    { displayName: 'Mailer', owners: ['harmless.owner@contoso.com'] },
  ],
  servicePrincipals: [
    { displayName: 'Payroll sync', application: 'Payroll sync', graphPermissions: ['Directory.ReadWrite.All', 'User.Read.All'] },
    { displayName: 'Reporting bot', owners: ['sp.owner@contoso.com'], roles: ['Global Administrator'] },
    { displayName: 'Eligible bot', owners: ['sp.eligible.owner@contoso.com'], eligibleRoles: ['Security Administrator'] },
    { displayName: 'Policy bot', owners: ['policy.owner@contoso.com'], graphPermissions: ['Policy.ReadWrite.ConditionalAccess'] },
    { displayName: 'Reader bot', owners: ['reader.owner@contoso.com'], roles: ['Directory Readers'] },
    { displayName: 'Mailer', application: 'Mailer', owners: ['harmless.owner@contoso.com'], graphPermissions: ['Mail.Read', 'Sites.Read.All'] },
  ],
  users: [
    { userPrincipalName: 'app.owner@contoso.com', methods: phone(1) },
    { userPrincipalName: 'sp.owner@contoso.com', methods: phone(2) },
    { userPrincipalName: 'sp.eligible.owner@contoso.com', methods: phone(3) },
    { userPrincipalName: 'policy.owner@contoso.com', methods: phone(4) },
    { userPrincipalName: 'reader.owner@contoso.com', methods: phone(5) },
    { userPrincipalName: 'harmless.owner@contoso.com', methods: phone(6) },
    { userPrincipalName: 'orphan.owner@contoso.com', methods: phone(7) },
    { userPrincipalName: 'plain@contoso.com', methods: phone(8) },
  ],
};

const h = useSimulator({ tenant });

function failing(inner: GraphTransport, match: RegExp, status: number): GraphTransport {
  return {
    origin: inner.origin,
    async send(request) {
      if (match.test(request.path)) return { status, requestId: 'injected', retryAfterSeconds: undefined, body: { error: { code: status === 403 ? 'Authorization_RequestDenied' : 'InternalServerError', message: 'injected' } } };
      return inner.send(request);
    },
  };
}

async function resetUser(upn: string, options: { wrap?: (graph: GraphTransport) => GraphTransport; url?: string } = {}): Promise<ResetResult> {
  const base = createGraphClient({ GRAPH_BASE_URL: options.url ?? h.sim.url, GRAPH_AUTH: 'none' });
  const graph = options.wrap ? options.wrap(base) : base;
  return runReset(graph, { target: { userPrincipalName: upn }, profile: 'all', revokeSessions: true, dryRun: false }, { guards: noGuards, retry: { ...fastRetry, maxAttempts: 2 } });
}

const writes = () => h.sim.requestLog.filter((e) => e.write);

describe('owners of privileged applications and service principals are refused like administrators', () => {
  const cases = [
    { what: 'the owner of an app registration whose service principal holds Directory.ReadWrite.All', upn: 'app.owner@contoso.com', reason: /owner of application Payroll sync \([0-9a-f-]{36}\), whose service principal [0-9a-f-]{36} holds the Microsoft Graph application permission Directory\.ReadWrite\.All/ },
    { what: 'the owner of a service principal holding Global Administrator', upn: 'sp.owner@contoso.com', reason: /owner of service principal Reporting bot \([0-9a-f-]{36}\), which holds the directory role Global Administrator \(active\)/ },
    { what: 'the owner of a service principal PIM-eligible for a role', upn: 'sp.eligible.owner@contoso.com', reason: /Eligible bot .*holds the directory role Security Administrator \(PIM-eligible\)/ },
    { what: 'the owner of a service principal holding a Policy.ReadWrite.* permission', upn: 'policy.owner@contoso.com', reason: /Policy bot .*Microsoft Graph application permission Policy\.ReadWrite\.ConditionalAccess/ },
    { what: 'the owner of a service principal holding any directory role, a read-only one included', upn: 'reader.owner@contoso.com', reason: /Reader bot .*directory role Directory Readers \(active\)/ },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      h.sim.resetLog();
      const before = structuredClone(h.sim.tenant.methodsOf(c.upn));
      const result = await resetUser(c.upn);
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' && result.code).toBe('privileged-target');
      expect(result.status === 'rejected' && result.reason).toMatch(c.reason);
      expect(result.status === 'rejected' && result.reason).toMatch(/Privileged Authentication Administrator/);
      expect(writes()).toEqual([]);
      expect(h.sim.tenant.methodsOf(c.upn)).toEqual(before);
    });
  }

  it('owners of harmless apps, of an app without a service principal here, and owners of nothing are reset', async () => {
    for (const upn of ['harmless.owner@contoso.com', 'orphan.owner@contoso.com', 'plain@contoso.com']) {
      const result = await resetUser(upn);
      expect(result.status, upn).toBe('completed');
    }
  });

  it('the permission is named from Graph\'s own service principal (its appRoles), not from ids carried in the code', async () => {
    h.sim.resetLog();
    await resetUser('app.owner@contoso.com');
    const graphSp = h.sim.tenant.apps.graph;
    const reads = h.sim.requestLog.map((e) => decodeURIComponent(e.url));
    expect(reads).toContain(`/servicePrincipals/${graphSp.id}?$select=id,appId,displayName,appRoles`);
    expect(reads.some((url) => url.startsWith('/users/') && url.includes('/ownedObjects/microsoft.graph.application'))).toBe(true);
    expect(reads.some((url) => url.includes(`/servicePrincipals?$filter=appId eq '`))).toBe(true);
  });

  it('a user who owns nothing costs two reads, sent with the other guard reads', async () => {
    h.sim.resetLog();
    await resetUser('plain@contoso.com');
    const reads = h.sim.requestLog.map((e) => decodeURIComponent(e.url));
    expect(reads.filter((url) => url.includes('/ownedObjects/'))).toHaveLength(2);
    expect(reads.some((url) => url.startsWith('/servicePrincipals'))).toBe(false);
  });

  it('the high-privilege list: the documented roles match, others do not', () => {
    for (const value of ['RoleManagement.ReadWrite.Directory', 'Directory.ReadWrite.All', 'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'UserAuthenticationMethod.ReadWrite.All', 'UserAuthMethod-TAP.ReadWrite.All', 'Policy.ReadWrite.ConditionalAccess', 'Policy.ReadWrite.AuthenticationMethod', 'Domain.ReadWrite.All', 'PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup']) {
      expect(isHighPrivilegePermission(value), value).toBe(true);
    }
    for (const value of ['Directory.Read.All', 'Application.Read.All', 'Mail.Read', 'User.Read.All', 'Policy.Read.All', 'UserAuthMethod-TAP.Read.All', 'Application.ReadWrite.OwnedBy']) {
      expect(isHighPrivilegePermission(value), value).toBe(false);
    }
  });
});

describe('a failed read fails closed', () => {
  const reads = [
    { what: 'the service principals the user owns', path: /\/ownedObjects\/microsoft\.graph\.servicePrincipal/ },
    { what: 'the applications the user owns', path: /\/ownedObjects\/microsoft\.graph\.application/ },
    { what: 'the service principal of an owned application', path: /^\/servicePrincipals\?\$filter=/ },
    { what: 'the application permissions of an owned service principal', path: /\/appRoleAssignments/ },
    { what: "Microsoft Graph's app roles", path: /\?\$select=id,appId,displayName,appRoles/ },
  ];
  for (const read of reads) {
    it(`${read.what}: refused by Graph (403) is rejected, failing (500) is failed and retried; zero writes either way`, async () => {
      h.sim.resetLog();
      const refused = await resetUser('app.owner@contoso.com', { wrap: (graph) => failing(graph, read.path, 403) });
      expect(refused.status).toBe('rejected');
      expect(refused.status === 'rejected' && refused.code).toBe('guard-unverifiable');
      expect(refused.status === 'rejected' && refused.reason).toMatch(/Application\.Read\.All/);
      const broken = await resetUser('app.owner@contoso.com', { wrap: (graph) => failing(graph, read.path, 500) });
      expect(broken.status).toBe('failed');
      expect(broken.status === 'failed' && broken.transient).toBe(true);
      expect(writes()).toEqual([]);
    });
  }

  it('without Application.Read.All Graph hides an owned application\'s appId (limited information): refused, not passed', async () => {
    h.sim.tenant.withheldPermissions.add('Application.Read.All');
    try {
      h.sim.resetLog();
      const result = await resetUser('orphan.owner@contoso.com');
      expect(result.status === 'rejected' && result.code).toBe('guard-unverifiable');
      expect(result.status === 'rejected' && result.reason).toMatch(/no appId for application [0-9a-f-]{36} \(grant Application\.Read\.All\)/);
      expect(writes()).toEqual([]);
    } finally {
      h.sim.tenant.withheldPermissions.clear();
    }
  });

  it('a tenant where ownedObjects refuses applications (as the generated permissions table says): every reset refused, naming the read', async () => {
    const strict = await startGraphSimulator({ tenant: { ...tenant, ownedObjectsForApplications: false } });
    try {
      const result = await resetUser('plain@contoso.com', { url: strict.url });
      expect(result.status === 'rejected' && result.code).toBe('guard-unverifiable');
      expect(result.status === 'rejected' && result.reason).toMatch(/Reading the (service principals|applications) the user owns failed: Authorization_RequestDenied/);
      expect(strict.requestLog.filter((e) => e.write)).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
