import { readFileSync } from 'node:fs';
import { TableClient } from '@azure/data-tables';
import { FINAL_STATUSES, type RequestStatus } from '../../shared/requests/request-row';
import { TABLES } from '../../shared/storage/names';
import { startAzurite } from '../azurite';
import { acceptedAnswerSchema, bulkAcceptedAnswerSchema, jobAnswerSchema, resetAnswerSchema } from '../cli/answers';
import { expectAnswer, getJson, postBulkCsv, postJson, type ApiTarget } from '../cli/client';
import type { ThrottleOptions } from '../graph-sim/throttle';
import { startHostProcess, type RunningHostProcess } from './host-process';
import { budgetOverrun, doubleWrites } from './scale-figures';
import { startSimProcess } from './sim-process';
import { benchUpn } from './tenant';

/**
 * The `scale` phase: several app processes, as the Flex Consumption plan runs several instances, on one
 * Azurite and one Graph simulator that throttles at Graph's documented identity limits. A bulk job and
 * single webhook resets run through all of them at once; part-way one process is killed with SIGKILL
 * (its invocations die mid-step, its queue messages stay invisible, its leases run on) and started
 * again. What it shows: nothing is lost, no method is written twice, the instances together keep to the
 * one write budget they share through table GraphPacing, and how much of that budget they use.
 */
export interface ScaleConfig {
  /** App processes (instances) at once. */
  processes: number;
  bulkUsers: number;
  /** Single webhook resets, sent one after another over the first three quarters of the job's expected time. */
  singles: number;
  latencyMs: number;
  /** GRAPH_WRITE_BUDGET_PER_SECOND: the budget all instances share. */
  writeBudget: number;
  /** Writes one reset of a bench user makes (two deletions, one revocation: dev/bench/tenant.ts). */
  writesPerUser: number;
  /** The kill comes once this many bulk users are finished. */
  killAfterFinished: number;
  /** The killed process is started again this long after. */
  restartAfterMs: number;
  timeoutSeconds: number;
  /** How often the driver looks at the job and the single resets. */
  pollMs: number;
  /** Settings the app gets on top of the usual ones (shorter leases in smoke runs). */
  env: Record<string, string>;
  /** The local host's queue message lease (a killed process's messages reappear after it). */
  messageLeaseSeconds?: number;
}

export interface ScaleContext {
  compiledDir: string;
  hostJsonPath: string;
  nodeArguments: string[];
  /** WEBHOOK_SECRET_GENERIC and INTAKE_MAC_KEY of this run. */
  secret: string;
  macKey: string;
  throttle: ThrottleOptions;
  say(text: string): void;
  /** Registers something to stop on Ctrl-C; the returned function unregisters it. */
  track(item: { stop(): Promise<void> }): () => void;
}

export interface ScaleResult {
  processes: number;
  users: number;
  /** Requests that did not reach a final status (bulk users never released count too). */
  lost: number;
  completed: number;
  /** Final but not completed (failed, partial, rejected): each is a lost reset too, in another form. */
  notCompleted: Partial<Record<RequestStatus, number>>;
  doubleWrites: number;
  doubleWriteExamples: string[];
  budgetOverrun: number;
  busiestWindowWrites: number;
  seconds: number;
  usersPerSecond: number;
  /** The budget's ceiling in users per second: the write budget over the writes one user needs. */
  ceilingUsersPerSecond: number;
  efficiency: number;
  graphWrites: number;
  throttled: number;
  graphRequests: number;
  killedAtFinished: number;
  /** App processes that ended without being killed (each is started again, and named here). */
  unexpectedExits: string[];
  appRssPeakMb: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function rssOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function scalePhase(config: ScaleConfig, context: ScaleContext): Promise<ScaleResult> {
  const users = config.bulkUsers + config.singles;
  const azurite = await startAzurite();
  const untrackAzurite = context.track(azurite);
  const sim = await startSimProcess({ users, latencyMs: config.latencyMs, throttle: context.throttle });
  const untrackSim = context.track(sim);
  const env: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    GRAPH_BASE_URL: sim.url,
    GRAPH_AUTH: 'none',
    WEBHOOK_SECRET_GENERIC: context.secret,
    INTAKE_MAC_KEY: context.macKey,
    TENANT_DOMAINS: 'contoso.com',
    LOCAL_DEMO_MODE: 'false',
    REQUIRE_APPROVAL: 'false',
    GRAPH_WRITE_BUDGET_PER_SECOND: String(config.writeBudget),
    ...config.env,
  };
  const start = () =>
    startHostProcess({
      compiledDir: context.compiledDir,
      env,
      // Every process runs the timers too (the bulk dispatcher, the sweeper): the local host has no
      // singleton lock as Azure's timers have, so the dispatcher's ticks also meet each other here.
      enable: { http: true, queues: true, timers: true },
      hostJsonPath: context.hostJsonPath,
      storagePorts: azurite.ports,
      nodeArguments: context.nodeArguments,
      retained: false,
      ...(config.messageLeaseSeconds !== undefined ? { messageLeaseSeconds: config.messageLeaseSeconds } : {}),
    });
  const hosts: (RunningHostProcess | undefined)[] = [];
  const untrackHosts = context.track({ stop: async () => void (await Promise.allSettled(hosts.map((host) => host?.stop()))) });
  let appPeak = 0;
  const sampler = setInterval(() => {
    for (const host of hosts) appPeak = Math.max(appPeak, rssOf(host?.pid));
  }, 250);
  sampler.unref();
  try {
    for (let index = 0; index < config.processes; index += 1) hosts.push(await start());
    const api = (index: number): ApiTarget => ({ url: hosts[index]!.url, secret: context.secret });
    const ceiling = config.writeBudget / config.writesPerUser;
    context.say(
      `scale: ${config.processes} app processes, a ${config.bulkUsers}-user bulk job and ${config.singles} single webhook resets, one shared budget of ${config.writeBudget} writes/s under Graph's identity limits, latency ${config.latencyMs} ms; one process killed (SIGKILL) after ${config.killAfterFinished} bulk users and started again`,
    );

    const began = Date.now();
    const csv = ['userPrincipalName', ...Array.from({ length: config.bulkUsers }, (_, i) => benchUpn(i))].join('\n');
    const job = expectAnswer(await postBulkCsv(api(0), csv, { ticket: 'CHG-SCALE', requestedBy: 'bench@contoso.com', confirmUsers: String(config.bulkUsers) }), bulkAcceptedAnswerSchema, 'the scale job');

    // Single resets over the first three quarters of the time the budget needs for everyone, to the live
    // processes in turn (the killed one is skipped until it is back), as a load balancer would.
    const singles: string[] = [];
    const spacingMs = config.singles > 0 ? ((users / ceiling) * 750) / config.singles : 0;
    let turn = 0;
    const failedSingles: string[] = [];
    const sendSingles = (async () => {
      for (let i = 0; i < config.singles; i += 1) {
        await sleep(spacingMs);
        const body = { ticket: { system: 'bench', id: `SCALE-${i}` }, target: { userPrincipalName: benchUpn(config.bulkUsers + i) }, requestedBy: 'bench@contoso.com' };
        // A delivery that meets a process as it dies is sent again to the next one, as the same delivery
        // (its webhook-id), as a ticket system retries: it makes one request, not two.
        for (let attempt = 1; ; attempt += 1) {
          const live = hosts.map((host, index) => (host && !host.ended() ? index : -1)).filter((index) => index >= 0);
          const index = live[turn++ % Math.max(1, live.length)];
          try {
            if (index === undefined) throw new Error('no app process is running');
            const answer = await postJson(api(index), 'resets', body, { webhookId: `msg_scale_${i}` });
            singles.push(expectAnswer(answer, acceptedAnswerSchema, 'a single reset').id);
            break;
          } catch (error) {
            context.say(`  single reset ${i} to app process ${index === undefined ? '-' : index + 1}, try ${attempt}: ${error instanceof Error ? error.message : String(error)}`);
            if (attempt >= 5) {
              failedSingles.push(`SCALE-${i}`);
              break;
            }
            await sleep(500);
          }
        }
      }
    })();
    const singlesSent = sendSingles.catch((error: unknown) => context.say(`  single resets stopped: ${error instanceof Error ? error.message : String(error)}`));
    const unexpectedExits: string[] = [];

    let killedAtFinished = -1;
    let restarted: Promise<void> | undefined;
    const victim = config.processes - 1;
    let jobDone = false;
    let lastShown = 0;
    const finals = new Set<string>();
    let status: { status: string; totals: { finished: number; valid: number } } = { status: 'submitted', totals: { finished: 0, valid: config.bulkUsers } };
    while (Date.now() - began < config.timeoutSeconds * 1000) {
      // The driver reads through the first process (never the one killed), like a person at the console.
      try {
        status = expectAnswer(await getJson(api(0), `bulk/${job.id}`, { limit: '1' }), jobAnswerSchema, 'the scale job status');
        for (const id of singles) {
          if (finals.has(id)) continue;
          const reset = expectAnswer(await getJson(api(0), `resets/${id}`), resetAnswerSchema, 'a single reset status');
          if ((FINAL_STATUSES as readonly string[]).includes(reset.status)) finals.add(id);
        }
      } catch (error) {
        context.say(`  reading the progress failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      jobDone = status.status === 'completed' || status.status === 'failed';
      if (killedAtFinished < 0 && status.totals.finished >= config.killAfterFinished) {
        killedAtFinished = status.totals.finished;
        context.say(`  SIGKILL to app process ${victim + 1} after ${killedAtFinished} bulk users finished, ${((Date.now() - began) / 1000).toFixed(0)} s in`);
        const dead = hosts[victim]!;
        hosts[victim] = undefined;
        await dead.kill('SIGKILL');
        restarted = sleep(config.restartAfterMs).then(async () => {
          hosts[victim] = await start();
          context.say(`  app process ${victim + 1} started again`);
        });
      }
      if (Date.now() - lastShown > 15_000) {
        lastShown = Date.now();
        context.say(`  bulk ${status.status} ${status.totals.finished}/${status.totals.valid}, singles ${finals.size}/${config.singles} final, after ${((Date.now() - began) / 1000).toFixed(0)} s`);
      }
      for (const [index, host] of hosts.entries()) {
        const ended = host?.ended();
        if (!host || !ended) continue;
        unexpectedExits.push(`app process ${index + 1}: ${ended}`);
        context.say(`  app process ${index + 1} ended by itself (${ended}); started again`);
        hosts[index] = undefined;
        hosts[index] = await start();
      }
      if (jobDone && finals.size === singles.length && singles.length + failedSingles.length === config.singles) break;
      await sleep(config.pollMs);
    }
    await singlesSent;
    await restarted;

    // Everything, from the tables and Graph's log: what each request ended as, and what Graph saw.
    const rows = new Map<string, { status: RequestStatus; completedAt?: string }>();
    const table = TableClient.fromConnectionString(azurite.connectionString, TABLES.requests, { allowInsecureConnection: true });
    for await (const row of table.listEntities<{ status: RequestStatus; completedAt?: string }>({ queryOptions: { select: ['RowKey', 'status', 'completedAt'] } })) {
      rows.set(row.rowKey!, { status: row.status, completedAt: row.completedAt });
    }
    const final = [...rows.values()].filter((row) => FINAL_STATUSES.includes(row.status));
    const completed = final.filter((row) => row.status === 'completed');
    const notCompleted: Partial<Record<RequestStatus, number>> = {};
    for (const row of final) if (row.status !== 'completed') notCompleted[row.status] = (notCompleted[row.status] ?? 0) + 1;
    const lastCompletion = Math.max(began, ...completed.map((row) => Date.parse(row.completedAt ?? '') || began));
    const seconds = (lastCompletion - began) / 1000;
    const log = await sim.log();
    const writes = log.filter((entry) => entry.write);
    const doubled = doubleWrites(log);
    const overrun = budgetOverrun(writes.map((entry) => Date.parse(entry.receivedAt)), config.writeBudget);
    const usersPerSecond = seconds > 0 ? completed.length / seconds : 0;
    return {
      processes: config.processes,
      users,
      lost: users - final.length,
      completed: completed.length,
      notCompleted,
      doubleWrites: doubled.count,
      doubleWriteExamples: doubled.examples,
      budgetOverrun: overrun.share,
      busiestWindowWrites: overrun.busiestWindow,
      seconds,
      usersPerSecond,
      ceilingUsersPerSecond: ceiling,
      efficiency: usersPerSecond / ceiling,
      graphWrites: writes.length,
      throttled: log.filter((entry) => entry.status === 429).length,
      graphRequests: log.length,
      killedAtFinished,
      unexpectedExits,
      appRssPeakMb: appPeak / 1024 / 1024,
    };
  } finally {
    clearInterval(sampler);
    await Promise.allSettled(hosts.map((host) => host?.stop()));
    untrackHosts();
    await sim.stop();
    untrackSim();
    await azurite.stop();
    untrackAzurite();
  }
}
