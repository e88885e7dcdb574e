/**
 * Reads a request body up to a limit without holding more than that: a `content-length` above the
 * limit is refused before a byte is read, and a body without one (chunked) is cut off as soon as it
 * passes the limit. `arrayBuffer()` would first buffer whatever the host accepts (100 MB).
 */
export type BodyRead = { ok: true; body: Uint8Array } | { ok: false; reason: 'too-large' };

export async function readBodyWithin(
  stream: ReadableStream<Uint8Array> | null | undefined,
  contentLength: string | null | undefined,
  maxBytes: number,
): Promise<BodyRead> {
  const declared = contentLength === null || contentLength === undefined || contentLength.trim() === '' ? undefined : Number(contentLength);
  if (declared !== undefined && (!Number.isFinite(declared) || declared > maxBytes)) {
    await stream?.cancel().catch(() => undefined);
    return { ok: false, reason: 'too-large' };
  }
  if (!stream) return { ok: true, body: new Uint8Array(0) };
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    total += chunk.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, reason: 'too-large' };
    }
    chunks.push(chunk);
  }
  return { ok: true, body: Buffer.concat(chunks, total) };
}
