import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { functionDefinitions } from '../functions/all';
import { ConfigError, loadSettings } from '../shared/config';
import { resetServices } from '../shared/services';
import { startAzurite, type RunningAzurite } from './azurite';
import { applyDemoGuards } from './demo-guards';
import { ListenError } from './local-host/http-server';
import { startLocalHost } from './local-host/local-host';
import { applyLocalSettingsFile, LocalSettingsError, readLocalHostSettings } from './local-settings';
import { defaultStateFile, removeStartState, writeStartState } from './start-state';
import { startLocalGraph, type LocalGraph } from './local-graph';
import { startLocalSignIn } from './local-idp/local-sign-in';
import { startLocalTickets, type LocalTickets } from './local-tickets';
import { startLocalVerifiedId, type LocalVerifiedId } from './local-verified-id';
import type { RunningLocalIdp } from './local-idp/idp';

/**
 * `npm start`: the whole system on one machine. Embedded Azurite unless AzureWebJobsStorage points
 * elsewhere, the Graph simulator unless GRAPH_BASE_URL does, and the local host serving every function.
 */
const SHUTDOWN_GRACE_MS = 15_000;
/**
 * One Ctrl-C reaches this process more than once: the terminal signals the whole process group, and
 * npm (and tsx, when it wraps the process) forwards the same signal again. Within this window a repeat
 * is that echo; a deliberate second Ctrl-C after it forces the stop.
 */
const REPEAT_SIGNAL_WINDOW_MS = 1_500;
const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

async function main(): Promise<void> {
  const root = join(__dirname, '..');
  const env = process.env;
  // LOCAL_SETTINGS_FILE lets tests (and a second setup) use another file than the repository's.
  const settingsFile = env.LOCAL_SETTINGS_FILE || join(root, 'local.settings.json');
  // What the shell set on purpose, before the file adds to it: the file alone must not select real Graph.
  const graphFromShell = Boolean(env.GRAPH_BASE_URL);
  const fromFile = applyLocalSettingsFile(settingsFile, env);
  const local = readLocalHostSettings(env);
  const stateFile = local.LOCAL_STATE_FILE ?? defaultStateFile(root);

  let azurite: RunningAzurite | undefined;
  let graph: LocalGraph | undefined;
  let idp: RunningLocalIdp | undefined;
  let tickets: LocalTickets | undefined;
  let verifiedId: LocalVerifiedId | undefined;
  let stopHost: (() => Promise<void>) | undefined;
  let stopping: { signal: string; at: number } | undefined;

  const shutdown = async (signal: string) => {
    if (stopping) {
      if (signal === stopping.signal && Date.now() - stopping.at < REPEAT_SIGNAL_WINDOW_MS) return;
      process.stdout.write(`\n${signal} again: stopping now.\n`);
      process.exit(SIGNAL_EXIT_CODES[signal] ?? 1);
    }
    stopping = { signal, at: Date.now() };
    process.stdout.write(`\n${signal}: stopping (letting running invocations finish; ${SHUTDOWN_GRACE_MS / 1000} s at most)...\n`);
    // Invocations that cannot finish (storage gone, Graph hanging) must not keep the process alive.
    setTimeout(() => {
      process.stderr.write('running invocations did not finish in time; stopping anyway.\n');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    await stopHost?.();
    await graph?.stop();
    await idp?.stop();
    await tickets?.stop();
    await verifiedId?.stop();
    await azurite?.stop();
    removeStartState(stateFile);
    process.stdout.write('stopped.\n');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const storageSetting = env.AzureWebJobsStorage;
  if (!storageSetting || /^UseDevelopmentStorage=true/i.test(storageSetting)) {
    // Azurite's usual ports (10000-10002) only for the default instance: one started on another PORT
    // is a second npm start (or a test), and two that both found 10000 free would share one emulator.
    azurite = await startAzurite({ preferDefaultPorts: !env.PORT, ownProcessGroup: true });
    env.AzureWebJobsStorage = azurite.connectionString;
    // Never leave an orphaned emulator behind, whatever way this process ends.
    process.on('exit', () => void azurite?.stop());
  }

  graph = await startLocalGraph(env, local);
  // The demo tenant's break-glass account, protected group and domain, and approval on, unless set.
  const demoGuards = graph && !local.GRAPH_SIM_TENANT ? applyDemoGuards(env) : [];
  // People sign in to the console at a local stand-in for Entra ID, unless a real tenant is configured.
  if (graph) idp = await startLocalSignIn(env, graph.directory);
  // Notes go to local ServiceNow and Jira stand-ins unless a real instance is configured.
  tickets = await startLocalTickets(env, { demoTenant: Boolean(graph && !local.GRAPH_SIM_TENANT) });
  // The person proves who they are before a reset, against a local Request Service stand-in.
  verifiedId = await startLocalVerifiedId(env, { demoTenant: Boolean(graph && !local.GRAPH_SIM_TENANT) });
  // Callbacks and links need the app's own address before it listens: the port it is about to take
  // (made exact below, once the host says which it took).
  const provisionalBase = !env.CONSOLE_BASE_URL;
  if (provisionalBase) env.CONSOLE_BASE_URL = `http://127.0.0.1:${local.PORT || 7071}`;
  const secrets = ['WEBHOOK_SECRET_JIRA', 'WEBHOOK_SECRET_SERVICENOW', 'WEBHOOK_SECRET_GENERIC'];
  // Against the simulator with no secrets at all, a first run should still accept a copy-pasted request.
  if (graph && !env.LOCAL_DEMO_MODE && secrets.every((name) => !env[name])) env.LOCAL_DEMO_MODE = 'true';
  const demoMode = /^(true|1|yes)$/i.test(env.LOCAL_DEMO_MODE ?? '');
  // Passes issued against the simulator live as long as the in-memory storage does: a per-run key will do.
  if (graph && !env.TAP_SEALING_KEY) env.TAP_SEALING_KEY = randomBytes(32).toString('base64');
  // Rows live as long as the embedded, in-memory Azurite: a per-run intake key will do there. Against
  // storage that outlives this process the key must be set (and kept), or its rows would not verify.
  if (azurite && !env.INTAKE_MAC_KEY) env.INTAKE_MAC_KEY = randomBytes(32).toString('base64');

  try {
    loadSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // One line per problem, each naming its setting and what to do (a weak or reused secret included).
      process.stderr.write(error.problems.map((problem) => `npm start failed: ${problem}\n`).join(''));
      await azurite?.stop();
      await idp?.stop();
      await tickets?.stop();
      await graph?.stop();
      process.exit(1);
    }
    throw error;
  }
  resetServices();

  let host: Awaited<ReturnType<typeof startLocalHost>>;
  try {
    host = await startLocalHost({
      definitions: functionDefinitions,
      port: local.PORT,
      hostJsonPath: join(root, 'host.json'),
      functionKey: local.LOCAL_FUNCTION_KEY,
      messageLeaseSeconds: local.LOCAL_QUEUE_LEASE_SECONDS,
      env,
    });
  } catch (error) {
    await graph?.stop();
    await idp?.stop();
    await azurite?.stop();
    throw error;
  }
  stopHost = host.stop;
  // Ticket notes link to this host's console unless a public URL is configured (read when services start).
  if (provisionalBase) {
    env.CONSOLE_BASE_URL = host.url.replace(/\/+$/, '');
    resetServices();
  }

  const storageLine = azurite
    ? `embedded Azurite, in memory, queue :${azurite.ports.queue} table :${azurite.ports.table}`
    : 'AzureWebJobsStorage (external)';
  const state = writeStartState(stateFile, {
    pid: process.pid,
    api: `${host.url}/api`,
    storage: azurite
      ? { kind: 'embedded-azurite', connectionString: azurite.connectionString, description: storageLine, ...(env.INTAKE_MAC_KEY ? { intakeMacKey: env.INTAKE_MAC_KEY } : {}) }
      : { kind: 'external', description: storageLine },
    standIns: { ...(tickets?.jira ? { jira: tickets.jira.url } : {}), ...(tickets?.servicenow ? { servicenow: tickets.servicenow.url } : {}), ...(verifiedId?.sim ? { verifiedId: verifiedId.sim.url } : {}) },
  });
  if (state.written) process.on('exit', () => removeStartState(stateFile));
  const realGraphFromFile = !graph && !graphFromShell && fromFile.includes('GRAPH_BASE_URL');

  const lines = [
    '',
    'entra-mfa-reset is running',
    `  API        ${host.url}/api   (health: ${host.url}/api/health)`,
    `  functions  ${functionDefinitions.map((d) => `${d.name} (${d.trigger})`).join(', ')}`,
    `  settings   ${fromFile.length > 0 ? `${settingsFile} set ${fromFile.join(', ')} (variables already in the shell win)` : existsSync(settingsFile) ? `${settingsFile} read; the shell already set all of its values` : 'no local.settings.json: defaults and the shell environment only'}`,
    `  storage    ${storageLine}`,
    `  state      ${state.written ? `${stateFile} (npm run audit:verify checks this instance's storage)` : `not written: the npm start with pid ${state.heldBy} holds ${stateFile}, so audit:verify checks that one`}`,
    `  graph      ${graph ? graph.description : env.GRAPH_BASE_URL ?? 'https://graph.microsoft.com'}`,
    ...(tickets?.lines ?? []),
    ...(verifiedId?.lines ?? []),
    `  console    ${host.url}/api/console/   (sign-in: ${idp ? `local stand-in identity provider ${idp.url}, demo agent grady.archie@contoso.com` : env.CONSOLE_TENANT_ID ? `Entra ID tenant ${env.CONSOLE_TENANT_ID}` : 'off: CONSOLE_TENANT_ID and CONSOLE_CLIENT_ID unset'})`,
    ...(demoGuards.length > 0 ? [`  guards     ${demoGuards.join('  ')}`] : []),
    `  keys       ${local.LOCAL_FUNCTION_KEY ? 'function key required (LOCAL_FUNCTION_KEY)' : 'not enforced (as under Core Tools)'}`,
    ...(realGraphFromFile
      ? [
          '',
          `  !! REAL MICROSOFT GRAPH: GRAPH_BASE_URL=${env.GRAPH_BASE_URL} came from ${settingsFile}, so the simulator is NOT running.`,
          '  !! Resets change real accounts of the tenant DefaultAzureCredential signs in to (docs/local-tenant.md).',
          '  !! For the simulator, remove GRAPH_BASE_URL from local.settings.json (or leave it empty).',
        ]
      : []),
    ...(demoMode
      ? [
          '',
          '  !! DEMO MODE (LOCAL_DEMO_MODE=true): webhooks from sources without a secret are accepted UNSIGNED.',
          '  !! Set WEBHOOK_SECRET_JIRA / _SERVICENOW / _GENERIC to require signatures. Never use demo mode with a real tenant.',
        ]
      : []),
    '',
    'Try it:',
    `  curl -s ${host.url}/api/health`,
    '  npm run demo          # signs a sample webhook, sends it and follows the reset to its end',
    ...(demoMode
      ? [
          `  curl -s -X POST ${host.url}/api/resets -H 'content-type: application/json' \\`,
          `    -d '{"ticket":{"system":"manual","id":"SR-1"},"target":{"userPrincipalName":"adele.vance@contoso.com"},"requestedBy":"you@contoso.com","approvedBy":"lead@contoso.com"}'`,
          `  curl -s ${host.url}/api/resets/<id from the answer>`,
        ]
      : []),
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  // A setting or port problem is the user's to fix: one line says what and how. Anything else is a bug: the stack helps.
  const known = error instanceof LocalSettingsError || error instanceof ListenError || error instanceof ConfigError;
  process.stderr.write(`npm start failed: ${error instanceof Error ? (known ? error.message : error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
