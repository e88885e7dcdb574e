import { spawn, type ChildProcess } from 'node:child_process';
import { secretSettings } from '../support/signing';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postBulkCsv, type ApiTarget } from '../../dev/cli/client';
import { freePort } from '../../dev/free-port';
import { startGraphSimulator, type RunningGraphSimulator } from '../../dev/graph-sim';
import { useAzurite } from '../support/azurite';
import { eventually } from '../support/eventually';
import { bulkTenant, jobOf, SECRET, submittedJob, upnOf } from './support';

const USERS = 300;
const root = join(__dirname, '..', '..');
const azurite = useAzurite();
let sim: RunningGraphSimulator;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  // A little Graph latency, so that the job is still running when the app is killed.
  sim = await startGraphSimulator({ tenant: bulkTenant(USERS), faults: { latencyMs: 15 } });
});
afterAll(async () => {
  await Promise.all([...children].map((child) => stopChild(child, 'SIGKILL')));
  await sim?.stop();
});

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** `npm start`'s entry in its own process, on this test's Azurite and Graph simulator. */
async function startApp(): Promise<{ child: ChildProcess; api: ApiTarget }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    AzureWebJobsStorage: azurite.connectionString,
    GRAPH_BASE_URL: sim.url,
    GRAPH_AUTH: 'none',
    ...secretSettings(),
    // Approval has tests of its own (REQUIRE_APPROVAL is on by default); these are about other things.
    REQUIRE_APPROVAL: 'false',
    TENANT_DOMAINS: 'contoso.com',
    BULK_RATE_PER_MINUTE: '3000',
    GRAPH_WRITE_BUDGET_PER_SECOND: '200',
    // A killed worker's requests resume after these, instead of the production two minutes.
    RESET_LEASE_SECONDS: '10',
    LOCAL_QUEUE_LEASE_SECONDS: '5',
  };
  // Node itself runs the app (tsx as a loader, not as a wrapper process), so SIGKILL reaches the app.
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'dev', 'start.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const api = { url: `http://127.0.0.1:${port}`, secret: SECRET };
  await eventually(async () => ((await fetch(`${api.url}/api/health`)).status === 200 ? true : undefined), 60_000, 200);
  return { child, api };
}

describe('a bulk job survives the app being killed', () => {
  it('SIGKILL mid-job, start again: the job finishes and no user is reset twice', async () => {
    const first = await startApp();
    const csv = ['userPrincipalName', ...Array.from({ length: USERS }, (_, index) => upnOf(index))].join('\n');
    const submitted = await postBulkCsv(first.api, csv, { ticket: 'CHG-KILL', requestedBy: 'soc@contoso.com', confirmUsers: String(USERS) });
    expect(submitted.status).toBe(202);
    const jobId = submittedJob(submitted).id;

    // Kill it hard once a good part, but not all, of the job is done.
    const finishedBefore = await eventually(async () => {
      const job = jobOf(await getJson(first.api, `bulk/${jobId}`, { limit: '1' }));
      return job.totals.finished >= 60 ? job.totals.finished : undefined;
    }, 90_000, 100);
    await stopChild(first.child, 'SIGKILL');
    expect(finishedBefore).toBeLessThan(USERS);

    const second = await startApp();
    const job = await eventually(async () => {
      const body = jobOf(await getJson(second.api, `bulk/${jobId}`, { limit: '1' }));
      return body.status === 'completed' ? body : undefined;
    }, 150_000, 500);
    expect(job.counts.completed).toBe(USERS);
    await stopChild(second.child, 'SIGTERM');
    expect(second.child.exitCode).toBe(0);

    // Every user's two methods were removed exactly once: a repeated delete would show as a second removal.
    const removals = sim.tenant.removals;
    expect(removals).toHaveLength(USERS * 2);
    expect(new Set(removals.map((removal) => `${removal.userId}/${removal.methodId}`)).size).toBe(USERS * 2);
    expect(new Set(sim.tenant.revocations.map((revocation) => revocation.userId)).size).toBe(USERS);
    for (let index = 0; index < USERS; index += 1) {
      expect(sim.tenant.methodsOf(upnOf(index)).map((method) => method.kind)).toEqual(['password']);
    }
  }, 300_000);
});
