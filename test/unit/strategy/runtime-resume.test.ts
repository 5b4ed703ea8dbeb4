import { describe, expect, it } from 'vitest';
import { Decimal } from '../../../src/core/decimal.js';
import { ExecutorConfig } from '../../../src/core/strategy/executors/configs.js';
import { createExecutor, restoreExecutor } from '../../../src/core/strategy/executors/registry.js';
import { StrategyRuntime, type RuntimeState } from '../../../src/core/strategy/runtime.js';
import type { ControllerInstance, MarketView, OrderRequest, OrderSink } from '../../../src/core/strategy/types.js';

/**
 * A runtime saved between two steps and restored (a bot process killed and started again) carries on
 * exactly as the one that was never interrupted: the same executors with the same barriers, the same
 * orders under the same ids, the same reports.
 */

const MIN = 60_000;
/** The price path: up, then down through the first executor's stop loss, then up through the second's take profit. */
const PRICES = [100, 100.5, 101, 100.6, 99.8, 98.4, 97.9, 98.5, 99.6, 101.2, 102.3, 101.8, 100.9, 99.7, 98.8];

/** Opens a long with a 1.5% stop loss and a 1% take profit every fifth minute. */
const controller = (): ControllerInstance => ({
  update: (view) =>
    Math.floor(view.now / MIN) % 5 === 0
      ? [{ kind: 'create', config: ExecutorConfig.parse({ type: 'position', connector_name: 'sim', trading_pair: 'BTC-USDT', side: 'buy', amount: '0.1', triple_barrier: { stop_loss: 0.015, take_profit: 0.01 } }) }]
      : [],
});

/** A venue that fills every market order at once at the step's price. */
function venue(runtime: () => StrategyRuntime) {
  const orders: OrderRequest[] = [];
  let price = 0;
  const sink: OrderSink = {
    submit(o) {
      orders.push(o);
      const p = new Decimal(price);
      runtime().deliver({ clientOrderId: o.clientOrderId, state: 'filled', filled: o.amount, averagePrice: p, fees: new Decimal(0), newFills: [{ price: p, amount: o.amount, fee: new Decimal(0), isMaker: false, timestamp: 0 }], timestamp: 0 });
    },
    cancel() {},
  };
  return { orders, sink, setPrice: (p: number) => (price = p) };
}

function run(rt: StrategyRuntime, v: ReturnType<typeof venue>, from: number, to: number) {
  for (let i = from; i < to; i++) {
    const p = PRICES[i]!;
    v.setPrice(p);
    const q = { bid: new Decimal(p), ask: new Decimal(p), mid: new Decimal(p) };
    const market: MarketView = { now: i * MIN, quote: () => q, candles: () => [], rules: () => null };
    rt.step({ now: i * MIN, market, sink: v.sink });
  }
}

const json = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
const options = () => ({ controller: controller(), interval: '1m' as const, createExecutor, idPrefix: 'b-' });

describe('a strategy runtime saved and restored', () => {
  it('carries on as if never interrupted, at every point of the path', () => {
    let whole!: StrategyRuntime;
    const wv = venue(() => whole);
    whole = new StrategyRuntime(options());
    run(whole, wv, 0, PRICES.length);
    // The path closes executors on both barriers: the comparison covers barriers, not only open positions.
    expect(whole.allReports().map((r) => r.closeType)).toEqual(expect.arrayContaining(['STOP_LOSS', 'TAKE_PROFIT']));

    for (let cut = 1; cut < PRICES.length; cut++) {
      let first!: StrategyRuntime;
      const fv = venue(() => first);
      first = new StrategyRuntime(options());
      run(first, fv, 0, cut);
      const saved = json(first.state()) as RuntimeState;
      let second!: StrategyRuntime;
      const sv = venue(() => second);
      second = StrategyRuntime.restore(options(), saved, restoreExecutor);
      run(second, sv, cut, PRICES.length);
      expect(json([...fv.orders, ...sv.orders]), `cut at ${cut}`).toEqual(json(wv.orders));
      expect(json(second.allReports()), `cut at ${cut}`).toEqual(json(whole.allReports()));
    }
  });

  it('keeps the final report of an executor read after it ended, custom part and PnL share included', () => {
    let rt!: StrategyRuntime;
    const v = venue(() => rt);
    rt = new StrategyRuntime(options());
    run(rt, v, 0, PRICES.length);
    // Reading the reports makes each ended, flat executor's report final: state() saves it as a report.
    const before = json(rt.allReports()) as Array<Record<string, unknown>>;
    const saved = json(rt.state()) as RuntimeState;
    expect(saved.executors.filter((e) => 'report' in e).length).toBeGreaterThan(0);
    const restored = StrategyRuntime.restore(options(), saved, restoreExecutor);
    const after = json(restored.allReports()) as Array<Record<string, unknown>>;
    expect(after).toEqual(before);
    const ended = before.find((r) => r.closeType === 'STOP_LOSS')!;
    expect(ended.custom).toMatchObject({ stop_loss_price: expect.any(String), take_profit_price: expect.any(String) });
    expect(ended.netPnlPct).toEqual(expect.any(String));
  });
});

