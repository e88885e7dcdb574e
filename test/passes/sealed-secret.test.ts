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

describe('the sealed format fixes its tag at 16 bytes', () => {
  const key = randomBytes(32);

  it('refuses a tag cut short (GCM would accept 4 bytes otherwise, a 1 in 2^32 forgery per try)', () => {
    const sealed = seal('Xy7pQ2rT9k', key, 'req-1');
    const [version, iv, ciphertext, tag] = sealed.split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const short = Buffer.from(tag!, 'base64url').subarray(0, bytes).toString('base64url');
      expect(() => open([version, iv, ciphertext, short].join('.'), key, 'req-1')).toThrow(/16-byte tag/);
    }
    expect(() => open([version, iv, ciphertext, tag, 'extra'].join('.'), key, 'req-1')).toThrow(/known version/);
    expect(Buffer.from(tag!, 'base64url')).toHaveLength(16);
  });
});
