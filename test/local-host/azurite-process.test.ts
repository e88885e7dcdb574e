import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAzurite } from '../../dev/azurite';
import { eventually } from '../support/eventually';

const root = join(__dirname, '..', '..');

/** The process group of `pid`: the fifth field of /proc/<pid>/stat (after the parenthesised name). */
function processGroupOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const parents: ChildProcess[] = [];
afterEach(() => {
  for (const parent of parents.splice(0)) {
    try {
      process.kill(-parent.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

/** A parent process (in a group of its own) that starts Azurite as `npm start` or a test does, then waits. */
async function parentWithAzurite(options: { ownProcessGroup: boolean }): Promise<{ parent: ChildProcess; azuritePid: number }> {
  const script = [
    "const { startAzurite } = require('./dev/azurite');",
    `startAzurite({ ownProcessGroup: ${options.ownProcessGroup} }).then((a) => { console.log(JSON.stringify({ pid: a.pid })); setInterval(() => {}, 1000); });`,
  ].join('\n');
  const parent = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  parents.push(parent);
  let output = '';
  parent.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = await eventually(async () => (output.includes('}') ? (JSON.parse(output.trim()) as { pid: number }) : undefined), 30_000, 100);
  return { parent, azuritePid: started.pid };
}

async function expectEnded(pid: number): Promise<void> {
  await eventually(async () => (alive(pid) ? undefined : true), 15_000, 100);
  expect(alive(pid)).toBe(false);
}

describe('embedded Azurite', () => {
  it("under npm start keeps out of its parent's process group, so a terminal's Ctrl-C leaves storage up for the invocations still finishing, and ends when its parent dies", async () => {
    const { parent, azuritePid } = await parentWithAzurite({ ownProcessGroup: true });
    // Ctrl-C in a terminal signals the whole foreground process group: Azurite is in one of its own.
    expect(processGroupOf(azuritePid)).toBe(azuritePid);
    expect(processGroupOf(azuritePid)).not.toBe(processGroupOf(parent.pid!));
    // The parent's group dies without a chance to stop anything: Azurite follows.
    process.kill(-parent.pid!, 'SIGKILL');
    await expectEnded(azuritePid);
  }, 60_000);

  it('in the tests and the bench stays in their process group, and still ends when its parent dies', async () => {
    const { parent, azuritePid } = await parentWithAzurite({ ownProcessGroup: false });
    expect(processGroupOf(azuritePid)).toBe(processGroupOf(parent.pid!));
    // Only the parent is killed (by pid, not its group): the leash, not a signal, ends Azurite.
    process.kill(parent.pid!, 'SIGKILL');
    await expectEnded(azuritePid);
  }, 60_000);

  it('stops on its own when asked, without waiting for the forced kill 5 s later (its leash keeps nothing alive)', async () => {
    const azurite = await startAzurite();
    const asked = Date.now();
    await azurite.stop();
    expect(Date.now() - asked).toBeLessThan(4_500);
    expect(alive(azurite.pid!)).toBe(false);
  }, 30_000);
});
