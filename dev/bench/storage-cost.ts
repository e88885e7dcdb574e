/**
 * What a reset and an idle hour cost in storage transactions, counted by the bench, and in money when
 * transaction prices are given. Azure bills Table and Queue storage per 10,000 transactions (Standard
 * general-purpose v2); each request the app sends is one transaction here, an entity-group transaction
 * (`$batch`) included.
 *
 * The prices are not built in: they change, differ by region, and the price pages could not be read
 * where this was written. Give them as list prices in USD per 10,000 transactions, with their date:
 *   BENCH_PRICE_TABLE_PER_10K_USD, BENCH_PRICE_QUEUE_PER_10K_USD, BENCH_PRICES_AS_OF
 */
export interface TransactionPrices {
  tablePer10k: number;
  queuePer10k: number;
  asOf: string;
}

export function pricesFromEnv(env: NodeJS.ProcessEnv = process.env): TransactionPrices | undefined {
  const table = Number(env.BENCH_PRICE_TABLE_PER_10K_USD);
  const queue = Number(env.BENCH_PRICE_QUEUE_PER_10K_USD);
  if (!env.BENCH_PRICE_TABLE_PER_10K_USD || !env.BENCH_PRICE_QUEUE_PER_10K_USD || !(table >= 0) || !(queue >= 0)) return undefined;
  return { tablePer10k: table, queuePer10k: queue, asOf: env.BENCH_PRICES_AS_OF ?? 'date not given' };
}

export interface StorageCost {
  /** Transactions of one reset: the table's, and the queue's (its message's put, receive, delete). */
  perReset: { table: number; queue: number };
  /** Transactions of an hour with nothing to do (polling and timers), per instance. */
  idleHour: { table: number; queue: number };
  /** USD, when prices are given. */
  thousandResetsUsd?: number;
  idleHourUsd?: number;
}

export function storageCost(perReset: { table: number; queue: number }, idleHour: { table: number; queue: number }, prices: TransactionPrices | undefined): StorageCost {
  const usd = (counts: { table: number; queue: number }, times: number) =>
    prices ? ((counts.table * prices.tablePer10k + counts.queue * prices.queuePer10k) * times) / 10_000 : undefined;
  const thousand = usd(perReset, 1000);
  const idle = usd(idleHour, 1);
  return { perReset, idleHour, ...(thousand !== undefined ? { thousandResetsUsd: thousand } : {}), ...(idle !== undefined ? { idleHourUsd: idle } : {}) };
}
