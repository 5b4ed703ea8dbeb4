import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardrailServer, order, perp, TRADER, type GuardrailHarness } from '../helpers/guardrail-harness.js';
import { drivers } from '../helpers/test-env.js';

/**
 * One plan per order: the guards and the engine share one market read and one book snapshot, so an
 * order (or its preview) asks its venue for them once, whatever the policy checks.
 */
describe.each(drivers())('an order reads its venue once on %s', (driver) => {
  let h: GuardrailHarness;
  const reads = { loadMarkets: 0, fetchOrderBook: 0 };

  beforeAll(async () => {
    h = await guardrailServer(driver);
    // Every cap that values the order or reads the position is on, so each guard has a reason to look.
    await h.account('plan', { max_order_notional: 1_000_000, max_daily_notional: 10_000_000, max_position_notional: 10_000_000, max_orders_per_minute: 1000 });
    const connectors = h.s.services.connectors;
    const get = connectors.get.bind(connectors);
    connectors.get = (async (name: string) => {
      const c = await get(name);
      return new Proxy(c, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (typeof v !== 'function') return v;
          if (prop === 'loadMarkets' || prop === 'fetchOrderBook') {
            return (...args: unknown[]) => {
              reads[prop] += 1;
              return v.apply(target, args);
            };
          }
          return v.bind(target);
        },
      });
    }) as typeof connectors.get;
  });
  afterAll(async () => h?.close());

  const counted = async (call: () => Promise<{ status: number; text: string }>, status: number) => {
    reads.loadMarkets = 0;
    reads.fetchOrderBook = 0;
    const r = await call();
    expect(r.status, r.text).toBe(status);
    return { ...reads };
  };

  it('a spot market order', async () => {
    expect(await counted(() => h.place(order('plan')), 201)).toEqual({ loadMarkets: 1, fetchOrderBook: 1 });
  });

  // Marketable, so nothing rests: the background matcher reads the books of resting orders on its own.
  it('a perpetual limit order', async () => {
    const { ask } = await h.book();
    const body = order('plan', { ...perp, order_type: 'limit', price: String(Math.ceil(ask * 1.01)), leverage: 2 });
    expect(await counted(() => h.place(body), 201)).toEqual({ loadMarkets: 1, fetchOrderBook: 1 });
  });

  it('closing a position', async () => {
    expect((await h.place(order('plan', { ...perp, leverage: 2 }))).status).toBe(201);
    const close = { account_name: 'plan', ...perp, trading_pair: 'BTC-USDT' };
    expect(await counted(() => h.s.call('POST', '/trading/close-position', close, TRADER), 201)).toEqual({ loadMarkets: 1, fetchOrderBook: 1 });
  });

  it('a preview, with its guards and the engine checks', async () => {
    const r = await counted(() => h.s.call('POST', '/trading/orders/preview', order('plan'), TRADER), 200);
    expect(r).toEqual({ loadMarkets: 1, fetchOrderBook: 1 });
  });
});
