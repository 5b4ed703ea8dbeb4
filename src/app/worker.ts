import { availableParallelism } from 'node:os';
import { systemClock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { openDatabase, redactUrl } from '../core/db/client.js';
import { Connectors } from '../core/exchange/connectors.js';
import { SimExchange } from '../core/exchange/sim/sim-exchange.js';
import type { Logger } from '../core/logger.js';
import { CandleCache } from '../core/market-data/candle-cache.js';
import { MarketData } from '../core/market-data/market-data.js';
import { TrialQueue } from '../core/backtesting/trial-queue.js';
import { TrialStore } from '../core/backtesting/trial-store.js';
import { TrialWorker } from '../core/backtesting/trial-worker.js';
import { StrategyPool } from '../core/backtesting/worker-pool.js';
import { SHIPPED_CONTROLLERS } from '../core/strategy/controllers/index.js';
import { SHIPPED_SCRIPTS } from '../core/strategy/scripts/index.js';
import { StrategyCatalog } from '../core/strategy-catalog/catalog.js';
import { Modules } from './modules.js';

export interface RunningWorker {
  threads: number;
  /** Stops taking batches, releases the ones in hand to the queue, and closes the database. */
  stop(): Promise<void>;
}

/**
 * `tradedesk worker`: a process that takes optimization batches from the Postgres job queue of the
 * database at DATABASE_URL and runs them on every core of this machine. It serves no port and holds no
 * exchange secret: sim candles it computes, exchange candles come through the candle cache (or the
 * exchange's public API when the cache lacks them).
 */
export async function startWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  if (!config.databaseUrl) throw new Error('the worker needs DATABASE_URL');
  const clock = systemClock;
  const modules = new Modules(logger);
  try {
    // A worker joins a server's database: it checks the tables are this version's and never changes them.
    const database = await openDatabase({ url: config.databaseUrl, logger, migrate: false });
    modules.add('database', { stop: () => database.close() });
    const strategies = modules.add('strategy catalog', new StrategyCatalog({ controllers: SHIPPED_CONTROLLERS, scripts: SHIPPED_SCRIPTS, dir: config.strategiesDir, logger }));
    const threads = availableParallelism();
    const pool = modules.add('strategy pool', new StrategyPool({ maxThreads: threads, idleTimeoutMs: 60_000 }));
    const queue = modules.add('optimization queue', new TrialQueue(config.databaseUrl, logger, { batchTimeoutSeconds: config.optimizationBatchTimeoutSeconds }));
    const cache = new CandleCache(database.db);
    const bySeed = new Map<string, MarketData>();
    // One sim per seed the coordinators use, so that this worker computes the very candles they read.
    const candles = (seed: string) => {
      let m = bySeed.get(seed);
      if (!m) bySeed.set(seed, (m = new MarketData(new Connectors(undefined, new SimExchange(seed, clock), clock), cache, clock)));
      return m;
    };
    modules.add('optimization worker', new TrialWorker({ queue, store: new TrialStore(database.db), pool, candles, controllers: strategies, clock, logger }));
    await queue.connect();
    await modules.start();
    logger.info('worker taking optimization batches', { database: redactUrl(config.databaseUrl), threads });
    return { threads, stop: () => modules.stop() };
  } catch (err) {
    await modules.stop();
    throw err;
  }
}
