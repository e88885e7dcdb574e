import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/all';
import { signItems, signJob } from '../../shared/bulk/bulk-integrity';
import { itemsFor } from '../../shared/bulk/bulk-items';
import { requestIntegrity } from '../../shared/requests/request-integrity';
import { countItems, type BulkJob } from '../../shared/bulk/bulk-rows';
import { bulkServices, bulkStore } from '../../shared/bulk/bulk-services';
import { dispatchBulkJobs } from '../../shared/bulk/dispatcher';
import { structuredLogger } from '../../shared/log';
import { getServices } from '../../shared/services';
import { eventually } from '../support/eventually';
import { signedCall } from '../../dev/cli/client';
import { DEMO_REREGISTRATION_GROUP_ID } from '../../dev/graph-sim';
import { SYSTEM_SECRETS } from '../support/system';
import { AGENT, APPROVER, OUTSIDER, READER, startConsoleSystem, type ConsoleSystem } from './support';

/**
 * The console in a real browser: Debian's Chromium, driven by playwright-core (never a downloaded
 * browser). An agent signs in through the local stand-in identity provider, finds a completed request
 * by its ticket id, sees its audit trail folded with its check visible, reveals its pass once, sees a
 * second reveal told who took it; finishes a partial reset with a second person approving; a reader and
 * a person in no console group see what they may; a bulk job's progress moves. Each page is photographed
 * under test-results/; the request page (1280×800, what a person sees before scrolling) and the bulk
 * job's page also into docs/, as the images the README and docs/console.md show.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', '..', 'test-results', 'console');
const DOCS = join(__dirname, '..', '..', 'docs');
const TICKET = 'SR-BROWSER-4711';
const FINISH_TICKET = 'SR-BROWSER-4712';

let c: ConsoleSystem;
let browser: Browser;
let requestId: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  c = await startConsoleSystem({ definitions: functionDefinitions });
  const answer = await c.system.post('generic', {
    ticket: { system: 'servicedesk', id: TICKET, url: 'https://servicedesk.contoso.com/tickets/4711' },
    target: { userPrincipalName: 'lidia.holloway@contoso.com' },
    requestedBy: 'lisa.taylor@contoso.com',
    reason: 'lost her phone',
    temporaryAccessPass: { lifetimeInMinutes: 60, isUsableOnce: true },
  });
  expect(answer.status).toBe(202);
  requestId = answer.body.id;
  expect((await c.system.waitFor(requestId, ['completed', 'partial', 'failed', 'rejected'])).status).toBe('completed');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await c?.stop();
});

/** Each element is wholly inside the first 800 pixels: seen without scrolling. */
async function expectAboveTheFold(page: Page, selectors: string[]): Promise<void> {
  for (const selector of selectors) {
    const box = await page.locator(selector).first().boundingBox();
    expect(box, selector).not.toBeNull();
    expect(box!.y + box!.height, `${selector} ends at ${box!.y + box!.height}px`).toBeLessThanOrEqual(800);
  }
}

async function signedIn(as: string, heading = 'Requests'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${c.system.host.url}/api/console/`);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  // The stand-in identity provider's page: pick the account.
  await page.waitForURL((url) => url.origin === c.idp.url);
  await page.locator(`button[name="login_hint"][value="${as}"]`).click();
  await page.waitForURL((url) => url.origin === c.system.host.url && !url.search.includes('code='));
  await page.getByRole('heading', { name: heading }).waitFor();
  return page;
}

const shoot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
/** What a person sees before scrolling, at the size the docs show: kept as a docs image. */
const shootForDocs = (page: Page, name: string) => page.screenshot({ path: join(DOCS, `${name}.png`), fullPage: false });

describe('the console in headless Chromium', () => {
  it('signs an agent in, finds the request by ticket, shows its verified timeline, reveals the pass once', async () => {
    const page = await signedIn(AGENT);
    await expect.poll(() => page.locator('#who').textContent()).toContain('Grady Archie');
    await shoot(page, '1-requests');

    await page.getByLabel('Ticket').fill(TICKET);
    await page.getByRole('button', { name: 'Filter' }).click();
    const link = page.getByRole('link', { name: TICKET, exact: true });
    await link.waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);
    await link.click();

    await page.getByRole('heading', { name: `Request ${TICKET}` }).waitFor();
    // The outcome, the next step and the pass lead; the audit trail is folded, its check visible.
    expect(await page.locator('#outcome').textContent()).toMatch(/completed\s*Done: \d+ methods removed/);
    expect(await page.locator('#next-step').textContent()).toContain('Reveal the Temporary Access Pass');
    await expectAboveTheFold(page, ['#outcome', '#next-step', '#pass']);
    expect(await page.locator('details#audit').getAttribute('open')).toBeNull();
    expect(await page.locator('#audit-verified').isVisible()).toBe(true);
    expect(await page.locator('#audit-verified').textContent()).toContain('verified');
    expect(await page.locator('#audit-verified').textContent()).not.toContain('NOT');
    expect(await page.locator('ol.timeline li').first().isVisible()).toBe(false);
    await page.locator('details#audit > summary').click();
    await page.locator('ol.timeline li').first().waitFor();
    const steps = await page.locator('ol.timeline li').allTextContents();
    expect(steps.length).toBeGreaterThan(4);
    expect(steps.join('\n')).toContain('pass-sealed');
    await shoot(page, '2-request');

    // A second tab, signed in on its own, has the same page open before the pass is taken.
    const other = await signedIn(AGENT);
    await other.goto(`${c.system.host.url}/api/console/#/requests/${requestId}`);
    await other.getByRole('button', { name: 'Reveal pass' }).waitFor();

    await page.getByRole('button', { name: 'Reveal pass' }).click();
    const pass = page.locator('#pass-value');
    await pass.waitFor();
    const value = (await pass.textContent()) ?? '';
    expect(value.length).toBeGreaterThan(7);
    expect(await page.locator('.pass').textContent()).toContain('Valid until');
    await shoot(page, '3-pass-revealed');

    // The second reveal finds it taken, and says by whom.
    await other.getByRole('button', { name: 'Reveal pass' }).click();
    const collected = other.locator('#pass-collected');
    await collected.waitFor();
    expect(await collected.textContent()).toContain(`by ${AGENT}`);
    expect(await other.content()).not.toContain(value);
    await shoot(other, '4-pass-collected');

    // Reloaded, the page offers no reveal any more and still shows who took it; the pass is nowhere.
    await page.reload();
    await page.locator('#pass-collected').waitFor();
    expect(await page.getByRole('button', { name: 'Reveal pass' }).count()).toBe(0);
    expect(await page.content()).not.toContain(value);
    await other.close();
    await page.close();
  }, 150_000);

  it('finishes a partial reset: an operator asks, a second person approves, the linked request completes', async () => {
    const answer = await c.system.post('generic', {
      ticket: { system: 'servicedesk', id: FINISH_TICKET, url: 'https://servicedesk.contoso.com/tickets/4712' },
      target: { userPrincipalName: 'adele.vance@contoso.com' },
      requestedBy: 'lisa.taylor@contoso.com',
      reason: 'lost her phone; her FIDO2 key and email stay under the portal profile, so Graph keeps her default Authenticator',
    });
    expect(answer.status).toBe(202);
    const partialId = answer.body.id;
    expect((await c.system.waitFor(partialId, ['completed', 'partial', 'failed', 'rejected'])).status).toBe('partial');

    const operator = await signedIn(AGENT);
    await operator.goto(`${c.system.host.url}/api/console/#/requests/${partialId}`);
    await operator.getByRole('heading', { name: `Request ${FINISH_TICKET}` }).waitFor();
    expect(await operator.locator('#outcome').textContent()).toMatch(/partial\s*Partly done: \d+ methods removed, but Microsoft Authenticator \(Pixel 8.*\), the default method, is still registered/);
    expect(await operator.locator('.remains').textContent()).toMatch(/FIDO2 security key.*YubiKey/);
    const ask = operator.getByRole('button', { name: 'Finish: also remove FIDO2 security key / passkey, email (self-service password reset)' });
    await ask.waitFor();
    // What the docs show: at 1280×800 the outcome, what remains and the next step with its button, unscrolled.
    await expectAboveTheFold(operator, ['#outcome', '.remains', '#next-step', '#finish-ask']);
    // A partial outcome is not painted as a failure.
    const partialColour = await operator.locator('#outcome .badge').evaluate((el) => (globalThis as unknown as { getComputedStyle(element: unknown): { color: string } }).getComputedStyle(el).color);
    expect(partialColour).not.toBe('rgb(164, 38, 44)');
    await shootForDocs(operator, 'console-request');
    await shoot(operator, '9-partial');

    await ask.click();
    await expect.poll(() => operator.locator('#next-step').textContent()).toContain('waits for a second person');
    // The operator cannot approve their own ask: no approval is offered to them.
    expect(await operator.locator('#finish-approve').count()).toBe(0);
    await shoot(operator, '10-finish-asked');

    const approver = await signedIn(APPROVER);
    await approver.goto(`${c.system.host.url}/api/console/#/requests/${partialId}`);
    const approve = approver.getByRole('button', { name: 'Approve the finish' });
    await approve.waitFor();
    expect(await approve.isDisabled()).toBe(true);
    await approver.locator('#finish-check').check();
    await shoot(approver, '11-finish-approve');
    await approve.click();
    // The approver is taken to the linked request, which the page follows until it ends.
    await approver.waitForURL((url) => url.hash.startsWith('#/requests/') && !url.hash.includes(partialId));
    await expect.poll(() => approver.locator('#outcome').textContent(), { timeout: 40_000 }).toMatch(/completed\s*Done/);
    const people = (await approver.locator('.people').textContent()) ?? '';
    expect(people).toContain(`Asked by ${AGENT}`);
    expect(people).toContain(`Approved by ${APPROVER}`);
    expect(await approver.locator('dl.facts').textContent()).toContain(partialId);
    await shoot(approver, '12-finish-completed');

    // The partial request stays partial, and its page leads to the request that finished it.
    await operator.reload();
    await operator.locator('#finish-linked').waitFor();
    expect(await operator.locator('#next-step').textContent()).toMatch(/Being finished by linked request .*completed/);
    expect(await operator.locator('#outcome').textContent()).toMatch(/^partial/);
    await operator.close();
    await approver.close();
  }, 150_000);

  it('a reader sees every request but no action; a person in no console group is told which group to ask for', async () => {
    const reader = await signedIn(READER);
    expect(await reader.locator('#who').textContent()).toContain('reader');
    await reader.getByLabel('Ticket').fill(FINISH_TICKET);
    await reader.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => reader.locator('tbody tr').count()).toBe(2);
    // One line a request, with who asked and who approved, by name.
    const lines = await reader.locator('tbody tr').allTextContents();
    expect(lines.join('\n')).toContain(APPROVER);
    expect(lines.join('\n')).toContain('lisa.taylor@contoso.com');
    await shoot(reader, '13-reader-requests');
    const heights = await reader.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getBoundingClientRect().height));
    for (const height of heights) expect(height).toBeLessThan(60);
    await reader.goto(`${c.system.host.url}/api/console/#/requests/${requestId}`);
    await reader.getByRole('heading', { name: `Request ${TICKET}` }).waitFor();
    expect(await reader.getByRole('button').filter({ hasText: /Reveal pass|Finish|Approve/ }).count()).toBe(0);
    await shoot(reader, '14-reader-request');
    await reader.close();

    const outsider = await signedIn(OUTSIDER, 'Not allowed');
    const refusal = (await outsider.locator('main').textContent()) ?? '';
    expect(refusal).toContain('"MFA reset console readers"');
    expect(refusal).not.toMatch(/CONSOLE_READER_GROUP_ID|c0a5011e-/);
    await shoot(outsider, '15-not-allowed');
    await outsider.close();
  }, 90_000);

  it("shows a bulk job's progress moving, and the health panel", async () => {
    const store = bulkStore(getServices());
    const id = randomUUID();
    const users = ['megan.bowen@contoso.com', 'lee.gu@contoso.com', 'nestor.wilke@contoso.com', 'diego.siciliani@contoso.com', 'lynne.robbins@contoso.com'];
    const items = itemsFor(id, users.map((value, index) => ({ row: index + 1, value })), ['contoso.com']);
    const now = new Date().toISOString();
    const job: BulkJob = {
      id,
      status: 'running',
      kind: 'users',
      ticketSystem: 'servicedesk',
      ticketId: 'INC-BULK-9',
      requestedBy: 'security.lead@contoso.com',
      profile: 'portal',
      revokeSessions: true,
      dryRun: true,
      ratePerMinute: 120,
      rows: items.length,
      valid: items.length,
      invalid: 0,
      cursor: 0,
      released: 0,
      counts: countItems(items),
      credit: 0,
      createdAt: now,
      updatedAt: now,
    };
    // Written as the intake writes them (MAC'd under INTAKE_MAC_KEY): the dispatcher refuses anything else.
    const integrity = requestIntegrity(getServices().settings);
    await store.putItems(signItems(items, integrity));
    await store.createJob(signJob(job, integrity));

    const page = await signedIn(AGENT);
    await page.getByRole('link', { name: 'Bulk jobs' }).click();
    await page.getByRole('link', { name: 'servicedesk INC-BULK-9' }).click();
    const progress = page.locator('#bulk-progress');
    await progress.waitFor();
    expect(await progress.textContent()).toContain('0 of 5 finished');

    // The dispatcher (a timer in Azure) releases users at the job's pace; the worker plans each.
    const log = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });
    const seen = new Set<string>();
    await eventually(
      async () => {
        await dispatchBulkJobs(bulkServices(getServices(), log));
        seen.add((await progress.textContent()) ?? '');
        return (await store.getJob(id))?.status === 'completed' ? true : undefined;
      },
      60_000,
      400,
    );
    await expect.poll(() => progress.textContent(), { timeout: 10_000 }).toContain('5 of 5 finished');
    seen.add((await progress.textContent()) ?? '');
    // It moved: the page showed more than the first and the last state on its own refreshes.
    expect(seen.size).toBeGreaterThan(2);
    expect(await page.locator('.legend').textContent()).toContain('planned 5');
    await shoot(page, '5-bulk-job');
    await shootForDocs(page, 'console-bulk-job');

    await page.getByRole('link', { name: 'Bulk jobs' }).click();
    await page.locator('progress').first().waitFor();
    await shoot(page, '6-bulk-jobs');

    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    expect(await page.locator('dl.facts').textContent()).toContain('reachable');
    await shoot(page, '7-health');

    // Schedules: created over the signed route, listed with when they run next in their own time zone.
    const created = await signedCall({ url: c.system.host.url, secret: SYSTEM_SECRETS.generic }, 'POST', 'schedules', {
      name: 'Nightly re-registration',
      schedule: '0 0 2 * * *',
      timeZone: 'Europe/Amsterdam',
      source: { groupId: DEMO_REREGISTRATION_GROUP_ID },
      requestedBy: 'soc@contoso.com',
      approvedBy: 'lead@contoso.com',
      dryRun: true,
    });
    expect(created.status).toBe(201);
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.getByRole('heading', { name: 'Schedules' }).waitFor();
    const row = page.locator(`tr[data-schedule="${(created.body as { id: string }).id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toMatch(/Nightly re-registration.*0 0 2 \* \* \*Europe\/Amsterdam.*enabled.*no run yet/);
    // Next runs read as the schedule does: 02:00 in Amsterdam, whatever the browser's own zone.
    expect(await row.locator('time').count()).toBe(3);
    expect(await row.locator('time').first().textContent()).toMatch(/02:00/);
    await shoot(page, '8-schedules');
    await page.close();
  }, 180_000);
});
