import { decimalOfNumber } from '../decimal.js';
import type { CandleInterval, CandleRow, TradingRules } from '../exchange/types.js';
import { INTERVAL_MS } from '../exchange/types.js';
import type { MarketView, Quote } from '../strategy/types.js';
import type { CandleColumns } from './candle-loader.js';

/**
 * What a backtest's controller and executors see: the current path point as the quote (bid = ask =
 * mid) and the candles closed so far. The engine advances `now`, the price and the count of closed
 * candles; nothing past that count is reachable, so no strategy can look ahead. Coarser intervals than
 * the resolution (a multiple of it) are built from the closed candles they span.
 */
export class BacktestMarketView implements MarketView {
  now = 0;
  /** Candles (from index 0) whose close time is at or before now. */
  closed = 0;
  private priceNum = Number.NaN;
  private quoteCache: Quote | null = null;
  private readonly stepMs: number;

  constructor(
    private readonly cols: CandleColumns,
    private readonly connector: string,
    private readonly tradingPair: string,
    resolution: CandleInterval,
    private readonly tradingRules: TradingRules | null = null,
  ) {
    this.stepMs = INTERVAL_MS[resolution];
  }

  rules(connector: string, tradingPair: string): TradingRules | null {
    return connector === this.connector && tradingPair === this.tradingPair ? this.tradingRules : null;
  }

  setPrice(price: number): void {
    if (price !== this.priceNum) {
      this.priceNum = price;
      this.quoteCache = null;
    }
  }

  quote(connector: string, tradingPair: string): Quote | null {
    if (connector !== this.connector || tradingPair !== this.tradingPair || Number.isNaN(this.priceNum)) return null;
    if (this.quoteCache === null) {
      const p = decimalOfNumber(this.priceNum);
      this.quoteCache = { bid: p, ask: p, mid: p };
    }
    return this.quoteCache;
  }

  candles(connector: string, tradingPair: string, interval: CandleInterval, limit = 500): readonly CandleRow[] {
    if (connector !== this.connector || tradingPair !== this.tradingPair || limit <= 0) return [];
    const ms = INTERVAL_MS[interval];
    if (ms === this.stepMs) {
      const from = Math.max(0, this.closed - limit);
      const out: CandleRow[] = new Array(this.closed - from);
      for (let i = from; i < this.closed; i++) out[i - from] = this.row(i);
      return out;
    }
    if (ms % this.stepMs !== 0) return [];
    return this.coarse(ms, limit);
  }

  newestClosedInto(connector: string, tradingPair: string, interval: CandleInterval, into: CandleRow): boolean | null {
    if (connector !== this.connector || tradingPair !== this.tradingPair) return null;
    const ms = INTERVAL_MS[interval];
    if (ms !== this.stepMs) {
      if (ms % this.stepMs !== 0) return null;
      // A coarse interval (3m on 1m candles): its newest closed bucket, built into the row, as coarse() builds it.
      return this.bucketInto(ms, this.closed - 1, Math.floor(this.now / ms) * ms, into) !== null;
    }
    if (this.closed <= 0) return false;
    const c = this.cols;
    const i = this.closed - 1;
    into.timestamp = c.time[i]!;
    into.open = c.open[i]!;
    into.high = c.high[i]!;
    into.low = c.low[i]!;
    into.close = c.close[i]!;
    into.volume = c.volume[i]!;
    return true;
  }

  private row(i: number): CandleRow {
    const c = this.cols;
    return { timestamp: c.time[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]! };
  }

  /** The newest `limit` coarse candles whose whole span has closed, built backwards from the closed ones. */
  private coarse(ms: number, limit: number): CandleRow[] {
    const out: CandleRow[] = [];
    // A coarse candle is closed when its own close time is at or before now.
    let bucketEnd = Math.floor(this.now / ms) * ms;
    let i = this.closed - 1;
    while (out.length < limit) {
      const row: CandleRow = { timestamp: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
      const next = this.bucketInto(ms, i, bucketEnd, row);
      if (next === null) break;
      out.push(row);
      i = next;
      bucketEnd = row.timestamp;
    }
    return out.reverse();
  }

  /**
   * Into `row`: the newest coarse candle of `ms` built from the candles at index `i` and before that open
   * before `bucketEnd`. Returns the index left to read from (before the bucket), or null when no candle is left.
   */
  private bucketInto(ms: number, i: number, bucketEnd: number, row: CandleRow): number | null {
    const c = this.cols;
    while (i >= 0 && c.time[i]! >= bucketEnd) i--;
    if (i < 0) return null;
    const start = Math.floor(c.time[i]! / ms) * ms;
    row.timestamp = start;
    row.open = 0;
    row.high = -Infinity;
    row.low = Infinity;
    row.close = c.close[i]!;
    row.volume = 0;
    while (i >= 0 && c.time[i]! >= start) {
      row.open = c.open[i]!;
      if (c.high[i]! > row.high) row.high = c.high[i]!;
      if (c.low[i]! < row.low) row.low = c.low[i]!;
      row.volume += c.volume[i]!;
      i--;
    }
    return i;
  }
}
