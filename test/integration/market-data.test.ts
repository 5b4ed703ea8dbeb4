import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectError } from '../helpers/errors.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';
import { offlineBinance, type OfflineExchange } from '../helpers/offline-exchange.js';
import { ManualClock } from '../../src/core/clock.js';


const HOUR = 3_600_000;
const MINUTE = 60_000;
/** The sim clock, pinned (and moved only where a test says so). */
const T0 = Date.UTC(2026, 2, 10, 15, 30, 12, 250);
const SIM_PAIRS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'ETH-BTC'];
const PERP_PAIRS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'];
const iso = (ms: number) => new Date(ms).toISOString();

const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);
const descending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! > x);

describe.each(drivers())('REST market data on sim, %s', (driver) => {
  let s: TestServer;
  let offline: OfflineExchange;
  const clock = new ManualClock(T0);
  const get = (path: string) => s.call('GET', path);

  beforeAll(async () => {
    offline = await offlineBinance();
    s = await testServer(driver, {}, { clock, ccxt: offline.ccxt });
  });
  afterAll(async () => {
    await s?.stop();
    await offline?.close();
  });

  describe('ticker', () => {
    it('has last, bid, ask, mid, spread and 24 h figures at the pinned time', async () => {
      const r = await get('/market-data/ticker/BTC-USDT?connector_name=sim');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const t = r.body;
      expect(Object.keys(t).sort()).toEqual(
        ['ask', 'bid', 'change_24h_pct', 'connector_name', 'high_24h', 'last', 'low_24h', 'mid', 'spread_pct', 'time', 'timestamp', 'trading_pair', 'volume_24h'].sort(),
      );
      expect(t).toMatchObject({ connector_name: 'sim', trading_pair: 'BTC-USDT', timestamp: clock.now(), time: iso(clock.now()) });
      expect(t.bid).toBeLessThan(t.ask);
      expect(t.mid).toBeCloseTo((t.bid + t.ask) / 2, 8);
      expect(t.spread_pct).toBeCloseTo(((t.ask - t.bid) / t.mid) * 100, 5);
      expect(t.spread_pct).toBeGreaterThan(0);
      expect(t.low_24h).toBeLessThanOrEqual(t.high_24h);
      expect(t.last).toBeGreaterThanOrEqual(t.low_24h);
      expect(t.last).toBeLessThanOrEqual(t.high_24h);
      expect(t.volume_24h).toBeGreaterThan(0);
      expect(typeof t.change_24h_pct).toBe('number');
    });

    it('answers for every listed pair of both sim connectors', async () => {
      for (const [c, pairs] of [['sim', SIM_PAIRS], ['sim_perpetual', PERP_PAIRS]] as const) {
        for (const p of pairs) {
          const r = await get(`/market-data/ticker/${p}?connector_name=${c}`);
          expect(r.status, `${c} ${p}`).toBe(200);
          expect(r.body.trading_pair).toBe(p);
          expect(r.body.connector_name).toBe(c);
        }
      }
    });
  });

  describe('order book', () => {
    it('has 20 levels per side by default, bids highest first, asks lowest first', async () => {
      const r = await get('/market-data/orderbook/ETH-USDT?connector_name=sim');
      expect(r.status).toBe(200);
      const ob = r.body;
      expect(ob).toMatchObject({ connector_name: 'sim', trading_pair: 'ETH-USDT', depth: 20 });
      expect(ob.timestamp).toBe(Math.floor(clock.now() / 1000) * 1000);
      expect(ob.time).toBe(iso(ob.timestamp));
      expect(ob.bids).toHaveLength(20);
      expect(ob.asks).toHaveLength(20);
      for (const l of [...ob.bids, ...ob.asks]) {
        expect(Object.keys(l).sort()).toEqual(['amount', 'price']);
        expect(l.price).toBeGreaterThan(0);
        expect(l.amount).toBeGreaterThan(0);
      }
      expect(descending(ob.bids.map((l: { price: number }) => l.price))).toBe(true);
      expect(ascending(ob.asks.map((l: { price: number }) => l.price))).toBe(true);
      expect(ob.bids[0].price).toBeLessThan(ob.asks[0].price);
    });

    it('honours depth from 1 to 100, and its top of book agrees with the ticker', async () => {
      for (const depth of [1, 5, 100]) {
        const r = await get(`/market-data/orderbook/BTC-USDT?connector_name=sim&depth=${depth}`);
        expect(r.status).toBe(200);
        expect(r.body.depth).toBe(depth);
        expect(r.body.bids).toHaveLength(depth);
        expect(r.body.asks).toHaveLength(depth);
      }
      const top = (await get('/market-data/orderbook/BTC-USDT?connector_name=sim&depth=1')).body;
      const t = (await get('/market-data/ticker/BTC-USDT?connector_name=sim')).body;
      expect(top.bids[0].price).toBe(t.bid);
      expect(top.asks[0].price).toBe(t.ask);
    });

    it.each(['0', '101', '-1', '2.5', 'ten'])('depth=%s is a 400', async (depth) => {
      const e = expectError(await get(`/market-data/orderbook/BTC-USDT?connector_name=sim&depth=${depth}`), 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(e.details)).toContain('depth');
    });
  });

  describe('candles', () => {
    const candles = (q: string) => get(`/market-data/candles/BTC-USDT?connector_name=sim&${q}`);

    function expectCandleShape(list: any[], step: number) {
      for (const c of list) {
        expect(Object.keys(c).sort()).toEqual(['close', 'high', 'low', 'open', 'time', 'timestamp', 'volume']);
        expect(c.timestamp % step).toBe(0);
        expect(c.time).toBe(iso(c.timestamp));
        expect(c.high).toBeGreaterThanOrEqual(Math.max(c.open, c.close));
        expect(c.low).toBeLessThanOrEqual(Math.min(c.open, c.close));
        expect(c.volume).toBeGreaterThanOrEqual(0);
      }
      const ts = list.map((c) => c.timestamp);
      for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(step);
    }

    it('default: the latest 100 hourly candles up to now, oldest first', async () => {
      const r = await candles('');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ connector_name: 'sim', trading_pair: 'BTC-USDT', interval: '1h', next_start_time: null });
      expect(r.body.candles).toHaveLength(100);
      expectCandleShape(r.body.candles, HOUR);
      expect(r.body.candles.at(-1).timestamp).toBe(Math.floor(clock.now() / HOUR) * HOUR);
      // The history goes back further.
      expect(r.body.truncated).toBe(true);
    });

    it('with start_time reads forward; truncated and next_start_time page through without gap or overlap', async () => {
      const start = clock.now() - 3 * 86_400_000 + 17 * MINUTE; // not on an hour: the first candle is the next hour
      const end = Math.floor(start / HOUR) * HOUR + 26 * HOUR;
      const pages: any[] = [];
      let cursor: string | number = start;
      for (let i = 0; i < 3; i++) {
        const r = await candles(`interval=1h&limit=10&start_time=${cursor}&end_time=${end}`);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        pages.push(r.body);
        if (r.body.next_start_time) cursor = r.body.next_start_time;
      }
      expect(pages.map((p) => p.candles.length)).toEqual([10, 10, 6]);
      expect(pages.map((p) => p.truncated)).toEqual([true, true, false]);
      expect(pages[0].candles[0].timestamp).toBe(Math.ceil(start / HOUR) * HOUR);
      for (const p of pages.slice(0, 2)) expect(p.next_start_time).toBe(iso(p.candles.at(-1).timestamp + HOUR));
      expect(pages[2].next_start_time).toBeNull();
      expect(pages[2].candles.at(-1).timestamp).toBe(end);
      const all = pages.flatMap((p) => p.candles);
      expectCandleShape(all, HOUR);
      // The same as one read of the whole range.
      const whole = await candles(`interval=1h&limit=1000&start_time=${start}&end_time=${end}`);
      expect(whole.body.truncated).toBe(false);
      expect(whole.body.candles).toEqual(all);
    });

    it('forward paging through the present stops at now', async () => {
      const start = Math.floor(clock.now() / MINUTE) * MINUTE - 24 * MINUTE;
      const first = await candles(`interval=1m&limit=20&start_time=${start}`);
      expect(first.body.candles).toHaveLength(20);
      expect(first.body.truncated).toBe(true);
      const second = await candles(`interval=1m&limit=20&start_time=${encodeURIComponent(first.body.next_start_time)}`);
      expect(second.status).toBe(200);
      expect(second.body.candles[0].timestamp).toBe(first.body.candles.at(-1).timestamp + MINUTE);
      expect(second.body.candles.at(-1).timestamp).toBe(Math.floor(clock.now() / MINUTE) * MINUTE);
      expect(second.body.truncated).toBe(false);
      expect(second.body.next_start_time).toBeNull();
    });

    it('only end_time: the latest candles at or before it', async () => {
      const end = clock.now() - 5 * 86_400_000 + 12 * MINUTE + 345;
      const r = await candles(`interval=15m&limit=50&end_time=${end}`);
      expect(r.status).toBe(200);
      expect(r.body.candles).toHaveLength(50);
      expectCandleShape(r.body.candles, 15 * MINUTE);
      expect(r.body.candles.at(-1).timestamp).toBe(Math.floor(end / (15 * MINUTE)) * 15 * MINUTE);
      expect(r.body.candles.at(-1).timestamp).toBeLessThanOrEqual(end);
      expect(r.body.next_start_time).toBeNull();
    });

    it('ISO-8601 and epoch milliseconds give the same result', async () => {
      const start = Math.floor((clock.now() - 2 * 86_400_000) / HOUR) * HOUR;
      const end = start + 12 * HOUR;
      const byMs = await candles(`interval=30m&start_time=${start}&end_time=${end}`);
      const byIso = await candles(`interval=30m&start_time=${encodeURIComponent(iso(start))}&end_time=${encodeURIComponent(iso(end))}`);
      expect(byMs.status).toBe(200);
      expect(byMs.body.candles.length).toBe(25);
      expect(byIso.body).toEqual(byMs.body);
      const endOnlyMs = await candles(`interval=4h&limit=7&end_time=${end}`);
      const endOnlyIso = await candles(`interval=4h&limit=7&end_time=${iso(end)}`);
      expect(endOnlyIso.body).toEqual(endOnlyMs.body);
    });

    it('covers the intervals from 1m to 1w', async () => {
      for (const [interval, step] of [['1m', MINUTE], ['1d', 86_400_000], ['1w', 7 * 86_400_000]] as const) {
        const r = await candles(`interval=${interval}&limit=5`);
        expect(r.status, interval).toBe(200);
        expect(r.body.interval).toBe(interval);
        expect(r.body.candles).toHaveLength(5);
        expectCandleShape(r.body.candles, step);
      }
    });

    it.each([
      ['interval=7m', 'interval'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['start_time=yesterday', 'start_time'],
      [`start_time=${T0}&end_time=${T0 - HOUR}`, 'start_time'],
    ])('%s is a 400 naming %s', async (q, field) => {
      const e = expectError(await candles(q), 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(e.details ?? e.message)).toContain(field);
    });
  });

  describe('trades', () => {
    it('the most recent trades, oldest first, none after now', async () => {
      const r = await get('/market-data/trades/SOL-USDT?connector_name=sim&limit=30');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ connector_name: 'sim', trading_pair: 'SOL-USDT' });
      const trades = r.body.trades;
      expect(trades).toHaveLength(30);
      const ids = new Set<string>();
      for (const t of trades) {
        expect(Object.keys(t).sort()).toEqual(['amount', 'price', 'side', 'time', 'timestamp', 'trade_id']);
        expect(['buy', 'sell']).toContain(t.side);
        expect(t.price).toBeGreaterThan(0);
        expect(t.amount).toBeGreaterThan(0);
        expect(t.timestamp).toBeLessThanOrEqual(clock.now());
        expect(t.time).toBe(iso(t.timestamp));
        ids.add(t.trade_id);
      }
      expect(ids.size).toBe(30);
      const ts = trades.map((t: { timestamp: number }) => t.timestamp);
      expect(ts.every((x: number, i: number) => i === 0 || ts[i - 1] <= x)).toBe(true);
      // Within a few minutes of now.
      expect(clock.now() - ts[0]).toBeLessThan(15 * MINUTE);
    });

    it('defaults to 50 and caps at 500', async () => {
      expect((await get('/market-data/trades/BTC-USDT?connector_name=sim')).body.trades).toHaveLength(50);
      expect((await get('/market-data/trades/BTC-USDT?connector_name=sim&limit=500')).body.trades.length).toBeLessThanOrEqual(500);
      expectError(await get('/market-data/trades/BTC-USDT?connector_name=sim&limit=501'), 400, 'VALIDATION_FAILED');
    });
  });

  describe('errors', () => {
    it.each(['ticker', 'orderbook', 'candles', 'trades'])('%s of an unknown pair is a 404 listing the pairs', async (route) => {
      const e = expectError(await get(`/market-data/${route}/DOGE-USDT?connector_name=sim`), 404, 'NOT_FOUND');
      for (const p of SIM_PAIRS) expect(e.hint).toContain(p);
    });

    it('the perpetual connector lists its own pairs in the hint', async () => {
      const e = expectError(await get('/market-data/ticker/ETH-BTC?connector_name=sim_perpetual'), 404, 'NOT_FOUND');
      for (const p of PERP_PAIRS) expect(e.hint).toContain(p);
      expect(e.hint).not.toContain('ETH-BTC');
    });

    it('an unknown connector is a 404', async () => {
      expectError(await get('/market-data/ticker/BTC-USDT?connector_name=nosuchexchange'), 404, 'NOT_FOUND');
    });

    it('a malformed pair or a missing connector is a 400', async () => {
      expectError(await get('/market-data/ticker/btc-usdt?connector_name=sim'), 400, 'VALIDATION_FAILED');
      expectError(await get('/market-data/ticker/BTCUSDT?connector_name=sim'), 400, 'VALIDATION_FAILED');
      const e = expectError(await get('/market-data/ticker/BTC-USDT'), 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(e.details)).toContain('connector_name');
    });

    // Not timed here (bench/ measures): the offline exchange hangs up at once, so a request that waited
    // for anything else would run into the test timeout.
    it.each(['ticker', 'orderbook', 'candles', 'trades'])('%s on an offline live connector (binance) is a 503 with a hint', async (route) => {
      const r = await get(`/market-data/${route}/BTC-USDT?connector_name=binance`);
      const e = expectError(r, 503, 'UPSTREAM_UNAVAILABLE');
      expect(e.retryable).toBe(true);
      expect(e.hint).toBeTruthy();
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(offline.connections()).toBeGreaterThan(0);
    });

    it('sim keeps answering meanwhile', async () => {
      expect((await get('/market-data/ticker/BTC-USDT?connector_name=sim')).status).toBe(200);
    });
  });

  describe('a pinned clock', () => {
    const paths = [
      '/market-data/ticker/BTC-USDT?connector_name=sim',
      '/market-data/ticker/ETH-USDT?connector_name=sim_perpetual',
      '/market-data/orderbook/SOL-USDT?connector_name=sim&depth=50',
      '/market-data/candles/ETH-BTC?connector_name=sim&interval=1m&limit=30',
      '/market-data/candles/BTC-USDT?connector_name=sim_perpetual&interval=1d&limit=10',
      '/market-data/trades/BTC-USDT?connector_name=sim&limit=100',
    ];

    it('gives identical responses to identical requests, however much real time passes', async () => {
      const first = await Promise.all(paths.map(get));
      // A day of wall-clock time passes (Date.now moved, no waiting): the pinned sim clock ignores it.
      const now = Date.now();
      const later = vi.spyOn(Date, 'now').mockImplementation(() => now + 86_400_000);
      let second: Awaited<ReturnType<typeof get>>[];
      try {
        second = await Promise.all(paths.map(get));
      } finally {
        later.mockRestore();
      }
      for (const [i, p] of paths.entries()) {
        expect(first[i]!.status, p).toBe(200);
        expect(second[i]!.body, p).toEqual(first[i]!.body);
      }
    });

    it('and moves when the clock moves', async () => {
      const before = await Promise.all(paths.map(get));
      clock.set(T0 + 10 * MINUTE);
      try {
        const after = await Promise.all(paths.map(get));
        for (const [i, p] of paths.entries()) expect(after[i]!.body, p).not.toEqual(before[i]!.body);
        expect(after[0]!.body.timestamp).toBe(clock.now());
      } finally {
        clock.set(T0);
      }
      const back = await Promise.all(paths.map(get));
      for (const [i, p] of paths.entries()) expect(back[i]!.body, p).toEqual(before[i]!.body);
    });
  });
});
