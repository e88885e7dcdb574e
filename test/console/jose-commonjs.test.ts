import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * jose 6 ships ES modules only; the app compiles to CommonJS (tsconfig "module": "commonjs"), so its
 * `import ... from 'jose'` becomes require('jose'). Node loads an ES module through require() from
 * 20.19 and 22.12 on. Vitest transforms imports itself, so check plain Node, as the Functions host runs it.
 */
describe('jose under CommonJS', () => {
  it('loads with require() in this Node and offers what token validation uses', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', "const j = require('jose'); process.stdout.write([typeof j.jwtVerify, typeof j.createRemoteJWKSet, typeof j.errors.JWTExpired].join(','))"],
      { cwd: __dirname, encoding: 'utf8' },
    );
    expect(out).toBe('function,function,function');
  });
});
