import { describe, expect, it } from 'vitest';
import { readBodyWithin } from '../../shared/http/read-body';

function streamOf(chunks: Uint8Array[], onPull?: () => void): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      onPull?.();
      if (index < chunks.length) controller.enqueue(chunks[index++]!);
      else controller.close();
    },
  });
}

describe('reading a signed body within its limit', () => {
  it('refuses a declared content-length above the limit before reading a byte', async () => {
    let pulled = 0;
    const read = await readBodyWithin(streamOf([new Uint8Array(10)], () => (pulled += 1)), String(100 * 1024 * 1024), 64 * 1024);
    expect(read).toEqual({ ok: false, reason: 'too-large' });
    expect(pulled).toBe(0);
  });

  it('stops reading a chunked body as soon as it passes the limit, without buffering the rest', async () => {
    let pulled = 0;
    const chunks = Array.from({ length: 1000 }, () => new Uint8Array(16 * 1024));
    const read = await readBodyWithin(streamOf(chunks, () => (pulled += 1)), undefined, 64 * 1024);
    expect(read.ok).toBe(false);
    expect(pulled).toBeLessThan(10);
  });

  it('returns the exact bytes of a body within the limit', async () => {
    const read = await readBodyWithin(streamOf([Buffer.from('{"a":'), Buffer.from('1}')]), '7', 64 * 1024);
    expect(read.ok && Buffer.from(read.body).toString()).toBe('{"a":1}');
  });
});
