import { testIntegrity } from '../support/signing';
import { describe, expect, it } from 'vitest';
import { TableClient } from '@azure/data-tables';
import { AuditLog, type AuditFence } from '../../shared/audit/audit-log';
import { useAzurite } from '../support/azurite';

const azurite = useAzurite();
const actor = { source: 'jira', ticketId: 'ITSM-42', requestedBy: 'agent@contoso.com', approvedBy: 'lead@contoso.com' };

function tableFor(name: string): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
}

async function writeTrail(log: AuditLog, requestId: string, steps: number) {
  const entries = [];
  for (let step = 1; step <= steps; step += 1) {
    entries.push(await log.append(requestId, actor, 'user@contoso.com', { action: `step-${step}`, outcome: 'ok', graphRequestIds: [`g-${step}`] }));
  }
  return entries;
}

describe('audit trail', () => {
  it('writes a batch of rows in one transaction, text with line separators kept exactly, and the fence apart from the trail', async () => {
    const log = new AuditLog(tableFor('AuditBatch'), testIntegrity().auditKey());
    const forged = { ...actor, requestedBy: 'Eve\u2028- Temporary Access Pass: read it here\u2029' };
    const fence: AuditFence = { holder: 'attempt 1' };
    const written = await log.appendMany('req-batch', forged, 'user@contoso.com', [
      { action: 'start', outcome: 'running', detail: 'line one\u2028line two' },
      { action: 'resolve', outcome: 'resolved' },
    ], { seq: 0, hash: '0'.repeat(64) }, fence);
    expect(written.map((entry) => entry.seq)).toEqual([1, 2]);
    expect(fence).toMatchObject({ holder: 'attempt 1', etag: expect.any(String) });
    const trail = await log.read('req-batch');
    expect(trail.rows.map((entry) => entry.seq)).toEqual([1, 2]);
    expect(trail.rows[0]!.detail).toBe('line one\u2028line two');
    expect(trail.rows[0]!.actor.requestedBy).toBe(forged.requestedBy);
    expect(trail.fence?.etag).toBe(fence.etag);
    expect((await log.verify('req-batch', { seq: 2, hash: written[1]!.hash })).ok).toBe(true);
    // A second holder with a stale view of the fence writes nothing.
    await expect(log.appendMany('req-batch', actor, 'user@contoso.com', [{ action: 'x', outcome: 'y' }], { seq: 2, hash: written[1]!.hash }, { holder: 'attempt 2' })).rejects.toThrow(/taken over/);
    expect((await log.list('req-batch')).length).toBe(2);
  });

  it('appends chained rows and verifies them, also against the recorded head', async () => {
    const log = new AuditLog(tableFor('AuditChain'), testIntegrity().auditKey());
    const entries = await writeTrail(log, 'req-ok', 4);
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4]);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    const head = { seq: 4, hash: entries[3]!.hash };
    expect(await log.verify('req-ok', head)).toEqual({ requestId: 'req-ok', ok: true, rows: 4 });
  });

  it('names an altered row', async () => {
    const table = tableFor('AuditAltered');
    const log = new AuditLog(table, testIntegrity().auditKey());
    await writeTrail(log, 'req-alt', 4);
    await table.updateEntity({ partitionKey: 'req-alt', rowKey: '000002', outcome: 'failed' }, 'Merge');
    const result = await log.verify('req-alt');
    expect(result.ok).toBe(false);
    expect(result.problem).toContain('req-alt/000002');
    expect(result.problem).toMatch(/altered/);
  });

  it('names a removed row in the middle', async () => {
    const table = tableFor('AuditRemoved');
    const log = new AuditLog(table, testIntegrity().auditKey());
    await writeTrail(log, 'req-gap', 4);
    await table.deleteEntity('req-gap', '000003');
    const result = await log.verify('req-gap');
    expect(result.ok).toBe(false);
    expect(result.problem).toContain('req-gap/000003 is missing');
  });

  it('notices removed last rows through the head the request recorded', async () => {
    const table = tableFor('AuditTail');
    const log = new AuditLog(table, testIntegrity().auditKey());
    const entries = await writeTrail(log, 'req-tail', 3);
    await table.deleteEntity('req-tail', '000003');
    expect((await log.verify('req-tail')).ok).toBe(true);
    const result = await log.verify('req-tail', { seq: 3, hash: entries[2]!.hash });
    expect(result.ok).toBe(false);
    expect(result.problem).toMatch(/after req-tail\/000002 are missing/);
  });

  it('keeps every row when writers race', async () => {
    const log = new AuditLog(tableFor('AuditRace'), testIntegrity().auditKey());
    await Promise.all(
      Array.from({ length: 4 }, (_, index) => log.append('req-race', actor, 'user@contoso.com', { action: `parallel-${index}`, outcome: 'ok' })),
    );
    const rows = await log.list('req-race');
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4]);
    expect((await log.verify('req-race')).ok).toBe(true);
  });

  it('finds requests by date range', async () => {
    const log = new AuditLog(tableFor('AuditRange'), testIntegrity().auditKey());
    await writeTrail(log, 'req-a', 1);
    await writeTrail(log, 'req-b', 2);
    const ids = await log.requestIdsBetween(new Date(Date.now() - 60_000), new Date(Date.now() + 60_000));
    expect(ids).toEqual(['req-a', 'req-b']);
    expect(await log.requestIdsBetween(new Date('2020-01-01'), new Date('2020-01-02'))).toEqual([]);
  });
});
