import { COMMON_WORDS } from './common-words';

/**
 * How strong the app's secrets must be (DESIGN section 5: "each at least 32 random bytes"), checked at
 * start. A secret is refused when it is shorter than 32 bytes, or when it is not random:
 *  - it reads as words (`my-super-secret-jira-webhook-key`, a passphrase);
 *  - it is a repeated pattern (`changeme-changeme-…`, `Password1Password1…`, one byte over and over);
 *  - it counts (`abcdef…`, `0123…`, bytes 0, 1, 2, …, 31);
 *  - or its estimated entropy is below MIN_ESTIMATED_BITS.
 * The estimate is the cheapest way to describe the secret, in the spirit of zxcvbn: every byte or
 * character costs what guessing it from its alphabet costs, unless it is cheaper as part of a known
 * word, a keyboard walk, a counting run or a copy of an earlier part. `openssl rand -base64 32` (and
 * `-hex 32`) scores 237-331 bits; anything people type scores far less. Messages never hold the
 * secret or a part of it.
 */
export const MIN_SECRET_BYTES = 32;
export const MIN_ESTIMATED_BITS = 128;

/** How a good one is made, for every message. */
export const MAKE_ONE = 'openssl rand -base64 32';

export interface Strength {
  bits: number;
  /** The share of the secret covered by each kind of pattern. */
  covered: { words: number; repeats: number; sequences: number };
}

/** Why this key material (bytes from Base64) is too weak, or undefined. */
export function weakKeyProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < MIN_SECRET_BYTES) return `is ${bytes.length} bytes long; it needs at least ${MIN_SECRET_BYTES} random bytes`;
  const distinct = new Set(bytes).size;
  if (distinct === 1) return 'is one byte repeated, not a random key';
  // 32 random bytes have about 30 distinct values; fewer than 8 is a pattern, not a key.
  if (distinct < 8) return `has only ${distinct} distinct byte values, not a random key`;
  // Base64 of typed text (`UGFzc3dvcmQx…`) is judged as the text it encodes.
  if (bytes.every((byte) => byte >= 0x20 && byte < 0x7f)) return weakTextProblem(Buffer.from(bytes).toString('latin1'));
  return verdict(estimate(Array.from(bytes), 256));
}

/** Why a secret kept as text (the Jira and ServiceNow HMAC secrets) is too weak, or undefined. */
export function weakTextProblem(text: string): string | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes < MIN_SECRET_BYTES) return `is ${bytes} bytes long; it needs at least ${MIN_SECRET_BYTES} random bytes`;
  const codes = Array.from(text, (char) => char.codePointAt(0)!);
  const problem = verdict(estimate(codes, alphabetSize(text), text.toLowerCase()));
  if (problem) return problem;
  return readsAsWords(text) ? 'reads as words, not random characters' : undefined;
}

function verdict(strength: Strength): string | undefined {
  if (strength.bits >= MIN_ESTIMATED_BITS) return undefined;
  const { words, repeats, sequences } = strength.covered;
  const most = Math.max(words, repeats, sequences);
  if (most >= 0.3 && most === repeats) return 'is a repeated pattern, not a random key';
  if (most >= 0.3 && most === sequences) return 'is a counting sequence, not a random key';
  if (most >= 0.3 && most === words) return 'reads as words, not random characters';
  return `has an estimated ${Math.floor(strength.bits)} bits of entropy; at least ${MIN_ESTIMATED_BITS} are needed`;
}

type Kind = 'single' | 'word' | 'repeat' | 'sequence';

/**
 * The cheapest description of `codes` (dynamic programming over positions), in bits. `lower` is the
 * text lower-cased, for dictionary words; binary keys have none.
 */
export function estimate(all: readonly number[], alphabet: number, lowerAll?: string): Strength {
  // The first 512 symbols are plenty to tell a random secret from a made one, and bound the work.
  const codes = all.slice(0, 512);
  const lower = lowerAll?.slice(0, codes.length);
  const n = codes.length;
  const perSymbol = Math.log2(Math.max(2, alphabet));
  const best: { bits: number; from: number; kind: Kind }[] = [{ bits: 0, from: -1, kind: 'single' }];
  for (let end = 1; end <= n; end += 1) best.push({ bits: Infinity, from: end - 1, kind: 'single' });
  const offer = (from: number, to: number, bits: number, kind: Kind) => {
    const total = best[from]!.bits + bits;
    if (total < best[to]!.bits) best[to] = { bits: total, from, kind };
  };
  for (let start = 0; start < n; start += 1) {
    offer(start, start + 1, perSymbol, 'single');
    // A counting run: each next symbol the previous plus a small constant step (0 is a repeat of one symbol).
    const step = codes[start + 1]! - codes[start]!;
    for (let end = start + 2; end < n; end += 1) {
      if (Math.abs(step) > 4 || codes[end]! - codes[end - 1]! !== step) break;
      offer(start, end + 1, perSymbol + Math.log2(9) + Math.log2(end - start + 1), step === 0 ? 'repeat' : 'sequence');
    }
    // A copy of an earlier part (at least 3 symbols): where it starts and how long it is.
    let longest = 0;
    for (let earlier = 0; earlier < start; earlier += 1) {
      let length = 0;
      while (length < 64 && start + length < n && codes[earlier + length] === codes[start + length]) length += 1;
      longest = Math.max(longest, length);
    }
    for (let take = 3; take <= longest; take += 1) offer(start, start + take, Math.log2(start + 1) + Math.log2(take), 'repeat');
    if (lower) {
      for (const word of wordsAt(lower, start)) offer(start, start + word.length, Math.log2(COMMON_WORDS.length) + 1, 'word');
    }
  }
  const covered = { words: 0, repeats: 0, sequences: 0 };
  for (let at = n; at > 0; at = best[at]!.from) {
    const step = best[at]!;
    const span = (at - step.from) / Math.max(1, n);
    if (step.kind === 'word') covered.words += span;
    else if (step.kind === 'repeat') covered.repeats += span;
    else if (step.kind === 'sequence') covered.sequences += span;
  }
  return { bits: best[n]!.bits, covered };
}

const byFirst = new Map<string, string[]>();
for (const word of COMMON_WORDS) {
  const list = byFirst.get(word[0]!) ?? [];
  list.push(word);
  byFirst.set(word[0]!, list);
}

function wordsAt(lower: string, start: number): string[] {
  return (byFirst.get(lower[start]!) ?? []).filter((word) => lower.startsWith(word, start));
}

/** The size of the alphabet the characters of `text` are drawn from: the classes it uses. */
function alphabetSize(text: string): number {
  let size = 0;
  if (/[a-z]/.test(text)) size += 26;
  if (/[A-Z]/.test(text)) size += 26;
  if (/[0-9]/.test(text)) size += 10;
  if (/[^A-Za-z0-9]/.test(text)) size += 33;
  return size;
}

/**
 * Text made of pronounceable, word-like pieces (`correcthorsebatterystaple…`, `Mango-Tulip-Seven-…`)
 * that no dictionary of ours knows: letters in runs that alternate vowels and consonants as language
 * does, covering most of the secret. Random Base64 and hex almost never do: case changes and digits
 * cut their letter runs short, and random letters pile up consonants.
 */
export function readsAsWords(text: string): boolean {
  // Pieces of five letters or more: shorter ones turn up by chance in random Base64 often enough to matter.
  const pieces = text.split(/[^A-Za-z]+|(?<=[a-z])(?=[A-Z])/).filter((piece) => piece.length >= 5);
  let covered = 0;
  let count = 0;
  for (const piece of pieces) {
    if (!wordLike(piece)) continue;
    covered += piece.length;
    count += 1;
  }
  return count >= 2 && covered / text.length >= 0.6;
}

function wordLike(piece: string): boolean {
  // One case, or a capital then small letters, as words are written.
  if (!/^[A-Z]?[a-z]+$/.test(piece) && !/^[A-Z]+$/.test(piece)) return false;
  const lower = piece.toLowerCase();
  const vowels = (lower.match(/[aeiouy]/g) ?? []).length;
  if (vowels / lower.length < 0.25 || vowels / lower.length > 0.65) return false;
  return !/[^aeiouy]{4}/.test(lower) && !/[aeiouy]{3}/.test(lower);
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
