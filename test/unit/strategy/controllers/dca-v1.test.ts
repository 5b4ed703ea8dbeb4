import { describe, expect, it } from 'vitest';
import { dcaV1 } from '../../../../src/core/strategy/controllers/dca-v1.js';
import { ExecutorConfig } from '../../../../src/core/strategy/executors/configs.js';
import type { ExecutorAction } from '../../../../src/core/strategy/types.js';
import { ControllerHarness } from '../../../helpers/controller-harness.js';
import { FakeMarketView } from '../../../helpers/fake-market-view.js';

const T0 = 1_000_000;
const BASE = { connector_name: 'sim', trading_pair: 'BTC-USDT', total_amount_quote: 200, dca_spreads: [0.01, 0.02], dca_amounts_pct: [1, 3], max_executors: 2 };

function setup(overrides: Record<string, unknown> = {}) {
  const config = dcaV1.config.parse({ ...BASE, ...overrides });
  return new ControllerHarness(dcaV1.create(config), new FakeMarketView().setQuote('sim', 'BTC-USDT', 100));
}

const ladder = (id: string, prices: string[], extra: Record<string, unknown> = {}): ExecutorAction => ({
  kind: 'create',
  config: { type: 'dca', id, connector_name: 'sim', trading_pair: 'BTC-USDT', leverage: 1, side: 'buy', amounts_quote: ['25', '75'], prices, mode: 'maker', take_profit: 0.02, stop_loss: 0.03, ...extra } as ExecutorConfig,
});

describe('dca_v1', () => {
  it('has defaults for every field but the market, and checks the ladder', () => {
    const c = dcaV1.config.parse({ connector_name: 'sim', trading_pair: 'BTC-USDT' });
    expect(c).toMatchObject({ side: 'buy', total_amount_quote: '100', dca_spreads: [0.001, 0.018, 0.15, 0.25], dca_amounts_pct: null, max_executors: 1, cooldown_time: 300, executor_refresh_time: null, mode: 'maker', leverage: 1, stop_loss: 0.03, take_profit: 0.02, time_limit: null, trailing_stop: null });
    expect(dcaV1.warmupBars(c)).toBe(0);
    const ok = (o: Record<string, unknown>) => dcaV1.config.safeParse({ ...BASE, ...o }).success;
    expect(ok({ dca_spreads: [0.02, 0.01] })).toBe(false);
    expect(ok({ dca_spreads: [0.01, 0.01] })).toBe(false);
    expect(ok({ dca_amounts_pct: [1] })).toBe(false);
    expect(ok({ dca_spreads: [1], dca_amounts_pct: null })).toBe(false);
  });

  it('lays a ladder below the mid for a buy, above it for a sell, weighted per level', () => {
    // 200 quote over two ladders: 100 each, split 1:3 over levels at -1% and -2%.
    expect(setup().step(T0)).toEqual([ladder('ex-1', ['99', '98'])]);
    const sell = setup({ side: 'sell', mode: 'taker', time_limit: 600, trailing_stop: { activation_price: 0.01, trailing_delta: 0.002 }, activation_bounds: [0.01] });
    const [a] = sell.step(T0);
    expect(a).toEqual(ladder('ex-1', ['101', '102'], { side: 'sell', mode: 'taker', time_limit: 600, trailing_stop: { activation_price: 0.01, trailing_delta: 0.002 }, activation_bounds: [0.01] }));
    if (a?.kind === 'create') expect(ExecutorConfig.parse(a.config)).toEqual(a.config);
  });

  it('respects cooldown_time and max_executors, and lays a new ladder when one ends', () => {
    const h = setup();
    expect(h.step(T0)).toEqual([ladder('ex-1', ['99', '98'])]);
    h.market.setQuote('sim', 'BTC-USDT', 90);
    expect(h.step(T0 + 300_000)).toEqual([]);
    expect(h.step(T0 + 301_000)).toEqual([ladder('ex-2', ['89.1', '88.2'])]);
    expect(h.step(T0 + 900_000)).toEqual([]);
    h.end('ex-1', 'TAKE_PROFIT', T0 + 900_000);
    // ex-2 (the newest working one) is 599 s old: a third ladder takes ex-1's place.
    expect(h.step(T0 + 900_000)).toEqual([ladder('ex-3', ['89.1', '88.2'])]);
  });

  it('re-lays an unfilled ladder after executor_refresh_time, keeping one that has fills', () => {
    const h = setup({ executor_refresh_time: 600, max_executors: 1, total_amount_quote: 100, cooldown_time: 0 });
    expect(h.step(T0)).toEqual([ladder('ex-1', ['99', '98'])]);
    expect(h.step(T0 + 600_000)).toEqual([]);
    h.market.setQuote('sim', 'BTC-USDT', 110);
    expect(h.step(T0 + 601_000)).toEqual([{ kind: 'stop', executorId: 'ex-1', keepPosition: false }]);
    expect(h.step(T0 + 602_000)).toEqual([ladder('ex-2', ['108.9', '107.8'])]);
    h.fill('ex-2', '25');
    expect(h.step(T0 + 2_000_000)).toEqual([]);
  });

  it('waits for a quote', () => {
    const h = setup();
    h.market.setQuote('sim', 'BTC-USDT', null);
    expect(h.step(T0)).toEqual([]);
    expect(h.instance.processedData?.()).toEqual({ mid_price: null });
  });
});
