import { Decimal } from '../../src/core/decimal.js';
import type { CandleInterval, CandleRow, TradingRules } from '../../src/core/exchange/types.js';
import { INTERVAL_MS } from '../../src/core/exchange/types.js';
import type { MarketView, Quote } from '../../src/core/strategy/types.js';

/**
 * A MarketView over hand-built candle series, as a backtest shows them: only candles closed by `now`
 * (open time + interval <= now), newest last. The quote of a market is the one set with `setQuote`, else
 * the close of its newest closed candle (bid = ask = mid, as on a backtest's candle path). It counts the
 * rows it hands out, so a test can check a controller reads only what is new.
 */
export class FakeMarketView implements MarketView {
  now = 0;
  /** Candle rows returned by candles() so far. */
  rowsRead = 0;
  private readonly series = new Map<string, { interval: CandleInterval; rows: CandleRow[] }>();
  private readonly quotes = new Map<string, Quote | null>();
  private readonly tradingRules = new Map<string, TradingRules>();

  /** The order rules rules() answers for a market (none set: null, as for a market the view does not know). */
  setRules(connector: string, tradingPair: string, rules: TradingRules): this {
    this.tradingRules.set(`${connector}|${tradingPair}`, rules);
    return this;
  }

  rules(connector: string, tradingPair: string): TradingRules | null {
    return this.tradingRules.get(`${connector}|${tradingPair}`) ?? null;
  }

  addCandles(connector: string, tradingPair: string, interval: CandleInterval, rows: CandleRow[]): this {
    this.series.set(`${connector}|${tradingPair}|${interval}`, { interval, rows });
    return this;
  }

  /** A fixed quote (null: the market has none); `undefined` goes back to the candle close. */
  setQuote(connector: string, tradingPair: string, mid: number | string | null | undefined): this {
    const key = `${connector}|${tradingPair}`;
    if (mid === undefined) this.quotes.delete(key);
    else this.quotes.set(key, mid === null ? null : quoteAt(mid));
    return this;
  }

  quote(connector: string, tradingPair: string): Quote | null {
    const key = `${connector}|${tradingPair}`;
    if (this.quotes.has(key)) return this.quotes.get(key) ?? null;
    for (const [k, s] of this.series) {
      if (!k.startsWith(`${key}|`)) continue;
      const n = this.closedCount(s.interval, s.rows);
      const last = s.rows[n - 1];
      return last === undefined ? null : quoteAt(last.close);
    }
    return null;
  }

  candles(connector: string, tradingPair: string, interval: CandleInterval, limit?: number): readonly CandleRow[] {
    const s = this.series.get(`${connector}|${tradingPair}|${interval}`);
    if (s === undefined) return [];
    const n = this.closedCount(interval, s.rows);
    const out = s.rows.slice(limit === undefined ? 0 : Math.max(0, n - limit), n);
    this.rowsRead += out.length;
    return out;
  }

  private closedCount(interval: CandleInterval, rows: CandleRow[]): number {
    const step = INTERVAL_MS[interval];
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((rows[mid] as CandleRow).timestamp + step <= this.now) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function quoteAt(mid: number | string): Quote {
  const d = new Decimal(mid);
  return { bid: d, ask: d, mid: d };
}

/** Candles one interval apart from `start`, one per close: open at the previous close, high and low `spread` beyond the body. */
export function candlesFromCloses(closes: readonly number[], interval: CandleInterval, start = 0, spread = 0.5): CandleRow[] {
  const step = INTERVAL_MS[interval];
  return closes.map((close, i) => {
    const open = i === 0 ? close : (closes[i - 1] as number);
    return { timestamp: start + i * step, open, high: Math.max(open, close) + spread, low: Math.min(open, close) - spread, close, volume: 1 };
  });
}
