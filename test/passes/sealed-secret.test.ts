import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal } from '../../shared/passes/sealed-secret';

describe('sealed passes', () => {
  const key = randomBytes(32);

  it('opens what it sealed, and never shows the plain text', () => {
    const sealed = seal('Xy7pQ2rT9k', key, 'req-1');
    expect(sealed).not.toContain('Xy7pQ2rT9k');
    expect(sealed.startsWith('v1.')).toBe(true);
    expect(open(sealed, key, 'req-1')).toBe('Xy7pQ2rT9k');
    expect(seal('Xy7pQ2rT9k', key, 'req-1')).not.toBe(sealed); // a fresh IV each time
  });

  it('refuses another key, another request, or a changed byte', () => {
    const sealed = seal('Xy7pQ2rT9k', key, 'req-1');
    expect(() => open(sealed, randomBytes(32), 'req-1')).toThrow();
    expect(() => open(sealed, key, 'req-2')).toThrow();
    const [version, iv, ciphertext, tag] = sealed.split('.');
    const flipped = Buffer.from(ciphertext!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => open([version, iv, flipped.toString('base64url'), tag].join('.'), key, 'req-1')).toThrow();
    expect(() => open('v0.a.b.c', key, 'req-1')).toThrow(/known version/);
  });
});
