import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import { startSystem, type RunningSystem } from '../support/system';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ definitions: functionDefinitions.filter((d) => d.name === 'health' || d.name === 'healthDetails') });
});
afterAll(async () => {
  await system?.stop();
});

describe('GET /api/health', () => {
  it('answers anonymous callers only {status}, from one probe cached for about 30 s', async () => {
    const before = system.graph.requestLog.length;
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${system.host.url}/api/health`)));
    for (const answer of answers) expect(await answer.json()).toEqual({ status: 'ok' });
    // twenty hits, at most one probe (one read per permission family): a flood cannot spend the Graph budget
    expect(system.graph.requestLog.length - before).toBeLessThanOrEqual(7);
  });

  it('reports storage and Graph reachable, which Graph, and the version behind a key (health/details)', async () => {
    const response = await fetch(`${system.host.url}/api/health/details`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body.status).toBe('ok');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.storage.reachable).toBe(true);
    expect(body.graph).toMatchObject({ origin: system.graph.url, kind: 'local simulator', reachable: true });
  });

  it('names each application permission Graph refused (Graph itself never names it)', async () => {
    system.graph.tenant.withheldPermissions.add('RoleManagement.Read.Directory');
    system.graph.tenant.withheldPermissions.add('Policy.Read.AuthenticationMethod');
    system.graph.tenant.withheldPermissions.add('Application.Read.All');
    system.graph.tenant.withheldPermissions.add('AdministrativeUnit.Read.All');
    try {
      const response = await fetch(`${system.host.url}/api/health/details`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as Record<string, any>;
      expect(body.graph.reachable).toBe(false);
      expect(body.graph.missingPermissions.sort()).toEqual(['AdministrativeUnit.Read.All', 'Application.Read.All', 'Policy.Read.AuthenticationMethod', 'RoleManagement.Read.Directory']);
      expect(body.graph.error).toMatch(/RoleManagement\.Read\.Directory.*grant-graph-permissions/);
      // Without User.Read.All nothing else can be probed: that one is named alone.
      system.graph.tenant.withheldPermissions.add('User.Read.All');
      const none = (await (await fetch(`${system.host.url}/api/health/details`)).json()) as Record<string, any>;
      expect(none.graph.missingPermissions).toEqual(['User.Read.All']);
    } finally {
      system.graph.tenant.withheldPermissions.clear();
    }
  });

  it('answers 503 degraded, naming Graph, when Graph refuses', async () => {
    system.graph.setFaults({ rate503: 1 });
    try {
      const response = await fetch(`${system.host.url}/api/health/details`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as Record<string, any>;
      expect(body.status).toBe('degraded');
      expect(body.storage.reachable).toBe(true);
      expect(body.graph.reachable).toBe(false);
      expect(body.graph.error).toMatch(/HTTP 503/);
    } finally {
      system.graph.setFaults({});
    }
  });
});
