import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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

describe('embedded Azurite', () => {
  it("under npm start keeps out of its parent's process group, so a terminal's Ctrl-C leaves storage up for the invocations still finishing, and ends when its parent dies", async () => {
    // A parent that starts Azurite and then waits, as `npm start` does.
    const script = [
      "const { startAzurite } = require('./dev/azurite');",
      'startAzurite({ ownProcessGroup: true }).then((a) => { console.log(JSON.stringify({ pid: a.pid, queue: a.ports.queue })); setInterval(() => {}, 1000); });',
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const started = await eventually(async () => (output.includes('}') ? (JSON.parse(output.trim()) as { pid: number; queue: number }) : undefined), 30_000, 100);

      // Ctrl-C in a terminal signals the whole foreground process group: Azurite is in one of its own.
      expect(processGroupOf(started.pid)).toBe(started.pid);
      expect(processGroupOf(started.pid)).not.toBe(processGroupOf(parent.pid!));

      // The parent dies without a chance to stop anything: Azurite follows.
      process.kill(-parent.pid!, 'SIGKILL');
      await eventually(async () => (alive(started.pid) ? undefined : true), 15_000, 100);
      expect(alive(started.pid)).toBe(false);
    } finally {
      try {
        process.kill(-parent.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }, 60_000);

  it('stops on its own when asked, without waiting for the forced kill 5 s later (its leash keeps nothing alive)', async () => {
    const azurite = await startAzurite();
    const asked = Date.now();
    await azurite.stop();
    expect(Date.now() - asked).toBeLessThan(4_500);
    expect(alive(azurite.pid!)).toBe(false);
  }, 30_000);

  it('in the tests and the bench stays in their process group, and still ends when its parent dies', async () => {
    const script = [
      "const { startAzurite } = require('./dev/azurite');",
      'startAzurite().then((a) => { console.log(JSON.stringify({ pid: a.pid })); setInterval(() => {}, 1000); });',
    ].join('\n');
    // Only the parent is killed (by pid, not its group): the leash, not a signal, ends Azurite.
    const parent = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const started = await eventually(async () => (output.includes('}') ? (JSON.parse(output.trim()) as { pid: number }) : undefined), 30_000, 100);
      expect(processGroupOf(started.pid)).toBe(processGroupOf(parent.pid!));
      process.kill(parent.pid!, 'SIGKILL');
      await eventually(async () => (alive(started.pid) ? undefined : true), 15_000, 100);
      expect(alive(started.pid)).toBe(false);
    } finally {
      try {
        process.kill(-parent.pid!, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }, 60_000);
});
