import { describe, expect, it } from 'vitest';
import { toColumns } from '../../../src/core/backtest/candle-loader.js';
import { BacktestMarketView } from '../../../src/core/backtest/candle-view.js';
import type { CandleRow } from '../../../src/core/exchange/types.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** 1m candles with a gap (minutes 7 and 8 missing) and values that tell each minute apart. */
function rows(): CandleRow[] {
  const out: CandleRow[] = [];
  for (let m = 0; m < 20; m++) {
    if (m === 7 || m === 8) continue;
    out.push({ timestamp: T0 + m * MIN, open: 100 + m, high: 110 + m + (m % 3), low: 90 + m - (m % 4), close: 101 + m, volume: 1 + m });
  }
  return out;
}

describe('market view: the newest closed coarse candle read into a row', () => {
  it('is the row candles(…, 1) lists, at every point of the walk, gaps included', () => {
    const r = rows();
    const view = new BacktestMarketView(toColumns(r), 'sim', 'BTC-USDT', '1m');
    const into: CandleRow = { timestamp: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
    let compared = 0;
    for (let closed = 0; closed <= r.length; closed++) {
      view.closed = closed;
      view.now = closed === 0 ? T0 : r[closed - 1]!.timestamp + MIN;
      for (const interval of ['3m', '5m'] as const) {
        const listed = view.candles('sim', 'BTC-USDT', interval, 1);
        const got = view.newestClosedInto('sim', 'BTC-USDT', interval, into);
        expect(got).toBe(listed.length === 1);
        if (listed.length === 1) {
          expect({ ...into }).toEqual(listed[0]);
          compared++;
        }
      }
    }
    // Most points have a closed coarse candle; the 3m one over minutes 6–8 is built from minute 6 alone.
    expect(compared).toBeGreaterThan(25);
    view.closed = 9; // minutes 0..6 and 9, 10 closed
    view.now = T0 + 11 * MIN;
    expect(view.newestClosedInto('sim', 'BTC-USDT', '3m', into)).toBe(true);
    expect(into).toEqual({ timestamp: T0 + 6 * MIN, open: 106, high: 116, low: 94, close: 107, volume: 7 });
  });

  it('declines an interval that is not a multiple of the resolution, and another market', () => {
    const view = new BacktestMarketView(toColumns(rows()), 'sim', 'BTC-USDT', '3m');
    const into: CandleRow = { timestamp: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
    expect(view.newestClosedInto('sim', 'BTC-USDT', '1m', into)).toBeNull();
    expect(view.newestClosedInto('sim', 'ETH-USDT', '3m', into)).toBeNull();
  });
});
