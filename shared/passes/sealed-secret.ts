import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The GCM tag is always the full 16 bytes: Node would otherwise accept a tag cut to 4 (NIST SP 800-38D). */
const TAG_BYTES = 16;
const IV_BYTES = 12;

/**
 * AES-256-GCM with the request id as associated data: a sealed pass can be opened only with the key
 * and only for the request it was sealed for (moving the row to another request breaks it).
 * Format: `v1.<iv>.<ciphertext>.<tag>`, each part base64url; the IV is 12 bytes and the tag 16, and a
 * sealed value with any other lengths is refused before it is opened.
 */
export function seal(plaintext: string, key: Buffer, requestId: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(requestId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

export function open(sealed: string, key: Buffer, requestId: string): string {
  const [version, ivText, ciphertext, tagText, ...rest] = sealed.split('.');
  if (version !== 'v1' || !ivText || ciphertext === undefined || !tagText || rest.length > 0) throw new Error('not a sealed secret of a known version');
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error(`a sealed secret has a ${IV_BYTES}-byte IV and a ${TAG_BYTES}-byte tag`);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(requestId, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
