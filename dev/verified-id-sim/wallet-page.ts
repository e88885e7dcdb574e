import { z } from 'zod';
import { namedPerson } from './presentation-outcome';
import type { PresentScenario, SimPresentation } from './types';
import { VERIFIED_EMPLOYEE } from './verified-employee';

/**
 * The stand-in's "Microsoft Authenticator": a page listing the open presentation requests with a button
 * per scenario. Every value on it comes from a request an app sent, so every value is escaped; the forms
 * carry a token only this page knows, so another site cannot press a button in a developer's browser.
 */

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface WalletOutcome {
  at: string;
  requestId: string;
  scenario: string;
  result: string;
}

/** What the buttons post: one scenario, and the other person's UPN for "someone else". */
export const walletFormSchema = z.object({
  token: z.string().min(1),
  scenario: z.enum(['self', 'someone-else', 'revoked', 'low-score', 'decline']),
  upn: z.string().trim().max(256).optional(),
});
export type WalletForm = z.infer<typeof walletFormSchema>;

export const SCENARIO_LABELS: Record<WalletForm['scenario'], string> = {
  self: 'Present as myself',
  'someone-else': 'Present as someone else',
  revoked: 'Revoked credential',
  'low-score': 'Low Face Check score',
  decline: 'Decline',
};

/** The scenario a button stands for; "someone else" without a UPN is another person at the same domain. */
export function scenarioFromForm(form: WalletForm, presentation: SimPresentation): PresentScenario {
  switch (form.scenario) {
    case 'self':
      return { kind: 'self' };
    case 'someone-else':
      return { kind: 'someone-else', upn: form.upn ? form.upn : otherPerson(presentation) };
    case 'revoked':
      return { kind: 'revoked' };
    case 'low-score':
      return { kind: 'low-score' };
    case 'decline':
      return { kind: 'error' };
  }
}

function otherPerson(presentation: SimPresentation): string {
  const named = personOf(presentation);
  const domain = named?.split('@')[1] ?? 'contoso.com';
  return `someone.else@${domain}`;
}

function personOf(presentation: SimPresentation): string | undefined {
  const requested = presentation.body.requestedCredentials.find((c) => c.type === VERIFIED_EMPLOYEE);
  return requested ? namedPerson(requested) : undefined;
}

export function walletPage(open: SimPresentation[], outcomes: WalletOutcome[], token: string, now: Date): string {
  const rows = open
    .map((p) => {
      const requested = p.body.requestedCredentials[0];
      const purpose = requested?.purpose ?? p.body.registration.purpose ?? '';
      const person = personOf(p) ?? '(nobody named)';
      const secondsLeft = Math.max(0, Math.round((Date.parse(p.expiresAt) - now.getTime()) / 1000));
      const buttons = (Object.keys(SCENARIO_LABELS) as WalletForm['scenario'][])
        .map((scenario) => `<button type="submit" name="scenario" value="${escape(scenario)}">${escape(SCENARIO_LABELS[scenario])}</button>`)
        .join(' ');
      return `<li><article>
<h2>${escape(p.body.registration.clientName)}</h2>
<dl>
<dt>Request</dt><dd><code>${escape(p.requestId)}</code></dd>
<dt>Purpose</dt><dd>${escape(purpose)}</dd>
<dt>Asks for</dt><dd>${escape(p.body.requestedCredentials.map((c) => c.type).join(', '))} of <strong>${escape(person)}</strong></dd>
<dt>Time left</dt><dd>${secondsLeft} s</dd>
</dl>
<form method="post" action="/wallet/${encodeURIComponent(p.requestId)}/present">
<input type="hidden" name="token" value="${escape(token)}">
<label>Someone else's UPN <input type="text" name="upn" placeholder="someone.else@contoso.com" autocomplete="off"></label>
<p>${buttons}</p>
</form>
</article></li>`;
    })
    .join('\n');
  const recent = outcomes
    .slice(-10)
    .reverse()
    .map((o) => `<li><time>${escape(o.at)}</time> <code>${escape(o.requestId)}</code>: ${escape(o.scenario)} &rarr; ${escape(o.result)}</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Wallet (local stand-in for Microsoft Authenticator)</title>
<style>
body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f3f2f1;color:#1b1a19}
main{max-width:46rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;box-shadow:0 2px 6px #0002}
.warn{background:#fff4ce;border-left:4px solid #797673;padding:.5rem .75rem}
ul{list-style:none;padding:0}article{border:1px solid #c8c6c4;padding:.5rem 1rem;margin:.75rem 0}
dl{display:grid;grid-template-columns:8rem 1fr;gap:.2rem .5rem}dt{color:#484644}dd{margin:0;overflow-wrap:anywhere}
button{padding:.4rem .7rem;margin:.15rem 0;border:1px solid #8a8886;background:#fff;border-radius:2px;font:inherit;cursor:pointer}
button:hover,button:focus{background:#edebe9;outline:2px solid #0f6cbd}
input[type=text]{font:inherit;padding:.25rem;width:18rem}
</style></head>
<body><main>
<h1>Wallet</h1>
<p class="warn">Local stand-in for Microsoft Authenticator and the Verified ID Request Service, not Microsoft's. Each button acts as the person presenting a ${VERIFIED_EMPLOYEE} credential with Face Check and sends the service's callbacks to the app.</p>
<p><a href="/wallet">Refresh</a></p>
<h2>Open presentation requests</h2>
${open.length > 0 ? `<ul>${rows}</ul>` : '<p>None. A request appears here when the app asks for a verification.</p>'}
<h2>Recent presentations</h2>
${outcomes.length > 0 ? `<ul>${recent}</ul>` : '<p>None yet.</p>'}
</main></body></html>`;
}
