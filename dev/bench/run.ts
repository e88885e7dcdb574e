import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { odata, TableClient } from '@azure/data-tables';
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { standardWebhookHeaders } from '../../shared/intake/standard-webhooks';
import { requestIntegrity } from '../../shared/requests/request-integrity';
import { newRow } from '../../shared/intake/intake-service';
import { ticketLineage } from '../../shared/intake/request-id';
import { targetKey } from '../../shared/requests/canonical-request';
import { requestStores } from '../../shared/request-stores';
import { getServices, resetServices } from '../../shared/services';
import { TABLES } from '../../shared/storage/names';
import { startAzurite, type RunningAzurite } from '../azurite';
import { acceptedAnswerSchema, bulkAcceptedAnswerSchema, jobAnswerSchema, resetAnswerSchema, type JobAnswer, type ResetAnswer } from '../cli/answers';
import { expectAnswer, getJson, postBulkCsv, postJson, type ApiTarget } from '../cli/client';
import { formatTable } from '../cli/table';
import { compileApp, type CompiledApp } from './compiled';
import { startHostProcess, workerNodeArguments, type RunningHostProcess } from './host-process';
import { idleHour } from './idle';
import { sequentialResets } from './sequential';
import type { ThrottleOptions } from '../graph-sim/throttle';
import { startSimProcess, type RunningSimProcess } from './sim-process';
import { countStorageRequests } from './storage-requests';
import { scaleConfig, scaleFigures } from './scale-run';
import { pricesFromEnv, storageCost } from './storage-cost';
import { benchUpn } from './tenant';

/**
 * `npm run bench`: side-by-side measurements in one run, each against a baseline measured in the same
 * run, on 127.0.0.1 only. Every load loop is bounded in count and time. Prints a table, then one line
 * of JSON (the last line of stdout).
 */
/** Per-run secrets of the strength the settings demand. */
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const INTAKE_MAC_KEY = randomBytes(32).toString('base64');
const ROOT = join(__dirname, '..', '..');
/**
 * `--smoke`: every phase with tiny counts, in well under a minute, so that `npm test` runs the bench
 * and a change that breaks it fails CI. Its figures prove only that each phase runs, not speed.
 */
const SMOKE = process.argv.includes('--smoke');
/**
 * `--phase intake` (or `--phase=intake,e2e`): only those phases, for measuring one thing at a time.
 * Each phase starts its own stack and measures against its own baseline, so one alone is still a
 * side-by-side figure; the full run stays the one that is quoted.
 */
const PHASES = ['intake', 'e2e', 'bulk', 'idle', 'scale'] as const;
type Phase = (typeof PHASES)[number];
function selectedPhases(argv: readonly string[]): readonly Phase[] {
  const named = argv.flatMap((arg, index) => (arg === '--phase' ? [argv[index + 1] ?? ''] : arg.startsWith('--phase=') ? [arg.slice('--phase='.length)] : []));
  if (named.length === 0) return PHASES;
  const wanted = named.flatMap((value) => value.split(',')).map((value) => value.trim());
  const unknown = wanted.filter((value) => !(PHASES as readonly string[]).includes(value));
  if (unknown.length > 0) throw new Error(`unknown bench phase ${unknown.join(', ')}: choose from ${PHASES.join(', ')}`);
  return PHASES.filter((name) => wanted.includes(name));
}
const ONLY = selectedPhases(process.argv.slice(2));
/** Read before any phase runs, so that a price given wrong stops the bench at once rather than after a quarter of an hour. */
const PRICES = pricesFromEnv();
/** The app's default write budget (shared/config.ts): the bulk phase is measured at what ships. */
const DEFAULT_WRITE_BUDGET = 15;
/**
 * The simulator's defaults are Graph's documented identity limits per app and tenant (3,000 writes per
 * 150 s; dev/graph-sim/throttle.ts). The bulk phase measures the app pacing itself to its default budget
 * (15/s) under that limit, as in a tenant, not under a simulator cut to the budget with no headroom.
 */
const GRAPH_IDENTITY_LIMITS: ThrottleOptions = {};
const CONFIG = SMOKE
  ? {
      intake: { connections: 4, seconds: 1, warmupSeconds: 1 },
      e2e: { resets: 2, latencyMs: 100 },
      bulk: { users: 8, writeBudget: DEFAULT_WRITE_BUDGET, latencyMs: 20, timeoutSeconds: 90 },
      sequential: { maxSeconds: 1 },
      idle: { windowSeconds: 3 },
    }
  : {
      intake: { connections: 16, seconds: 8, warmupSeconds: 2 },
      e2e: { resets: 25, latencyMs: 100 },
      bulk: { users: Number(process.env.BENCH_BULK_USERS ?? 2000), writeBudget: DEFAULT_WRITE_BUDGET, latencyMs: 100, timeoutSeconds: 600 },
      sequential: { maxSeconds: 45 },
      idle: { windowSeconds: 60 },
    };

const say = (text: string) => process.stderr.write(`[bench] ${text}\n`);

/**
 * Memory, sampled every 100 ms, per process: the app (its own process: the local host and the
 * functions, compiled JavaScript on plain Node), the driver (this process: autocannon, the status
 * polling, the storage baseline), the Graph simulator (its tenant and request log) and Azurite.
 * `rss_peak_mb` is the peak of app, driver and simulator together, what one process held before they
 * moved apart; the split says whose.
 */
let rssPeak = 0;
/** The app's process once started, before any work: Node and the loaded code. */
let appBaseline = 0;
let appPeak = 0;
let driverPeak = 0;
let heapPeak = 0;
let retainedPeak = 0;
/** The app's memory when its RSS was highest: V8's heap, off-heap, and the rest (code, allocator, stacks). */
let appAtPeak: NodeJS.MemoryUsage | undefined;
let simPeak = 0;
let azuritePeak = 0;
let azuritePid: number | undefined;
let simPid: number | undefined;
let hostPid: number | undefined;
/** Peak RSS per phase (app, driver and simulator; the app alone), to tell which phase holds the memory. */
let phase = 'start';
const phasePeaks: Record<string, number> = {};
const appPhasePeaks: Record<string, number> = {};
const sampler = setInterval(() => {
  const driver = process.memoryUsage().rss;
  const sim = simPid ? rssOf(simPid) : 0;
  const app = hostPid ? rssOf(hostPid) : 0;
  appPeak = Math.max(appPeak, app);
  driverPeak = Math.max(driverPeak, driver);
  simPeak = Math.max(simPeak, sim);
  rssPeak = Math.max(rssPeak, app + driver + sim);
  phasePeaks[phase] = Math.max(phasePeaks[phase] ?? 0, app + driver + sim);
  appPhasePeaks[phase] = Math.max(appPhasePeaks[phase] ?? 0, app);
  if (azuritePid) azuritePeak = Math.max(azuritePeak, rssOf(azuritePid));
}, 100);
sampler.unref();

/**
 * `--retained`: in the app's process, every 5 s a full garbage collection, then the heap in use: what
 * the app holds on to, as opposed to garbage V8 has not collected yet (heapUsed counts both). Off by
 * default, since the collections cost CPU the measured phases would otherwise have.
 */
const RETAINED = process.argv.includes('--retained');

/** The app compiled once per run (main); every stack's host process runs it. */
let compiled: CompiledApp | undefined;

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Sequential Graph round trips of one reset, from the simulator's log: requests that arrive before
 * the first answer of the current round are sent side by side with it; one that arrives after is the
 * next round. $batch inner requests ride in their envelope.
 */
function roundTrips(entries: readonly { receivedAt: string; at: string; batch?: string }[]): number {
  const spans = entries
    .filter((entry) => !entry.batch)
    .map((entry) => ({ start: Date.parse(entry.receivedAt), end: Date.parse(entry.at) }))
    .sort((a, b) => a.start - b.start);
  let trips = 0;
  let roundEnd = -Infinity;
  for (const span of spans) {
    if (span.start >= roundEnd) {
      trips += 1;
      roundEnd = span.end;
    } else {
      roundEnd = Math.min(roundEnd, span.end);
    }
  }
  return trips;
}

interface Stack {
  azurite: RunningAzurite;
  sim: RunningSimProcess;
  host: RunningHostProcess;
  api: ApiTarget;
  stop(): Promise<void>;
}

/** What is running, so that Ctrl-C stops the emulators and simulators too. */
const running = new Set<{ stop(): Promise<void> }>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    say(`${signal}: stopping`);
    void Promise.allSettled([...running].map((item) => item.stop())).then(() => {
      compiled?.remove();
      process.exit(130);
    });
  });
}

async function stack(options: { users: number; latencyMs: number; writeBudget?: number; enable?: { queues?: boolean; timers?: boolean }; env?: Record<string, string> }): Promise<Stack> {
  const azurite = await startAzurite();
  azuritePid = azurite.pid;
  const sim = await startSimProcess({
    users: options.users,
    latencyMs: options.latencyMs,
    // With a write budget the simulator throttles as Graph documents (GRAPH_IDENTITY_LIMITS: 3,000 writes
    // per 150 s per app and tenant), and the app paces itself to its own budget below that limit.
    throttle: options.writeBudget ? GRAPH_IDENTITY_LIMITS : { writesPerSecond: 100_000, readsPerSecond: 100_000, burst: 100_000 },
  });
  simPid = sim.pid;
  const env: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    GRAPH_BASE_URL: sim.url,
    GRAPH_AUTH: 'none',
    WEBHOOK_SECRET_GENERIC: SECRET,
    INTAKE_MAC_KEY,
    TENANT_DOMAINS: 'contoso.com',
    LOCAL_DEMO_MODE: 'false',
    // The bench measures throughput; its webhooks carry no approval record, as before approval was on by default.
    REQUIRE_APPROVAL: 'false',
    ...(options.writeBudget ? { GRAPH_WRITE_BUDGET_PER_SECOND: String(options.writeBudget) } : {}),
    ...options.env,
  };
  // The same settings here, for the storage baseline that this process writes itself.
  Object.assign(process.env, env);
  resetServices();
  if (!compiled) throw new Error('the app is not compiled yet');
  const host = await startHostProcess({
    compiledDir: compiled.dir,
    env,
    enable: { http: true, queues: options.enable?.queues ?? true, timers: options.enable?.timers ?? true },
    hostJsonPath: join(ROOT, 'host.json'),
    storagePorts: azurite.ports,
    nodeArguments: workerNodeArguments(ROOT),
    retained: RETAINED,
  });
  hostPid = host.pid;
  const started = await host.memory();
  if (appBaseline === 0) appBaseline = started.rss;
  const made: Stack = {
    azurite,
    sim,
    host,
    api: { url: host.url, secret: SECRET },
    async stop() {
      running.delete(made);
      const memory = await host.memory().catch(() => undefined);
      heapPeak = Math.max(heapPeak, memory?.heapPeak ?? 0);
      retainedPeak = Math.max(retainedPeak, memory?.retainedPeak ?? 0);
      if (memory && (!appAtPeak || memory.atRssPeak.rss > appAtPeak.rss)) appAtPeak = memory.atRssPeak;
      await host.stop();
      hostPid = undefined;
      await sim.stop();
      await azurite.stop();
    },
  };
  running.add(made);
  return made;
}

const canonical = (n: number, prefix: string) => ({
  ticket: { system: 'bench', id: `${prefix}-${n}` },
  target: { userPrincipalName: benchUpn(n % 1000) },
  requestedBy: 'bench@contoso.com',
});

interface ArmTotals {
  done: number;
  seconds: number;
  table: number;
  queue: number;
}
const armTotals = (): ArmTotals => ({ done: 0, seconds: 0, table: 0, queue: 0 });
/** Slices per arm in the intake phase: the arms take turns, so a drift in the machine's speed falls on all three. */
const INTAKE_ROUNDS = SMOKE ? 1 : 4;
/** After a load slice: requests still in flight when autocannon stops end before the next slice starts. */
const SETTLE_MS = 500;

/** Webhook acceptance (HTTP, signature, schema, the row and the queue message) against the same storage writes without HTTP. */
async function intakeVersusStorage() {
  const s = await stack({ users: 1000, latencyMs: 0, enable: { queues: false, timers: false } });
  try {
    const { connections, seconds, warmupSeconds } = CONFIG.intake;
    const fire = async (duration: number, prefix: string) => {
      let n = 0;
      const result = await autocannon({
        url: `${s.host.url}/api/resets`,
        connections,
        duration,
        requests: [
          {
            method: 'POST',
            setupRequest: (request) => {
              const body = JSON.stringify(canonical(n++, prefix));
              return { ...request, body, headers: { 'content-type': 'application/json', ...standardWebhookHeaders(SECRET, body) } };
            },
          },
        ],
      });
      return result;
    };
    say(`intake warm-up ${warmupSeconds} s`);
    await fire(warmupSeconds, 'warm');

    // Requests still in flight when autocannon stops go on being served: let them end first.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Two baselines, both without HTTP, in this process: the raw single write (the row and its queue
    // message), and the intake's own storage calls for a new request (the ticket claim, the row, the
    // queue message), so that the table says what the extra round trip costs apart from what HTTP, the
    // signature, the schema and the MAC cost. Round trips are counted on both sides: the baselines' in
    // this process, the intake's in the app's (workers and timers are off there, so all are the intake's).
    const services = getServices();
    const { store, queue, index } = requestStores(services);
    const integrity = requestIntegrity(services.settings);
    // The three arms run in turns (INTAKE_ROUNDS slices each), so that a machine that slows down or
    // speeds up over the phase slows all three alike; each slice counts its own round trips.
    let counter = 0;
    const writeSlice = async (total: ArmTotals, sliceSeconds: number, write: (n: number) => Promise<void>) => {
      const trips = countStorageRequests(s.azurite.ports);
      let written = 0;
      const deadline = performance.now() + sliceSeconds * 1000;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (performance.now() < deadline) {
            await write(counter++);
            written += 1;
          }
        }),
      );
      total.done += written;
      total.seconds += (performance.now() - started) / 1000;
      const counted = trips.counts();
      trips.stop();
      total.table += counted.table;
      total.queue += counted.queue;
    };
    const storedRow = (n: number, prefix: string) => {
      const request = canonical(n, prefix);
      const key = `generic|delivery|${prefix}-${n}`;
      const id = integrity.requestId(key);
      const row = newRow(id, { source: 'generic', idempotencyKey: key, request: { ...request, requestedBy: { name: request.requestedBy }, profile: 'portal', revokeSessions: true, dryRun: false } }, new Date(), integrity);
      return { row, lineageKey: integrity.indexKey('ticket', ticketLineage('generic', request.ticket.system, request.ticket.id)) };
    };
    const raw = armTotals();
    const own = armTotals();
    const intake = armTotals();
    let intakeP99 = 0;
    let non2xx = 0;
    const sliceSeconds = seconds / INTAKE_ROUNDS;
    say(`intake against two storage baselines, in ${INTAKE_ROUNDS} rounds of ${sliceSeconds} s each, ${connections} at once:`);
    say('  storage alone: RequestStore.create + ResetQueue.send');
    say("  the intake's writes: IntakeIndex.claimNewTicket + RequestStore.create + ResetQueue.send");
    say(`  the intake: autocannon, ${connections} connections`);
    const writeRow = async (n: number) => {
      const { row } = storedRow(n, 'store');
      await store.create(row);
      await queue.send(row.id);
    };
    const writeAsIntake = async (n: number) => {
      const { row, lineageKey } = storedRow(n, 'own');
      await index.claimNewTicket(lineageKey, row.id, new Date());
      await store.create(row);
      await queue.send(row.id);
    };
    // The baselines' code warms up in this process as the intake's did in the app's.
    await writeSlice(armTotals(), warmupSeconds / 2, writeRow);
    await writeSlice(armTotals(), warmupSeconds / 2, writeAsIntake);
    for (let round = 0; round < INTAKE_ROUNDS; round += 1) {
      await writeSlice(raw, sliceSeconds, writeRow);
      await writeSlice(own, sliceSeconds, writeAsIntake);
      await s.host.trips({ reset: true });
      const result = await fire(sliceSeconds, `load-${round}-`);
      // Requests in flight when autocannon stops are not in result['2xx'], but the host still serves
      // them and their storage calls are counted: so the round trips are divided by the requests the
      // load stored (its rows, counted once all have ended), not by the answers autocannon saw.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const trips = await s.host.trips();
      intake.done += result['2xx'];
      intake.seconds += result.duration || sliceSeconds;
      intake.table += trips.table;
      intake.queue += trips.queue;
      intakeP99 = Math.max(intakeP99, result.latency.p99);
      non2xx += result.non2xx + result.errors;
    }
    const stored = await rowsOfTickets(s, 'load-');
    if (non2xx > 0) say(`intake: ${non2xx} non-2xx answers or errors`);
    const per = (count: number, of: number) => (of > 0 ? count / of : 0);
    return {
      intakeRps: per(intake.done, intake.seconds),
      intakeP99,
      storageRps: per(raw.done, raw.seconds),
      ownWritesRps: per(own.done, own.seconds),
      ownWritesTableTrips: per(own.table, own.done),
      ownWritesQueueTrips: per(own.queue, own.done),
      non2xx,
      // Per stored request (every delivery in the load is a new request, answered 202).
      intakeTableTrips: per(intake.table, stored),
      intakeQueueTrips: per(intake.queue, stored),
      baselineTableTrips: per(raw.table, raw.done),
      baselineQueueTrips: per(raw.queue, raw.done),
    };
  } finally {
    await s.stop();
  }
}

/** How many request rows there are for tickets whose id starts with `prefix`. */
async function rowsOfTickets(s: Stack, prefix: string): Promise<number> {
  const table = TableClient.fromConnectionString(s.azurite.connectionString, TABLES.requests, { allowInsecureConnection: true });
  let rows = 0;
  const after = `${prefix.slice(0, -1)}${String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)}`;
  const filter = odata`ticketId ge ${prefix} and ticketId lt ${after}`;
  for await (const _ of table.listEntities({ queryOptions: { filter, select: ['rowKey'] } })) rows += 1;
  return rows;
}

/** The pause before the `i`-th single reset: the golden-ratio sequence over [0, 1,000) ms. */
function arrivalPauseMs(i: number): number {
  return Math.floor(((i * 0.6180339887) % 1) * 1000);
}

/** Single resets, webhook to completed, with Graph answering after 100 ms. */
async function endToEnd() {
  const { resets, latencyMs } = CONFIG.e2e;
  const s = await stack({ users: resets + 5, latencyMs });
  try {
    say(`end to end: ${resets} single resets one after another, Graph latency ${latencyMs} ms`);
    const times: number[] = [];
    const trips: number[] = [];
    const requests: number[] = [];
    const tables: number[] = [];
    const queues: number[] = [];
    const beforeGraph: number[] = [];
    const inGraph: number[] = [];
    const afterGraph: number[] = [];
    for (let i = 0; i < resets; i += 1) {
      // Webhooks come when people call, not in step with the worker's idle polling: a pause before each
      // reset, spread evenly over a second (a low-discrepancy sequence, so every run pauses alike), so
      // the reset lands anywhere in the poll interval, as one would in Azure, rather than in step with it.
      await new Promise((resolve) => setTimeout(resolve, arrivalPauseMs(i)));
      const before = await s.sim.logLength();
      await s.host.trips({ reset: true });
      const started = Date.now();
      const body = { ticket: { system: 'bench', id: `E2E-${i}` }, target: { userPrincipalName: benchUpn(i) }, requestedBy: 'bench@contoso.com' };
      const accepted = expectAnswer(await postJson(s.api, 'resets', body), acceptedAnswerSchema, 'a reset');
      const deadline = Date.now() + 30_000;
      let final: ResetAnswer | undefined;
      let polls = 0;
      while (!final && Date.now() < deadline) {
        polls += 1;
        const status = expectAnswer(await getJson(s.api, `resets/${accepted.id}`), resetAnswerSchema, 'a reset status');
        if (['completed', 'partial', 'failed', 'rejected'].includes(status.status)) final = status;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (final?.status !== 'completed') throw new Error(`reset ${i} ended ${final?.status ?? 'not in time'}`);
      // Table round trips from the webhook to the status saying completed, less the status reads
      // (one status read counted alone, times the polls): what the intake and the worker did, and
      // any timer's scans meanwhile.
      const counted = await s.host.trips({ reset: true });
      await getJson(s.api, `resets/${accepted.id}`);
      tables.push(Math.max(0, counted.table - polls * (await s.host.trips()).table));
      // The queue: its message's own operations (put, delete), and the receive that found it, one of
      // the polls the instance makes anyway (counted with the idle hour below).
      queues.push(counted.queueMessages + 1);
      const completed = Date.parse(final.completedAt ?? '');
      times.push(completed - started);
      const mine = await s.sim.log(before);
      trips.push(roundTrips(mine));
      requests.push(mine.filter((entry) => !entry.batch).length);
      // Where the time went: before the first Graph call (intake, queue pickup, the worker's reads
      // and lease), the Graph calls, and after the last answer (verification rows, audit, finish).
      const arrivals = mine.map((entry) => Date.parse(entry.receivedAt));
      const answers = mine.map((entry) => Date.parse(entry.at));
      if (arrivals.length > 0) {
        beforeGraph.push(Math.min(...arrivals) - started);
        inGraph.push(Math.max(...answers) - Math.min(...arrivals));
        afterGraph.push(completed - Math.max(...answers));
      }
    }
    return {
      queues: percentile(queues, 50),
      tables: percentile(tables, 50),
      p50: percentile(times, 50),
      p90: percentile(times, 90),
      trips: percentile(trips, 50),
      requests: percentile(requests, 50),
      beforeGraph: percentile(beforeGraph, 50),
      inGraph: percentile(inGraph, 50),
      afterGraph: percentile(afterGraph, 50),
    };
  } finally {
    await s.stop();
  }
}

/** A bulk job against a write budget, then the same users reset one call at a time. */
async function bulkVersusSequential() {
  const { users, writeBudget, latencyMs, timeoutSeconds } = CONFIG.bulk;
  const s = await stack({ users, latencyMs, writeBudget });
  let bulk;
  try {
    say(`bulk: ${users} users, app write budget ${writeBudget}/s (GRAPH_WRITE_BUDGET_PER_SECOND) under Graph's identity limits (3,000 writes per 150 s), latency ${latencyMs} ms, BULK_RATE_PER_MINUTE default`);
    const csv = ['userPrincipalName', ...Array.from({ length: users }, (_, i) => benchUpn(i))].join('\n');
    const started = Date.now();
    const submitted = expectAnswer(await postBulkCsv(s.api, csv, { ticket: 'CHG-BENCH', requestedBy: 'bench@contoso.com', confirmUsers: String(users) }), bulkAcceptedAnswerSchema, 'the bench job');
    let job: JobAnswer | undefined;
    let lastShown = 0;
    while (Date.now() - started < timeoutSeconds * 1000) {
      job = expectAnswer(await getJson(s.api, `bulk/${submitted.id}`, { limit: '1' }), jobAnswerSchema, 'the bench job status');
      if (Date.now() - lastShown > 15_000) {
        lastShown = Date.now();
        say(`  ${job.status} ${job.totals.finished}/${job.totals.valid} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
      if (job.status === 'completed' || job.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const seconds = (Date.now() - started) / 1000;
    // What the app still holds once the job is done, garbage collected: state kept, not garbage.
    const afterJob = await s.host.memory({ collect: true });
    const log = await s.sim.log();
    const writes = log.filter((entry) => entry.write && entry.status > 0 && entry.status < 400);
    const throttled = log.filter((entry) => entry.status === 429).length;
    const first = Date.parse(writes[0]?.at ?? new Date().toISOString());
    const last = Date.parse(writes[writes.length - 1]?.at ?? new Date().toISOString());
    bulk = {
      users,
      completed: job?.counts.completed ?? 0,
      status: job?.status ?? 'not started',
      seconds,
      writes: writes.length,
      requests: log.length,
      throttled,
      efficiency: writes.length / seconds / writeBudget,
      windowEfficiency: writes.length / Math.max(0.001, (last - first) / 1000) / writeBudget,
      heapAfterJob: afterJob.heapUsed,
      heapTotalAfterJob: afterJob.heapTotal,
      externalAfterJob: afterJob.external,
      rssAfterJob: afterJob.rss,
    };
  } finally {
    await s.stop();
  }

  const sim = await startSimProcess({ users, latencyMs, throttle: GRAPH_IDENTITY_LIMITS });
  simPid = sim.pid;
  try {
    say(`sequential: one call at a time, at most ${CONFIG.sequential.maxSeconds} s, then scaled to ${users} users`);
    const run = await sequentialResets(sim.url, Array.from({ length: users }, (_, i) => benchUpn(i)), CONFIG.sequential.maxSeconds);
    return { bulk, sequential: { ...run, projected: (run.seconds / Math.max(1, run.users)) * users } };
  } finally {
    await sim.stop();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const megabytes = (peaks: Record<string, number>) => Object.fromEntries(Object.entries(peaks).map(([name, bytes]) => [name, round(bytes / 1024 / 1024, 0)]));

async function main() {
  const began = Date.now();
  compiled = await compileApp(ROOT);
  const figures: Record<string, unknown> = {};
  const rows: [string, string, string, string][] = [];

  if (ONLY.includes('intake')) {
    phase = 'intake';
    const intake = await intakeVersusStorage();
    Object.assign(figures, {
      intake_rps: round(intake.intakeRps, 1),
      intake_p99_ms: round(intake.intakeP99, 1),
      storage_rps: round(intake.storageRps, 1),
      intake_vs_storage: round(intake.intakeRps / intake.storageRps),
      storage_intake_writes_rps: round(intake.ownWritesRps, 1),
      intake_writes_vs_storage: round(intake.ownWritesRps / intake.storageRps),
      intake_vs_intake_writes: round(intake.intakeRps / intake.ownWritesRps),
      intake_storage_round_trips: round(intake.intakeTableTrips),
      intake_queue_round_trips: round(intake.intakeQueueTrips),
      storage_baseline_round_trips: round(intake.baselineTableTrips),
      storage_baseline_queue_round_trips: round(intake.baselineQueueTrips),
      intake_non_2xx: intake.non2xx,
    });
    rows.push(
      ['webhook intake', `${figures.intake_rps} req/s, p99 ${figures.intake_p99_ms} ms`, `storage writes alone ${figures.storage_rps}/s`, `${figures.intake_vs_storage} (goal >= 0.6)`],
      [
        'intake storage round trips',
        `${figures.intake_storage_round_trips} table + ${figures.intake_queue_round_trips} queue per accepted request (counted)`,
        `${figures.storage_baseline_round_trips} table + ${figures.storage_baseline_queue_round_trips} queue per write`,
        '(goal <= 2 table)',
      ],
      [
        "the intake's writes alone",
        `${figures.storage_intake_writes_rps}/s (ticket claim, row, queue message; ${round(intake.ownWritesTableTrips)} table + ${round(intake.ownWritesQueueTrips)} queue, no HTTP)`,
        `storage writes alone ${figures.storage_rps}/s`,
        `${figures.intake_writes_vs_storage}; intake ${figures.intake_vs_intake_writes} of these`,
      ],
    );
  }
  if (ONLY.includes('e2e')) {
    phase = 'e2e';
    const e2e = await endToEnd();
    Object.assign(figures, {
      e2e_p50_ms: round(e2e.p50, 0),
      e2e_p90_ms: round(e2e.p90, 0),
      e2e_graph_round_trips: e2e.trips,
      e2e_graph_requests: e2e.requests,
      e2e_table_round_trips: e2e.tables,
      e2e_queue_round_trips: e2e.queues,
      e2e_before_graph_p50_ms: round(e2e.beforeGraph, 0),
      e2e_in_graph_p50_ms: round(e2e.inGraph, 0),
      e2e_after_graph_p50_ms: round(e2e.afterGraph, 0),
    });
    rows.push([
      'single reset, end to end',
      `p50 ${figures.e2e_p50_ms} ms, p90 ${figures.e2e_p90_ms} ms`,
      `${figures.e2e_graph_round_trips} sequential Graph round trips (${figures.e2e_graph_requests} requests) x ${CONFIG.e2e.latencyMs} ms`,
      `(goal p50 <= 650 ms, <= 5 round trips)`,
    ], [
      'end to end, where the time goes',
      `p50 ${figures.e2e_before_graph_p50_ms} ms to the first Graph call, ${figures.e2e_in_graph_p50_ms} ms in Graph, ${figures.e2e_after_graph_p50_ms} ms after the last answer`,
      `${figures.e2e_table_round_trips} table round trips per reset (intake and worker; status reads left out)`,
      `(goal <= 12 table); ${e2e.queues} queue`,
    ]);
  }
  if (ONLY.includes('bulk')) {
    phase = 'bulk';
    const { bulk, sequential } = await bulkVersusSequential();
    Object.assign(figures, {
      bulk_users: bulk.users,
      bulk_completed: bulk.completed,
      bulk_seconds: round(bulk.seconds, 1),
      bulk_write_budget_per_s: CONFIG.bulk.writeBudget,
      bulk_graph_writes: bulk.writes,
      bulk_efficiency: round(bulk.efficiency),
      bulk_efficiency_write_window: round(bulk.windowEfficiency),
      throttled_share: round(bulk.requests > 0 ? bulk.throttled / bulk.requests : 0, 4),
      sequential_seconds: round(sequential.projected, 1),
      sequential_measured_users: sequential.users,
      bulk_speedup: round(sequential.projected / bulk.seconds),
      app_heap_after_bulk_gc_mb: round(bulk.heapAfterJob / 1024 / 1024, 0),
      app_rss_after_bulk_gc_mb: round(bulk.rssAfterJob / 1024 / 1024, 0),
      app_heap_committed_after_bulk_gc_mb: round(bulk.heapTotalAfterJob / 1024 / 1024, 0),
      app_external_after_bulk_gc_mb: round(bulk.externalAfterJob / 1024 / 1024, 0),
    });
    rows.push(
      ['bulk job', `${bulk.users} users in ${figures.bulk_seconds} s (${bulk.completed} completed)`, `budget ${CONFIG.bulk.writeBudget} writes/s`, `efficiency ${figures.bulk_efficiency} (goal >= 0.9)`],
      ['throttling', `${bulk.throttled} x 429 of ${bulk.requests} Graph requests`, '', `${figures.throttled_share} (goal <= 0.02)`],
      ['sequential script', `${sequential.users} users in ${round(sequential.seconds, 1)} s`, `${figures.sequential_seconds} s for ${bulk.users}`, `bulk ${figures.bulk_speedup}x faster`],
      ['memory after the job', `app heap ${figures.app_heap_after_bulk_gc_mb} MB, RSS ${figures.app_rss_after_bulk_gc_mb} MB once garbage collected`, 'what the app keeps, not garbage', ''],
    );
  }
  if (ONLY.includes('idle')) {
    phase = 'idle';
    // dev/bench/idle.ts: invocations in an idle hour and what an idle day costs on Flex Consumption.
    const idle = await idleHour({ root: ROOT, start: () => stack({ users: 10, latencyMs: 0 }), windowSeconds: CONFIG.idle.windowSeconds, say });
    Object.assign(figures, idle.figures);
    rows.push(...idle.rows);
  }
  // What storage costs: a reset's transactions (e2e) and an idle hour's (idle), at list prices (dev/bench/storage-cost.ts).
  if (typeof figures.e2e_table_round_trips === 'number' && typeof figures.idle_hour_table_transactions === 'number') {
    const prices = PRICES;
    const cost = storageCost(
      { table: figures.e2e_table_round_trips, queue: figures.e2e_queue_round_trips as number },
      { table: figures.idle_hour_table_transactions, queue: figures.idle_hour_queue_transactions as number },
      prices,
    );
    Object.assign(figures, { storage_usd_per_1000_resets: round(cost.thousandResetsUsd, 5), storage_usd_idle_hour: round(cost.idleHourUsd, 4), storage_prices_as_of: prices.asOf });
    rows.push([
      'storage transactions',
      `a reset ${figures.e2e_table_round_trips} table + ${figures.e2e_queue_round_trips} queue; 1,000 resets ${figures.e2e_table_round_trips * 1000} + ${(figures.e2e_queue_round_trips as number) * 1000}; an idle hour ${figures.idle_hour_table_transactions} + ${figures.idle_hour_queue_transactions}`,
      `1,000 resets $${figures.storage_usd_per_1000_resets}, an idle instance-hour $${figures.storage_usd_idle_hour} (table $${prices.tablePer10k}, queue $${prices.queuePer10k} per 10,000: ${prices.asOf})`,
      '',
    ]);
  }
  if (ONLY.includes('scale')) {
    phase = 'scale';
    const scale = await scaleFigures(scaleConfig(SMOKE), {
      compiledDir: compiled.dir,
      hostJsonPath: join(ROOT, 'host.json'),
      nodeArguments: workerNodeArguments(ROOT),
      secret: SECRET,
      macKey: INTAKE_MAC_KEY,
      throttle: GRAPH_IDENTITY_LIMITS,
      say,
      track: (item) => (running.add(item), () => running.delete(item)),
    });
    Object.assign(figures, scale.figures);
    rows.push(...scale.rows);
  }
  phase = 'end';

  Object.assign(figures, {
    rss_peak_mb: round(rssPeak / 1024 / 1024, 0),
    app_rss_peak_mb: round(appPeak / 1024 / 1024, 0),
    app_rss_at_start_mb: round(appBaseline / 1024 / 1024, 0),
    driver_rss_peak_mb: round(driverPeak / 1024 / 1024, 0),
    ...(appAtPeak
      ? {
          app_at_rss_peak_mb: {
            heap_used: round(appAtPeak.heapUsed / 1024 / 1024, 0),
            heap_committed: round(appAtPeak.heapTotal / 1024 / 1024, 0),
            external: round(appAtPeak.external / 1024 / 1024, 0),
            other: round((appAtPeak.rss - appAtPeak.heapTotal - appAtPeak.external) / 1024 / 1024, 0),
          },
        }
      : {}),
    heap_peak_mb: round(heapPeak / 1024 / 1024, 0),
    ...(RETAINED ? { app_heap_retained_peak_mb: round(retainedPeak / 1024 / 1024, 0) } : {}),
    graph_sim_rss_peak_mb: round(simPeak / 1024 / 1024, 0),
    azurite_rss_peak_mb: round(azuritePeak / 1024 / 1024, 0),
    rss_peak_mb_by_phase: megabytes(phasePeaks),
    app_rss_peak_mb_by_phase: megabytes(appPhasePeaks),
    smoke: SMOKE,
    phases: ONLY,
    bench_seconds: round((Date.now() - began) / 1000, 0),
  });
  rows.push([
    'memory, peak RSS',
    `${figures.rss_peak_mb} MB app, driver and simulator together: app ${figures.app_rss_peak_mb} MB (${figures.app_rss_at_start_mb} MB before any work, heap ${figures.heap_peak_mb} MB), driver ${figures.driver_rss_peak_mb} MB, simulator ${figures.graph_sim_rss_peak_mb} MB`,
    `Azurite (own process) ${figures.azurite_rss_peak_mb} MB`,
    '(goal <= 300 MB, or the app <= 200 MB)',
  ]);
  if (SMOKE) rows.unshift(['smoke run', 'tiny counts: proves every phase runs, not its speed', '', '']);
  if (ONLY.length < PHASES.length) rows.unshift([`phases ${ONLY.join(', ')} only`, 'not a full run: quote only a full npm run bench', '', '']);
  process.stdout.write(`\n${formatTable(['measure', 'result', 'baseline', 'ratio'], rows)}\n\n`);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main()
  .finally(() => compiled?.remove())
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  });
