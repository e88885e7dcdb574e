import { IntakeRefusal } from './answer';

/**
 * The JSON object of a signed body. `JSON.parse` lets the last of two equal keys win, while other
 * readers (a proxy, a log pipeline, a person reading the ticket system's log) may take the first: the
 * same signed bytes would then say two things (`{"target": A, …, "target": B}`). A body that names a
 * key twice in any object is refused (400 `duplicate_key`, naming it), as is anything that is not a
 * UTF-8 JSON object.
 */
export function parseSignedJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new IntakeRefusal(400, 'invalid_json', 'the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message.slice(0, 200)}` : '';
    throw new IntakeRefusal(400, 'invalid_json', `the body is not valid JSON${detail}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IntakeRefusal(400, 'invalid_request', 'the body must be a JSON object', [{ path: '(body)', message: 'must be a JSON object' }]);
  }
  const duplicate = duplicateKeyOf(text);
  if (duplicate !== undefined) {
    throw new IntakeRefusal(
      400,
      'duplicate_key',
      `the body names ${duplicate} more than once; a signed body must say each field once (readers that keep the first and the last value would see different requests)`,
      [{ path: duplicate, message: 'appears more than once' }],
    );
  }
  return value as Record<string, unknown>;
}

interface Frame {
  /** Present for an object: the keys seen so far (decoded, so "a" and "\u0061" are one key). */
  keys?: Set<string>;
  path: string;
  expectKey: boolean;
  lastKey?: string;
  index: number;
}

/** The path of the first key repeated within one object of valid JSON text, or undefined. */
export function duplicateKeyOf(text: string): string | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i += 1; i < text.length && text[i] !== '"'; i += 1) if (text[i] === '\\') i += 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (top.keys.has(key)) return pathOf(top.path, key);
        top.keys.add(key);
        top.expectKey = false;
        top.lastKey = key;
      }
    } else if (c === '{' || c === '[') {
      const parent = stack[stack.length - 1];
      const path = !parent ? '' : parent.keys ? pathOf(parent.path, parent.lastKey ?? '') : `${parent.path}[${parent.index}]`;
      stack.push(c === '{' ? { keys: new Set(), path, expectKey: true, index: 0 } : { path, expectKey: false, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index += 1;
    }
  }
  return undefined;
}

function pathOf(parent: string, key: string): string {
  const shown = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key.slice(0, 64));
  return parent ? `${parent}.${shown}` : shown;
}
