import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { securityHeaders } from '../http/security-headers';

export { securityHeaders };

/**
 * The console's pages: one HTML shell, its script and its style sheet, shipped beside this module
 * (the build copies static/ into dist/). They hold no data: everything shown comes from the JSON API,
 * which requires a signed-in person, so the shell itself can be served to anyone.
 */
const FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const cache = new Map<string, Buffer>();

export interface StaticAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/** `authorityOrigin` is where the browser redeems its sign-in code; the page may talk to it and to this app only. */
export function consoleAsset(file: string | undefined, authorityOrigin: string | undefined): StaticAnswer {
  const name = file && file.length > 0 ? file : 'index.html';
  const type = Object.prototype.hasOwnProperty.call(FILES, name) ? FILES[name] : undefined;
  if (!type) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'not found' };
  let body = cache.get(name);
  if (!body) {
    body = readFileSync(join(__dirname, 'static', name));
    cache.set(name, body);
  }
  return { status: 200, headers: { 'content-type': type, ...securityHeaders(authorityOrigin) }, body };
}
