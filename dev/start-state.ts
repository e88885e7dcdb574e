import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * What a running `npm start` tells the local tools (audit:verify) about itself, so they check this
 * instance's storage rather than whatever answers on Azurite's default ports. The embedded Azurite's
 * connection string holds only the emulator's published development key; external storage is never
 * written here (its connection string may hold a real account key).
 */
export const startStateSchema = z.object({
  pid: z.number().int().positive(),
  api: z.string().url(),
  storage: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('embedded-azurite'),
      connectionString: z.string().min(1),
      description: z.string(),
      /**
       * The per-run INTAKE_MAC_KEY of this in-memory instance (the file is 0600 and removed at exit), so
       * audit:verify can check the keyed chains and row MACs of data that dies with the process. Never
       * written for external storage: there the key comes from Key Vault.
       */
      intakeMacKey: z.string().min(1).optional(),
    }),
    z.object({ kind: z.literal('external'), description: z.string() }),
  ]),
  /** Origins of the local ticket stand-ins npm start runs (none when a real instance is configured). */
  standIns: z.object({ jira: z.string().url().optional(), servicenow: z.string().url().optional(), verifiedId: z.string().url().optional() }).optional(),
});

export type StartState = z.output<typeof startStateSchema>;

export const defaultStateFile = (root: string) => join(root, '.npm-start.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state of a live npm start, or undefined (no file, unreadable, or its process has ended). */
export function readStartState(path: string): StartState | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const state = startStateSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
    return alive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Only a loopback API counts: a state file naming anything else is not this machine's npm start. */
function isLoopbackApi(api: string): boolean {
  try {
    const { protocol, hostname } = new URL(api);
    return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

/**
 * The origin (`http://127.0.0.1:<port>`) of the running npm start, from its state file, so that the
 * demo and the CLI find it on whatever PORT it took. Undefined when none runs, or when the file names
 * anything but a loopback address: signed requests are never sent elsewhere on a file's say-so.
 */
export function runningApiOrigin(env: NodeJS.ProcessEnv = process.env, root = join(__dirname, '..')): string | undefined {
  const state = readStartState(env.LOCAL_STATE_FILE || defaultStateFile(root));
  if (!state || !isLoopbackApi(state.api)) return undefined;
  return state.api.replace(/\/api\/?$/, '');
}

/** The local Jira stand-in of the running npm start, when it runs one on a loopback address. */
export function runningJiraStandIn(env: NodeJS.ProcessEnv = process.env, root = join(__dirname, '..')): string | undefined {
  const state = readStartState(env.LOCAL_STATE_FILE || defaultStateFile(root));
  const jira = state?.standIns?.jira;
  return jira && isLoopbackApi(jira) ? jira.replace(/\/$/, '') : undefined;
}

/**
 * Writes the state unless another live npm start holds the file (then audit:verify keeps reading that
 * one, and this one says so). Returns whether this process now owns the file.
 */
export function writeStartState(path: string, state: StartState): { written: true } | { written: false; heldBy: number } {
  const other = readStartState(path);
  if (other && other.pid !== state.pid) return { written: false, heldBy: other.pid };
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return { written: true };
}

/** Removes the file if it is this process's; synchronous, so it also runs in an 'exit' handler. */
export function removeStartState(path: string, pid = process.pid): void {
  try {
    const state = startStateSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
    if (state.pid === pid) rmSync(path, { force: true });
  } catch {
    // Nothing of ours to remove.
  }
}

/** The local Verified ID Request Service stand-in of the running npm start (its origin), when it runs one on a loopback address. */
export function runningVerifiedIdStandIn(env: NodeJS.ProcessEnv = process.env, root = join(__dirname, '..')): string | undefined {
  const state = readStartState(env.LOCAL_STATE_FILE || defaultStateFile(root));
  const origin = state?.standIns?.verifiedId;
  return origin && isLoopbackApi(origin) ? origin.replace(/\/$/, '') : undefined;
}
