import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { securityHeaders } from '../http/security-headers';

/**
 * The verification page (static/): one HTML shell, its script and its style sheet, shipped beside this
 * module (the build copies static/ into dist/). They hold no data; everything shown comes from the
 * page's JSON routes, which need the link's token and the browser's own secret.
 */
const FILES: Readonly<Record<string, string>> = {
  'verify.html': 'text/html; charset=utf-8',
  'verify.js': 'text/javascript; charset=utf-8',
  'verify.css': 'text/css; charset=utf-8',
};

const cache = new Map<string, Buffer>();

export function verificationAsset(file: string): { status: number; headers: Record<string, string>; body: Buffer | string } {
  const type = Object.prototype.hasOwnProperty.call(FILES, file) ? FILES[file] : undefined;
  if (!type) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'not found' };
  let body = cache.get(file);
  if (!body) {
    body = readFileSync(join(__dirname, 'static', file));
    cache.set(file, body);
  }
  return { status: 200, headers: { 'content-type': type, ...securityHeaders(undefined) }, body };
}
