import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { SimExchange } from '../../../src/core/exchange/sim/sim-exchange.js';
import type { CandleInterval, CandleRow } from '../../../src/core/exchange/types.js';
import { gapsOf, loadCandles, PAGE, type CandleReader } from '../../../src/core/backtest/candle-loader.js';

const NOW = Date.UTC(2026, 5, 1);
const START = Date.UTC(2026, 4, 1);
const MIN = 60_000;

/** The sim exchange as a candle source, counting the pages asked for. */
function simReader(drop: (t: number) => boolean = () => false): CandleReader & { pages: number } {
  const sim = new SimExchange('sim', new ManualClock(NOW));
  const m = sim.market('spot', 'BTC-USDT');
  return {
    pages: 0,
    async candles(_c: string, _p: string, interval: CandleInterval, opts: { since?: number; until?: number; limit: number }): Promise<CandleRow[]> {
      this.pages++;
      return sim.candles(m, interval, opts).filter((r) => !drop(r.timestamp));
    },
  };
}

describe('backtest candle loader', () => {
  it('lets the event loop run between pages of a source that answers without I/O', async () => {
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const seen: number[] = [];
    await loadCandles(simReader(), { connector: 'sim', tradingPair: 'BTC-USDT', interval: '1m', start: START, end: START + 9 * PAGE * MIN, warmupBars: 0 }, { onPage: () => seen.push(turns) });
    spinning = false;
    expect(seen).toHaveLength(10);
    // Other work ran between every two pages.
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
  });

  it('reads the range and its warm-up in pages, into columns, with no gap on sim', async () => {
    const reader = simReader();
    const end = START + 2499 * MIN;
    const progress: number[] = [];
    const got = await loadCandles(reader, { connector: 'sim', tradingPair: 'BTC-USDT', interval: '1m', start: START, end, warmupBars: 100 }, { onPage: (done, total) => progress.push(done / total) });
    expect(got.slots).toBe(2600);
    expect(got.columns.time.length).toBe(2600);
    expect(got.columns.time[0]).toBe(START - 100 * MIN);
    expect(got.startIndex).toBe(100);
    expect(got.columns.time[got.startIndex]).toBe(START);
    expect(got.columns.time[2599]).toBe(end);
    expect(reader.pages).toBe(Math.ceil(2600 / PAGE));
    expect(progress.at(-1)).toBe(1);
    expect(got.gaps).toEqual([]);
    // Columns hold what the source served, in order.
    const direct = await simReader().candles('sim', 'BTC-USDT', '1m', { since: START, until: START + 4 * MIN, limit: 5 });
    expect(Array.from(got.columns.close.subarray(100, 105))).toEqual(direct.map((r) => r.close));
    expect(Array.from(got.columns.high.subarray(100, 105))).toEqual(direct.map((r) => r.high));
  });

  it('reports missing candles as gaps and never fills them', async () => {
    const missing = (t: number) => (t >= START + 10 * MIN && t <= START + 12 * MIN) || t === START + 1999 * MIN;
    const got = await loadCandles(simReader(missing), { connector: 'sim', tradingPair: 'BTC-USDT', interval: '1m', start: START, end: START + 1999 * MIN, warmupBars: 0 });
    expect(got.columns.time.length).toBe(2000 - 4);
    expect(got.gaps).toEqual([
      { from: new Date(START + 10 * MIN).toISOString(), to: new Date(START + 12 * MIN).toISOString(), candles: 3 },
      { from: new Date(START + 1999 * MIN).toISOString(), to: new Date(START + 1999 * MIN).toISOString(), candles: 1 },
    ]);
  });

  it('finds gaps at the edges and in an empty range', () => {
    const t = Float64Array.from([3, 4, 7].map((i) => i * MIN));
    expect(gapsOf(t, 0, 9 * MIN, MIN).map((g) => g.candles)).toEqual([3, 2, 2]);
    expect(gapsOf(new Float64Array(0), 0, 4 * MIN, MIN)).toEqual([{ from: new Date(0).toISOString(), to: new Date(4 * MIN).toISOString(), candles: 5 }]);
  });

  it('stops between pages when aborted', async () => {
    const ac = new AbortController();
    const reader = simReader();
    const run = loadCandles(reader, { connector: 'sim', tradingPair: 'BTC-USDT', interval: '1m', start: START, end: START + 9999 * MIN, warmupBars: 0 }, { signal: ac.signal, onPage: (done) => done >= 2 * PAGE && ac.abort() });
    await expect(run).rejects.toThrow();
    expect(reader.pages).toBe(2);
  });
});
