import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { runScript } from './run-script';

/**
 * Runs infra/scripts/bicep.sh (the pinned Bicep CLI from NuGet: build, lint, and a `bicep snapshot` per
 * parameter set) and reads what it produced: the compiled ARM template and, per parameter set, the
 * resources the template would deploy with every expression evaluated that can be evaluated offline.
 * What only exists at deployment time (an identity's principal id, a connection string) stays an ARM
 * expression string such as "[reference('.../userAssignedIdentities/id-x', '2023-01-31').principalId]".
 */

export const root = join(__dirname, '..', '..');
const script = join(root, 'infra', 'scripts', 'bicep.sh');

const resourceSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    name: z.string(),
    apiVersion: z.string(),
    properties: z.record(z.unknown()).optional(),
  })
  .passthrough();
export type SnapshotResource = z.infer<typeof resourceSchema>;

const snapshotSchema = z.object({
  predictedResources: z.array(resourceSchema),
  diagnostics: z.array(z.unknown()),
});

const parameterSchema = z
  .object({ type: z.string(), defaultValue: z.unknown().optional(), metadata: z.object({ description: z.string() }).partial().optional() })
  .passthrough();
export type TemplateParameter = z.infer<typeof parameterSchema>;

const templateSchema = z
  .object({
    $schema: z.string(),
    parameters: z.record(parameterSchema),
    resources: z.record(z.record(z.unknown())),
    outputs: z.record(z.object({ type: z.string() }).passthrough()),
  })
  .passthrough();
export type Template = z.infer<typeof templateSchema>;

export interface Compiled {
  template: Template;
  snapshots: Record<string, SnapshotResource[]>;
  /** What the CLI printed: its version, build, lint and snapshot lines. */
  output: string;
}

/** Why the compiler cannot run here, or undefined when it can. */
export function bicepUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the pinned Bicep CLI is linux-x64; this is ${process.platform}-${process.arch}`;
  const cache = process.env.BICEP_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'entra-mfa-reset', 'bicep');
  if (existsSync(join(cache, 'packages', 'azure.bicep.commandline.linux-x64'))) return undefined;
  const dotnet = spawnSync('dotnet', ['--version'], { encoding: 'utf8' });
  if (dotnet.error || dotnet.status !== 0) return 'dotnet (the .NET SDK) is not installed, so the Bicep CLI cannot be restored from NuGet';
  return undefined;
}

/** Values for infra/main.bicep parameters, by parameter set name. */
export type ParameterSets = Record<string, Record<string, string | boolean | number>>;

const bicepLiteral = (value: string | boolean | number) => (typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(value));

export async function compileInfra(parameterSets: ParameterSets): Promise<Compiled> {
  const dir = mkdtempSync(join(tmpdir(), 'infra-bicep-'));
  try {
    const out = join(dir, 'out');
    const args = [script, '--outdir', out];
    for (const [name, values] of Object.entries(parameterSets)) {
      const file = join(dir, `${name}.bicepparam`);
      // A .bicepparam file must name its template by a relative path.
      const lines = [`using '${relative(dir, join(root, 'infra', 'main.bicep'))}'`];
      for (const [param, value] of Object.entries(values)) lines.push(`param ${param} = ${bicepLiteral(value)}`);
      writeFileSync(file, lines.join('\n') + '\n');
      args.push('--snapshot', file);
    }
    const run = await runScript(args, { timeoutMs: 270_000 });
    const output = run.out + run.err;
    if (run.status !== 0) throw new Error(`infra/scripts/bicep.sh failed (exit ${run.status ?? 'killed'}):\n${output}`);
    const template = templateSchema.parse(JSON.parse(readFileSync(join(out, 'main.json'), 'utf8')));
    const snapshots: Record<string, SnapshotResource[]> = {};
    for (const name of Object.keys(parameterSets)) {
      const snapshot = snapshotSchema.parse(JSON.parse(readFileSync(join(dir, `${name}.snapshot.json`), 'utf8')));
      snapshots[name] = snapshot.predictedResources;
    }
    return { template, snapshots, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The one resource of a type (and, if given, a name ending), or an error naming what was there. */
export function one(resources: SnapshotResource[], type: string, nameEnd?: string): SnapshotResource {
  const found = resources.filter((r) => r.type === type && (nameEnd === undefined || r.name.endsWith(nameEnd)));
  if (found.length !== 1) throw new Error(`expected one ${type}${nameEnd ? ` named *${nameEnd}` : ''}, found ${found.length}`);
  return found[0]!;
}

export const all = (resources: SnapshotResource[], type: string) => resources.filter((r) => r.type === type);

/** A property path of a resource, e.g. prop(site, 'siteConfig', 'minTlsVersion'). */
export function prop(resource: SnapshotResource, ...path: string[]): unknown {
  let value: unknown = resource.properties;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
