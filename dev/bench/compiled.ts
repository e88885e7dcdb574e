import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

/**
 * The app as JavaScript, for the bench's host process. In Azure the Functions host runs the compiled
 * output of `npm run build`; the bench used to run TypeScript through tsx, whose loader (esbuild, the
 * transformed sources and their source maps) held some 60 MB that no deployment holds. Each file is
 * transpiled on its own (no bundle), so the tree and `__dirname` are as in the build: the code finds
 * package.json and host.json by walking up, and packages resolve from the repository's node_modules.
 */
export interface CompiledApp {
  /** Where the compiled tree starts: `<dir>/dev/bench/host-child.js` is the host process's entry. */
  dir: string;
  remove(): void;
}

const SOURCE_FOLDERS = ['functions', 'shared', 'dev'];

export async function compileApp(root: string): Promise<CompiledApp> {
  // One folder per run, inside the repository so that walking up finds package.json and node_modules.
  const dir = join(root, '.bench-build', String(process.pid));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entryPoints = SOURCE_FOLDERS.flatMap((folder) =>
    readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
      .map((file) => join(root, folder, file)),
  );
  await build({
    entryPoints,
    outdir: dir,
    outbase: root,
    bundle: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
