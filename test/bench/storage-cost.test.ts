import { describe, expect, it } from 'vitest';
import { LIST_PRICES, pricesFromEnv, storageCost } from '../../dev/bench/storage-cost';
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

  it('prices at the Standard LRS list prices unless both prices are given', () => {
    expect(pricesFromEnv({})).toEqual(LIST_PRICES);
    expect(LIST_PRICES).toMatchObject({ tablePer10k: 0.00036, queuePer10k: 0.004 });
    expect(LIST_PRICES.asOf).toMatch(/Retail Prices API.*Standard LRS.*\d{4}-\d{2}/);
    // A price given wrong, or only one of the two, stops the bench instead of pricing with a guess.
    expect(() => pricesFromEnv({ BENCH_PRICE_TABLE_PER_10K_USD: 'x', BENCH_PRICE_QUEUE_PER_10K_USD: '0.004' })).toThrow(/BENCH_PRICE_TABLE_PER_10K_USD must be a price/);
    expect(() => pricesFromEnv({ BENCH_PRICE_TABLE_PER_10K_USD: '-1', BENCH_PRICE_QUEUE_PER_10K_USD: '0.004' })).toThrow(/must be a price/);
    expect(() => pricesFromEnv({ BENCH_PRICE_QUEUE_PER_10K_USD: '0.004' })).toThrow(/give both/);
    const given = pricesFromEnv({ BENCH_PRICE_TABLE_PER_10K_USD: '0.01', BENCH_PRICE_QUEUE_PER_10K_USD: '0.004', BENCH_PRICES_AS_OF: '2026-12-07' });
    expect(given).toEqual({ tablePer10k: 0.01, queuePer10k: 0.004, asOf: '2026-12-07' });
    expect(pricesFromEnv({ BENCH_PRICE_TABLE_PER_10K_USD: '0', BENCH_PRICE_QUEUE_PER_10K_USD: '0' }).asOf).toMatch(/date not given/);
  });

  it('prices per 10,000 transactions', () => {
    const cost = storageCost({ table: 12, queue: 3 }, { table: 720, queue: 7200 }, { tablePer10k: 0.01, queuePer10k: 0.004, asOf: 'test' });
    // 1,000 resets: 12,000 table and 3,000 queue transactions.
    expect(cost.thousandResetsUsd).toBeCloseTo(1.2 * 0.01 + 0.3 * 0.004, 10);
    expect(cost.idleHourUsd).toBeCloseTo(0.072 * 0.01 + 0.72 * 0.004, 10);
    // At list prices: 1,000 resets of 12 table and 3 queue transactions cost 0.04 cents plus 0.12 cents.
    expect(storageCost({ table: 12, queue: 3 }, { table: 0, queue: 0 }, LIST_PRICES).thousandResetsUsd).toBeCloseTo(0.000432 + 0.0012, 10);
  });
});
