import { describe, expect, it } from 'vitest';
import { itemsCsv } from '../../shared/bulk/bulk-status';
import { clipAtWord } from '../../shared/clip-text';

describe('clipAtWord', () => {
  it('keeps short text, and cuts long text at a word boundary with an ellipsis', () => {
    expect(clipAtWord('the user is protected', 500)).toBe('the user is protected');
    const reason = `${'word '.repeat(99)}protected-group-membership refused`;
    const clipped = clipAtWord(reason, 500);
    expect(clipped.length).toBeLessThanOrEqual(500);
    expect(clipped.endsWith('…')).toBe(true);
    // Every word kept is whole: the text before the ellipsis is a prefix ending at a word of the original.
    const kept = clipped.slice(0, -1);
    expect(reason.startsWith(kept)).toBe(true);
    expect(reason[kept.length]).toMatch(/\s/);
  });

  it('cuts one overlong word where it must', () => {
    expect(clipAtWord('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('the CSV export carries the clipped reason whole-worded', () => {
    const reason = clipAtWord(`Graph answered 403: ${'Authorization_RequestDenied insufficient privileges '.repeat(20)}`, 500);
    const csv = itemsCsv([{ row: 2, userPrincipalName: 'adele.vance@contoso.com', status: 'failed', reason } as never]);
    expect(csv).toMatch(/privileges…|RequestDenied…|insufficient…/);
  });
});
