import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The app's version from package.json, found by walking up (the compiled code sits one folder deeper). */
export const appVersion: string = (() => {
  let dir = __dirname;
  for (let depth = 0; depth < 5; depth += 1) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'entra-mfa-reset' && parsed.version) return parsed.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
})();
