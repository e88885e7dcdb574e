/**
 * What a reset and an idle hour cost in storage transactions, counted by the bench, and in money at list
 * prices. Azure bills Table and Queue storage per 10,000 transactions (Standard general-purpose v2, which
 * infra/modules/storage.bicep deploys as Standard_LRS); each request the app sends is one transaction
 * here, an entity-group transaction (`$batch`) included.
 *
 * The built-in prices are the Azure Retail Prices API's (prices.azure.com/api/retail/prices, USD,
 * skuName 'Standard LRS'): productName 'Tables', every operation meter $0.00036 per 10,000; productName
 * 'Queues v2', 'LRS Class 1 Operations' and 'Class 2 Operations' $0.004 per 10,000 each (a message's put
 * is class 1, its receive and delete class 2; both cost the same, so the bench does not tell them apart).
 * They could not be read live where this was written (no network): docs/benchmarks.md says where they
 * come from and when. Prices differ by region and change; give your own with
 *   BENCH_PRICE_TABLE_PER_10K_USD, BENCH_PRICE_QUEUE_PER_10K_USD, BENCH_PRICES_AS_OF
 */
export interface TransactionPrices {
  tablePer10k: number;
  queuePer10k: number;
  /** When the prices were read, and from where: printed with every figure priced with them. */
  asOf: string;
}

export const LIST_PRICES: TransactionPrices = {
  tablePer10k: 0.00036,
  queuePer10k: 0.004,
  asOf: 'Azure Retail Prices API, Standard LRS, USD, 2026-09',
};

/** A price given in the environment, or undefined when it is not given; a price that is not a number ≥ 0 is refused. */
function priceFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name]?.trim();
  if (!text) return undefined;
  const price = Number(text);
  if (!Number.isFinite(price) || price < 0) throw new Error(`${name} must be a price in USD per 10,000 transactions (a number, 0 or more); it is "${text}"`);
  return price;
}

/** The list prices, or the ones given in the environment (both or neither, with their date). */
export function pricesFromEnv(env: NodeJS.ProcessEnv = process.env): TransactionPrices {
  const table = priceFromEnv(env, 'BENCH_PRICE_TABLE_PER_10K_USD');
  const queue = priceFromEnv(env, 'BENCH_PRICE_QUEUE_PER_10K_USD');
  if (table === undefined && queue === undefined) return LIST_PRICES;
  if (table === undefined || queue === undefined) {
    throw new Error('give both BENCH_PRICE_TABLE_PER_10K_USD and BENCH_PRICE_QUEUE_PER_10K_USD (USD per 10,000 transactions), or neither for the built-in list prices');
  }
  return { tablePer10k: table, queuePer10k: queue, asOf: env.BENCH_PRICES_AS_OF?.trim() || 'prices given, date not given' };
}

export interface StorageCost {
  /** Transactions of one reset: the table's, and the queue's (its message's put, receive, delete). */
  perReset: { table: number; queue: number };
  /** Transactions of an hour with nothing to do (polling and timers), per instance. */
  idleHour: { table: number; queue: number };
  /** USD. */
  thousandResetsUsd: number;
  idleHourUsd: number;
}

export function storageCost(perReset: { table: number; queue: number }, idleHour: { table: number; queue: number }, prices: TransactionPrices): StorageCost {
  const usd = (counts: { table: number; queue: number }, times: number) => ((counts.table * prices.tablePer10k + counts.queue * prices.queuePer10k) * times) / 10_000;
  return { perReset, idleHour, thousandResetsUsd: usd(perReset, 1000), idleHourUsd: usd(idleHour, 1) };
}
