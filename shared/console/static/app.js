// The operator console: a small page without a framework. Sign-in is the OAuth 2.0 authorization code
// flow with PKCE that Entra ID offers single-page apps (no secret in the browser); the access token lives
// in sessionStorage only and goes to the console's JSON API as a bearer token. Every value shown is put
// into the page as text, never as HTML: ticket ids and names come from webhooks.
'use strict';

(() => {
  const API = '/api/console/api';
  const REDIRECT = `${location.origin}/api/console/`;
  const main = document.getElementById('main');
  const who = document.getElementById('who');
  const nav = document.getElementById('nav');
  const live = document.getElementById('status');
  let config;
  let me;
  let refreshTimer;

  /** h('a', {href}, 'text', child...): elements built from text, so data can never become markup. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
      else if (name === 'text') el.textContent = value;
      else el.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  const badge = (status) => h('span', { class: `badge s-${status}` }, status);
  const when = (iso) => (iso ? h('time', { datetime: iso }, new Date(iso).toLocaleString()) : '');
  const safeUrl = (url) => (typeof url === 'string' && /^https?:\/\//i.test(url) ? url : undefined);
  const say = (text) => { live.textContent = text; };

  function show(title, ...content) {
    clearTimeout(refreshTimer);
    main.replaceChildren(h('h1', {}, title), ...content);
    document.title = `${title} · MFA reset console`;
    main.focus({ preventScroll: true });
    for (const link of nav.querySelectorAll('a')) {
      link.toggleAttribute('aria-current', location.hash.startsWith(link.getAttribute('href')));
      if (link.hasAttribute('aria-current')) link.setAttribute('aria-current', 'page');
    }
  }

  // ---------- sign-in ----------

  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const randomText = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

  /** `claims`: a claims challenge (an authentication context the route asks for), passed on to Entra ID. */
  async function signIn(claims) {
    const verifier = randomText();
    const state = randomText();
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    sessionStorage.setItem('pkce', JSON.stringify({ verifier, state, hash: location.hash }));
    const url = new URL(config.authorizeUrl);
    url.search = new URLSearchParams({
      client_id: config.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT,
      response_mode: 'query',
      scope: config.scopes,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...(claims ? { claims } : {}),
    }).toString();
    location.assign(url.toString());
  }

  /** Back from the identity provider with ?code=: redeem it once, then drop it from the address bar. */
  async function redeem(params) {
    const pending = JSON.parse(sessionStorage.getItem('pkce') || 'null');
    sessionStorage.removeItem('pkce');
    history.replaceState(null, '', `/api/console/${pending && pending.hash ? pending.hash : ''}`);
    if (!pending || params.get('state') !== pending.state) throw new Error('the sign-in answer does not match the sign-in this page started; sign in again');
    const response = await fetch(config.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: config.clientId,
        grant_type: 'authorization_code',
        code: params.get('code'),
        redirect_uri: REDIRECT,
        code_verifier: pending.verifier,
        scope: config.scopes,
      }),
    });
    const body = await response.json();
    if (!response.ok || !body.access_token) throw new Error(`sign-in failed: ${body.error_description || body.error || response.status}`);
    sessionStorage.setItem('token', JSON.stringify({ value: body.access_token, expiresAt: Date.now() + (Number(body.expires_in) || 3600) * 1000 }));
  }

  function token() {
    const stored = JSON.parse(sessionStorage.getItem('token') || 'null');
    return stored && stored.expiresAt > Date.now() + 30_000 ? stored.value : undefined;
  }

  function signOut() {
    sessionStorage.removeItem('token');
    me = undefined;
    who.replaceChildren();
    nav.hidden = true;
    signInView();
  }

  function signInView(message) {
    show(
      'Sign in',
      h('div', { class: 'signin' },
        message ? h('p', { class: 'notice bad', role: 'alert' }, message) : '',
        h('p', {}, 'The console shows reset requests, their audit trail and bulk jobs, and hands Temporary Access Passes to service desk agents. Sign in with your work account.'),
        h('button', { type: 'button', id: 'sign-in', onclick: () => void signIn() }, 'Sign in with Microsoft')),
    );
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, options = {}) {
    const bearer = token();
    if (!bearer) throw new ApiError(401, { error: { message: 'your sign-in has ended; sign in again' } });
    const response = await fetch(`${API}${path}`, { ...options, headers: { ...(options.headers || {}), authorization: `Bearer ${bearer}` } });
    if (options.raw && response.ok) return response;
    const body = await response.json().catch(() => undefined);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function failure(error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem('token');
      return signInView(error.message);
    }
    if (error instanceof ApiError && error.status === 403) {
      nav.hidden = true;
      return show('Not allowed', h('p', { class: 'notice bad', role: 'alert' }, error.message), h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'));
    }
    show('Something went wrong', h('p', { class: 'notice bad', role: 'alert' }, error.message || String(error)));
  }

  // ---------- views ----------

  async function requestsView(params) {
    const query = new URLSearchParams(params);
    const field = (name, label, control) => h('div', {}, h('label', { for: `f-${name}` }, label), control);
    const select = (name, values) => h('select', { id: `f-${name}`, name }, h('option', { value: '' }, 'any'), values.map((v) => h('option', { value: v, selected: query.get(name) === v }, v)));
    const input = (name, type = 'text') => h('input', { id: `f-${name}`, name, type, value: query.get(name) || '' });
    const form = h('form', { class: 'filters', role: 'search', onsubmit: (event) => {
      event.preventDefault();
      const chosen = new URLSearchParams();
      for (const [name, value] of new FormData(form)) if (String(value).trim()) chosen.set(name, String(value).trim());
      location.hash = `#/requests?${chosen.toString()}`;
    } },
      field('ticket', 'Ticket', input('ticket')),
      field('upn', 'User (UPN)', input('upn')),
      field('status', 'Status', select('status', ['accepted', 'running', 'awaiting_verification', 'completed', 'partial', 'failed', 'rejected', 'planned'])),
      field('source', 'Source', select('source', ['jira', 'servicenow', 'generic', 'bulk', 'schedule'])),
      field('from', 'From', input('from', 'date')),
      field('to', 'To', input('to', 'date')),
      h('div', {}, h('button', { type: 'submit' }, 'Filter')));
    const list = await api(`/requests?${query.toString()}`);
    // One line a request: the reason cut (the page has it whole, and so does its title), names, not ids.
    const ticketText = (item) => item.ticket.label || `${item.ticket.system} ${item.ticket.id}`;
    const rows = list.items.map((item) =>
      h('tr', {},
        h('td', { title: new Date(item.createdAt).toLocaleString() }, h('time', { datetime: item.createdAt }, new Date(item.createdAt).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' }))),
        h('td', { title: item.finishing ? 'an operator asked to finish it' : item.status }, badge(item.status), item.finishing ? h('span', { class: 'muted' }, ' finishing') : ''),
        h('td', { title: ticketText(item) }, h('a', { href: `#/requests/${item.id}` }, item.ticket.label || item.ticket.id)),
        h('td', { title: item.target || '' }, item.target === null ? h('span', { class: 'muted' }, 'a schedule run (no user)') : item.target),
        h('td', { class: 'opt', title: item.requestedBy }, item.requestedBy),
        h('td', { class: 'opt', title: item.approvedBy || '' }, item.approvedBy || h('span', { class: 'muted' }, 'nobody')),
        h('td', { class: 'opt reason', title: item.statusReason || '' }, item.statusReason || '')));
    show('Requests', form,
      h('p', {}, `${list.items.length}${list.more ? '+' : ''} requests between ${new Date(list.filters.from).toLocaleDateString()} and ${new Date(list.filters.to).toLocaleDateString()}`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'requests' },
        h('colgroup', {}, ['when', 'status', 'ticket', 'user', 'by', 'by', 'reason'].map((name, i) => h('col', { class: `w-${name}${i > 3 ? ' opt' : ''}` }))),
        h('thead', {}, h('tr', {}, ['Created', 'Status', 'Ticket', 'User', 'Requested by', 'Approved by', 'Reason'].map((name, i) => h('th', { scope: 'col', class: i > 3 ? 'opt' : undefined }, name)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 7 }, 'No request matches.'))))));
  }

  /** Which parts of a request page a person opened, kept across the page's own refreshes. */
  const opened = new Set();

  /**
   * A request, leading with what matters: the outcome, what is still registered and why, the one next
   * step (with its button where the signed-in person may take it), the pass, and who asked, approved and
   * verified. The methods, the verification, the details and the audit trail (folded, its check visible) follow.
   */
  async function requestView(id) {
    const r = await api(`/requests/${encodeURIComponent(id)}`);
    const ticketUrl = safeUrl(r.ticket.url);
    const user = r.target.userPrincipalName || r.target.objectId || '';
    const s = r.summary;

    const people = h('p', { class: 'people' },
      h('span', {}, 'Asked by ', h('strong', {}, s.people.askedBy)),
      h('span', {}, 'Approved by ', s.people.approvedBy ? h('strong', {}, s.people.approvedBy) : h('em', {}, 'nobody')),
      h('span', {}, 'Verified by ', s.people.verifiedBy ? h('strong', {}, s.people.verifiedBy) : h('em', {}, r.verification ? 'not yet' : 'not asked')));
    const remains = s.remains.length
      ? h('div', { class: 'remains' }, h('h3', {}, 'Still registered'),
          h('ul', {}, s.remains.map((m) => h('li', {}, h('strong', {}, m.kind), ` ${m.detail}${m.isDefault ? ' (default)' : ''}: `, m.why))))
      : '';
    const summary = h('section', { class: `summary o-${r.status}`, id: 'summary', 'aria-label': 'Outcome' },
      h('p', { class: 'outcome', id: 'outcome' }, badge(r.status), ' ', s.outcome),
      people,
      remains,
      h('div', { class: 'next', id: 'next-step' }, h('h3', {}, 'Next step'), h('p', {}, s.next.text), nextAction(r)),
      passSection(r));

    const methods = r.methods.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, ['Method', 'Detail', 'Outcome', 'After'].map((n) => h('th', { scope: 'col' }, n)))),
          h('tbody', {}, r.methods.map((m) => h('tr', {}, h('td', {}, m.kind, m.isDefault ? ' (default)' : ''), h('td', {}, m.detail), h('td', {}, m.outcome, m.reason ? h('div', { class: 'muted' }, m.reason) : ''), h('td', {}, m.after))))))
      : h('p', {}, 'No methods recorded (the request did not reach the snapshot).');

    const link = (label, other) => (other ? [h('dt', {}, label), h('dd', {}, h('a', { href: `#/requests/${other}` }, other))] : []);
    const facts = h('dl', { class: 'facts' },
      h('dt', {}, 'Ticket'), h('dd', {}, ticketUrl ? h('a', { href: ticketUrl, rel: 'noreferrer noopener', target: '_blank' }, `${r.ticket.system} ${r.ticket.id}`) : `${r.ticket.system} ${r.ticket.id}`),
      h('dt', {}, 'User'), h('dd', {}, user),
      h('dt', {}, 'Why'), h('dd', {}, r.reason || h('em', {}, 'not given')),
      h('dt', {}, 'Options'), h('dd', {}, `profile ${r.options.profile}${r.options.methods ? `, methods ${r.options.methods.join(', ')}` : ''}; ${r.options.revokeSessions ? 'revoke sessions' : 'sessions kept'}; ${r.options.temporaryAccessPass ? 'Temporary Access Pass' : 'no pass'}${r.options.dryRun ? '; dry run' : ''}`),
      h('dt', {}, 'Source'), h('dd', {}, r.source),
      h('dt', {}, 'Created'), h('dd', {}, when(r.createdAt)),
      h('dt', {}, 'Finished'), h('dd', {}, r.completedAt ? when(r.completedAt) : 'not yet'),
      ...link('Finishes', r.previousRequestId),
      ...link('Finished by', r.nextRequestId),
      h('dt', {}, 'Status reason'), h('dd', { class: 'reason-full' }, r.statusReason || h('em', {}, 'none')));

    const verified = r.audit.verified
      ? h('span', { class: 'verified', id: 'audit-verified' }, `✔ verified: ${r.audit.entries.length} rows, each chained to the one before and to the head the request recorded`)
      : h('span', { class: 'bad', id: 'audit-verified', role: 'alert' }, `✘ NOT verified: ${r.audit.problem || 'unknown problem'}`);
    const audit = h('details', { id: 'audit', open: opened.has(`${r.id}:audit`) },
      h('summary', {}, h('strong', {}, 'Audit trail'), ' ', verified),
      h('ol', { class: 'timeline', 'aria-label': 'Timeline' },
        r.audit.entries.map((e) => h('li', {}, when(e.at), h('strong', {}, e.action), ' ', badge(e.outcome), e.detail ? h('div', {}, e.detail) : ''))));
    audit.addEventListener('toggle', () => { if (audit.open) opened.add(`${r.id}:audit`); else opened.delete(`${r.id}:audit`); });

    show(`Request ${r.ticket.id}`, h('p', { class: 'subtitle' }, user, ' · ', `${r.ticket.system} ${r.ticket.id}`), summary,
      h('h2', {}, 'Methods before and after'), methods,
      ...verificationSection(r),
      h('h2', {}, 'Details'), facts,
      audit);
    const linkedRunning = s.next.action === 'finish-linked' && ['accepted', 'running', 'awaiting_verification'].includes(s.next.requestStatus);
    if (['accepted', 'running', 'awaiting_verification'].includes(r.status) || linkedRunning) {
      refreshTimer = setTimeout(() => { if (location.hash.startsWith(`#/requests/${id}`)) void route(); }, 2000);
    }
  }

  /** The next step's button, for the person the page says may take it. */
  function nextAction(r) {
    const a = r.summary.next.action;
    const box = h('div', { class: 'next-action' });
    const fail = (error) => box.append(h('p', { class: 'notice bad', role: 'alert' }, error.message || String(error)));
    if (a === 'finish-ask') {
      const button = h('button', { type: 'button', id: 'finish-ask', onclick: async () => {
        button.disabled = true;
        try {
          await api(`/requests/${encodeURIComponent(r.id)}/finish`, { method: 'POST' });
          say('Finish asked; it waits for a second person to approve it');
          await route();
        } catch (error) {
          button.disabled = false;
          fail(error);
        }
      } }, `Finish: also remove ${r.finish.offer.addsLabel}`);
      box.append(button);
    } else if (a === 'finish-approve') {
      const check = h('input', { type: 'checkbox', id: 'finish-check' });
      const button = h('button', { type: 'button', id: 'finish-approve', disabled: true, onclick: async () => {
        button.disabled = true;
        try {
          const answer = await api(`/requests/${encodeURIComponent(r.id)}/finish/approve`, { method: 'POST' });
          say('Finish approved');
          location.hash = `#/requests/${answer.requestId}`;
        } catch (error) {
          fail(error);
        }
      } }, 'Approve the finish');
      check.addEventListener('change', () => { button.disabled = !check.checked; });
      box.append(
        h('p', {}, check, h('label', { for: 'finish-check', class: 'inline' }, ` I have read this ticket, and I approve resetting ${r.target.userPrincipalName || 'this user'} again with methods ${r.finish.asked.methods.join(', ')}.`)),
        button);
    } else if (a === 'finish-linked') {
      box.append(h('a', { href: `#/requests/${r.summary.next.requestId}`, id: 'finish-linked' }, 'Open the linked request'));
    } else if (a === 'verify') {
      box.append(h('a', { href: '#verification-link', onclick: (event) => { event.preventDefault(); document.getElementById('verification-link')?.scrollIntoView(); } }, 'The verification link'));
    }
    return box;
  }

  /** How the person proves who they are: the state, and while it waits the link (and its QR code) to hand to them. */
  function verificationSection(r) {
    const v = r.verification;
    if (!v) return [];
    const how = v.methods.map((m) => (m === 'verified-id' ? 'Verified ID with Face Check' : `their manager ${v.manager ? v.manager.userPrincipalName : ''} confirming in this console`)).join(' or ');
    const items = [h('dt', {}, 'State'), h('dd', {}, badge(v.status), ` by ${how || 'no method available'}; until ${new Date(v.expiresAt).toLocaleString()}; ${v.failures} failed presentation(s)`)];
    if (v.evidence) {
      items.push(h('dt', {}, 'Evidence'), h('dd', {}, v.evidence.method === 'manager'
        ? `${v.evidence.who} (their manager) attested at ${new Date(v.evidence.at).toLocaleString()}`
        : `${v.evidence.who} presented a VerifiedEmployee credential from ${v.evidence.issuer}; Face Check ${v.evidence.score}`));
    }
    if (v.failureReasons && v.failureReasons.length) items.push(h('dt', {}, 'Last failure'), h('dd', {}, v.failureReasons[v.failureReasons.length - 1]));
    if (v.passShownTo) items.push(h('dt', {}, 'Pass shown to'), h('dd', {}, `${v.passShownTo} at ${new Date(v.passShownAt).toLocaleString()}`));
    const handover = v.link
      ? h('div', { class: 'handover', id: 'verification-link' },
          h('p', {}, 'Give the user this link (send it to their work mail or read it to them on a call you made to a number from the directory). The first browser that opens it is the only one shown the code and, later, the pass.'),
          h('p', {}, h('code', {}, v.link)),
          v.linkQrCode ? h('img', { src: v.linkQrCode, alt: 'QR code of the verification link', width: 160, height: 160 }) : '',
          v.pageOpened ? h('p', { class: 'notice' }, 'The link has been opened.') : '')
      : '';
    return [h('h2', {}, 'Verifying the person'), h('dl', { class: 'facts' }, items), handover];
  }

  function passSection(r) {
    const p = r.pass;
    const box = h('div', { id: 'pass', class: 'pass-state' });
    const assignee = p.ticketAssignee && p.ticketAssignee.named
      ? (p.ticketAssignee.collectorIsAssignee ? `You are the ticket's assignee (${p.ticketAssignee.assignee}).` : `You are not the ticket's assignee (${p.ticketAssignee.assignee}).`)
      : 'The ticket names no assignee.';
    const collected = (c) => h('p', { class: 'notice', id: 'pass-collected' }, `Collected at ${new Date(c.at).toLocaleString()}${c.by ? ` by ${c.by.userPrincipalName}` : ''}. ${c.detail}`);
    box.append(h('h3', {}, 'Temporary Access Pass'));
    if (!p.requested) box.append(h('p', {}, 'None was asked for.'));
    else if (p.goesTo) box.append(h('p', { id: 'pass-goes-to' }, `${p.waiting ? 'A pass was issued. ' : ''}It is not shown here: ${p.goesTo}.`));
    else if (p.collected) box.append(collected(p.collected));
    else if (p.superseded) box.append(h('p', { class: 'notice bad', id: 'pass-superseded' }, `Superseded by request ${p.superseded.byRequestId} at ${new Date(p.superseded.at).toLocaleString()}: that request's pass replaced this one in Entra ID, so this one no longer works.`));
    else if (!p.waiting) box.append(h('p', {}, 'No pass is waiting (not issued yet, or expired).'));
    else if (!p.canReveal) box.append(h('p', {}, `A pass is waiting until ${new Date(p.expiresAt).toLocaleString()}. Only members of the collector group can reveal it.`));
    else {
      const button = h('button', { type: 'button', id: 'reveal-pass', onclick: async () => {
        button.disabled = true;
        try {
          const shown = await api(`/requests/${encodeURIComponent(r.id)}/pass`, { method: 'POST' });
          box.replaceChildren(h('div', { class: 'pass', role: 'region', 'aria-label': 'Temporary Access Pass' },
            h('p', {}, `Give this pass to ${r.target.userPrincipalName || 'the user'} now. It is shown once and not kept.`),
            h('output', { id: 'pass-value' }, shown.temporaryAccessPass),
            h('p', {}, `Valid until ${new Date(shown.expiresAt).toLocaleString()}. The audit names you (${shown.collectedBy.userPrincipalName}) as the person who took it.`)));
          say('Pass revealed');
        } catch (error) {
          if (error instanceof ApiError && error.body && error.body.error && error.body.error.details && error.body.error.details.collected) {
            box.replaceChildren(collected(error.body.error.details.collected));
          } else box.replaceChildren(h('p', { class: 'notice bad', role: 'alert' }, error.message));
        }
      } }, 'Reveal pass');
      box.append(h('p', {}, `A pass is waiting until ${new Date(p.expiresAt).toLocaleString()}. ${assignee}`), button);
    }
    return box;
  }

  function chart(counts, valid) {
    const parts = ['completed', 'partial', 'failed', 'rejected', 'planned'].filter((k) => counts[k] > 0);
    const total = Math.max(valid, 1);
    return h('div', {},
      h('div', { class: 'chart', role: 'img', 'aria-label': parts.map((k) => `${counts[k]} ${k}`).join(', ') || 'nothing finished yet' },
        parts.map((k) => {
          const bar = h('span', { class: `c-${k}` });
          bar.style.width = `${(counts[k] / total) * 100}%`; // CSSOM, which the style-src policy allows
          return bar;
        })),
      h('ul', { class: 'legend' }, ['completed', 'partial', 'failed', 'rejected', 'planned', 'pending', 'invalid'].map((k) => h('li', {}, h('i', { class: `c-${k}` }), `${k} ${counts[k] || 0}`))));
  }

  async function bulkListView() {
    const list = await api('/bulk');
    show('Bulk jobs', h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Created', 'Status', 'Ticket', 'Progress', 'Requested by'].map((n) => h('th', { scope: 'col' }, n)))),
      h('tbody', {}, list.items.length ? list.items.map((job) => h('tr', {},
        h('td', {}, when(job.createdAt)), h('td', {}, badge(job.status)),
        h('td', {}, h('a', { href: `#/bulk/${job.id}` }, `${job.ticket.system} ${job.ticket.id}`)),
        h('td', {}, h('progress', { max: 100, value: job.percent, 'aria-label': `${job.percent}% finished` }), ` ${job.finished} / ${job.valid}`),
        h('td', {}, job.requestedBy))) : h('tr', {}, h('td', { colspan: 5 }, 'No bulk job in the last 30 days.'))))));
  }

  async function bulkView(id, params) {
    const query = new URLSearchParams(params);
    const job = await api(`/bulk/${encodeURIComponent(id)}?${query.toString()}`);
    const exportButton = h('button', { type: 'button', class: 'secondary', onclick: async () => {
      const response = await api(`/bulk/${encodeURIComponent(id)}?format=csv`, { raw: true });
      const link = h('a', { href: URL.createObjectURL(await response.blob()), download: `bulk-${id}.csv` });
      link.click();
      URL.revokeObjectURL(link.href);
    } }, 'Export CSV');
    show(`Bulk job ${job.ticket.id}`,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Status'), h('dd', {}, badge(job.status), job.statusReason ? ` ${job.statusReason}` : ''),
        h('dt', {}, 'Progress'), h('dd', { id: 'bulk-progress' }, `${job.totals.finished} of ${job.totals.valid} finished (${job.totals.percent}%)`),
        h('dt', {}, 'Pace'), h('dd', {}, `${job.options.ratePerMinute} users a minute${job.dryRun ? '; dry run' : ''}`),
        h('dt', {}, 'Requested by'), h('dd', {}, job.requestedBy)),
      h('h2', {}, 'Outcomes'), chart(job.counts, job.totals.valid), exportButton,
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Row', 'User', 'Status', 'Reason'].map((n) => h('th', { scope: 'col' }, n)))),
        h('tbody', {}, job.items.map((item) => h('tr', {},
          h('td', {}, item.row), h('td', {}, item.requestId ? h('a', { href: `#/requests/${item.requestId}` }, item.userPrincipalName) : item.userPrincipalName),
          h('td', {}, badge(item.status)), h('td', {}, item.reason || (item.error ? item.error.message : ''))))))));
    if (['expanding', 'scheduled', 'running'].includes(job.status)) {
      refreshTimer = setTimeout(() => { if (location.hash.startsWith(`#/bulk/${id}`)) void route(); }, 1500);
    }
  }

  /** A run time as the schedule reads it (its own time zone), with the viewer's local time beside it. */
  function zoned(iso, timeZone) {
    const date = new Date(iso);
    let there;
    try {
      there = date.toLocaleString(undefined, { timeZone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
    } catch {
      there = date.toISOString();
    }
    return h('time', { datetime: iso, title: `${date.toLocaleString()} your time` }, there);
  }

  /** Schedules: when each runs next (in its own time zone) and its last runs, each linked to its bulk job. */
  async function schedulesView() {
    const list = await api('/schedules');
    const sourceText = (s) => (s.source.groupId ? `group "${s.source.groupName || s.source.groupId}"${s.removeFromGroupAfterReset ? ', completed users leave it' : ''}` : `risky users, ${s.source.riskyUsers.minimumRiskLevel} and above`);
    const runItem = (run) => h('li', {},
      when(run.startedAt), ' ', badge(run.status), ` ${run.trigger}: `,
      run.bulkJobId ? h('a', { href: `#/bulk/${run.bulkJobId}` }, `bulk job, ${run.planned} of ${run.found} users`) : `${run.planned} of ${run.found} users`,
      run.alreadyReset ? `, ${run.alreadyReset} reset already` : '',
      run.removedFromGroup !== undefined ? `, ${run.removedFromGroup} removed from the group` : '',
      run.reason ? h('div', { class: 'run-reason' }, run.reason) : '',
      run.ticketNotice ? h('div', { class: 'run-reason' }, run.noticeRequestId ? h('a', { href: `#/requests/${run.noticeRequestId}` }, `Ticket: ${run.ticketNotice}`) : `Ticket: ${run.ticketNotice}`) : '');
    const rows = list.items.map((s) => h('tr', { 'data-schedule': s.id },
      h('td', {}, h('strong', {}, s.name), s.authentic ? '' : h('div', { class: 'bad' }, 'NOT authentic: never runs'), h('div', { class: 'muted' }, sourceText(s), s.dryRun ? '; dry run' : '', `; at most ${s.maxUsersPerRun} users a run`)),
      h('td', {}, h('code', {}, s.schedule), h('div', {}, s.timeZone)),
      h('td', {}, s.nextRunTimes.length ? h('ul', { class: 'plain' }, s.nextRunTimes.map((t) => h('li', {}, zoned(t, s.timeZone)))) : '–'),
      h('td', {}, s.enabled ? badge('enabled') : badge('paused')),
      h('td', {}, s.runs.length ? h('ul', { class: 'plain' }, s.runs.map(runItem)) : 'no run yet')));
    show('Schedules',
      h('p', {}, 'Recurring remediation. Schedules are created and changed with the signed /api/schedules routes (or npm run cli -- schedule ...); this page only shows them.'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Schedule', 'When', 'Next runs', 'Enabled', 'Last runs'].map((n) => h('th', { scope: 'col' }, n)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 5 }, 'No schedule.'))))));
  }

  async function healthView() {
    const report = await api('/health');
    const row = (name, part) => [h('dt', {}, name), h('dd', {}, part.reachable ? h('span', { class: 'badge s-ok' }, 'reachable') : h('span', { class: 'badge s-failed' }, 'unreachable'), ` ${part.where || `${part.kind} ${part.origin}`}`, part.error ? ` (${part.error})` : '')];
    show('Health', h('dl', { class: 'facts' }, h('dt', {}, 'Overall'), h('dd', {}, badge(report.status)), h('dt', {}, 'Version'), h('dd', {}, report.version), row('Storage', report.storage), row('Microsoft Graph', report.graph)));
  }

  /** A manager asked to confirm it is really their report; any signed-in person may open it, only the manager may act. */
  async function attestView(id) {
    nav.hidden = true;
    const path = `/requests/${encodeURIComponent(id)}/attestation`;
    const a = await api(path);
    const facts = h('dl', { class: 'facts' },
      h('dt', {}, 'User'), h('dd', {}, a.user),
      h('dt', {}, 'Ticket'), h('dd', {}, a.ticket),
      h('dt', {}, 'Asked by'), h('dd', {}, a.requestedBy),
      h('dt', {}, 'Why'), h('dd', {}, a.reason || 'not given'),
      h('dt', {}, 'Verification'), h('dd', {}, badge(a.verification.status), ` until ${new Date(a.verification.expiresAt).toLocaleString()}`));
    const box = h('div', { id: 'attest' });
    if (a.verification.status === 'pending' && a.status === 'awaiting_verification') {
      const check = h('input', { type: 'checkbox', id: 'attest-check' });
      const button = h('button', { type: 'button', id: 'attest-confirm', disabled: true, onclick: async () => {
        button.disabled = true;
        try {
          await api(path, { method: 'POST' });
          say('Attested');
          return attestView(id);
        } catch (error) {
          const claims = error instanceof ApiError && error.body && error.body.error && error.body.error.details && error.body.error.details.claims;
          if (error instanceof ApiError && error.status === 401 && claims) return void signIn(atob(claims));
          box.append(h('p', { class: 'notice bad', role: 'alert' }, error.message));
        }
      } }, 'Confirm it is them');
      check.addEventListener('change', () => { button.disabled = !check.checked; });
      box.append(
        h('p', {}, `Before anything is changed, confirm that the person asking is really ${a.user}. Talk to them on a video call or in person; do not confirm from a phone call or a message alone.`),
        h('p', {}, check, h('label', { for: 'attest-check' }, ` I have seen ${a.user} and I am sure it is them, and that they asked for this reset.`)),
        button);
    } else if (a.verification.evidence) {
      box.append(h('p', { class: 'verified' }, `Verified by ${a.verification.evidence.who} at ${new Date(a.verification.evidence.at).toLocaleString()}.`));
    }
    if (a.pass === 'ready') {
      const reveal = h('button', { type: 'button', id: 'attest-pass', onclick: async () => {
        reveal.disabled = true;
        try {
          const shown = await api(`${path}/pass`, { method: 'POST' });
          box.append(h('div', { class: 'pass', role: 'region', 'aria-label': 'Temporary Access Pass' },
            h('p', {}, `Give this pass to ${a.user} yourself. It is shown once.`),
            h('output', { id: 'pass-value' }, shown.temporaryAccessPass),
            h('p', {}, `Valid until ${new Date(shown.expiresAt).toLocaleString()}.`)));
        } catch (error) {
          box.append(h('p', { class: 'notice bad', role: 'alert' }, error.message));
        }
      } }, 'Show the Temporary Access Pass (once)');
      box.append(reveal);
    } else if (a.pass === 'shown') box.append(h('p', {}, 'The pass was shown already.'));
    else if (a.pass === 'not-yet') box.append(h('p', {}, 'A pass was asked for: it appears here once the reset is done.'));
    show(`Confirm it is ${a.user}`, facts, box);
    if (a.status === 'awaiting_verification' || a.status === 'running' || a.status === 'accepted') {
      refreshTimer = setTimeout(() => { if (location.hash.startsWith(`#/attest/${id}`)) void route(); }, 3000);
    }
  }

  async function route() {
    if (location.hash === '#main') return; // the skip link, not a view
    const [path, search] = (location.hash.replace(/^#/, '') || '/requests').split('?');
    const parts = path.split('/').filter(Boolean);
    try {
      if (parts[0] === 'attest' && parts[1]) return await attestView(parts[1]);
      if (parts[0] === 'requests' && parts[1]) return await requestView(parts[1]);
      if (parts[0] === 'bulk' && parts[1]) return await bulkView(parts[1], search || '');
      if (parts[0] === 'bulk') return await bulkListView();
      if (parts[0] === 'schedules') return await schedulesView();
      if (parts[0] === 'health') return await healthView();
      return await requestsView(search || '');
    } catch (error) {
      failure(error);
    }
  }

  async function start() {
    try {
      config = await (await fetch(`${API}/config`)).json();
      if (!config.enabled) return show('Console off', h('p', { class: 'notice bad' }, config.message));
      const params = new URLSearchParams(location.search);
      if (params.get('error')) throw new Error(`sign-in failed: ${params.get('error_description') || params.get('error')}`);
      if (params.get('code')) await redeem(params);
      if (!token()) return signInView();
      // A manager asked to attest need not be a console reader: that page asks the API itself.
      if (location.hash.startsWith('#/attest/')) {
        window.addEventListener('hashchange', () => void route());
        return await route();
      }
      me = await api('/me');
      who.replaceChildren(`${me.name || me.userPrincipalName} · ${me.roles.join(', ')}`, h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'));
      nav.hidden = false;
      window.addEventListener('hashchange', () => void route());
      await route();
    } catch (error) {
      if (error instanceof ApiError) return failure(error);
      signInView(error.message || String(error));
    }
  }

  void start();
})();
