import { join } from 'node:path';
import { healthAnswerSchema } from './cli/answers';
import { ApiError, expectAnswer, getJson } from './cli/client';
import { buildProgram } from './cli/program';
import { followTicketNote } from './demo-ticket-note';
import { applyLocalSettingsFile } from './local-settings';
import { runningApiOrigin, runningVerifiedIdStandIn } from './start-state';

/**
 * `npm run demo [-- <user>]`: against a running `npm start`, signs a canonical reset webhook the way a
 * ticket system would (Standard Webhooks, signed by the standardwebhooks library with
 * WEBHOOK_SECRET_GENERIC), follows the request to its end and prints what happened to each method. The
 * user (or DEMO_USER) defaults to Lidia Holloway, who lost her phone: the common case, which ends
 * completed. adele.vance@contoso.com is the case that ends partial (her FIDO2 key and email keep the
 * default), and the demo then says how two people finish it in the console.
 */
async function main(): Promise<void> {
  applyLocalSettingsFile(join(__dirname, '..', 'local.settings.json'));
  // An explicit URL or PORT wins; otherwise the running npm start's own (it records it), then the default.
  const url = process.env.ENTRA_MFA_RESET_URL ?? (process.env.PORT ? `http://127.0.0.1:${process.env.PORT}` : runningApiOrigin() ?? 'http://127.0.0.1:7071');
  const secret = process.env.WEBHOOK_SECRET_GENERIC || undefined;
  const user = process.argv.slice(2).find((arg) => arg.includes('@')) ?? process.env.DEMO_USER ?? 'lidia.holloway@contoso.com';
  const ticket = `DEMO-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;

  try {
    const health = await getJson({ url }, 'health');
    process.stdout.write(`app at ${url}: ${expectAnswer(health, healthAnswerSchema, 'the health check').status}\n`);
  } catch (error) {
    if (!(error instanceof ApiError)) {
      process.stderr.write(`No app answers at ${url}: start it first with \`npm start\` (or set ENTRA_MFA_RESET_URL).\n`);
      process.exitCode = 1;
      return;
    }
  }
  process.stdout.write(
    `POST ${url}/api/resets  ${secret ? 'signed as Standard Webhooks with WEBHOOK_SECRET_GENERIC (webhook-id, webhook-timestamp, webhook-signature)' : 'unsigned (accepted only with LOCAL_DEMO_MODE=true)'}\n` +
      `  ticket ${ticket}, target ${user}, requested by demo@contoso.com, approved by lead@contoso.com, profile portal, revoke sessions\n`,
  );
  let printed = '';
  const program = buildProgram({ out: (text) => { printed += text; process.stdout.write(text); }, err: (text) => process.stderr.write(text), env: process.env, tty: false, pollMs: 200 });
  // With verification on, the demo plays the user too: once the request waits for them, they present
  // their VerifiedEmployee card with Face Check at the local wallet stand-in, as Authenticator would.
  const wallet = runningVerifiedIdStandIn();
  const playing = wallet ? actAsTheUser(url, wallet, user, () => printed) : Promise.resolve();
  try {
    await program.parseAsync(['node', 'demo', '--url', url, ...(secret ? ['--secret', secret] : []), 'reset', user, '--ticket', ticket, '--ticket-system', 'manual', '--requested-by', 'demo@contoso.com', '--approved-by', 'lead@contoso.com']);
    await playing;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      process.stderr.write(
        `${error.message}\nGive the app and the demo the same secret: WEBHOOK_SECRET_GENERIC=whsec_<Base64 key> npm start, then the same WEBHOOK_SECRET_GENERIC for npm run demo (or put it in local.settings.json).\n`,
      );
      process.exitCode = 1;
      return;
    }
    throw error;
  }
  // Where the outcome went, once sent: the mails to the user and manager. A generic caller names its own
  // ticket, which the app never writes to (only Jira's and ServiceNow's own webhooks get a note; a generic
  // caller's outcome goes to its signed callbackUrl).
  const requestId = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(printed)?.[0];
  if (requestId) {
    process.stdout.write(`\nticket ${ticket}: notes and mails\n`);
    await followTicketNote(url, requestId, (text) => process.stdout.write(text));
  }
  if (requestId && /^\S+: partial\b/m.test(printed)) printFinishSteps(url, requestId, user, wallet, printed);
  // The CLI exits 1 for anything but completed, which scripts want. The demo has done its job when the
  // reset ended as the tenant makes it end (Adele's default Authenticator stays under the portal profile,
  // so partial); only a failed reset or no final status is a failed demo (npm would print an error).
  const final = /^\S+: (completed|partial|rejected|planned|failed)\b/m.exec(printed)?.[1];
  if (final && final !== 'failed') process.exitCode = 0;
}

/**
 * A reset Graph left partial because methods outside its scope kept the default: how two people finish
 * it from the console (the operator asks, the approver approves), and how the user proves who they are
 * again for the linked request.
 */
function printFinishSteps(url: string, requestId: string, user: string, wallet: string | undefined, printed: string): void {
  if (!/To finish: use "Finish: also remove/.test(printed)) return;
  const page = `${url.replace(/\/+$/, '')}/api/console/#/requests/${requestId}`;
  process.stdout.write(
    [
      '',
      'Finish it from the console, two people:',
      `  1. open ${page}`,
      '     and sign in at the local stand-in as grady.archie@contoso.com (an operator): press "Finish: also remove ..."',
      '  2. sign in on the same page as delia.dennis@contoso.com (an approver) and approve it: a linked request on the same ticket runs',
      wallet
        ? `  3. it waits for ${user} to prove who they are again: on the wallet stand-in, ${wallet}/wallet, press "Present as myself" on the request for ${user} (or their manager confirms in the console)`
        : `  3. where this service verifies people, ${user} proves who they are again`,
      '  The linked request ends completed; its page and the ticket say so.',
      '',
    ].join('\n'),
  );
}

/** Waits until the request asks for verification, then presents as the user at the wallet stand-in. */
async function actAsTheUser(url: string, wallet: string, user: string, printed: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(printed())?.[0];
    if (id) {
      const answer = await getJson({ url }, `resets/${id}`).catch(() => undefined);
      const status = (answer?.body as { status?: string } | undefined)?.status;
      if (status && status !== 'accepted' && status !== 'running' && status !== 'awaiting_verification') return;
      if (status === 'awaiting_verification') {
        process.stdout.write(`  ${user} opens the link and presents their Verified Employee card in Microsoft Authenticator, with Face Check (the local wallet stand-in, ${wallet}/wallet)\n`);
        const response = await fetch(`${wallet}/_stand-in/present`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ upn: user, scenario: 'self' }) });
        if (!response.ok) process.stderr.write(`  the wallet stand-in could not present: ${await response.text()}\n`);
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
