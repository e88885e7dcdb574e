/**
 * Just enough of Bicep's syntax to read declarations out of infra/*.bicep without a Bicep compiler:
 * comments, single-quoted strings with ${...} interpolation (which may hold strings again), multi-line
 * '''strings''', and nested {}, [] and ().
 */

/** Index just past the string that starts at `start` (a quote). */
function skipString(text: string, start: number): number {
  if (text.startsWith("'''", start)) {
    const end = text.indexOf("'''", start + 3);
    if (end < 0) throw new Error(`unterminated ''' string at ${start}`);
    return end + 3;
  }
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') {
      i += 2;
    } else if (ch === "'") {
      return i + 1;
    } else if (ch === '$' && text[i + 1] === '{') {
      i = skipExpression(text, i + 2, '}');
    } else {
      i += 1;
    }
  }
  throw new Error(`unterminated string at ${start}`);
}

/** Index just past the comment at `start`, or `start` when there is none. */
function skipComment(text: string, start: number): number {
  if (text.startsWith('//', start)) {
    const end = text.indexOf('\n', start);
    return end < 0 ? text.length : end;
  }
  if (text.startsWith('/*', start)) {
    const end = text.indexOf('*/', start + 2);
    if (end < 0) throw new Error(`unterminated comment at ${start}`);
    return end + 2;
  }
  return start;
}

const closers: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

/** Index just past `closer`, scanning an expression from `start` that may nest brackets and strings. */
function skipExpression(text: string, start: number, closer: string): number {
  let i = start;
  while (i < text.length) {
    const afterComment = skipComment(text, i);
    if (afterComment !== i) {
      i = afterComment;
      continue;
    }
    const ch = text[i];
    if (ch === "'") {
      i = skipString(text, i);
    } else if (ch in closers) {
      i = skipExpression(text, i + 1, closers[ch]);
    } else if (ch === closer) {
      return i + 1;
    } else if (ch === '}' || ch === ']' || ch === ')') {
      throw new Error(`unbalanced "${ch}" at ${i}`);
    } else {
      i += 1;
    }
  }
  throw new Error(`missing "${closer}" for the expression at ${start}`);
}

/**
 * The top-level property names of the object literal whose "{" is at `open`. Properties are
 * `name: value` or `'name': value`, one per line or separated by commas.
 */
export function objectLiteralKeys(text: string, open: number): string[] {
  if (text[open] !== '{') throw new Error(`no "{" at ${open}`);
  const keys: string[] = [];
  let i = open + 1;
  let expectKey = true;
  while (i < text.length) {
    const afterComment = skipComment(text, i);
    if (afterComment !== i) {
      i = afterComment;
      continue;
    }
    const ch = text[i];
    if (ch === '}') return keys;
    if (ch === '\n' || ch === ',') {
      expectKey = true;
      i += 1;
      continue;
    }
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (expectKey) {
      let name: string;
      let end: number;
      if (ch === "'") {
        end = skipString(text, i);
        name = text.slice(i + 1, end - 1);
        if (name.includes('${')) throw new Error(`computed property name '${name}' cannot be checked`);
      } else {
        const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
        if (!match) throw new Error(`expected a property name at ${i}: ${text.slice(i, i + 40)}`);
        name = match[0];
        end = i + name.length;
      }
      const colon = /^[ \t]*:/.exec(text.slice(end));
      if (!colon) throw new Error(`expected ":" after property "${name}"`);
      keys.push(name);
      i = end + colon[0].length;
      expectKey = false;
      continue;
    }
    // Inside a value: skip nested structures and strings so that their contents are not read as keys.
    if (ch === "'") i = skipString(text, i);
    else if (ch in closers) i = skipExpression(text, i + 1, closers[ch]);
    else i += 1;
  }
  throw new Error(`missing "}" for the object at ${open}`);
}

/** The keys of the object literal assigned to `var <name> = {`. */
export function variableObjectKeys(text: string, name: string): string[] {
  const declaration = new RegExp(`^var\\s+${name}\\s*=\\s*\\{`, 'm').exec(text);
  if (!declaration) throw new Error(`no "var ${name} = {" found`);
  return objectLiteralKeys(text, declaration.index + declaration[0].length - 1);
}

export interface BicepParam {
  name: string;
  type: string;
  hasDefault: boolean;
  decorators: string[];
}

/** Top-level `param` declarations with the decorators written directly above them. */
export function params(text: string): BicepParam[] {
  const lines = text.split('\n');
  const found: BicepParam[] = [];
  let decorators: string[] = [];
  let pending = '';
  let depth = 0;
  for (const line of lines) {
    const trimmed = line.trim();
    if (pending) {
      // Continuation of a multi-line decorator such as @allowed([ ... ]).
      pending += `\n${line}`;
      depth += count(trimmed, '([') - count(trimmed, ')]');
      if (depth <= 0) {
        decorators.push(pending.trim());
        pending = '';
      }
      continue;
    }
    if (trimmed.startsWith('@')) {
      const open = count(trimmed, '([') - count(trimmed, ')]');
      if (open > 0) {
        pending = trimmed;
        depth = open;
      } else {
        decorators.push(trimmed);
      }
      continue;
    }
    const match = /^param\s+([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z_][A-Za-z0-9_.]*)(\s*=)?/.exec(line);
    if (match) {
      found.push({ name: match[1], type: match[2], hasDefault: Boolean(match[3]), decorators });
    }
    if (trimmed !== '' && !trimmed.startsWith('//')) decorators = [];
  }
  return found;
}

function count(text: string, characters: string): number {
  let n = 0;
  for (const ch of text) if (characters.includes(ch)) n += 1;
  return n;
}
