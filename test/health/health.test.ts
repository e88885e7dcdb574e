import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import { startSystem, type RunningSystem } from '../support/system';

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({ definitions: functionDefinitions.filter((d) => d.name === 'health') });
});
afterAll(async () => {
  await system?.stop();
});

describe('GET /api/health', () => {
  it('reports storage and Graph reachable, which Graph, and the version', async () => {
    const response = await fetch(`${system.host.url}/api/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, any>;
    expect(body.status).toBe('ok');
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.storage.reachable).toBe(true);
    expect(body.graph).toMatchObject({ origin: system.graph.url, kind: 'local simulator', reachable: true });
  });

  it('answers 503 degraded, naming Graph, when Graph refuses', async () => {
    system.graph.setFaults({ rate503: 1 });
    try {
      const response = await fetch(`${system.host.url}/api/health`);
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
