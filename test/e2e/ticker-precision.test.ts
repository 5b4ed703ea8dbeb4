import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { testServer, type TestServer } from '../helpers/test-env.js';

/** Decimal places of a number as JSON prints it (exponent form included). */
const decimals = (n: number) => new Decimal(String(n)).decimalPlaces();

/** Ticker fields carry the market's precision, never float noise such as 57953.615000000005. */
describe('ticker precision', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await testServer('postgres');
  });
  afterAll(async () => s?.stop());

  it('every sim market\'s prices have at most the tick\'s decimals (the mid one more)', async () => {
    for (const connector of ['sim', 'sim_perpetual']) {
      const rules = await s.call('GET', `/connectors/${connector}/trading-rules?limit=1000`);
      expect(rules.status).toBe(200);
      expect(rules.body.data.length).toBeGreaterThan(0);
      for (const r of rules.body.data as Array<{ trading_pair: string; min_price_increment: number }>) {
        const tick = decimals(r.min_price_increment);
        // Several reads, at different moments, so that many bid/ask pairs are averaged.
        for (let i = 0; i < 5; i++) {
          const t = await s.call('GET', `/market-data/ticker/${r.trading_pair}?connector_name=${connector}`);
          expect(t.status).toBe(200);
          for (const f of ['last', 'bid', 'ask', 'high_24h', 'low_24h']) expect(decimals(t.body[f]), `${connector} ${r.trading_pair} ${f}=${t.body[f]}`).toBeLessThanOrEqual(tick);
          expect(decimals(t.body.mid), `${connector} ${r.trading_pair} mid=${t.body.mid}`).toBeLessThanOrEqual(tick + 1);
          expect(decimals(t.body.spread_pct)).toBeLessThanOrEqual(6);
        }
      }
    }
  });
});
