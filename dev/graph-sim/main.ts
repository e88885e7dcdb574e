import { DEMO_BREAK_GLASS_UPN, DEMO_PROTECTED_GROUP_ID } from './demo-tenant';
import { startGraphSimulator } from './server';
import { loadTenantFile } from './tenant-file';

/**
 * The Graph simulator on its own: `tsx dev/graph-sim/main.ts [--port 4040] [--tenant file.json]
 * [--writes-per-second 5] [--rate503 0.1] [--latency-ms 50]`. GRAPH_SIM_TENANT works as --tenant.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (name: string): string | undefined => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const number = (name: string): number | undefined => (value(name) !== undefined ? Number(value(name)) : undefined);
  const tenantPath = value('tenant') ?? process.env.GRAPH_SIM_TENANT;
  const sim = await startGraphSimulator({
    ...(tenantPath ? { tenant: loadTenantFile(tenantPath) } : {}),
    port: number('port') ?? 0,
    throttle: { writesPerSecond: number('writes-per-second'), readsPerSecond: number('reads-per-second'), burst: number('burst') },
    faults: { rate503: number('rate503'), rate429: number('rate429'), timeoutRate: number('timeout-rate'), latencyMs: number('latency-ms') },
  });
  const lines = [
    `Graph simulator at ${sim.url} (/v1.0 and /beta), tenant ${sim.tenant.displayName} (${sim.tenant.domains.join(', ')})`,
    '',
    ...sim.tenant.users.map((u) => `  ${u.userPrincipalName.padEnd(44)} ${u.note ?? ''}`),
    '',
    tenantPath ? '' : `Demo settings: PROTECTED_GROUP_IDS=${DEMO_PROTECTED_GROUP_ID} BREAK_GLASS_UPNS=${DEMO_BREAK_GLASS_UPN}`,
    `Try: curl -s ${sim.url}/v1.0/users/adele.vance%40contoso.com/authentication/methods`,
    'Ctrl-C stops it.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
