import { and, asc, eq, gte, lte } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { candles } from '../db/schema/index.js';
import { INTERVAL_MS, type CandleInterval, type CandleRow } from '../exchange/types.js';

/**
 * Closed exchange candles in Postgres. A request whose whole range is already stored is answered from
 * here with no network; otherwise the exchange answers and its closed candles are stored. Prices are
 * market data, not balances, so they are kept as double precision like the exchange sends them.
 */
export class CandleCache {
  constructor(private readonly db: Db) {}

  /** The stored candles of a forward range, or null unless every closed candle of it is stored. */
  async covered(connector: string, pair: string, interval: CandleInterval, since: number, until: number, limit: number, now: number): Promise<CandleRow[] | null> {
    const step = INTERVAL_MS[interval];
    const first = Math.ceil(since / step) * step;
    const upto = Math.min(until, now);
    if (first > upto) return null;
    const want = Math.min(limit, Math.floor((upto - first) / step) + 1);
    const end = first + (want - 1) * step;
    // A range that reaches the candle still in progress needs the exchange.
    if (end + step > now) return null;
    const rows = await this.db
      .select()
      .from(candles)
      .where(and(eq(candles.connectorName, connector), eq(candles.tradingPair, pair), eq(candles.interval, interval), gte(candles.openTime, new Date(first)), lte(candles.openTime, new Date(end))))
      .orderBy(asc(candles.openTime));
    if (rows.length !== want) return null;
    return rows.map((r) => ({ timestamp: r.openTime.getTime(), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }));
  }

  async store(connector: string, pair: string, interval: CandleInterval, rows: CandleRow[], now: number): Promise<void> {
    const step = INTERVAL_MS[interval];
    const closed = rows.filter((r) => r.timestamp + step <= now);
    if (closed.length === 0) return;
    await this.db
      .insert(candles)
      .values(closed.map((r) => ({ connectorName: connector, tradingPair: pair, interval, openTime: new Date(r.timestamp), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume })))
      .onConflictDoNothing();
  }
}
