import type { SimDirectory } from '../graph-sim/directory';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The stand-in's sign-in page: a form that posts the authorization request back with the chosen
 * user as login_hint. Console group members are listed first; everyone else can sign in too, to
 * see the console refuse them.
 */
export function signInPage(directory: SimDirectory, params: URLSearchParams): string {
  const hidden = [...params.entries()]
    .filter(([name]) => name !== 'login_hint')
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('');
  const groupName = (id: string) => directory.groups.find((g) => g.id === id)?.displayName ?? id;
  const members = directory.users.filter((u) => u.userType === 'Member' && u.accountEnabled);
  const consoleGroups = (u: (typeof members)[number]) => directory.transitiveGroupIds(u).map(groupName).filter((name) => /console|collector/i.test(name));
  const sorted = [...members].sort((a, b) => consoleGroups(b).length - consoleGroups(a).length);
  const buttons = sorted
    .map((user) => {
      const groups = consoleGroups(user);
      return `<li><button type="submit" name="login_hint" value="${escape(user.userPrincipalName)}">${escape(user.displayName)}<small>${escape(user.userPrincipalName)}${groups.length ? ` &middot; ${escape(groups.join(', '))}` : ''}</small></button></li>`;
    })
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (local stand-in identity provider)</title>
<style>
body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f3f2f1;color:#1b1a19}
main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;box-shadow:0 2px 6px #0002}
.warn{background:#fff4ce;border-left:4px solid #797673;padding:.5rem .75rem;margin-bottom:1rem}
ul{list-style:none;padding:0}li{margin:.4rem 0}
button{width:100%;text-align:left;padding:.6rem .8rem;border:1px solid #8a8886;background:#fff;border-radius:2px;font:inherit;cursor:pointer}
button:hover,button:focus{background:#edebe9;outline:2px solid #0f6cbd}
small{display:block;color:#484644}
</style></head>
<body><main>
<h1>Sign in to ${escape(directory.displayName)}</h1>
<p class="warn">Local stand-in identity provider, not Microsoft Entra ID. It signs tokens for the demo tenant's users with a key made when it started.</p>
<form method="post"><fieldset><legend>Pick an account</legend>${hidden}<ul>${buttons}</ul></fieldset></form>
</main></body></html>`;
}
