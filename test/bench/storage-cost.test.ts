import { describe, expect, it } from 'vitest';
import { pricesFromEnv, storageCost } from '../../dev/bench/storage-cost';
import { queueRequestKind } from '../../dev/bench/storage-requests';

describe('what the bench counts and prices as storage transactions', () => {
  it('tells a receive from a message operation and from everything else', () => {
    expect(queueRequestKind('GET', '/devstoreaccount1/mfa-resets/messages?numofmessages=16&visibilitytimeout=60&timeout=30')).toBe('poll');
    expect(queueRequestKind('GET', '/devstoreaccount1/mfa-resets/messages?numofmessages=32&peekonly=true')).toBe('other');
    expect(queueRequestKind('POST', '/devstoreaccount1/mfa-resets/messages?timeout=30')).toBe('message');
    expect(queueRequestKind('DELETE', '/devstoreaccount1/mfa-resets/messages/4cc3?popreceipt=abc')).toBe('message');
    expect(queueRequestKind('PUT', '/devstoreaccount1/mfa-resets/messages/4cc3?popreceipt=abc&visibilitytimeout=30')).toBe('message');
    expect(queueRequestKind('PUT', '/devstoreaccount1/mfa-resets?timeout=30')).toBe('other');
    expect(queueRequestKind('GET', '/devstoreaccount1/mfa-resets?comp=metadata')).toBe('other');
  });

  it('prices only with prices given, per 10,000 transactions', () => {
    expect(pricesFromEnv({})).toBeUndefined();
    expect(pricesFromEnv({ BENCH_PRICE_TABLE_PER_10K_USD: 'x', BENCH_PRICE_QUEUE_PER_10K_USD: '0.004' })).toBeUndefined();
    const unpriced = storageCost({ table: 12, queue: 3 }, { table: 720, queue: 7200 }, undefined);
    expect(unpriced.thousandResetsUsd).toBeUndefined();
    const prices = pricesFromEnv({ BENCH_PRICE_TABLE_PER_10K_USD: '0.01', BENCH_PRICE_QUEUE_PER_10K_USD: '0.004', BENCH_PRICES_AS_OF: '2026-12-07' })!;
    expect(prices.asOf).toBe('2026-12-07');
    const cost = storageCost({ table: 12, queue: 3 }, { table: 720, queue: 7200 }, prices);
    // 1,000 resets: 12,000 table and 3,000 queue transactions.
    expect(cost.thousandResetsUsd).toBeCloseTo(1.2 * 0.01 + 0.3 * 0.004, 10);
    expect(cost.idleHourUsd).toBeCloseTo(0.072 * 0.01 + 0.72 * 0.004, 10);
  });
});
