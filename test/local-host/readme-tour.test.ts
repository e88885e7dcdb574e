import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../dev/free-port';
import { chromium, type Page } from 'playwright-core';
import { readStartState } from '../../dev/start-state';
import { eventually } from '../support/eventually';

const root = join(__dirname, '..', '..');

/**
 * The README's fifteen-minute tour, command by command as written, against `npm start` on a free port:
 * the demo, a partial reset finished in the console by two people, a dry run, a guarded refusal, a bulk
 * job, following a request and the audit check. Only the
 * placeholder `<request id>` is filled in (with the dry run's id) and the CSV goes to a private folder.
 * A command added to the tour without an expectation here fails the test, so the README cannot drift.
 */
function tourCommands(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A fifteen-minute tour'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line.length > 0);
}

interface Expectation {
  command: RegExp;
  codes: number[];
  output: RegExp[];
}

const EXPECTED: Expectation[] = [
  { command: /^npm run demo$/, codes: [0], output: [/lidia\.holloway@contoso\.com: completed/, /method\s+detail\s+outcome/, /sessions revoked/] },
  {
    command: /^npm run demo -- adele\.vance@contoso\.com$/,
    codes: [0],
    output: [/adele\.vance@contoso\.com: partial/, /To finish: use "Finish: also remove FIDO2 security key/, /Finish it from the console, two people/, /grady\.archie@contoso\.com/, /delia\.dennis@contoso\.com/],
  },
  { command: /reset megan\.bowen@contoso\.com .*--dry-run$/, codes: [0], output: [/megan\.bowen@contoso\.com: planned/, /^1\s+hardwareOath/m, /would end partial/, /would stay \(default\)/, /To end completed, send the real run with methods/] },
  { command: /reset globaladmin@contoso\.com /, codes: [1], output: [/globaladmin@contoso\.com: rejected \(.*privileged/] },
  { command: /^printf /, codes: [0], output: [] },
  { command: /bulk submit /, codes: [0, 1], output: [/Job accepted/, /Job \S+: completed/, /Every user's outcome as CSV/, /diego\.siciliani@contoso\.com: To finish: use "Require re-register multifactor authentication"/] },
  { command: /cli -- status <request id> --follow$/, codes: [0], output: [/megan\.bowen@contoso\.com: planned/] },
  { command: /^npm run audit:verify -- --request /, codes: [0], output: [/this npm start|the running npm start/, /^ok\s+\S+\s+\d+ rows/m, /1 verified, 0 broken/] },
  // Two of its runs end at the schedule releaser's next beat (every 30 s while a run is going): a longer wait than the others.
  {
    command: /^npm run demo:schedule$/,
    codes: [0],
    output: [/removed from the group 2/, /: completed; found 1, handed to the bulk job 0, reset by this schedule already 1/, /: refused; found \d+, would have reset/, /outcome\s+posted via jira/],
  },
];

/**
 * The README's step 2 in Debian's Chromium against this npm start: the operator (grady.archie) asks to
 * finish at the page the demo printed, the approver (delia.dennis) approves, Adele presents her card
 * again at the wallet stand-in, and the linked request ends completed.
 */
async function finishInTheConsole(origin: string, partialId: string, stateFile: string): Promise<void> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const signIn = async (who: string): Promise<Page> => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${origin}/api/console/#/requests/${partialId}`);
      await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
      await page.locator(`button[name="login_hint"][value="${who}"]`).click();
      await page.locator('#outcome').waitFor();
      return page;
    };
    const operator = await signIn('grady.archie@contoso.com');
    expect(await operator.locator('#outcome').textContent()).toMatch(/^partial/);
    await operator.getByRole('button', { name: /^Finish: also remove FIDO2 security key/ }).click();
    await expect.poll(() => operator.locator('#next-step').textContent()).toContain('waits for a second person');
    const approver = await signIn('delia.dennis@contoso.com');
    await approver.locator('#finish-check').check();
    await approver.getByRole('button', { name: 'Approve the finish' }).click();
    await approver.waitForURL((url) => url.hash.startsWith('#/requests/') && !url.hash.includes(partialId));
    const linkedId = new URL(approver.url()).hash.replace('#/requests/', '');
    // Verification is on under npm start: Adele proves who she is again, at the wallet stand-in.
    const wallet = readStartState(stateFile)?.standIns?.verifiedId;
    expect(wallet).toBeDefined();
    const status = async () => ((await (await fetch(`${origin}/api/resets/${linkedId}`)).json()) as { status: string; statusReason?: string }).status;
    await eventually(async () => ((await status()) === 'awaiting_verification' ? true : undefined), 30_000, 250);
    const presented = await fetch(`${wallet}/_stand-in/present`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ upn: 'adele.vance@contoso.com', scenario: 'self' }) });
    expect(presented.status).toBeLessThan(300);
    await eventually(async () => ((await status()) === 'completed' ? true : undefined), 60_000, 250);
    await expect.poll(() => approver.locator('#outcome').textContent(), { timeout: 20_000 }).toMatch(/^completed/);
    expect(await approver.locator('.people').textContent()).toMatch(/Asked by grady\.archie@contoso\.com.*Approved by delia\.dennis@contoso\.com.*Verified by adele\.vance@contoso\.com/);
    // The partial request recorded both steps in its audit, and names the request that finished it.
    const original = (await (await fetch(`${origin}/api/resets/${partialId}`)).json()) as { status: string; nextRequestId?: string; audit: { verified: boolean; entries: { action: string }[] } };
    expect(original.status).toBe('partial');
    expect(original.nextRequestId).toBe(linkedId);
    expect(original.audit.verified).toBe(true);
    expect(original.audit.entries.map((entry) => entry.action)).toEqual(expect.arrayContaining(['finish asked', 'finish approved']));
  } finally {
    await browser.close();
  }
}

describe('the README tour', () => {
  it('every command works as written against npm start', async () => {
    const commands = tourCommands();
    expect(commands.length).toBe(EXPECTED.length);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'readme-tour-'));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOCAL_STATE_FILE: join(dir, 'state.json'), LOCAL_SETTINGS_FILE: join(dir, 'none.json') };
    for (const name of Object.keys(env)) {
      if (/^(AzureWebJobsStorage|GRAPH_|WEBHOOK_SECRET_|ENTRA_MFA_RESET_|LOCAL_DEMO_MODE$|npm_)/.test(name)) delete env[name];
    }
    const app = spawn('npm', ['start', '--silent'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let banner = '';
    app.stdout.on('data', (chunk: Buffer) => (banner += chunk.toString()));
    app.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()));
    const exited = new Promise<void>((resolve) => app.once('exit', () => resolve()));
    try {
      await eventually(async () => (banner.includes('Ctrl-C stops everything') ? true : undefined), 90_000, 200);
      let requestId = '';
      let partialId = '';
      for (const written of commands) {
        const expectation = EXPECTED.find((candidate) => candidate.command.test(written));
        expect(expectation, `no expectation for the README command: ${written}`).toBeDefined();
        const command = written.replaceAll('<request id>', requestId).replaceAll('/tmp/users.csv', join(dir, 'users.csv'));
        // The tour's second terminal: the same folder, nothing exported. The CLI, the demo and
        // audit:verify find this npm start from its state file.
        const run = spawnSync('bash', ['-c', command], { cwd: root, env: { ...env, PORT: '' }, encoding: 'utf8', timeout: /demo:schedule/.test(command) ? 240_000 : 120_000 });
        const output = `${run.stdout}${run.stderr}`;
        expect(expectation!.codes, `${written}\n${output}`).toContain(run.status);
        for (const pattern of expectation!.output) expect(output, written).toMatch(pattern);
        if (/--dry-run$/.test(written)) requestId = /Accepted: (\S+)/.exec(output)?.[1] ?? '';
        if (/^npm run demo -- adele/.test(written)) partialId = /#\/requests\/([0-9a-f-]{36})/.exec(output)?.[1] ?? '';
      }
      expect(requestId).not.toBe('');
      // Step 6 of the tour: the console answers at the URL the README names.
      expect((await fetch(`http://127.0.0.1:${port}/api/console/`)).status).toBe(200);
      // Step 2 of the tour: Adele's partial reset, finished in the console by two people as the README says.
      expect(partialId).not.toBe('');
      await finishInTheConsole(`http://127.0.0.1:${port}`, partialId, join(dir, 'state.json'));
    } finally {
      try {
        process.kill(-app.pid!, 'SIGINT');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (app.exitCode === null && app.signalCode === null) {
        try {
          process.kill(-app.pid!, 'SIGKILL');
        } catch {
          // Ended meanwhile.
        }
      }
    }
    expect(banner).toContain('stopped.');
  }, 480_000);
});
