import { describe, expect, it } from 'vitest';
import { budgetOverrun, doubleWrites } from '../../dev/bench/scale-figures';

const user = '/users/8f3c2a10-0000-4000-8000-000000000001';
const write = (method: string, url: string, status: number) => ({ method, url, status, write: true });

describe('the scale phase figures', () => {
  it('counts a method written twice only when Graph carried out both writes', () => {
    const phone = `${user}/authentication/phoneMethods/3179e48a-750b-4051-897c-87b9720928f7`;
    const app = `${user}/authentication/microsoftAuthenticatorMethods/abc`;
    const token = `${user}/authentication/hardwareOathMethods/tok`;
    const log = [
      write('DELETE', phone, 429), // refused: not carried out
      write('DELETE', phone, 204),
      write('DELETE', phone, 404), // a resend that found it gone: changed nothing
      write('DELETE', app, 204),
      write('DELETE', `${app}?x=1`, 204), // the same method again
      write('POST', `${token}/deactivate`, 204),
      write('POST', `${token}/deactivate`, 204),
      write('POST', `${user}/revokeSignInSessions`, 204), // sessions, not a method
      write('POST', `${user}/revokeSignInSessions`, 204),
      { method: 'GET', url: phone, status: 200, write: false },
    ];
    const counted = doubleWrites(log);
    expect(counted.count).toBe(2);
    expect(counted.examples.join(' ')).toContain('microsoftAuthenticatorMethods/abc x2');
    expect(counted.examples.join(' ')).toContain('hardwareOathMethods/tok x2');
    expect(doubleWrites(log.slice(0, 4)).count).toBe(0);
  });

  it('finds the busiest 150 s window and how far it went over the budget', () => {
    // 15/s is 2,250 writes per 150 s. 2,250 spread over 150 s, then 100 more in the next second.
    const steady = Array.from({ length: 2250 }, (_, i) => i * (150_000 / 2250));
    expect(budgetOverrun(steady, 15)).toEqual({ share: 0, busiestWindow: 2250 });
    const burst = [...steady, ...Array.from({ length: 100 }, (_, i) => 150_000 + i * 10)];
    const over = budgetOverrun(burst, 15);
    // The window from 1 s on holds the steady writes from the 16th (2,235) and the whole burst.
    expect(over.busiestWindow).toBe(2235 + 100);
    expect(over.share).toBeCloseTo(over.busiestWindow / 2250 - 1, 6);
    expect(budgetOverrun([], 15)).toEqual({ share: 0, busiestWindow: 0 });
  });
});
