import type { CandleInterval, CandleRow } from '../../../exchange/types.js';
import { INTERVAL_MS } from '../../../exchange/types.js';
import type { MarketView } from '../../types.js';

/**
 * Hands a controller's incremental indicators each closed candle once, oldest first: it remembers the
 * open time of the newest candle consumed and asks the market view only for as many candles as can have
 * closed since then. A step of the backtest therefore reads a couple of rows, never the whole window,
 * and nothing newer than what the view shows (closed candles as of `now`) is ever seen.
 */
export class CandleFeed {
  /** Open time of the newest candle consumed; -Infinity before the first. */
  lastTime = -Infinity;
  private readonly step: number;
  private readonly history: number;
  private readonly scratch: CandleRow = { timestamp: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };

  /**
   * @param history candles to read on the first pull and after a gap longer than that: the warm-up.
   * @param onCandle called for each new closed candle, oldest first; the row may be reused after it
   *   returns (read its fields, do not keep it).
   * @param onGap called before a refill after a gap longer than `history` bars, so indicators restart
   *   from the candles just before now rather than carry on from stale state.
   */
  constructor(
    readonly connector: string,
    readonly tradingPair: string,
    readonly interval: CandleInterval,
    history: number,
    private readonly onCandle: (c: CandleRow) => void,
    private readonly onGap: () => void,
  ) {
    this.step = INTERVAL_MS[interval];
    this.history = Math.max(1, Math.ceil(history));
  }

  /** Feeds the candles closed since the previous pull; returns how many were fed. */
  pull(market: MarketView): number {
    const last = this.lastTime;
    // A new candle opens at last + step or later, candles are at least one step apart and each closes a
    // step after it opens: at most this many have closed by now.
    const due = last === -Infinity ? this.history : Math.floor((market.now - last) / this.step) - 1;
    if (due < 1) return 0;
    // One candle at most (every step of a backtest): read it into a reused row when the view can.
    if (due === 1 && market.newestClosedInto) {
      const got = market.newestClosedInto(this.connector, this.tradingPair, this.interval, this.scratch);
      if (got !== null) {
        if (!got || this.scratch.timestamp <= last) return 0;
        this.lastTime = this.scratch.timestamp;
        this.onCandle(this.scratch);
        return 1;
      }
    }
    const refill = due > this.history;
    const rows = market.candles(this.connector, this.tradingPair, this.interval, refill ? this.history : due);
    let fed = 0;
    if (refill && last !== -Infinity && rows.length > 0 && (rows[0] as CandleRow).timestamp > last) this.onGap();
    for (let i = 0; i < rows.length; i++) {
      const c = rows[i] as CandleRow;
      if (c.timestamp <= this.lastTime) continue;
      this.lastTime = c.timestamp;
      this.onCandle(c);
      fed++;
    }
    return fed;
  }
}
