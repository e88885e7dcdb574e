import { describe, expect, it } from 'vitest';
import { objectLiteralKeys, params, variableObjectKeys } from './bicep-text';

describe('bicep-text: reading declarations without a Bicep compiler', () => {
  it('reads top-level keys and skips nested objects, strings, interpolations and comments', () => {
    const text = [
      'var appSettings = {',
      "  PLAIN: 'x'",
      "  INTERPOLATED: 'ClientId=${clientId};Authorization=AAD'",
      "  NESTED_QUOTES: '${empty(a) ? '{' : 'b'}'",
      "  'QUOTED_KEY': 1",
      '  // COMMENTED_OUT: 2',
      '  OBJECT: {',
      '    INNER: true',
      '  }',
      "  ARRAY: [ { DEEP: 'z' } ]",
      "  CALL: union({ A: 1 }, { B: '}' })",
      "  MULTILINE: '''",
      '  NOT_A_KEY: 3',
      "  '''",
      '  /* BLOCK: 4 */ AFTER_BLOCK: 5',
      '}',
      'var other = { IGNORED: 1 }',
    ].join('\n');
    expect(variableObjectKeys(text, 'appSettings')).toEqual([
      'PLAIN',
      'INTERPOLATED',
      'NESTED_QUOTES',
      'QUOTED_KEY',
      'OBJECT',
      'ARRAY',
      'CALL',
      'MULTILINE',
      'AFTER_BLOCK',
    ]);
  });

  it('reads comma-separated keys on one line', () => {
    expect(objectLiteralKeys("{ a: 1, b: 'x', c: { d: 2 } }", 0)).toEqual(['a', 'b', 'c']);
  });

  it('refuses computed keys and unbalanced text instead of guessing', () => {
    expect(() => objectLiteralKeys("{\n  '${name}': 1\n}", 0)).toThrow(/computed/);
    expect(() => objectLiteralKeys("{\n  A: 'open\n", 0)).toThrow();
    expect(() => variableObjectKeys('var x = 1', 'appSettings')).toThrow(/no "var appSettings/);
  });

  it('reads params with their decorators, multi-line ones included', () => {
    const text = [
      "@description('One.')",
      '@allowed([',
      "  'a'",
      "  'b'",
      '])',
      "param first string = 'a'",
      '',
      'param second int',
      "@description('Third (with parentheses).')",
      '@minValue(1)',
      'param third int = 3',
    ].join('\n');
    expect(params(text)).toEqual([
      { name: 'first', type: 'string', hasDefault: true, decorators: ["@description('One.')", "@allowed([\n  'a'\n  'b'\n])"] },
      { name: 'second', type: 'int', hasDefault: false, decorators: [] },
      { name: 'third', type: 'int', hasDefault: true, decorators: ["@description('Third (with parentheses).')", '@minValue(1)'] },
    ]);
  });
});
