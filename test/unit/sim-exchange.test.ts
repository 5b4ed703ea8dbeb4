import { describe, expect, it } from 'vitest';
import { roundToPlaces, SimExchange } from '../../src/core/exchange/sim/sim-exchange.js';
import { PriceModel, SIM_EPOCH_MS } from '../../src/core/exchange/sim/price-model.js';
import { ManualClock } from '../../src/core/clock.js';

const T = Date.UTC(2026, 2, 10, 15, 30, 12, 250);

describe('sim price model', () => {
  it('is deterministic: the same seed gives the same history, another seed another one', () => {
    const a = new PriceModel('seed-a', 'BTC-USDT', 65000, 0.55, 1);
    const b = new PriceModel('seed-a', 'BTC-USDT', 65000, 0.55, 1);
    const c = new PriceModel('seed-b', 'BTC-USDT', 65000, 0.55, 1);
    for (const t of [SIM_EPOCH_MS + 1234567, T, T + 86_400_000 * 3]) {
      expect(a.priceAt(t)).toBe(b.priceAt(t));
      expect(a.priceAt(t)).not.toBe(c.priceAt(t));
    }
    // Order of access does not matter.
    const late = a.candle(T, 3_600_000);
    const fresh = new PriceModel('seed-a', 'BTC-USDT', 65000, 0.55, 1);
    expect(fresh.candle(T, 3_600_000)).toEqual(late);
  });

  it('aggregated candles agree with their minute candles', () => {
    const m = new PriceModel('sim', 'ETH-USDT', 3200, 0.7, 10);
    const start = Math.floor(T / 3_600_000) * 3_600_000;
    const hour = m.candle(start, 3_600_000);
    const minutes = Array.from({ length: 60 }, (_, i) => m.candle(start + i * 60_000, 60_000));
    expect(hour.open).toBe(minutes[0]!.open);
    expect(hour.close).toBe(minutes[59]!.close);
    expect(hour.high).toBe(Math.max(...minutes.map((x) => x.high)));
    expect(hour.low).toBe(Math.min(...minutes.map((x) => x.low)));
    expect(hour.volume).toBeCloseTo(minutes.reduce((s, x) => s + x.volume, 0), 6);
    for (const c of minutes) {
      expect(c.high).toBeGreaterThanOrEqual(Math.max(c.open, c.close));
      expect(c.low).toBeLessThanOrEqual(Math.min(c.open, c.close));
    }
  });

  it('keeps every second price inside its minute candle and moves from second to second', () => {
    const m = new PriceModel('sim', 'SOL-USDT', 150, 0.9, 100);
    const minuteStart = Math.floor(T / 60_000) * 60_000;
    const candle = m.candle(minuteStart, 60_000);
    const prices = Array.from({ length: 60 }, (_, s) => m.priceAt(minuteStart + s * 1000));
    for (const p of prices) {
      expect(p).toBeGreaterThanOrEqual(candle.low);
      expect(p).toBeLessThanOrEqual(candle.high);
    }
    expect(new Set(prices).size).toBeGreaterThan(30);
  });

  it('stays in a sensible range over the whole history', () => {
    const m = new PriceModel('sim', 'BTC-USDT', 65000, 0.55, 1);
    for (let d = 0; d < 4300; d += 30) {
      const p = m.priceAt(SIM_EPOCH_MS + d * 86_400_000);
      expect(p).toBeGreaterThan(65000 / 8);
      expect(p).toBeLessThan(65000 * 8);
    }
  });
});

describe('sim exchange market data', () => {
  const sim = new SimExchange('sim', new ManualClock(T));
  const spot = sim.market('spot', 'BTC-USDT');

  it('books are sorted, uncrossed and on the tick', () => {
    const ob = sim.orderBook(spot, 20);
    expect(ob.bids).toHaveLength(20);
    expect(ob.asks).toHaveLength(20);
    expect(ob.bids[0]!.price).toBeLessThan(ob.asks[0]!.price);
    for (let i = 1; i < 20; i++) {
      expect(ob.bids[i]!.price).toBeLessThan(ob.bids[i - 1]!.price);
      expect(ob.asks[i]!.price).toBeGreaterThan(ob.asks[i - 1]!.price);
    }
    for (const l of [...ob.bids, ...ob.asks]) {
      expect(Math.abs(l.price * 100 - Math.round(l.price * 100))).toBeLessThan(1e-6);
      expect(l.amount).toBeGreaterThan(0);
    }
  });

  it('the ticker sits inside the book and the 24h range', () => {
    const t = sim.ticker(spot);
    expect(t.bid!).toBeLessThanOrEqual(t.last);
    expect(t.ask!).toBeGreaterThanOrEqual(t.last);
    expect(t.high_24h!).toBeGreaterThanOrEqual(t.last);
    expect(t.low_24h!).toBeLessThanOrEqual(t.last);
  });

  it('candles never reveal the future: the last one closes at the current price', () => {
    const rows = sim.candles(spot, '1h', { limit: 3 });
    expect(rows).toHaveLength(3);
    expect(rows[2]!.timestamp).toBe(Math.floor(T / 3_600_000) * 3_600_000);
    expect(rows[2]!.close).toBe(sim.ticker(spot).last);
    expect(sim.candles(spot, '1m', { since: T + 3_600_000, limit: 5 })).toEqual([]);
  });

  it('reads any past range forward from a start time', () => {
    const since = Date.UTC(2019, 6, 1);
    const rows = sim.candles(spot, '1d', { since, limit: 10 });
    expect(rows).toHaveLength(10);
    expect(rows[0]!.timestamp).toBe(since);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.open).toBe(rows[i - 1]!.close);
  });

  it('trades print at the touch, oldest first', () => {
    const trades = sim.trades(spot, 30);
    expect(trades.length).toBe(30);
    for (let i = 1; i < trades.length; i++) expect(trades[i]!.timestamp).toBeGreaterThanOrEqual(trades[i - 1]!.timestamp);
    for (const tr of trades) expect(tr.timestamp).toBeLessThanOrEqual(T);
  });

  it('the perpetual trades close to spot', () => {
    const perp = sim.market('perpetual', 'BTC-USDT');
    expect(Math.abs(sim.mid(perp) / sim.mid(spot) - 1)).toBeLessThan(0.001);
  });
});

describe('sim rounding to a tick or step', () => {
  // The sim's candles and tickers go through roundToPlaces; it must give what Number(v.toFixed(places))
  // gives, or every deterministic history (and every backtest over it) would change.
  const same = (v: number, places: number) => Object.is(roundToPlaces(v, places), Number(v.toFixed(places)));

  it('equals toFixed on prices and volumes of every size', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const misses: Array<[number, number]> = [];
    for (let i = 0; i < 200_000; i++) {
      const places = [0, 1, 2, 3, 4, 5, 6, 8][i % 8]!;
      const v = rand() * 10 ** (rand() * 9 - 3);
      if (!same(v, places)) misses.push([v, places]);
    }
    expect(misses).toEqual([]);
  });

  it('equals toFixed at and a hair around every tie, and where toFixed decides alone', () => {
    const misses: Array<[number, number]> = [];
    for (let places = 0; places <= 6; places++) {
      for (let k = 0; k < 20_000; k++) {
        const tie = (k + 0.5) / 10 ** places;
        for (const v of [tie, tie * (1 + 1e-15), tie * (1 - 1e-15), k / 10 ** places]) if (!same(v, places)) misses.push([v, places]);
      }
    }
    for (const [v, places] of [[0, 2], [-1.005, 2], [-0, 3], [1e12 + 0.5, 2], [2 ** 31 / 100 + 0.005, 2], [1.005, 2], [8.345, 2], [0.000015, 5]] as const) {
      if (!same(v, places)) misses.push([v, places]);
    }
    expect(misses).toEqual([]);
  });
});
