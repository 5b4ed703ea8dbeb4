import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { ccxtOptionsFor, startBinanceFixture, type BinanceFixture } from '../fixtures/binance-fixture.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

/** Exchange candles are stored once closed; a past range already stored is answered without the network. */
describe.each(drivers())('candle cache on %s', (driver) => {
  let fx: BinanceFixture;
  let s: TestServer;

  beforeAll(async () => {
    fx = await startBinanceFixture();
    s = await testServer(driver, {}, { ccxt: () => ccxtOptionsFor(fx) });
  });
  afterAll(async () => {
    await s?.stop();
    await fx?.close();
  });

  const klines = () => fx.requestsTo('GET', '/api/v3/klines').length;
  const start = () => new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 48 * 3_600_000).toISOString();

  it('stores closed candles and reads a stored range without asking the exchange again', async () => {
    const path = `/market-data/candles/BTC-USDT?connector_name=binance&interval=1h&start_time=${start()}&limit=24`;
    const first = await s.call('GET', path);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.candles).toHaveLength(24);
    const asked = klines();
    expect(asked).toBeGreaterThan(0);
    const rows = (await s.services.db.execute(sql`select count(*)::int as n from candles where connector_name = 'binance'`)) as unknown as { rows: Array<{ n: number }> };
    expect(rows.rows[0]!.n).toBeGreaterThanOrEqual(24);

    const second = await s.call('GET', path);
    expect(second.status).toBe(200);
    expect(second.body.candles).toEqual(first.body.candles);
    expect(klines()).toBe(asked);
  });

  it('a stored range is served even while the exchange is unreachable', async () => {
    fx.dropConnections(true);
    try {
      const r = await s.call('GET', `/market-data/candles/BTC-USDT?connector_name=binance&interval=1h&start_time=${start()}&limit=24`);
      expect(r.status).toBe(200);
      expect(r.body.candles).toHaveLength(24);
      // The latest candles need the exchange, and say so.
      const live = await s.call('GET', '/market-data/candles/BTC-USDT?connector_name=binance&interval=1h&limit=3');
      expect(live.status).toBe(503);
      expect(live.body.error.code).toBe('UPSTREAM_UNAVAILABLE');
    } finally {
      fx.dropConnections(false);
    }
  });
});
