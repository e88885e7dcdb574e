/**
 * Whether a generic caller's `callbackUrl` may be posted to: https (plain http only to a loopback
 * address, as local receivers and tests use), no credentials in the URL, and a host that is on
 * CALLBACK_ALLOWED_HOSTS exactly (an entry with a port allows only that port). The intake refuses a
 * request whose URL fails; the outbox checks again before each post, since the list may have shrunk.
 * Returns the problem in words, or undefined when the URL may be used.
 */
export function callbackUrlProblem(value: string, allowedHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) return 'must be an https URL';
  if (url.username || url.password) return 'must not carry credentials (user:password@)';
  if (url.hash) return 'must not have a fragment (#...)';
  if (allowedHosts.length === 0) return 'cannot be used: this service sends no callbacks (CALLBACK_ALLOWED_HOSTS is empty)';
  const host = url.hostname.toLowerCase();
  const port = url.port;
  const allowed = allowedHosts.some((entry) => {
    const [name, entryPort] = entry.toLowerCase().split(':') as [string, string | undefined];
    return name === host && (entryPort === undefined ? port === '' : entryPort === port);
  });
  if (!allowed) return `names host ${url.host.slice(0, 200)}, which is not on CALLBACK_ALLOWED_HOSTS`;
  return undefined;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
