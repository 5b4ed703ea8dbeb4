import { describe, expect, it } from 'vitest';
import type { CandleRow } from '../../../../src/core/exchange/types.js';
import { CandleFeed } from '../../../../src/core/strategy/controllers/base/candle-feed.js';
import { candlesFromCloses, FakeMarketView } from '../../../helpers/fake-market-view.js';

const STEP = 60_000;
const closeOf = (i: number) => (i + 1) * STEP;

function setup(rows: CandleRow[], history: number) {
  const market = new FakeMarketView().addCandles('sim', 'BTC-USDT', '1m', rows);
  const fed: number[] = [];
  const events: string[] = [];
  const feed = new CandleFeed('sim', 'BTC-USDT', '1m', history, (c) => fed.push(c.close), () => events.push(`gap after ${fed.length}`));
  const pull = (now: number) => {
    market.now = now;
    return feed.pull(market);
  };
  return { market, fed, events, feed, pull };
}

const CLOSES = Array.from({ length: 50 }, (_, i) => i);

describe('CandleFeed', () => {
  it('feeds the warm-up first, then each closed candle once, oldest first', () => {
    const f = setup(candlesFromCloses(CLOSES, '1m'), 5);
    expect(f.pull(closeOf(9))).toBe(5);
    expect(f.fed).toEqual([5, 6, 7, 8, 9]);
    expect(f.feed.lastTime).toBe(9 * STEP);
    // Mid-candle and the same instant again: nothing new, nothing read.
    const read = f.market.rowsRead;
    expect(f.pull(closeOf(9) + 30_000)).toBe(0);
    expect(f.pull(closeOf(9) + 59_999)).toBe(0);
    expect(f.market.rowsRead).toBe(read);
    expect(f.pull(closeOf(10))).toBe(1);
    expect(f.market.rowsRead).toBe(read + 1);
    // Three steps missed: the three candles closed since come in order.
    expect(f.pull(closeOf(13))).toBe(3);
    expect(f.fed).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(f.events).toEqual([]);
  });

  it('restarts from the warm-up after a pause longer than it', () => {
    const f = setup(candlesFromCloses(CLOSES, '1m'), 5);
    f.pull(closeOf(9));
    f.pull(closeOf(20));
    expect(f.events).toEqual(['gap after 5']);
    expect(f.fed).toEqual([5, 6, 7, 8, 9, 16, 17, 18, 19, 20]);
  });

  it('carries on across missing candles in the data', () => {
    // Candles 12..15 missing from the source: the feed still reads only what it has not seen.
    const rows = candlesFromCloses(CLOSES, '1m').filter((r) => r.close < 12 || r.close > 15);
    const f = setup(rows, 5);
    for (let i = 4; i < 25; i++) f.pull(closeOf(i));
    expect(f.fed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(f.events).toEqual([]);
  });
});
