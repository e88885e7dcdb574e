import { clipAtWord } from '../clip-text';

/**
 * A note as the outbox composes it (a title and short lines), rendered for each system: plain text for
 * a ServiceNow work note, Atlassian Document Format for a Jira comment, JSON for a generic callback.
 */
export interface Note {
  title: string;
  lines: string[];
  /** Identifies the event; printed last so that a note whose answer was lost can be found again. */
  marker: string;
}

export function noteText(note: Note): string {
  return [oneLine(note.title), ...note.lines.map((line) => `- ${oneLine(line)}`), `Ref: ${note.marker}`].join('\n');
}

/**
 * Every line of a note is one line: text from a ticket (a reporter's display name) must not start a
 * line of its own that reads like the app's ("- Temporary Access Pass: issued"). The intake strips C0
 * controls already; Unicode line and paragraph separators go here too.
 */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]+/g, ' ');
}

type AdfText = { type: 'text'; text: string; marks?: { type: 'strong' | 'code' }[] };
type AdfParagraph = { type: 'paragraph'; content: AdfText[] };
type AdfBlock = AdfParagraph | { type: 'bulletList'; content: { type: 'listItem'; content: AdfParagraph[] }[] };
export interface AdfDocument {
  type: 'doc';
  version: 1;
  content: AdfBlock[];
}

/** ADF (developer.atlassian.com, Atlassian Document Format): a bold title, a bullet list, the reference in code. */
export function noteAdf(note: Note): AdfDocument {
  const paragraph = (text: string, mark?: 'strong' | 'code'): AdfParagraph => ({
    type: 'paragraph',
    content: [{ type: 'text', text: oneLine(text), ...(mark ? { marks: [{ type: mark }] } : {}) }],
  });
  const content: AdfBlock[] = [paragraph(note.title, 'strong')];
  if (note.lines.length > 0) {
    content.push({ type: 'bulletList', content: note.lines.map((line) => ({ type: 'listItem', content: [paragraph(line)] })) });
  }
  content.push({ type: 'paragraph', content: [{ type: 'text', text: 'Ref: ' }, { type: 'text', text: note.marker, marks: [{ type: 'code' }] }] });
  return { type: 'doc', version: 1, content };
}

/** All text in an ADF document, a line per paragraph (its text nodes joined), for checks and the demo. */
export function adfText(doc: unknown): string {
  const lines: string[] = [];
  const inline = (node: unknown): string => {
    if (typeof node !== 'object' || node === null) return '';
    const { text, content } = node as { text?: unknown; content?: unknown };
    return (typeof text === 'string' ? text : '') + (Array.isArray(content) ? content.map(inline).join('') : '');
  };
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    const { type, text, content } = node as { type?: unknown; text?: unknown; content?: unknown };
    if (type === 'paragraph' || type === 'heading') return void lines.push(inline(node));
    if (typeof text === 'string') lines.push(text);
    if (Array.isArray(content)) content.forEach(walk);
  };
  walk(doc);
  return lines.join('\n');
}

/** Object ids and request ids: their digit runs are not phone numbers. */
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * A dotted run that reads as a version, not a phone: only digits and dots, at least two dots, and either
 * named as one ("app 6.2406.4219", "version 1.2.3") or with a short first part (6.2406.4219). A phone
 * written with dots (425.555.0101) has a three-digit area code first, and is masked.
 */
function isVersion(run: string, before: string): boolean {
  if (!/^\d+(\.\d+){2,}$/.test(run)) return false;
  return /\b(app|version|v|build)\s*$/i.test(before) || run.split('.')[0]!.length <= 2;
}

/** Longest text a note keeps of one reason; longer is cut at a word, visibly. */
export const NOTE_TEXT_MAX = 1500;

/**
 * Detail from outside this code (Graph's method descriptions, reasons) before it goes into a note or a
 * mail: details are masked upstream already; anything still shaped like a phone number is masked here
 * too, but not an app version or an object id, which only look like one.
 */
export function scrub(text: string): string {
  const ids = [...text.matchAll(GUID)].map((match) => [match.index ?? 0, (match.index ?? 0) + match[0].length] as const);
  const masked = text.replace(/\+?\d[\d ().-]{6,}\d/g, (run: string, offset: number) => {
    const digits = run.replace(/\D/g, '');
    // Dates (8 digits) pass; phone numbers (9 or more digits, with or without a country code) do not.
    if (digits.length < 9) return run;
    if (ids.some(([start, end]) => offset < end && offset + run.length > start)) return run;
    if (isVersion(run, text.slice(Math.max(0, offset - 12), offset))) return run;
    let seen = 0;
    return run.replace(/\d/g, (digit) => (++seen > digits.length - 2 ? digit : '*'));
  });
  // Cut at a word, visibly: a reason cut off mid-word must not read as the whole reason.
  return clipAtWord(masked, NOTE_TEXT_MAX);
}
