import type { Connectors } from '../exchange/connectors.js';
import type { CandleInterval, CandleRow, OrderBook, PublicTrade, Ticker } from '../exchange/types.js';

/**
 * Market data for every connector through one door, so that caching and shared live feeds have a
 * single place to live. Paper connectors read their exchange's public data.
 */
export class MarketData {
  constructor(private readonly connectors: Connectors) {}

  async ticker(connector: string, pair: string): Promise<Ticker> {
    return (await this.connectors.get(connector)).fetchTicker(pair);
  }

  async orderBook(connector: string, pair: string, depth: number): Promise<OrderBook> {
    return (await this.connectors.get(connector)).fetchOrderBook(pair, depth);
  }

  async candles(connector: string, pair: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]> {
    return (await this.connectors.get(connector)).fetchCandles(pair, interval, opts);
  }

  async trades(connector: string, pair: string, limit: number): Promise<PublicTrade[]> {
    return (await this.connectors.get(connector)).fetchTrades(pair, limit);
  }
}
