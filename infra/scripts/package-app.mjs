#!/usr/bin/env node
// Assembles the deployment package Flex Consumption runs, in dist/azure-package/ (azure.yaml `dist`):
//   dist/ (compiled functions/ and shared/), host.json, package.json, package-lock.json and the
//   production node_modules only.
// The package.json that ships has no scripts and no devDependencies, so a server-side (remote) build,
// should one run, has nothing to compile and installs only what the app needs.
// Finally it loads the entry module from the package with production dependencies alone: an import of a
// devDependency from functions/ or shared/ fails here instead of in Azure.
//
// Run by the azd prepackage hook after `npm run build`; by hand: npm run build && node infra/scripts/package-app.mjs
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const built = join(root, 'dist');
const out = join(built, 'azure-package');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function attempt(command, args, cwd) {
  return spawnSync(command, args, { cwd, stdio: 'inherit', shell: process.platform === 'win32' }).status === 0;
}

function run(command, args, cwd) {
  if (!attempt(command, args, cwd)) {
    console.error(`package-app: "${command} ${args.join(' ')}" failed in ${cwd}`);
    process.exit(1);
  }
}

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (!existsSync(join(root, manifest.main))) {
  console.error(`package-app: ${manifest.main} does not exist; run "npm run build" first`);
  process.exit(1);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'dist'), { recursive: true });
for (const entry of readdirSync(built)) {
  if (entry === 'azure-package') continue;
  cpSync(join(built, entry), join(out, 'dist', entry), { recursive: true });
}
// The console's pages are not TypeScript: `npm run build` copies them beside the compiled module that serves them.
if (!existsSync(join(out, 'dist', 'shared', 'console', 'static', 'index.html'))) {
  console.error('package-app: dist/shared/console/static is missing; run "npm run build" (it copies the console pages)');
  process.exit(1);
}
for (const file of ['host.json', 'package.json', 'package-lock.json']) {
  cpSync(join(root, file), join(out, file));
}

console.log('package-app: installing production dependencies');
const installFlags = ['--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
if (!attempt(npm, ['ci', ...installFlags], out)) {
  // npm ci refuses a lock file that is out of step with package.json; install still honours the
  // versions the lock file pins.
  console.warn('package-app: npm ci refused the lock file; falling back to npm install');
  run(npm, ['install', ...installFlags], out);
}

const shipped = { ...manifest };
delete shipped.scripts;
delete shipped.devDependencies;
delete shipped.bin;
writeFileSync(join(out, 'package.json'), `${JSON.stringify(shipped, null, 2)}\n`);

console.log('package-app: loading the entry module with production dependencies only');
// Outside the Functions host @azure/functions warns once per function that it is "in test mode"; that is
// expected here, so the probe counts those registrations and prints one line instead of one per function.
const probe = [
  'let registered = 0; const warn = console.warn;',
  'console.warn = (...args) => { const text = String(args[0]); if (/Skipping call to register function/.test(text)) registered++; else if (!/Switching "@azure\\/functions" package to test mode/.test(text)) warn(...args); };',
  `require(${JSON.stringify(join(out, manifest.main))});`,
  "console.log(`package-app: the entry module loads and registers ${registered} functions`);",
].join('\n');
run(process.execPath, ['-e', probe], out);

console.log(`package-app: ready in ${out}`);
