/**
 * Headers of every page the app serves to people (the console, the verification page): a strict
 * content security policy (this app's own script and styles only, images from data: URLs for QR codes),
 * no framing, no sniffing, no referrer (sign-in codes and verification links sit in page URLs).
 * `authorityOrigin`: where the console's browser redeems its sign-in code.
 */
export function securityHeaders(authorityOrigin: string | undefined): Record<string, string> {
  const connect = ["'self'", ...(authorityOrigin ? [authorityOrigin] : [])].join(' ');
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
    'x-frame-options': 'DENY',
  };
}
