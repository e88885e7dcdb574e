import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resetAnswerSchema } from '../../dev/cli/answers';
import { newRow } from '../../shared/intake/intake-service';
import { statusView } from '../../shared/intake/status-service';
import { REQUEST_STATUSES, type RequestStatus } from '../../shared/requests/request-row';
import { requestIntegrity } from '../../shared/requests/request-integrity';

/**
 * The status answer (`GET /api/resets/{id}`) and the schema the CLI, the demo and the bench read it
 * with must agree for every status: a request that has not run yet answers `result: null`, one that
 * finished answers the engine's result. A field the schema refuses would stop the bench mid-run.
 */
const integrity = requestIntegrity({ INTAKE_MAC_KEY: randomBytes(32).toString('base64') } as Parameters<typeof requestIntegrity>[0]);
const request = {
  ticket: { system: 'generic', id: 'SR-SHAPE' },
  target: { userPrincipalName: 'adele.vance@contoso.com' },
  requestedBy: { name: 'agent@contoso.com' },
  profile: 'portal' as const,
  revokeSessions: true,
  dryRun: false,
};
const result = {
  methods: [{ id: 'm1', kind: 'phone', detail: 'mobile +1 425*****01', outcome: 'deleted', isDefault: false, requestIds: ['r1'] }],
  revoke: { outcome: 'done', at: '2026-01-01T00:00:00Z' },
  warnings: [],
};

function answerFor(status: RequestStatus) {
  const id = integrity.requestId(`generic|delivery|shape-${status}`);
  const row = newRow(id, { source: 'generic', idempotencyKey: `shape-${status}`, request }, new Date('2026-01-01T00:00:00Z'), integrity);
  const finished = !['accepted', 'running'].includes(status);
  const stored = {
    ...row,
    status,
    etag: '*',
    trusted: true,
    ...(finished ? { completedAt: '2026-01-01T00:00:05Z', result: JSON.stringify(status === 'rejected' ? null : result) } : {}),
    ...(status === 'partial' || status === 'failed' || status === 'rejected' ? { statusReason: `why it is ${status}` } : {}),
  };
  return JSON.parse(JSON.stringify(statusView(stored, { entries: [], verified: true }))) as unknown;
}

describe('the status answer has the shape its readers expect, for every status', () => {
  for (const status of REQUEST_STATUSES) {
    it(status, () => {
      const answer = answerFor(status);
      const parsed = resetAnswerSchema.safeParse(answer);
      expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
      const body = answer as Record<string, unknown>;
      expect(body.status).toBe(status);
      // Not run yet (or refused before any Graph work): result is null, never missing or a string.
      if (status === 'accepted' || status === 'running' || status === 'rejected') expect(body.result).toBeNull();
      else expect(body.result).toMatchObject({ methods: [expect.objectContaining({ outcome: 'deleted' })] });
    });
  }
});
