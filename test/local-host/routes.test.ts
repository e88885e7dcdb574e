import { describe, expect, it } from 'vitest';
import { compileRoute } from '../../dev/local-host/routes';

describe('route templates', () => {
  it('matches literals case-insensitively and extracts parameters', () => {
    const route = compileRoute('resets/{id}');
    expect(route.match('/resets/abc-123')).toEqual({ id: 'abc-123' });
    expect(route.match('/Resets/XYZ')).toEqual({ id: 'XYZ' });
    expect(route.match('/resets')).toBeUndefined();
    expect(route.match('/resets/a/b')).toBeUndefined();
  });

  it('decodes percent-encoded parameter values', () => {
    expect(compileRoute('users/{upn}').match('/users/guest_x.com%23EXT%23%40contoso.com')).toEqual({
      upn: 'guest_x.com#EXT#@contoso.com',
    });
  });

  it('supports optional parameters and constraints', () => {
    const optional = compileRoute('bulk/{id?}');
    expect(optional.match('/bulk')).toEqual({});
    expect(optional.match('/bulk/7')).toEqual({ id: '7' });

    const guid = compileRoute('items/{id:guid}');
    expect(guid.match('/items/3179e48a-750b-4051-897c-87b9720928f7')).toEqual({ id: '3179e48a-750b-4051-897c-87b9720928f7' });
    expect(guid.match('/items/not-a-guid')).toBeUndefined();

    const int = compileRoute('pages/{n:int}');
    expect(int.match('/pages/12')).toEqual({ n: '12' });
    expect(int.match('/pages/x')).toBeUndefined();
  });

  it('keeps literal routes apart from parameter routes', () => {
    expect(compileRoute('resets/jira').match('/resets/jira')).toEqual({});
    expect(compileRoute('resets/jira').match('/resets/servicenow')).toBeUndefined();
  });
});
