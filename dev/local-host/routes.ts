/**
 * Route templates as the Functions host reads them: `resets/{id}`, optional `{id?}`, and constrained
 * `{id:guid}` / `{n:int}` / `{name:alpha}` segments. Literal segments match case-insensitively.
 */
export interface CompiledRoute {
  template: string;
  match(path: string): Record<string, string> | undefined;
}

const constraints: Record<string, RegExp> = {
  int: /^-?\d+$/,
  guid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  alpha: /^[a-z]+$/i,
  bool: /^(true|false)$/i,
};

export function compileRoute(template: string): CompiledRoute {
  const segments = template.replace(/^\/+|\/+$/g, '').split('/').filter(Boolean);
  const pattern = segments.map((segment) => {
    const parameter = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?(\?)?\}$/.exec(segment);
    if (!parameter) return { literal: segment.toLowerCase() };
    const [, catchAll, name, constraint, optional] = parameter;
    return { name: name!, constraint: constraint ? constraints[constraint] : undefined, optional: !!optional, catchAll: !!catchAll };
  });

  return {
    template,
    match(path) {
      const parts = path.replace(/^\/+|\/+$/g, '').split('/').filter(Boolean);
      const params: Record<string, string> = {};
      for (let index = 0; index < pattern.length; index += 1) {
        const expected = pattern[index]!;
        const actual = parts[index];
        if ('literal' in expected) {
          if (actual === undefined || actual.toLowerCase() !== expected.literal) return undefined;
          continue;
        }
        if (expected.catchAll) {
          params[expected.name] = parts.slice(index).map(decodeURIComponent).join('/');
          return params;
        }
        if (actual === undefined) {
          if (expected.optional) continue;
          return undefined;
        }
        const value = decodeURIComponent(actual);
        if (expected.constraint && !expected.constraint.test(value)) return undefined;
        params[expected.name] = value;
      }
      return parts.length <= pattern.length ? params : undefined;
    },
  };
}
