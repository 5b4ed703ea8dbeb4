import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccxtOptionsFor, startBinanceFixture, type BinanceFixture } from '../fixtures/binance-fixture.js';
import { codeOf } from '../helpers/mcp-call.js';
import { drivers, testServer, type TestServer } from '../helpers/test-env.js';

const KEY = 'live-key-resting-0123';
const SECRET = 'live-secret-resting-0123';

/**
 * Live orders rest on the exchange, which fills them. When the server's sync sees one that the
 * account's limits now stop (a kill switch, a lowered position cap), it cancels it at the exchange.
 * A live preview checks the exchange balances.
 */
describe.each(drivers())('live resting orders meet the limits as they change, on %s', (driver) => {
  let fx: BinanceFixture;
  let s: TestServer;
  let last = 0;

  const body = (account: string, extra: Record<string, unknown>) => ({ account_name: account, connector_name: 'binance', trading_pair: 'BTC-USDT', side: 'buy', ...extra });
  async function liveAccount(name: string): Promise<void> {
    expect((await s.call('POST', '/accounts', { account_name: name, connectors: [{ connector_name: 'binance', credentials: { api_key: KEY, secret: SECRET } }] })).status).toBe(201);
    expect((await s.call('PUT', `/accounts/${name}/policy`, { mode: 'live', max_order_notional: 'none' })).status).toBe(200);
  }
  /** Runs the sync until the order is no longer open; fails the test after 20 s. */
  async function syncUntilClosed(orderId: string): Promise<any> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const o = (await s.call('GET', `/trading/orders/${orderId}`)).body.order;
      if (o.status !== 'open' && o.status !== 'partially_filled') return o;
      if (Date.now() > deadline) throw new Error(`order ${orderId} is still ${o.status} after 20 s of syncing`);
      await s.services.trading.matchOnce();
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    fx = await startBinanceFixture({ accounts: [{ apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '0' } }] });
    s = await testServer(driver, {}, { ccxt: () => ccxtOptionsFor(fx) });
    last = (await s.call('GET', '/market-data/ticker/BTC-USDT?connector_name=binance')).body.last;
  });
  afterAll(async () => {
    await s?.stop();
    await fx?.close();
  });

  it('a resting live order is canceled at the exchange once a kill switch is on', async () => {
    await liveAccount('live_ks');
    const price = (Math.floor(last * 0.7 * 100) / 100).toFixed(2);
    const r = await s.call('POST', '/trading/orders', body('live_ks', { order_type: 'limit', amount: '0.001', price }));
    expect(r.status, r.text).toBe(201);
    expect(r.body.order.status).toBe('open');
    expect(codeOf(await s.call('POST', '/safety/kill-switch', { account_name: 'live_ks', reason: 'halt' }))).toBe('ok');
    const o = await syncUntilClosed(r.body.order.order_id);
    expect(o.status).toBe('canceled');
    expect(o.error_message).toContain('kill_switch guard');
  });

  it('a resting live spot buy is canceled when the position cap is lowered below what it would buy', async () => {
    await liveAccount('live_cap');
    const price = (Math.floor(last * 0.7 * 100) / 100).toFixed(2);
    const amount = (3000 / Number(price)).toFixed(5);
    const r = await s.call('POST', '/trading/orders', body('live_cap', { order_type: 'limit', amount, price }));
    expect(r.status, r.text).toBe(201);
    expect((await s.call('PUT', '/accounts/live_cap/policy', { max_position_notional: '1000' })).status).toBe(200);
    const o = await syncUntilClosed(r.body.order.order_id);
    expect(o.status).toBe('canceled');
    expect(o.filled_amount).toBe(0);
    expect(o.error_message).toContain('max_position_notional guard');
  });

  it('a live preview checks the exchange balance', async () => {
    await liveAccount('live_preview');
    const big = await s.call('POST', '/trading/orders/preview', body('live_preview', { order_type: 'market', amount: ((30 * 10000) / last).toFixed(5) }));
    expect(big.status, big.text).toBe(200);
    expect(big.body.would_be_refused).toBe(true);
    expect(big.body.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string; code: string }) => [c.name, c.code])).toEqual([['funds', 'UPSTREAM_REJECTED']]);
    const small = await s.call('POST', '/trading/orders/preview', body('live_preview', { order_type: 'market', amount: '0.001' }));
    expect(small.body.would_be_refused).toBe(false);
  });
});
