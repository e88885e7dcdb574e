// The verification page: the person opens the link the service desk gave them, scans the code with
// Microsoft Authenticator, and (when asked for) is shown their Temporary Access Pass here, once.
// This browser registers a secret of its own on first open; only it is shown the code and the pass.
(function () {
  'use strict';
  var parts = location.pathname.split('/').filter(Boolean); // api, verify, {id}, {token}
  var id = parts[2] || '';
  var token = parts[3] || '';
  var base = '/api/verify/' + encodeURIComponent(id) + '/' + encodeURIComponent(token);
  var key = 'verify-secret-' + id;
  var secret = sessionStorage.getItem(key);
  if (!secret) {
    var bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    secret = btoa(String.fromCharCode.apply(null, Array.from(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    sessionStorage.setItem(key, secret);
  }
  var timer;

  function $(name) { return document.getElementById(name); }
  function show(name, on) { $(name).hidden = !on; }
  function text(name, value) { $(name).textContent = value; }

  function call(action) {
    return fetch(base + '/' + action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: secret }), cache: 'no-store' })
      .then(function (response) { return response.json().then(function (body) { return { status: response.status, body: body }; }); });
  }

  function when(iso) { return new Date(iso).toLocaleTimeString(); }

  function render(view) {
    show('error', false);
    var v = view.verification;
    var pending = v.status === 'pending';
    text('lead', 'The service desk is resetting the sign-in methods of ' + view.request.user + ' (ticket ' + view.request.ticket + ').' + (pending ? ' Confirm it is you before ' + when(v.expiresAt) + '.' : ''));
    show('code', pending && !!v.presentation);
    if (pending && v.presentation) {
      if (v.presentation.qrCode) $('qr').src = v.presentation.qrCode;
      $('deep-link').href = v.presentation.url;
      text('code-expiry', v.presentation.status === 'retrieved' ? 'Opened in Authenticator: finish there.' : 'This code works until ' + when(v.presentation.expiresAt) + '.');
    }
    show('again', pending && v.verifiedId && !v.presentation);
    if (pending && v.verifiedId && !v.presentation) {
      text('again-why', v.lastFailure ? 'That did not work (' + v.lastFailure + '). ' + v.failures + ' of ' + v.maxFailures + ' tries used.' : 'The last code expired.');
    }
    show('manager', pending && !!v.manager);
    if (v.manager) text('manager-text', (v.verifiedId ? 'No phone? ' : '') + 'Your manager ' + (v.manager.displayName || v.manager.userPrincipalName) + ' can confirm it is you: they were sent a link, and must see you (for example on a video call) before they confirm.');
    show('done', !pending);
    if (v.status === 'passed') text('done-text', 'Thank you: you are verified' + (v.evidence && v.evidence.score ? ' (Face Check ' + v.evidence.score + ')' : '') + '. The reset is ' + (view.request.status === 'completed' || view.request.status === 'partial' ? 'done.' : 'under way.'));
    if (v.status === 'failed') text('done-text', 'You could not be verified. Nothing was changed. Contact the service desk.');
    if (v.status === 'expired') text('done-text', 'The time to verify ran out. Nothing was changed. Contact the service desk for a new request.');
    var pass = view.pass;
    show('pass', pass.state !== 'none');
    show('show-pass', pass.state === 'ready');
    var passText = { 'not-yet': 'Your pass appears here once you are verified and the reset is done.', ready: 'Your pass is ready. It is shown once: write it down before you close this page.', shown: 'Your pass was shown at ' + (pass.at ? when(pass.at) : '') + '.', elsewhere: 'Your pass is handed to your manager, who verified you.' };
    text('pass-text', passText[pass.state] || '');
    if (view.request.status === 'completed' || view.request.status === 'partial' || v.status !== 'pending') {
      if (pass.state !== 'not-yet') clearInterval(timer);
    }
  }

  function fail(answer) {
    show('error', true);
    text('error', answer.body && answer.body.error ? answer.body.error.message : 'Something went wrong; try again in a moment.');
    if (answer.status === 404 || answer.status === 409) clearInterval(timer);
  }

  function refresh() {
    call('open').then(function (answer) { if (answer.status === 200) render(answer.body); else fail(answer); }, function () { show('error', true); text('error', 'The service cannot be reached; retrying.'); });
  }

  $('new-code').addEventListener('click', function () {
    call('new-code').then(function (answer) { if (answer.status === 200) render(answer.body); else fail(answer); });
  });
  $('show-pass').addEventListener('click', function () {
    call('pass').then(function (answer) {
      if (answer.status !== 200) return fail(answer);
      show('show-pass', false);
      show('pass-value', true);
      text('pass-value', answer.body.temporaryAccessPass);
      text('pass-text', 'Use it to sign in and register your methods again before ' + when(answer.body.expiresAt) + '. It is not shown again.');
    });
  });
  refresh();
  timer = setInterval(refresh, 3000);
})();
