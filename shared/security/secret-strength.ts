/**
 * Minimum strength of the app's secrets (DESIGN section 5): at least 32 bytes of key material, and
 * not an obviously non-random value such as one repeated byte (`AAAA…`, an all-zero key) that a
 * template or a copy-paste mistake leaves behind. The problem text never contains the secret.
 */
export const MIN_SECRET_BYTES = 32;

/** Why this key material is too weak, or undefined. */
export function weakKeyProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < MIN_SECRET_BYTES) return `is ${bytes.length} bytes long; it needs at least ${MIN_SECRET_BYTES} random bytes`;
  const distinct = new Set(bytes).size;
  if (distinct === 1) return 'is one byte repeated, not a random key';
  // 32 random bytes have about 30 distinct values; fewer than 8 is a pattern, not a key.
  if (distinct < 8) return `has only ${distinct} distinct byte values, not a random key`;
  return undefined;
}

/** Base64 (standard or URL-safe, padding optional) to bytes, or undefined if it is not Base64. */
export function decodeBase64Key(value: string): Buffer | undefined {
  const text = value.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** A Standard Webhooks secret: `whsec_` and the Base64 key. */
export function decodeWebhookSecret(value: string): Buffer | undefined {
  const match = /^whsec_(.+)$/.exec(value.trim());
  return match ? decodeBase64Key(match[1]!) : undefined;
}

/** The bytes of a text secret as HMAC keys use them (Jira and ServiceNow secrets are UTF-8 text). */
export function textKeyBytes(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}
