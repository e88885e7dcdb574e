import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueClient } from '@azure/storage-queue';
import type { TenantFile } from '../../dev/graph-sim';
import { functionDefinitions } from '../../functions/all';
import { silentLogger } from '../../shared/log';
import { getServices, resetServices } from '../../shared/services';
import { QUEUES } from '../../shared/storage/names';
import { processResetMessage, type Delivery } from '../../shared/worker/process-reset';
import type { WorkerDependencies } from '../../shared/worker/worker-dependencies';
import { workerDependencies } from '../../shared/worker/worker-services';
import { startSystem, type RunningSystem } from '../support/system';

const tenant: TenantFile = {
  domains: ['contoso.com'],
  users: Array.from({ length: 4 }, (_, index) => ({
    userPrincipalName: `guarded${index}@contoso.com`,
    methods: [
      { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555503${index}0` },
      { type: 'microsoftAuthenticator' as const, displayName: `Phone ${index}` },
    ],
  })),
};

let system: RunningSystem;
beforeAll(async () => {
  system = await startSystem({
    graph: { tenant },
    settings: { RESET_COOLDOWN_MAX: '1', RESET_COOLDOWN_MINUTES: '60' },
    definitions: functionDefinitions.filter((d) => d.trigger === 'http'),
  });
});
afterAll(async () => {
  await system?.stop();
});

const first: Delivery = { dequeueCount: 1, maxDequeueCount: 5 };
const deps = (): WorkerDependencies => workerDependencies(getServices(), silentLogger);
const userOf = (index: number) => system.graph.tenant.findUser(`guarded${index}@contoso.com`)!;
const writesTo = (index: number) => system.graph.requestLog.filter((entry) => entry.write && entry.url.includes(userOf(index).id));

async function submit(target: Record<string, string>, ticket: string, extra: Record<string, unknown> = {}): Promise<string> {
  const answer = await system.post('generic', { ticket: { system: 'generic', id: ticket }, target, requestedBy: 'agent@contoso.com', ...extra });
  expect(answer.status).toBe(202);
  return answer.body.id;
}

describe('guards that need stored state', () => {
  it('refuses a second reset of the same user within the cooldown, however the ticket names the user', async () => {
    const firstId = await submit({ userPrincipalName: 'guarded0@contoso.com' }, 'CD-1');
    expect(await processResetMessage({ requestId: firstId }, first, deps())).toBe('completed');
    const writesAfterFirst = writesTo(0).length;

    // The same user by object id: a different request, the same person.
    const secondId = await submit({ objectId: userOf(0).id }, 'CD-2');
    expect(await processResetMessage({ requestId: secondId }, first, deps())).toBe('rejected');
    const status = await system.status(secondId);
    expect(status.statusReason).toMatch(/already reset 1 times in the last 60 minutes \(limit 1\)/);
    expect(status.result?.code).toBe('cooldown');
    expect(writesTo(0)).toHaveLength(writesAfterFirst);
    expect(status.audit?.verified).toBe(true);
  });

  it('makes a reset of a user another reset holds wait, then run', async () => {
    const id = await submit({ userPrincipalName: 'guarded1@contoso.com' }, 'BUSY-1');
    const key = `oid:${userOf(1).id}`;
    await deps().targets.acquire(key, 'another-request', new Date(Date.now() + 2000));

    expect(await processResetMessage({ requestId: id }, first, deps())).toBe('waiting-for-user');
    const waiting = await system.status(id);
    expect(waiting.status).toBe('accepted');
    expect(waiting.statusReason).toMatch(/another reset of the same user \(another-request\)/);
    expect(writesTo(1)).toHaveLength(0);
    // Its message comes back when the other reset's lock runs out.
    const queue = new QueueClient(system.azurite.connectionString, QUEUES.resets);
    expect((await queue.getProperties()).approximateMessagesCount).toBeGreaterThanOrEqual(1);

    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await processResetMessage({ requestId: id }, { dequeueCount: 1, maxDequeueCount: 5 }, deps())).toBe('completed');
    expect(system.graph.tenant.methodsOf('guarded1@contoso.com').map((method) => method.kind)).toEqual(['password']);
  });

  it('refuses a request without an approver when approval became required', async () => {
    const id = await submit({ userPrincipalName: 'guarded2@contoso.com' }, 'APPR-1');
    const before = process.env.REQUIRE_APPROVAL;
    process.env.REQUIRE_APPROVAL = 'true';
    resetServices();
    try {
      expect(await processResetMessage({ requestId: id }, first, deps())).toBe('rejected');
      expect((await system.status(id)).result?.code).toBe('approval-missing');
      expect(writesTo(2)).toHaveLength(0);
    } finally {
      if (before === undefined) delete process.env.REQUIRE_APPROVAL;
      else process.env.REQUIRE_APPROVAL = before;
      resetServices();
    }
  });

  it('a dry run is neither locked nor counted against the cooldown', async () => {
    const dry = await submit({ userPrincipalName: 'guarded3@contoso.com' }, 'DRY-1', { dryRun: true });
    expect(await processResetMessage({ requestId: dry }, first, deps())).toBe('planned');
    const real = await submit({ userPrincipalName: 'guarded3@contoso.com' }, 'REAL-1');
    expect(await processResetMessage({ requestId: real }, first, deps())).toBe('completed');
  });
});
