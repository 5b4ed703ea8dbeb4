import { systemClock, type Clock } from '../clock.js';
import type { Connectors } from '../exchange/connectors.js';
import type { CandleCache } from './candle-cache.js';
import type { CandleInterval, CandleRow, OrderBook, PublicTrade, Ticker, TradingRules } from '../exchange/types.js';

/**
 * Market data for every connector through one door, so that caching and shared live feeds have a
 * single place to live. Paper connectors read their exchange's public data.
 */
export class MarketData {
  constructor(
    private readonly connectors: Connectors,
    private readonly cache?: CandleCache,
    private readonly clock: Clock = systemClock,
  ) {}

  async ticker(connector: string, pair: string): Promise<Ticker> {
    return (await this.connectors.get(connector)).fetchTicker(pair);
  }

  async orderBook(connector: string, pair: string, depth: number): Promise<OrderBook> {
    return (await this.connectors.get(connector)).fetchOrderBook(pair, depth);
  }

  async candles(connector: string, pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]> {
    const c = await this.connectors.get(connector);
    // sim computes any range itself; live exchanges go through the cache (paper connectors share their exchange's).
    if (c.info.kind === 'sim' || !this.cache) return c.fetchCandles(pair, interval, opts);
    const now = this.clock.now();
    const source = c.info.name;
    if (opts.since !== undefined) {
      const hit = await this.cache.covered(source, pair, interval, opts.since, opts.until ?? now, opts.limit, now);
      if (hit) return hit;
    }
    const rows = await c.fetchCandles(pair, interval, opts);
    await this.cache.store(source, pair, interval, rows, now);
    return rows;
  }

  /** A market's order rules as its connector lists them; null when it does not list the pair. */
  async rules(connector: string, pair: string): Promise<TradingRules | null> {
    const markets = await (await this.connectors.get(connector)).loadMarkets();
    return markets.find((m) => m.trading_pair === pair)?.rules ?? null;
  }

  async trades(connector: string, pair: string, limit: number): Promise<PublicTrade[]> {
    return (await this.connectors.get(connector)).fetchTrades(pair, limit);
  }
}
